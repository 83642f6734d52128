//! What the webhook end-to-end tests share: starting `riskgate-connector-host` on the plugin with a
//! pinned SHA-256 (binaries and plugin come from the `riskgate-tests` harness, which builds the
//! workspace once), and reading the address the plugin binds.

use std::{path::Path, time::Duration};

use anyhow::Context as _;
use riskgate_tests::{
    binary::artifacts,
    child::ChildProcess,
    connector_host::{sha256_file, start_host, HostSpec},
    wait_until, CoreProcess,
};

/// Generous bound for anything the tests wait for.
pub(crate) const WAIT: Duration = Duration::from_secs(30);

/// A running `riskgate-connector-host` (killed on drop).
pub(crate) type Host = ChildProcess;

/// Starts the host for `connector_id` with the webhook plugin and the config file `config`.
pub(crate) fn start_webhook_host(
    core: &CoreProcess,
    connector_id: &str,
    config: &Path,
) -> anyhow::Result<Host> {
    let plugin = artifacts().cdylib("riskgate_webhook");
    let spec = HostSpec {
        core_url: &core.url(),
        connector_id,
        plugin,
        sha256: &sha256_file(plugin),
        config,
    };
    start_host(spec, &[])
}

/// Waits for the plugin to write its bound address to `path`.
pub(crate) async fn read_address(path: &Path, host: &Host) -> anyhow::Result<String> {
    wait_until(WAIT, "the webhook plugin writes its address", || async {
        path.is_file()
    })
    .await
    .with_context(|| format!("host output:\n{}", host.output.text()))?;
    Ok(std::fs::read_to_string(path)?.trim().to_owned())
}
