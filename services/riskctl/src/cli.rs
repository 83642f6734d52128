//! The command line: global connection options and one subcommand per task (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::{
    error::EXIT_CODES_HELP,
    names::{Compliance, EventKind, Level, MissingDataMode, PartnerKind, Platform, TogglePlatform},
};

/// The default server address (the core's default `listen`).
pub(crate) const DEFAULT_SERVER: &str = "http://127.0.0.1:50051";

/// The environment variable holding the bearer token.
pub(crate) const TOKEN_ENV: &str = "RISKCTL_TOKEN";

/// riskctl: query and administer a riskgate core over gRPC.
///
/// Output is a human-readable table; --json prints JSON instead (one document per command, one
/// object per line for `watch`).
#[derive(Debug, Parser)]
#[command(name = "riskctl", version, after_help = EXIT_CODES_HELP)]
pub(crate) struct Cli {
    /// Connection and output options.
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// The core's gRPC URL; https:// needs --ca-cert.
    #[arg(long, global = true, env = "RISKCTL_SERVER", default_value = DEFAULT_SERVER)]
    pub(crate) server: String,
    /// Bearer token. Precedence: --token, then --token-file, then the RISKCTL_TOKEN environment
    /// variable. Prefer --token-file or the environment: a flag shows up in `ps`.
    #[arg(long, global = true)]
    pub(crate) token: Option<String>,
    /// Read the bearer token from this file (surrounding whitespace and the trailing newline are
    /// removed).
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) token_file: Option<PathBuf>,
    /// PEM file of the CA that signed the server's certificate (required for https://).
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) ca_cert: Option<PathBuf>,
    /// PEM client certificate, for servers that require mutual TLS (with --client-key).
    #[arg(long, global = true, value_name = "FILE", requires = "client_key")]
    pub(crate) client_cert: Option<PathBuf>,
    /// PEM private key of --client-cert.
    #[arg(long, global = true, value_name = "FILE", requires = "client_cert")]
    pub(crate) client_key: Option<PathBuf>,
    /// Print machine-readable JSON instead of tables.
    #[arg(long, global = true)]
    pub(crate) json: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Devices and their history.
    #[command(subcommand)]
    Devices(DevicesCommand),
    /// MTD partner connectors.
    #[command(subcommand)]
    Connectors(ConnectorsCommand),
    /// Compliance policies, conditional-access resources and app-protection policies.
    #[command(subcommand)]
    Policies(PoliciesCommand),
    /// Ask for a decision.
    #[command(subcommand)]
    Check(CheckCommand),
    /// Follow changes live, one line per event; resumable with --cursor-file.
    Watch(WatchArgs),
    /// The Shared Signals transmitter (riskgate-ssf, docs/ssf.md), over HTTP(S) with its admin token.
    #[command(subcommand)]
    Ssf(SsfCommand),
}

/// `riskctl ssf ...`
#[derive(Debug, Subcommand)]
pub(crate) enum SsfCommand {
    /// Send a test event for a subject to every stream that carries it (or to --stream): a
    /// session-revoked whose reason says it is a test, as the OpenID conformance suite asks of a
    /// transmitter. Needs the transmitter's admin token.
    EmitTest {
        /// The transmitter's base URL; https:// needs --ca-cert.
        #[arg(
            long,
            env = "RISKCTL_SSF_URL",
            default_value = "https://127.0.0.1:8443"
        )]
        url: String,
        /// The subject: a user, by email.
        #[arg(
            long,
            value_name = "EMAIL",
            required_unless_present = "device",
            conflicts_with = "device"
        )]
        email: Option<String>,
        /// The subject: a device, by riskgate device id.
        #[arg(long, value_name = "ID")]
        device: Option<String>,
        /// Only this stream.
        #[arg(long, value_name = "STREAM_ID")]
        stream: Option<String>,
    },
    /// Make a new signing key; the old one stays in the JWKS for the configured overlap, so receivers
    /// still verify SETs it signed. Needs the transmitter's admin token.
    RotateKey {
        /// The transmitter's base URL; https:// needs --ca-cert.
        #[arg(
            long,
            env = "RISKCTL_SSF_URL",
            default_value = "https://127.0.0.1:8443"
        )]
        url: String,
    },
}

