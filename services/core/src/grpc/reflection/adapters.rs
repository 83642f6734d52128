//! The `grpc.reflection.v1` and `grpc.reflection.v1alpha` services: thin adapters that convert each
//! version's messages to and from [`Query`](super::query::Query) and [`Answer`](super::query::Answer).
//! Both versions' generated messages have the same names and fields, so one macro writes both adapters.

/// Writes module `$version` with `$service`, the `ServerReflection` implementation of
/// `tonic_reflection::pb::$version`.
macro_rules! reflection_adapter {
    ($version:ident, $service:ident) => {
        #[doc = concat!("`grpc.reflection.", stringify!($version), ".ServerReflection`.")]
        pub(crate) mod $version {
            use std::{pin::Pin, sync::Arc};

            use tokio_stream::{Stream, StreamExt as _};
            use tonic::{Request, Response, Status, Streaming};
            use tonic_reflection::pb::$version::{
                server_reflection_request::MessageRequest,
                server_reflection_response::MessageResponse, server_reflection_server::ServerReflection,
                ErrorResponse, ExtensionNumberResponse, FileDescriptorResponse, ListServiceResponse,
                ServerReflectionRequest, ServerReflectionResponse, ServiceResponse,
            };

            use crate::grpc::reflection::{
                index::DescriptorIndex,
                query::{answer, Answer, LookupError, Query},
            };

            #[doc = concat!("`grpc.reflection.", stringify!($version), ".ServerReflection` over the shared index.")]
            #[derive(Debug, Clone)]
            pub(crate) struct $service {
                index: Arc<DescriptorIndex>,
            }

            impl $service {
                pub(in crate::grpc::reflection) fn new(index: Arc<DescriptorIndex>) -> Self {
                    Self { index }
                }
            }

            type ResponseStream =
                Pin<Box<dyn Stream<Item = Result<ServerReflectionResponse, Status>> + Send>>;

            #[tonic::async_trait]
            impl ServerReflection for $service {
                type ServerReflectionInfoStream = ResponseStream;

                /// Answers every request of the stream in order; a failed lookup is an `ErrorResponse` and the
                /// stream goes on.
                async fn server_reflection_info(
                    &self,
                    request: Request<Streaming<ServerReflectionRequest>>,
                ) -> Result<Response<ResponseStream>, Status> {
                    let index = self.index.clone();
                    let responses = request
                        .into_inner()
                        .map(move |request| request.map(|request| respond(&index, request)));
                    Ok(Response::new(Box::pin(responses)))
                }
            }

            fn respond(
                index: &DescriptorIndex,
                request: ServerReflectionRequest,
            ) -> ServerReflectionResponse {
                let message_response = match answer(index, query(&request)) {
                    Ok(answer) => response(answer),
                    Err(err) => error_response(&err),
                };
                ServerReflectionResponse {
                    valid_host: request.host.clone(),
                    original_request: Some(request),
                    message_response: Some(message_response),
                }
            }

            fn query(request: &ServerReflectionRequest) -> Result<Query, LookupError> {
                Ok(match request.message_request.clone().ok_or(LookupError::NoRequest)? {
                    MessageRequest::ListServices(_) => Query::ListServices,
                    MessageRequest::FileByFilename(name) => Query::FileByFilename(name),
                    MessageRequest::FileContainingSymbol(symbol) => {
                        Query::FileContainingSymbol(symbol)
                    }
                    MessageRequest::FileContainingExtension(extension) => {
                        Query::FileContainingExtension {
                            containing_type: extension.containing_type,
                            number: extension.extension_number,
                        }
                    }
                    MessageRequest::AllExtensionNumbersOfType(message) => {
                        Query::AllExtensionNumbersOfType(message)
                    }
                })
            }

            fn response(answer: Answer) -> MessageResponse {
                match answer {
                    Answer::Services(names) => {
                        MessageResponse::ListServicesResponse(ListServiceResponse {
                            service: names
                                .into_iter()
                                .map(|name| ServiceResponse { name })
                                .collect(),
                        })
                    }
                    Answer::Files(files) => {
                        MessageResponse::FileDescriptorResponse(FileDescriptorResponse {
                            file_descriptor_proto: files,
                        })
                    }
                    Answer::ExtensionNumbers {
                        base_type_name,
                        numbers,
                    } => MessageResponse::AllExtensionNumbersResponse(ExtensionNumberResponse {
                        base_type_name,
                        extension_number: numbers,
                    }),
                }
            }

            fn error_response(err: &LookupError) -> MessageResponse {
                MessageResponse::ErrorResponse(ErrorResponse {
                    error_code: err.code() as i32,
                    error_message: err.to_string(),
                })
            }
        }
    };
}

reflection_adapter!(v1, ReflectionV1);
reflection_adapter!(v1alpha, ReflectionV1Alpha);
