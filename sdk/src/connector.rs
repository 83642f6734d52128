//! The safe API a connector author implements: the [`Connector`] trait, what it receives at start
//! ([`StartContext`]), what it emits ([`Batch`](crate::Batch)) and how it fails ([`ConnectorError`]).

use std::future::Future;

use crate::{
    pb,
    sink::{BatchSink, Shutdown},
};

/// A vendor connector. Implement it and export it with [`crate::export_connector!`].
///
/// Lifecycle, driven by the host (or by [`crate::testing::Harness`] in tests):
///
/// 1. [`Connector::create`] checks the configuration and builds the connector. No threads, no I/O
///    that can hang: return [`ConnectorError::Config`] for a bad configuration.
/// 2. [`Connector::run`] is spawned on the plugin's own tokio runtime (see [`crate::runtime`]). It
///    produces batches into the bounded [`BatchSink`] (sending waits while the sink is full, which is
///    how a slow core slows the connector down), learns acknowledgements from
///    [`BatchSink::acknowledged`], and returns when [`Shutdown`] fires. Returning `Ok(())` ends the
///    feed; returning an error or panicking fails the instance.
pub trait Connector: Sized + Send + 'static {
    /// What the plugin says about itself (name, vendor, version).
    fn manifest() -> Manifest;

    /// Builds the connector from its configuration and last acknowledged checkpoint.
    fn create(start: &StartContext) -> Result<Self, ConnectorError>;

    /// Produces batches until `shutdown` fires or the feed ends.
    fn run(
        self,
        sink: BatchSink,
        shutdown: Shutdown,
    ) -> impl Future<Output = Result<(), ConnectorError>> + Send;

    /// Worker threads of the plugin's tokio runtime. One is enough for most connectors.
    fn worker_threads() -> usize {
        1
    }

    /// Batches the sink holds before [`BatchSink::send`] waits. Bounds the plugin's memory when the
    /// core is slow.
    fn sink_capacity() -> usize {
        4
    }

    /// Whether the connector takes re-check requests ([`BatchSink::recheck_requested`], ABI minor 2).
    /// When false (the default), the host's `recheck` is answered `ERR_UNSUPPORTED`.
    fn takes_rechecks() -> bool {
        false
    }
}

/// The name, vendor and version of a connector, reported in the plugin's manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The connector's name, such as `"lookout"`: 1 to 128 bytes.
    pub name: String,
    /// The vendor or author.
    pub vendor: String,
    /// The connector's version, usually `env!("CARGO_PKG_VERSION")`.
    pub version: String,
}

impl Manifest {
    /// The protobuf manifest, with the SDK and ABI versions filled in.
    pub fn to_proto(&self) -> pb::PluginManifest {
        pb::PluginManifest {
            name: self.name.clone(),
            vendor: self.vendor.clone(),
            version: self.version.clone(),
            sdk_version: crate::SDK_VERSION.to_owned(),
            abi_major: crate::abi::ABI_MAJOR,
            abi_minor: crate::abi::ABI_MINOR,
            proto_version: crate::abi::PROTO_VERSION,
        }
    }
}

/// What a connector instance gets at creation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StartContext {
    /// The connector id registered in the core.
    pub connector_id: String,
    /// The connector's configuration, verbatim (for example JSON).
    pub config: Vec<u8>,
    /// The checkpoint of the last batch the core acknowledged; `None` on the very first start.
    pub checkpoint: Option<Vec<u8>>,
    /// The core's number of that batch (0 if none); informational.
    pub last_batch_seq: u64,
}

impl StartContext {
    /// Converts the ABI's `PluginStart` message.
    pub fn from_proto(msg: pb::PluginStart) -> Self {
        StartContext {
            connector_id: msg.connector_id,
            config: msg.config,
            checkpoint: msg.has_checkpoint.then_some(msg.checkpoint),
            last_batch_seq: msg.last_batch_seq,
        }
    }

    /// The ABI's `PluginStart` message.
    pub fn to_proto(&self) -> pb::PluginStart {
        pb::PluginStart {
            connector_id: self.connector_id.clone(),
            config: self.config.clone(),
            checkpoint: self.checkpoint.clone().unwrap_or_default(),
            has_checkpoint: self.checkpoint.is_some(),
            last_batch_seq: self.last_batch_seq,
        }
    }
}

/// Why a connector failed. The variant decides what the host and supervisor do next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorError {
    /// The configuration is invalid; name the key. The connector is not restarted until its
    /// configuration changes.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A temporary failure; the connector is restarted with backoff.
    #[error("transient failure: {0}")]
    Transient(String),
    /// A permanent failure of this instance.
    #[error("fatal failure: {0}")]
    Fatal(String),
}
