//! A generic gRPC reflection client: it knows no `.proto` file, only the reflection protocol
//! (<https://github.com/grpc/grpc/blob/master/doc/server-reflection.md>), over `grpc.reflection.v1` or
//! `grpc.reflection.v1alpha`. The two versions carry the same messages in two packages, so one macro
//! writes a session for each and [`Session`] hides which one is used.

use std::time::Duration;

use anyhow::Context as _;
use prost_reflect::DescriptorPool;
use prost_types::FileDescriptorProto;
use riskgate_tests::CoreProcess;
use tonic::Code;

/// How long one answer may take.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// The protocol version a session speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version {
    V1,
    V1Alpha,
}

/// Both versions, for tests that check each.
pub(crate) const VERSIONS: [Version; 2] = [Version::V1, Version::V1Alpha];

/// One request, whatever the version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ask {
    ListServices,
    FileByFilename(String),
    FileContainingSymbol(String),
    FileContainingExtension {
        containing_type: String,
        number: i32,
    },
    AllExtensionNumbersOfType(String),
    /// A request without `message_request`.
    Nothing,
}

/// One answer, whatever the version.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Reply {
    Services(Vec<String>),
    Files(Vec<FileDescriptorProto>),
    ExtensionNumbers {
        base_type_name: String,
        numbers: Vec<i32>,
    },
    Error {
        code: Code,
        message: String,
    },
}

/// Writes module `$version`: a session of `tonic_reflection::pb::$version` that converts [`Ask`] and
/// [`Reply`].
macro_rules! versioned_session {
    ($version:ident) => {
        mod $version {
            use anyhow::{ensure, Context as _};
            use prost::Message as _;
            use prost_types::FileDescriptorProto;
            use tokio::sync::mpsc;
            use tokio_stream::wrappers::ReceiverStream;
            use tonic::{transport::Channel, Code, Streaming};
            use tonic_reflection::pb::$version::{
                server_reflection_client::ServerReflectionClient,
                server_reflection_request::MessageRequest,
                server_reflection_response::MessageResponse, ExtensionRequest,
                ServerReflectionRequest, ServerReflectionResponse,
            };

            use super::{Ask, Reply, REPLY_TIMEOUT};

            /// One open `ServerReflectionInfo` stream.
            pub(super) struct Session {
                requests: mpsc::Sender<ServerReflectionRequest>,
                responses: Streaming<ServerReflectionResponse>,
            }

            impl Session {
                pub(super) async fn open(channel: Channel) -> anyhow::Result<Self> {
                    let (requests, outgoing) = mpsc::channel(4);
                    let responses = ServerReflectionClient::new(channel)
                        .server_reflection_info(ReceiverStream::new(outgoing))
                        .await?
                        .into_inner();
                    Ok(Self {
                        requests,
                        responses,
                    })
                }

                /// Sends `ask` on the stream and reads its answer.
                pub(super) async fn ask(&mut self, ask: Ask) -> anyhow::Result<Reply> {
                    let request = ServerReflectionRequest {
                        host: String::new(),
                        message_request: message_request(ask),
                    };
                    self.requests
                        .send(request.clone())
                        .await
                        .context("the request stream is closed")?;
                    let response = tokio::time::timeout(REPLY_TIMEOUT, self.responses.message())
                        .await
                        .context("no reflection answer in time")??
                        .context("the reflection stream ended")?;
                    ensure!(
                        response.original_request.as_ref() == Some(&request),
                        "the answer is to {:?}, not to {request:?}",
                        response.original_request
                    );
                    reply(response.message_response.context("an empty answer")?)
                }
            }

            fn message_request(ask: Ask) -> Option<MessageRequest> {
                Some(match ask {
                    Ask::ListServices => MessageRequest::ListServices(String::new()),
                    Ask::FileByFilename(name) => MessageRequest::FileByFilename(name),
                    Ask::FileContainingSymbol(symbol) => {
                        MessageRequest::FileContainingSymbol(symbol)
                    }
                    Ask::FileContainingExtension {
                        containing_type,
                        number,
                    } => MessageRequest::FileContainingExtension(ExtensionRequest {
                        containing_type,
                        extension_number: number,
                    }),
                    Ask::AllExtensionNumbersOfType(message) => {
                        MessageRequest::AllExtensionNumbersOfType(message)
                    }
                    Ask::Nothing => return None,
                })
            }

            fn reply(response: MessageResponse) -> anyhow::Result<Reply> {
                Ok(match response {
                    MessageResponse::ListServicesResponse(list) => {
                        Reply::Services(list.service.into_iter().map(|s| s.name).collect())
                    }
                    MessageResponse::FileDescriptorResponse(files) => Reply::Files(
                        files
                            .file_descriptor_proto
                            .iter()
                            .map(|bytes| FileDescriptorProto::decode(bytes.as_slice()))
                            .collect::<Result<_, _>>()?,
                    ),
                    MessageResponse::AllExtensionNumbersResponse(numbers) => {
                        Reply::ExtensionNumbers {
                            base_type_name: numbers.base_type_name,
                            numbers: numbers.extension_number,
                        }
                    }
                    MessageResponse::ErrorResponse(error) => Reply::Error {
                        code: Code::from_i32(error.error_code),
                        message: error.error_message,
                    },
                })
            }
        }
    };
}

versioned_session!(v1);
versioned_session!(v1alpha);

/// One reflection stream to a core, over either version.
pub(crate) struct Session(Versioned);

enum Versioned {
    V1(v1::Session),
    V1Alpha(v1alpha::Session),
}

impl Session {
    /// Opens a `ServerReflectionInfo` stream to `core` over `version`.
    pub(crate) async fn open(core: &CoreProcess, version: Version) -> anyhow::Result<Session> {
        let channel = core.channel().await?;
        Ok(Session(match version {
            Version::V1 => Versioned::V1(v1::Session::open(channel).await?),
            Version::V1Alpha => Versioned::V1Alpha(v1alpha::Session::open(channel).await?),
        }))
    }

    /// Sends `ask` on this stream and reads its answer.
    pub(crate) async fn ask(&mut self, ask: Ask) -> anyhow::Result<Reply> {
        match &mut self.0 {
            Versioned::V1(session) => session.ask(ask).await,
            Versioned::V1Alpha(session) => session.ask(ask).await,
        }
    }

    /// The services the server lists.
    pub(crate) async fn services(&mut self) -> anyhow::Result<Vec<String>> {
        match self.ask(Ask::ListServices).await? {
            Reply::Services(names) => Ok(names),
            other => anyhow::bail!("expected services, got {other:?}"),
        }
    }

    /// The files of a `FileDescriptorResponse` to `ask`.
    pub(crate) async fn files(&mut self, ask: Ask) -> anyhow::Result<Vec<FileDescriptorProto>> {
        match self.ask(ask.clone()).await? {
            Reply::Files(files) => Ok(files),
            other => anyhow::bail!("expected files for {ask:?}, got {other:?}"),
        }
    }
}

/// A fresh descriptor pool of exactly `files`: it fails if any file they import is missing.
pub(crate) fn pool_of(files: &[FileDescriptorProto]) -> anyhow::Result<DescriptorPool> {
    let mut pool = DescriptorPool::new();
    pool.add_file_descriptor_protos(files.iter().cloned())
        .with_context(|| format!("a pool of only {:?}", file_names(files)))?;
    Ok(pool)
}

/// The names of `files`, in order.
pub(crate) fn file_names(files: &[FileDescriptorProto]) -> Vec<&str> {
    files.iter().map(FileDescriptorProto::name).collect()
}
