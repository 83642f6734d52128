//! The host's command line. The connector's own configuration comes from one file, passed to the
//! plugin verbatim; nothing else of the environment reaches the plugin through the host.

use std::{path::PathBuf, time::Duration};

/// Default interval between heartbeats.
pub const DEFAULT_HEARTBEAT_INTERVAL: &str = "30s";
/// Default `next_batch` timeout.
pub const DEFAULT_PULL_TIMEOUT: &str = "1s";
/// Default deadline for stopping on SIGTERM.
pub const DEFAULT_STOP_DEADLINE: &str = "5s";
/// Default grace before a plugin call that does not return counts as a hang.
pub const DEFAULT_HANG_AFTER: &str = "30s";

/// `riskgate-connector-host`: runs one connector plugin.
#[derive(Debug, clap::Parser)]
#[command(name = "riskgate-connector-host", version, about)]
pub struct Cli {
    /// Log format on stderr: `text` or `json` (one object per line). The plugin's own records
    /// (ABI minor 1) are written in the same format.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "RISKGATE_LOG_FORMAT"
    )]
    pub log_format: LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

pub use riskgate_service_kit::logging::LogFormat;

/// The host's modes.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Load the plugin and stream its reports into the core until SIGTERM.
    Run(Box<RunArgs>),
    /// Run one conformance scenario against the plugin without a core (used by riskgate-conformance).
    Probe(ProbeArgs),
}

/// The plugin and how to verify it.
#[derive(Debug, Clone, clap::Args)]
pub struct PluginArgs {
    /// The plugin shared library.
    #[arg(long)]
    pub plugin: PathBuf,
    /// Its pinned SHA-256 (64 hex digits); the file is refused before loading if it differs.
    #[arg(long)]
    pub sha256: String,
    /// The connector's configuration file, passed verbatim to the plugin. Empty if absent.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// Flags of `run`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// The plugin.
    #[command(flatten)]
    pub plugin: PluginArgs,
    /// The core's gRPC endpoint, such as `http://127.0.0.1:50051`.
    #[arg(long)]
    pub core: String,
    /// The connector id registered in the core.
    #[arg(long)]
    pub connector_id: String,
    /// A file holding this connector's bearer token (role `connector:<id>`), sent on every call to the core.
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// CA certificate (PEM) that signs the core's TLS certificate; use an `https://` `--core` with it.
    #[arg(long)]
    pub core_ca: Option<PathBuf>,
    /// Client certificate (PEM) for mutual TLS with the core.
    #[arg(long, requires = "client_key")]
    pub client_cert: Option<PathBuf>,
    /// Client private key (PEM) for mutual TLS with the core.
    #[arg(long, requires = "client_cert")]
    pub client_key: Option<PathBuf>,
    /// The name the core's certificate is issued for, if not the host of `--core`.
    #[arg(long)]
    pub core_tls_name: Option<String>,
    /// Interval between heartbeats to the core.
    #[arg(long, default_value = DEFAULT_HEARTBEAT_INTERVAL, value_parser = humantime::parse_duration)]
    pub heartbeat_interval: Duration,
    /// How long one `next_batch` call waits for a batch.
    #[arg(long, default_value = DEFAULT_PULL_TIMEOUT, value_parser = humantime::parse_duration)]
    pub pull_timeout: Duration,
    /// How long stopping may take after SIGTERM before the host exits anyway.
    #[arg(long, default_value = DEFAULT_STOP_DEADLINE, value_parser = humantime::parse_duration)]
    pub stop_deadline: Duration,
    /// How long past its own timeout a plugin call may run before it counts as a hang.
    #[arg(long, default_value = DEFAULT_HANG_AFTER, value_parser = humantime::parse_duration)]
    pub hang_after: Duration,
    /// Most reports per batch (the core's `max_batch_reports`).
    #[arg(long, default_value_t = riskgate_sdk::validate::DEFAULT_MAX_BATCH_REPORTS)]
    pub max_batch_reports: usize,
    /// Batches sent to the core and not yet acknowledged, at most.
    #[arg(long, default_value_t = 4)]
    pub max_in_flight: usize,
    /// A file where the host writes the cause of a failure before exiting (read by the supervisor).
    #[arg(long)]
    pub status_file: Option<PathBuf>,
}

/// Flags of `probe`.
#[derive(Debug, Clone, clap::Args)]
pub struct ProbeArgs {
    /// The plugin.
    #[command(flatten)]
    pub plugin: PluginArgs,
    /// The scenario to run.
    #[arg(long)]
    pub scenario: String,
}