/// `riskctl devices ...`
#[derive(Debug, Subcommand)]
pub(crate) enum DevicesCommand {
    /// List devices (every page), in order of device id.
    List {
        /// Only devices on this platform (repeatable).
        #[arg(long = "platform", value_name = "PLATFORM")]
        platforms: Vec<Platform>,
        /// Only devices at this level (repeatable).
        #[arg(long = "level", value_name = "LEVEL")]
        levels: Vec<Level>,
        /// Only devices with a report from this connector.
        #[arg(long, value_name = "ID")]
        connector: Option<String>,
        /// Only devices with this compliance status (repeatable).
        #[arg(long = "compliance", value_name = "STATUS")]
        compliance: Vec<Compliance>,
        /// Only devices no partner (or --connector) reported for longer than this, such as 3d.
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        not_reported_for: Option<std::time::Duration>,
        /// Only devices whose id or owner contains this text (ignoring case).
        #[arg(long, value_name = "TEXT")]
        search: Option<String>,
    },
    /// One device: its partner reports, threats and compliance.
    Show {
        /// The device id.
        device: String,
    },
    /// Clear the risk a partner last reported for a device after checking it by other means.
    ///
    /// Under a connector's default missing-data mode (last_known), a LOW or worse report keeps counting
    /// after the partner loses sight of the device (MTD app removed, disconnected or deactivated), until
    /// the partner reports a level again or an admin clears it with this command. The clearing is logged
    /// as a known_risk_cleared event. Admin only.
    ClearRisk {
        /// The device id.
        device: String,
        /// Only this connector's known risk (default: every connector's).
        #[arg(long, value_name = "ID")]
        connector: Option<String>,
    },
    /// Ask the connectors that report these devices to fetch them from their vendors now.
    ///
    /// For each device, every connector with a report about it (or only --connector) gets a
    /// re-check; the answer says whether each accepted it. The fresh reports then arrive as usual and
    /// decisions follow: watch them with `riskctl devices show` or `riskctl watch`. Admin only.
    Recheck {
        /// The device ids.
        #[arg(required = true)]
        devices: Vec<String>,
        /// Only this connector (needed for a device the core has never heard of).
        #[arg(long, value_name = "ID")]
        connector: Option<String>,
    },
    /// One device's events, oldest first.
    History {
        /// The device id.
        device: String,
        /// At most this many events (default: all retained).
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
    },
}

/// `riskctl connectors ...`
#[derive(Debug, Subcommand)]
pub(crate) enum ConnectorsCommand {
    /// List connectors with their state.
    List,
    /// One connector's settings and state.
    Show {
        /// The connector id.
        id: String,
    },
    /// Register a connector from flags, or from a TOML/YAML file with -f.
    Create(ConnectorCreateArgs),
    /// Change a connector: the given flags change only their fields; -f FILE replaces every setting.
    Update(ConnectorUpdateArgs),
    /// Let a connector's data count: turn its toggles on and provision it.
    ///
    /// A connector's state is ENABLED when it is set up and at least one of its per-platform
    /// compliance or app-protection toggles is on (Intune's "connect <platform> devices" switches).
    /// `enable` turns on the compliance toggles of the chosen platforms (default: all), also the
    /// app-protection toggles with --app-protection, and sets provisioned = true.
    Enable(ToggleArgs),
    /// Stop a connector's data from counting: turn its toggles off.
    ///
    /// Turns off the compliance and app-protection toggles of the chosen platforms (default: all;
    /// --compliance or --app-protection to limit it to one kind). With every toggle off the state
    /// is AVAILABLE: the connector still reports, but no policy uses its data. To refuse its reports
    /// altogether, deprovision it: `connectors update ID --provisioned false`.
    Disable(ToggleArgs),
    /// Remove a connector (its reports stay in the history).
    Delete {
        /// The connector id.
        id: String,
    },
}

