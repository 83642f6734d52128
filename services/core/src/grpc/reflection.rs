//! gRPC server reflection (<https://github.com/grpc/grpc/blob/master/doc/server-reflection.md>), served as
//! both `grpc.reflection.v1.ServerReflection` and `grpc.reflection.v1alpha.ServerReflection` for older tools.
//!
//! - `index.rs`: the descriptors of everything served, decoded once at startup and indexed;
//! - `query.rs`: one request answered in a version-neutral form;
//! - `adapters.rs`: the two protocol versions, converting to and from that form.
//!
//! Like gRPC's C++ server, a file is sent with every file it imports, transitively (each once, the file
//! asked for first), so a client can build a descriptor pool from one response. `ListServices` lists
//! only the services the server actually serves (see [`served_services`]).

mod adapters;
mod index;
mod query;

use std::sync::Arc;

use riskgate_proto::v1::{
    auth_service_server, clock_service_server, connector_service_server, decision_service_server,
    device_service_server, event_log_service_server, ingest_service_server, policy_service_server,
    risk_stream_server,
};
use tonic_reflection::pb::{v1, v1alpha};

pub(crate) use adapters::{v1::ReflectionV1, v1alpha::ReflectionV1Alpha};
use index::DescriptorIndex;

/// Every encoded `FileDescriptorSet` the core serves from.
const DESCRIPTOR_SETS: [&[u8]; 4] = [
    riskgate_proto::FILE_DESCRIPTOR_SET,
    tonic_health::pb::FILE_DESCRIPTOR_SET,
    v1::FILE_DESCRIPTOR_SET,
    v1alpha::FILE_DESCRIPTOR_SET,
];

/// Why reflection could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ReflectionError {
    /// An embedded descriptor set could not be decoded or is inconsistent.
    #[error("descriptors: {0}")]
    Descriptors(#[from] prost_reflect::DescriptorError),
    /// A service said to be served is in no descriptor set.
    #[error("served service {0} is in no descriptor set")]
    UnknownService(String),
    /// An extension's field number does not fit the protocol's `int32`.
    #[error("extension {0} has field number {1}, out of range")]
    FieldNumber(String, u32),
}

/// The names of the services the server adds to its router (`server::serve`; keep the two in step).
/// `riskgate.v1.ClockService` only with `manual_clock`.
pub(crate) fn served_services(manual_clock: bool) -> Vec<&'static str> {
    let mut names = vec![
        tonic_health::pb::health_server::SERVICE_NAME,
        v1::server_reflection_server::SERVICE_NAME,
        v1alpha::server_reflection_server::SERVICE_NAME,
        ingest_service_server::SERVICE_NAME,
        device_service_server::SERVICE_NAME,
        connector_service_server::SERVICE_NAME,
        policy_service_server::SERVICE_NAME,
        decision_service_server::SERVICE_NAME,
        risk_stream_server::SERVICE_NAME,
        event_log_service_server::SERVICE_NAME,
        auth_service_server::SERVICE_NAME,
    ];
    if manual_clock {
        names.push(clock_service_server::SERVICE_NAME);
    }
    names
}

/// Server reflection over every descriptor the core embeds, listing the services it is built with.
#[derive(Debug, Clone)]
pub(crate) struct ReflectionApi {
    index: Arc<DescriptorIndex>,
}

impl ReflectionApi {
    /// Decodes and indexes the embedded descriptors once; `served` are the names `ListServices` answers.
    pub(crate) fn new<'a>(
        served: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, ReflectionError> {
        let index = DescriptorIndex::build(&DESCRIPTOR_SETS, served)?;
        Ok(Self {
            index: Arc::new(index),
        })
    }

    /// The `grpc.reflection.v1.ServerReflection` service.
    pub(crate) fn v1(&self) -> v1::server_reflection_server::ServerReflectionServer<ReflectionV1> {
        v1::server_reflection_server::ServerReflectionServer::new(ReflectionV1::new(
            self.index.clone(),
        ))
    }

    /// The `grpc.reflection.v1alpha.ServerReflection` service.
    pub(crate) fn v1alpha(
        &self,
    ) -> v1alpha::server_reflection_server::ServerReflectionServer<ReflectionV1Alpha> {
        v1alpha::server_reflection_server::ServerReflectionServer::new(ReflectionV1Alpha::new(
            self.index.clone(),
        ))
    }
}

#[cfg(test)]
mod tests;
