//! Running `riskgate-connector-host run` from a test: one plugin `.so`, pinned by its SHA-256, with
//! its config file, streaming into a core.

use std::path::Path;

use tokio::process::Command;

use crate::{binary::artifacts, child::ChildProcess};

/// Timings that keep the tests quick: the host polls the plugin every 200 ms, heartbeats every
/// second, and gives the plugin 3 s to stop.
pub const FAST_HOST_TIMINGS: [&str; 6] = [
    "--pull-timeout",
    "200ms",
    "--heartbeat-interval",
    "1s",
    "--stop-deadline",
    "3s",
];

/// What a host runs: which plugin, as which connector, against which core.
#[derive(Debug, Clone, Copy)]
pub struct HostSpec<'a> {
    /// The core's gRPC URL (`CoreProcess::url`).
    pub core_url: &'a str,
    /// The connector id the host ingests as.
    pub connector_id: &'a str,
    /// The plugin shared object.
    pub plugin: &'a Path,
    /// The SHA-256 pinned on the command line (normally [`sha256_file`] of the plugin).
    pub sha256: &'a str,
    /// The plugin's config file.
    pub config: &'a Path,
}

/// Starts the host with [`FAST_HOST_TIMINGS`] and `extra` flags.
pub fn start_host(spec: HostSpec<'_>, extra: &[&str]) -> anyhow::Result<ChildProcess> {
    let flags: Vec<&str> = FAST_HOST_TIMINGS.iter().chain(extra).copied().collect();
    start_host_with(spec, &flags)
}

/// Starts the host in its default configuration plus `flags` (no test timings).
pub fn start_host_with(spec: HostSpec<'_>, flags: &[&str]) -> anyhow::Result<ChildProcess> {
    let mut command = Command::new(artifacts().bin("riskgate-connector-host"));
    command
        .arg("run")
        .args(["--core", spec.core_url])
        .args(["--connector-id", spec.connector_id])
        .arg("--plugin")
        .arg(spec.plugin)
        .args(["--sha256", spec.sha256])
        .arg("--config")
        .arg(spec.config)
        .args(flags);
    ChildProcess::spawn(command, &format!("host {}", spec.connector_id))
}

/// Lowercase hex SHA-256 of a file's bytes, as plugin pins are written. Panics if it cannot be read.
pub fn sha256_file(path: &Path) -> String {
    use sha2::Digest as _;
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    sha2::Sha256::digest(&bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}
