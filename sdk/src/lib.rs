//! # riskgate-sdk
//!
//! Write a riskgate vendor connector: a `cdylib` that riskgate's `riskgate-connector-host` loads, one
//! plugin per host process, and whose device reports it streams into the riskgate core.
//!
//! - Implement [`Connector`]: check the configuration in [`Connector::create`], produce [`Batch`]es
//!   of [`pb::DeviceReport`]s into the bounded [`BatchSink`] in [`Connector::run`], learn
//!   acknowledgements from [`BatchSink::acknowledged`], return when [`Shutdown`] fires.
//! - Export it with [`export_connector!`], in a crate with `crate-type = ["cdylib"]`.
//! - Unit-test it in-process with [`testing::Harness`]; check the built library with the conformance
//!   suite (`riskgate-conformance path/to/libyour_connector.so`).
//!
//! The plugin owns its threads and its async runtime ([`runtime`]); the host only makes blocking
//! calls with timeouts through the C function table of [`abi`], exchanging protobuf bytes ([`pb`]).
//! Every exported function catches panics; a panic fails the instance, never the host.
//!
//! The [`toolkit`] has what vendor clients need and should not write by hand: backoff with jitter
//! and `Retry-After`, RFC 3339 timestamps, secrets from the environment or a file, and typed
//! configuration whose errors name the key.
//!
//! Log with the [`tracing`] macros (or the `log` crate's): in a host of ABI minor 1 or later, the
//! records go to the host's log with their level and target (see `LOGGING.md`).
//!
//! See the crate's README for the plugin author's guide and `examples/demo_connector.rs` for a
//! complete connector.

pub mod abi;
mod batch;
mod connector;
#[doc(hidden)]
pub mod export;
mod feed;
mod instance;
mod logging;
pub mod runtime;
mod sink;
pub mod testing;
pub mod toolkit;
pub mod validate;

/// The protobuf messages of the plugin ABI and of device reports (package `riskgate.v1`).
///
/// Generated from `proto/riskgate/v1/{types,plugin}.proto` of the riskgate repository and committed,
/// so the SDK builds without protoc or the repository; a test in the repository checks it is current.
#[allow(
    missing_docs,
    unreachable_pub,
    missing_debug_implementations,
    clippy::all
)]
pub mod pb {
    include!("pb/riskgate.v1.rs");
}

pub use batch::{Batch, BatchId};
pub use connector::{Connector, ConnectorError, Manifest, StartContext};
pub use feed::{Feed, Recheck};
pub use instance::{CallError, Pulled};
pub use sink::{Acked, BatchSink, Shutdown, SinkClosed};

/// Re-exported so connectors use the same `prost_types::Timestamp` as [`pb::DeviceReport`].
pub use prost_types;

/// Re-exported so connectors log with the same `tracing` the SDK forwards to the host (see LOGGING.md).
pub use tracing;

/// Re-exported so connectors use the SDK's tokio for [`Connector::run`] without a version clash.
pub use tokio;

/// The version of this SDK, reported in every plugin's manifest.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");