/// Connector settings given as flags.
#[derive(Debug, Args, Default)]
pub(crate) struct ConnectorFields {
    /// The vendor, such as lookout.
    #[arg(long)]
    pub(crate) vendor: Option<String>,
    /// Name shown to admins.
    #[arg(long)]
    pub(crate) display_name: Option<String>,
    /// Third party or Microsoft Defender.
    #[arg(long)]
    pub(crate) kind: Option<PartnerKind>,
    /// Platforms whose data counts for compliance (comma-separated; `none` for none).
    #[arg(long, value_name = "PLATFORMS", value_delimiter = ',', value_parser = parse_toggle_platform)]
    pub(crate) compliance: Option<Vec<Option<TogglePlatform>>>,
    /// Platforms whose data counts for app protection (comma-separated; `none` for none).
    #[arg(long, value_name = "PLATFORMS", value_delimiter = ',', value_parser = parse_toggle_platform)]
    pub(crate) app_protection: Option<Vec<Option<TogglePlatform>>>,
    /// Platforms whose devices are noncompliant until this partner reported (comma-separated; `none`).
    #[arg(long, value_name = "PLATFORMS", value_delimiter = ',', value_parser = parse_toggle_platform)]
    pub(crate) block_on_missing_data: Option<Vec<Option<TogglePlatform>>>,
    /// Mark devices below the partner's minimum OS noncompliant.
    #[arg(long, value_name = "BOOL")]
    pub(crate) block_unsupported_os: Option<bool>,
    /// A partner minimum OS version, PLATFORM=VERSION such as ios=16.4 (repeatable; empty VERSION clears).
    #[arg(long = "min-os", value_name = "PLATFORM=VERSION", value_parser = parse_min_os)]
    pub(crate) min_os: Vec<(TogglePlatform, String)>,
    /// How long without a heartbeat before the connector is unresponsive, such as 7d or 12h.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) unresponsive_after: Option<std::time::Duration>,
    /// false deprovisions the connector (its reports are refused).
    #[arg(long, value_name = "BOOL")]
    pub(crate) provisioned: Option<bool>,
    /// What the connector's missing data counts for: last_known (default), intune or noncompliant.
    #[arg(long, value_name = "MODE")]
    pub(crate) missing_data: Option<MissingDataMode>,
}

/// `connectors create`.
#[derive(Debug, Args)]
pub(crate) struct ConnectorCreateArgs {
    /// The connector id (or `id` in the file).
    #[arg(required_unless_present = "file")]
    pub(crate) id: Option<String>,
    /// A TOML (.toml) or YAML (.yaml, .yml) file with the connector's settings.
    #[arg(short = 'f', long, value_name = "FILE", conflicts_with = "id")]
    pub(crate) file: Option<PathBuf>,
    /// Settings.
    #[command(flatten)]
    pub(crate) fields: ConnectorFields,
}

/// `connectors update`.
#[derive(Debug, Args)]
pub(crate) struct ConnectorUpdateArgs {
    /// The connector id (or `id` in the file).
    #[arg(required_unless_present = "file")]
    pub(crate) id: Option<String>,
    /// A TOML or YAML file with every setting of the connector (replaces them all).
    #[arg(short = 'f', long, value_name = "FILE", conflicts_with = "id")]
    pub(crate) file: Option<PathBuf>,
    /// Settings to change.
    #[command(flatten)]
    pub(crate) fields: ConnectorFields,
}

/// `connectors enable|disable`.
#[derive(Debug, Args)]
pub(crate) struct ToggleArgs {
    /// The connector id.
    pub(crate) id: String,
    /// Only these platforms (comma-separated; default: android, ios, windows, macos).
    #[arg(long, value_name = "PLATFORMS", value_delimiter = ',')]
    pub(crate) platforms: Vec<TogglePlatform>,
    /// The compliance toggles (enable's default; disable's default is both kinds).
    #[arg(long)]
    pub(crate) compliance: bool,
    /// The app-protection toggles.
    #[arg(long)]
    pub(crate) app_protection: bool,
}

/// Which kind of policy object an id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "snake_case")]
pub(crate) enum PolicyKind {
    /// A compliance policy.
    Compliance,
    /// A conditional-access resource.
    Resource,
    /// An app-protection policy.
    AppProtection,
}

/// `riskctl policies ...`
#[derive(Debug, Subcommand)]
pub(crate) enum PoliciesCommand {
    /// Create or update every object in a TOML (.toml) or YAML (.yaml, .yml) file.
    ///
    /// The file holds any mix of [[compliance]], [[resource]] and [[app_protection]] entries; see
    /// docs/examples/policy.toml. Objects not in the file are left alone.
    Apply {
        /// The policy file.
        #[arg(short = 'f', long, value_name = "FILE")]
        file: PathBuf,
    },
    /// List compliance policies, resources and app-protection policies.
    List {
        /// Only this kind.
        #[arg(long)]
        kind: Option<PolicyKind>,
    },
    /// Show one object; --kind is needed only if the id names objects of several kinds.
    Show {
        /// The policy id or resource name.
        id: String,
        /// Its kind.
        #[arg(long)]
        kind: Option<PolicyKind>,
    },
    /// Delete one object; --kind is needed only if the id names objects of several kinds.
    Delete {
        /// The policy id or resource name.
        id: String,
        /// Its kind.
        #[arg(long)]
        kind: Option<PolicyKind>,
    },
}

