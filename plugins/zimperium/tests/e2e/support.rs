//! What the Zimperium end-to-end tests share: starting `riskgate-connector-host` on the plugin with a
//! pinned SHA-256. The core, the simulator and the binaries come from the `riskgate-tests` harness,
//! which builds the workspace once.

use std::{path::Path, time::Duration};

use riskgate_tests::{
    binary::artifacts,
    child::ChildProcess,
    connector_host::{sha256_file, start_host, HostSpec},
    CoreProcess,
};

/// Generous bound for anything the tests wait for.
pub(crate) const WAIT: Duration = Duration::from_secs(30);

/// A running `riskgate-connector-host` (killed on drop).
pub(crate) type Host = ChildProcess;

/// Starts the host for `connector_id` with the Zimperium plugin and the config file `config`.
pub(crate) fn start_zimperium_host(
    core: &CoreProcess,
    connector_id: &str,
    config: &Path,
) -> anyhow::Result<Host> {
    let plugin = artifacts().cdylib("riskgate_zimperium");
    let spec = HostSpec {
        core_url: &core.url(),
        connector_id,
        plugin,
        sha256: &sha256_file(plugin),
        config,
    };
    start_host(spec, &[])
}
