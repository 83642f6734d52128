//! riskgate's public API, generated from `proto/riskgate/v1/*.proto`.
//!
//! This crate is an API boundary: it holds generated code, the encoded file descriptor set, the codec,
//! and the bearer-token interceptor riskgate's own clients share ([`bearer`]).
//! Services parse these types into their own domain types at the edge. The messages of
//! `types.proto` and `plugin.proto` are the SDK's own (`riskgate_sdk::pb`), re-exported here, so the
//! reports a plugin builds are the API's reports.

#![forbid(unsafe_code)]

pub mod bearer;
pub mod codec;

/// Package `riskgate.v1`.
// Generated code: the service stubs' long functions are tonic's, not ours to split.
#[allow(
    missing_docs,
    unreachable_pub,
    missing_debug_implementations,
    clippy::all,
    clippy::pedantic,
    clippy::restriction
)]
pub mod v1 {
    tonic::include_proto!("riskgate.v1");

    // The messages of `types.proto` and `plugin.proto` are generated once, in the SDK (build.rs).
    pub use riskgate_sdk::pb::*;
}

/// The encoded `FileDescriptorSet` of every riskgate proto, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("riskgate_descriptor");