/// `riskctl check ...`
#[derive(Debug, Subcommand)]
pub(crate) enum CheckCommand {
    /// May DEVICE reach RESOURCE? Prints allow or deny and the reasons.
    Access {
        /// The device id.
        device: String,
        /// The resource name, such as exchange.
        resource: String,
        /// The signed-in user; access is denied if the device has another owner.
        #[arg(long)]
        user: Option<String>,
    },
    /// May APP start on DEVICE? Prints allow, block or wipe and the reasons.
    App {
        /// The device id.
        device: String,
        /// The app id (bundle or package id).
        app: String,
    },
    /// DEVICE's compliance, per policy, with reasons and deadlines.
    Compliance {
        /// The device id.
        device: String,
    },
}

/// `riskctl watch`.
#[derive(Debug, Args)]
pub(crate) struct WatchArgs {
    /// Resume from the cursor saved in FILE, and save the cursor of every message processed there
    /// (atomically). Without it, watch starts with a snapshot of every matching device.
    #[arg(long, value_name = "FILE")]
    pub(crate) cursor_file: Option<PathBuf>,
    /// Ignore the saved cursor and start again with a snapshot (after an out-of-range cursor).
    #[arg(long, requires = "cursor_file")]
    pub(crate) reset: bool,
    /// Only this device (repeatable).
    #[arg(long = "device", value_name = "ID")]
    pub(crate) devices: Vec<String>,
    /// Only devices of this user (repeatable).
    #[arg(long = "user", value_name = "ID")]
    pub(crate) users: Vec<String>,
    /// Only devices in this group (repeatable).
    #[arg(long = "group", value_name = "NAME")]
    pub(crate) groups: Vec<String>,
    /// Only devices on this platform (repeatable).
    #[arg(long = "platform", value_name = "PLATFORM")]
    pub(crate) platforms: Vec<Platform>,
    /// Only events of this kind (repeatable; snapshots are not filtered by kind).
    #[arg(long = "kind", value_name = "KIND")]
    pub(crate) kinds: Vec<EventKind>,
    /// Only devices at or above this level.
    #[arg(long, value_name = "LEVEL")]
    pub(crate) min_level: Option<Level>,
    /// Only access changes for this resource (repeatable).
    #[arg(long = "resource", value_name = "NAME")]
    pub(crate) resources: Vec<String>,
    /// Exit (status 0) after printing N events; snapshot lines do not count.
    #[arg(long, value_name = "N")]
    pub(crate) max_events: Option<u64>,
    /// Exit (status 0) once no event has arrived for this long, such as 2s; without it watch runs
    /// until interrupted.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) exit_after_idle: Option<std::time::Duration>,
    /// How often the server confirms an idle stream is alive (100ms to 60s). Nothing for three
    /// intervals means the stream is dead, and watch exits with status 3.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "5s")]
    pub(crate) progress_interval: std::time::Duration,
}

/// Parses a duration such as `3d`, `12h`, `500ms`.
pub(crate) fn parse_duration(raw: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(raw).map_err(|err| format!("{err} (examples: 30s, 12h, 3d)"))
}

fn parse_toggle_platform(raw: &str) -> Result<Option<TogglePlatform>, String> {
    if raw == "none" {
        return Ok(None);
    }
    <TogglePlatform as clap::ValueEnum>::from_str(raw, false)
        .map(Some)
        .map_err(|_| format!("{raw:?} is not one of android, ios, windows, macos, none"))
}

fn parse_min_os(raw: &str) -> Result<(TogglePlatform, String), String> {
    let (platform, version) = raw
        .split_once('=')
        .ok_or_else(|| format!("{raw:?} is not PLATFORM=VERSION"))?;
    match parse_toggle_platform(platform)? {
        Some(platform) => Ok((platform, version.to_owned())),
        None => Err("--min-os needs a platform, not none".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::Cli;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
