//! A plugin that panics in `manifest`, the first function the host calls.

use riskgate_sdk::{BatchSink, Connector, ConnectorError, Manifest, Shutdown, StartContext};

/// Panics as soon as it is asked who it is.
#[derive(Debug)]
pub struct PanicManifestConnector;

impl Connector for PanicManifestConnector {
    fn manifest() -> Manifest {
        panic!("panic_manifest connector: deliberate panic in manifest");
    }

    fn create(_start: &StartContext) -> Result<Self, ConnectorError> {
        Ok(PanicManifestConnector)
    }

    async fn run(self, _sink: BatchSink, shutdown: Shutdown) -> Result<(), ConnectorError> {
        shutdown.wait().await;
        Ok(())
    }
}

riskgate_sdk::export_connector!(PanicManifestConnector);
