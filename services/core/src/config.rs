//! Configuration: defaults, then a TOML file, then environment variables, then flags (the later wins).
//! Everything is validated before anything binds; errors name the key.

use crate::auth::{Role, TokenEntry, Tokens};

mod gateway;
pub(crate) use gateway::{GatewayArgs, GatewayConfig};
use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use riskgate_store::Durability;
use serde::Deserialize;

use riskgate_policy::domain::Timestamp;

/// Default data directory, relative to the working directory.
pub(crate) const DEFAULT_DATA_DIR: &str = "./riskgate-data";
/// Default gRPC listen address.
pub(crate) const DEFAULT_LISTEN: &str = "127.0.0.1:50051";
/// Default Prometheus metrics listen address.
pub(crate) const DEFAULT_METRICS_LISTEN: &str = "127.0.0.1:9464";
/// Default most reports in one batch.
pub(crate) const DEFAULT_MAX_BATCH_REPORTS: u64 = 1000;
/// Hard ceiling for `max_batch_reports`, so one batch stays well under the gRPC message size limit.
pub(crate) const MAX_BATCH_REPORTS_CEILING: u64 = 10_000;
/// Default size of sled's page cache, in MiB. sled's own default is 1 GiB; with 1M devices the core used
/// 1.26–1.31 GiB with 128 MiB and 1.05–1.10 GiB with 32 MiB, ingesting as fast, and the OS page cache
/// still holds the files (issue #9, BENCHMARKS.md `scale`).
pub(crate) const DEFAULT_STORE_CACHE_MIB: u64 = 32;
/// Default tolerated clock skew for timestamps from partners.
pub(crate) const DEFAULT_MAX_CLOCK_SKEW: &str = "5m";
/// Default time to drain in-flight requests on shutdown.
pub(crate) const DEFAULT_SHUTDOWN_GRACE: &str = "10s";
/// Default most concurrent subscriptions.
pub(crate) const DEFAULT_MAX_SUBSCRIPTIONS: u64 = 10_000;
/// Default event retention by age.
pub(crate) const DEFAULT_RETENTION_MAX_AGE: &str = "7days";
/// Default event retention by count.
pub(crate) const DEFAULT_RETENTION_MAX_EVENTS: u64 = 10_000_000;
/// Default compaction period.
pub(crate) const DEFAULT_COMPACTION_INTERVAL: &str = "10s";
/// Default largest request message: 4 MiB, gRPC's usual limit.
pub(crate) const DEFAULT_MAX_MESSAGE_BYTES: u64 = 4 * 1024 * 1024;
/// Default unary deadline.
pub(crate) const DEFAULT_REQUEST_TIMEOUT: &str = "30s";
/// Default most concurrent streams per client.
pub(crate) const DEFAULT_MAX_STREAMS_PER_CLIENT: u64 = 100;
/// Default scheduler period.
pub(crate) const DEFAULT_EVALUATION_INTERVAL: &str = "1s";

/// The validated configuration of `riskgate-core`.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the store lives. Key `data_dir`.
    pub(crate) data_dir: PathBuf,
    /// gRPC listen address. Key `listen`.
    pub(crate) listen: SocketAddr,
    /// Prometheus `/metrics` listen address. Key `metrics_listen`.
    pub(crate) metrics_listen: SocketAddr,
    /// How far a flush goes: `flush` (survives kill -9) or `fsync` (survives power loss). Key `durability`.
    pub(crate) durability: Durability,
    /// sled's page cache, in bytes. Key `store_cache_mib` (MiB).
    pub(crate) store_cache_bytes: u64,
    /// Most reports in one ingest batch. Key `max_batch_reports`.
    pub(crate) max_batch_reports: usize,
    /// How far in the future a partner timestamp may be. Key `max_clock_skew`.
    pub(crate) max_clock_skew: Duration,
    /// How long shutdown waits for in-flight requests. Key `shutdown_grace`.
    pub(crate) shutdown_grace: Duration,
    /// Log format: `text` or `json`. Key `log_format`.
    pub log_format: LogFormat,
    /// How often the scheduler re-evaluates what time changes (grace periods, heartbeats, validity).
    /// Key `evaluation_interval`.
    pub(crate) evaluation_interval: Duration,
    /// Test support: time stands still except through `ClockService.AdvanceClock`. Key `manual_clock`.
    pub(crate) manual_clock: bool,
    /// Most concurrent Subscribe streams. Key `max_subscriptions`.
    pub(crate) max_subscriptions: usize,
    /// Events older than this are compacted away. Key `retention_max_age`.
    pub(crate) retention_max_age: Duration,
    /// At most this many events are kept. Key `retention_max_events`.
    pub(crate) retention_max_events: u64,
    /// How often compaction runs. Key `compaction_interval`.
    pub(crate) compaction_interval: Duration,
    /// Bearer tokens; `None` disables authentication (allowed only on loopback). Key `[[tokens]]`.
    pub(crate) tokens: Option<Tokens>,
    /// TLS for the gRPC listener. Key `[tls]`.
    pub(crate) tls: Option<TlsConfig>,
    /// Largest request message, in bytes. Key `max_message_bytes`.
    pub(crate) max_message_bytes: usize,
    /// Deadline of every unary call. Key `request_timeout`.
    pub(crate) request_timeout: Duration,
    /// Most concurrent streams (Ingest and Subscribe) per client. Key `max_streams_per_client`.
    pub(crate) max_streams_per_client: usize,
    /// Envoy's external authorization, served on its own listener; `None` when off. Key `[gateway]`.
    pub(crate) gateway: Option<GatewayConfig>,
}

/// TLS settings, with the PEM files already read.
#[derive(Clone)]
pub(crate) struct TlsConfig {
    /// The server certificate chain (PEM).
    pub(crate) cert_pem: Vec<u8>,
    /// The server private key (PEM).
    pub(crate) key_pem: Vec<u8>,
    /// CA of client certificates (PEM), for mutual TLS.
    pub(crate) client_ca_pem: Option<Vec<u8>>,
    /// With a client CA: refuse connections without a client certificate.
    pub(crate) require_client_cert: bool,
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is a secret: never print it.
        f.debug_struct("TlsConfig")
            .field("mutual", &self.client_ca_pem.is_some())
            .field("require_client_cert", &self.require_client_cert)
            .finish_non_exhaustive()
    }
}

pub use riskgate_service_kit::logging::LogFormat;

/// A configuration value that is wrong, with the key it belongs to.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: `{key}`: {reason}")]
pub struct ConfigError {
    /// The key, as written in the TOML file (the flag is `--key-with-dashes`, the variable `RISKGATE_KEY`).
    pub key: String,
    /// What is wrong.
    pub reason: String,
}

impl ConfigError {
    fn new(key: &str, reason: impl Into<String>) -> Self {
        Self {
            key: key.to_owned(),
            reason: reason.into(),
        }
    }
}

/// Command-line flags; each also reads an environment variable.
#[derive(Debug, Default, clap::Parser)]
#[command(
    name = "riskgate-core",
    version,
    about = "riskgate's core risk service"
)]
pub struct Args {
    /// TOML configuration file.
    #[arg(long, env = "RISKGATE_CONFIG")]
    pub(crate) config: Option<PathBuf>,
    /// Data directory [default: ./riskgate-data].
    #[arg(long, env = "RISKGATE_DATA_DIR")]
    pub(crate) data_dir: Option<String>,
    /// gRPC listen address [default: 127.0.0.1:50051].
    #[arg(long, env = "RISKGATE_LISTEN")]
    pub(crate) listen: Option<String>,
    /// Prometheus metrics listen address [default: 127.0.0.1:9464].
    #[arg(long, env = "RISKGATE_METRICS_LISTEN")]
    pub(crate) metrics_listen: Option<String>,
    /// `flush` or `fsync` [default: fsync].
    #[arg(long, env = "RISKGATE_DURABILITY")]
    pub(crate) durability: Option<String>,
    /// sled's page cache in MiB [default: 32].
    #[arg(long, env = "RISKGATE_STORE_CACHE_MIB")]
    pub(crate) store_cache_mib: Option<String>,
    /// Most reports per ingest batch [default: 1000].
    #[arg(long, env = "RISKGATE_MAX_BATCH_REPORTS")]
    pub(crate) max_batch_reports: Option<String>,
    /// Tolerated clock skew of partner timestamps, such as "5m" [default: 5m].
    #[arg(long, env = "RISKGATE_MAX_CLOCK_SKEW")]
    pub(crate) max_clock_skew: Option<String>,
    /// Drain time on shutdown, such as "10s" [default: 10s].
    #[arg(long, env = "RISKGATE_SHUTDOWN_GRACE")]
    pub(crate) shutdown_grace: Option<String>,
    /// `text` or `json` [default: text].
    #[arg(long, env = "RISKGATE_LOG_FORMAT")]
    pub(crate) log_format: Option<String>,
    /// How often time-driven decisions are re-evaluated, such as "1s" [default: 1s].
    #[arg(long, env = "RISKGATE_EVALUATION_INTERVAL")]
    pub(crate) evaluation_interval: Option<String>,
    /// Test support only: the clock stands still except through ClockService.AdvanceClock.
    #[arg(long, env = "RISKGATE_MANUAL_CLOCK")]
    pub(crate) manual_clock: bool,
    /// Most concurrent Subscribe streams [default: 10000].
    #[arg(long, env = "RISKGATE_MAX_SUBSCRIPTIONS")]
    pub(crate) max_subscriptions: Option<String>,
    /// Keep events this long, such as "7days" [default: 7days].
    #[arg(long, env = "RISKGATE_RETENTION_MAX_AGE")]
    pub(crate) retention_max_age: Option<String>,
    /// Keep at most this many events [default: 10000000].
    #[arg(long, env = "RISKGATE_RETENTION_MAX_EVENTS")]
    pub(crate) retention_max_events: Option<String>,
    /// How often compaction runs, such as "10s" [default: 10s].
    #[arg(long, env = "RISKGATE_COMPACTION_INTERVAL")]
    pub(crate) compaction_interval: Option<String>,
    /// Largest request message in bytes [default: 4194304].
    #[arg(long, env = "RISKGATE_MAX_MESSAGE_BYTES")]
    pub(crate) max_message_bytes: Option<String>,
    /// Deadline of every unary call, such as "30s" [default: 30s].
    #[arg(long, env = "RISKGATE_REQUEST_TIMEOUT")]
    pub(crate) request_timeout: Option<String>,
    /// Most concurrent streams per client [default: 100].
    #[arg(long, env = "RISKGATE_MAX_STREAMS_PER_CLIENT")]
    pub(crate) max_streams_per_client: Option<String>,
    /// The `[gateway]` keys.
    #[command(flatten)]
    pub(crate) gateway: GatewayArgs,
}

/// One `[[tokens]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenFileConfig {
    name: String,
    sha256: String,
    roles: Vec<String>,
    expires_at: Option<String>,
}

/// The `[tls]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsFileConfig {
    cert_file: PathBuf,
    key_file: PathBuf,
    client_ca_file: Option<PathBuf>,
    require_client_cert: Option<bool>,
}

/// The keys a TOML file may set; unknown keys are refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<String>,
    listen: Option<String>,
    metrics_listen: Option<String>,
    durability: Option<String>,
    store_cache_mib: Option<u64>,
    max_batch_reports: Option<u64>,
    max_clock_skew: Option<String>,
    shutdown_grace: Option<String>,
    log_format: Option<String>,
    evaluation_interval: Option<String>,
    manual_clock: Option<bool>,
    max_subscriptions: Option<u64>,
    retention_max_age: Option<String>,
    retention_max_events: Option<u64>,
    compaction_interval: Option<String>,
    max_message_bytes: Option<u64>,
    request_timeout: Option<String>,
    max_streams_per_client: Option<u64>,
    tokens: Option<Vec<TokenFileConfig>>,
    tls: Option<TlsFileConfig>,
    gateway: Option<gateway::GatewayFileConfig>,
}

impl Config {
    /// Merges defaults, the file named by `args.config`, and `args` (which already hold flags over
    /// environment variables), and validates the result.
    pub fn resolve(mut args: Args) -> Result<Self, ConfigError> {
        let mut file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let data_dir = pick(args.data_dir.take(), file.data_dir.take(), DEFAULT_DATA_DIR);
        if data_dir.trim().is_empty() {
            return Err(ConfigError::new("data_dir", "must not be empty"));
        }
        let numbers = Numbers::resolve(&mut args, &file)?;
        let tokens = match file.tokens.take() {
            Some(entries) if !entries.is_empty() => Some(parse_tokens(entries)?),
            _ => None,
        };
        let tls = file.tls.take().map(parse_tls).transpose()?;
        let listen = parse_addr(
            "listen",
            &pick(args.listen.take(), file.listen.take(), DEFAULT_LISTEN),
        )?;
        refuse_open_exposure(listen, tokens.is_some() || tls.is_some())?;
        let gateway = gateway::resolve(
            std::mem::take(&mut args.gateway),
            file.gateway.take(),
            tokens.is_some() || tls.is_some(),
        )?;
        let times = Times::resolve(&mut args, &mut file)?;
        let metrics_listen = pick(
            args.metrics_listen,
            file.metrics_listen,
            DEFAULT_METRICS_LISTEN,
        );
        let durability = pick(args.durability.take(), file.durability.take(), "fsync");
        let log_format = pick(args.log_format.take(), file.log_format.take(), "text");
        Ok(Self {
            data_dir: PathBuf::from(data_dir),
            listen,
            metrics_listen: parse_addr("metrics_listen", &metrics_listen)?,
            durability: choice(
                "durability",
                &durability,
                [("flush", Durability::Flush), ("fsync", Durability::Fsync)],
            )?,
            store_cache_bytes: numbers.store_cache_mib << 20,
            max_batch_reports: numbers.max_batch_reports as usize,
            max_clock_skew: times.max_clock_skew,
            shutdown_grace: times.shutdown_grace,
            log_format: choice(
                "log_format",
                &log_format,
                [("text", LogFormat::Text), ("json", LogFormat::Json)],
            )?,
            evaluation_interval: times.evaluation_interval,
            manual_clock: args.manual_clock || file.manual_clock.unwrap_or(false),
            max_subscriptions: numbers.max_subscriptions as usize,
            retention_max_age: times.retention_max_age,
            retention_max_events: numbers.retention_max_events,
            compaction_interval: times.compaction_interval,
            tokens,
            tls,
            max_message_bytes: numbers.max_message_bytes as usize,
            request_timeout: times.request_timeout,
            max_streams_per_client: numbers.max_streams_per_client as usize,
            gateway,
        })
    }
}

/// The flag (or environment variable), else the file's value, else the default.
fn pick(flag: Option<String>, from_file: Option<String>, default: &str) -> String {
    flag.or(from_file).unwrap_or_else(|| default.to_owned())
}

/// The flag (or environment variable), else the file's value, if either is set.
fn pick_opt(flag: Option<String>, from_file: Option<String>) -> Option<String> {
    flag.or(from_file)
}

/// Plain TCP without authentication is allowed only on loopback (the security baseline).
fn refuse_open_exposure(listen: SocketAddr, authenticated: bool) -> Result<(), ConfigError> {
    if authenticated || listen.ip().is_loopback() {
        return Ok(());
    }
    Err(ConfigError::new(
        "listen",
        format!(
            "{listen} is not a loopback address: serving without [[tokens]] and [tls] is allowed only on loopback"
        ),
    ))
}

/// The value `raw` names among `options`, or an error that lists them.
fn choice<T, const N: usize>(
    key: &str,
    raw: &str,
    options: [(&str, T); N],
) -> Result<T, ConfigError> {
    let names: Vec<String> = options
        .iter()
        .map(|(name, _)| format!("{name:?}"))
        .collect();
    options
        .into_iter()
        .find_map(|(name, value)| (name == raw).then_some(value))
        .ok_or_else(|| ConfigError::new(key, format!("{raw:?} is not one of {}", names.join(", "))))
}

/// The duration settings; the periods must be positive.
struct Times {
    max_clock_skew: Duration,
    shutdown_grace: Duration,
    evaluation_interval: Duration,
    retention_max_age: Duration,
    compaction_interval: Duration,
    request_timeout: Duration,
}

impl Times {
    fn resolve(args: &mut Args, file: &mut FileConfig) -> Result<Self, ConfigError> {
        // A setting's key is its field's name in the flags, the file and here; `$parse` checks the text.
        macro_rules! setting {
            ($parse:ident, $key:ident, $default:expr) => {
                $parse(
                    stringify!($key),
                    &pick(args.$key.take(), file.$key.take(), $default),
                )?
            };
        }
        Ok(Self {
            max_clock_skew: setting!(parse_duration, max_clock_skew, DEFAULT_MAX_CLOCK_SKEW),
            shutdown_grace: setting!(parse_duration, shutdown_grace, DEFAULT_SHUTDOWN_GRACE),
            evaluation_interval: setting!(
                positive_duration,
                evaluation_interval,
                DEFAULT_EVALUATION_INTERVAL
            ),
            retention_max_age: setting!(
                positive_duration,
                retention_max_age,
                DEFAULT_RETENTION_MAX_AGE
            ),
            compaction_interval: setting!(
                positive_duration,
                compaction_interval,
                DEFAULT_COMPACTION_INTERVAL
            ),
            request_timeout: setting!(positive_duration, request_timeout, DEFAULT_REQUEST_TIMEOUT),
        })
    }
}

/// The whole-number settings, each within its range.
struct Numbers {
    max_batch_reports: u64,
    store_cache_mib: u64,
    max_subscriptions: u64,
    retention_max_events: u64,
    max_message_bytes: u64,
    max_streams_per_client: u64,
}

impl Numbers {
    fn resolve(args: &mut Args, file: &FileConfig) -> Result<Self, ConfigError> {
        // A setting's key is its field's name in the flags, the file and here.
        macro_rules! number {
            ($key:ident, $default:expr, $range:expr) => {
                whole_number(
                    stringify!($key),
                    args.$key.take(),
                    file.$key,
                    $default,
                    $range,
                )?
            };
        }
        Ok(Self {
            max_batch_reports: number!(
                max_batch_reports,
                DEFAULT_MAX_BATCH_REPORTS,
                1..=MAX_BATCH_REPORTS_CEILING
            ),
            store_cache_mib: number!(store_cache_mib, DEFAULT_STORE_CACHE_MIB, 1..=1024 * 1024),
            max_subscriptions: number!(max_subscriptions, DEFAULT_MAX_SUBSCRIPTIONS, 1..=1_000_000),
            retention_max_events: number!(
                retention_max_events,
                DEFAULT_RETENTION_MAX_EVENTS,
                1..=u64::MAX
            ),
            max_message_bytes: number!(
                max_message_bytes,
                DEFAULT_MAX_MESSAGE_BYTES,
                1024..=64 * 1024 * 1024
            ),
            max_streams_per_client: number!(
                max_streams_per_client,
                DEFAULT_MAX_STREAMS_PER_CLIENT,
                1..=100_000
            ),
        })
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|err| {
        ConfigError::new("config", format!("cannot read {}: {err}", path.display()))
    })?;
    toml::from_str(&text).map_err(|err| {
        // toml's message names the key and shows the line; keep the key up front for the reader.
        let key = err
            .message()
            .split('`')
            .nth(1)
            .filter(|_| err.message().starts_with("unknown field"))
            .map(str::to_owned)
            .or_else(|| key_at(&text, err.span()))
            .unwrap_or_else(|| "config".to_owned());
        ConfigError::new(&key, format!("in {}: {}", path.display(), err.message()))
    })
}

/// The key on the line where a TOML error points, for type errors such as `listen = 5`.
fn key_at(text: &str, span: Option<std::ops::Range<usize>>) -> Option<String> {
    let start = span?.start.min(text.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next()?;
    let key = line.split('=').next()?.trim();
    (!key.is_empty()).then(|| key.to_owned())
}

fn parse_addr(key: &str, raw: &str) -> Result<SocketAddr, ConfigError> {
    raw.parse().map_err(|_| {
        ConfigError::new(
            key,
            format!("{raw:?} is not a socket address such as \"127.0.0.1:50051\""),
        )
    })
}

fn parse_tokens(entries: Vec<TokenFileConfig>) -> Result<Tokens, ConfigError> {
    let mut parsed = Vec::with_capacity(entries.len());
    for (index, entry) in entries.into_iter().enumerate() {
        let key = |field: &str| format!("tokens[{index}].{field}");
        if entry.name.is_empty() {
            return Err(ConfigError::new(&key("name"), "must not be empty"));
        }
        let hash = decode_sha256(&entry.sha256).ok_or_else(|| {
            ConfigError::new(
                &key("sha256"),
                "must be the 64 hex digits of the token's SHA-256 (for example `printf %s \"$TOKEN\" | sha256sum`)",
            )
        })?;
        if entry.roles.is_empty() {
            return Err(ConfigError::new(
                &key("roles"),
                "must name at least one role",
            ));
        }
        let roles = entry
            .roles
            .iter()
            .enumerate()
            .map(|(role_index, raw)| {
                Role::parse(raw).map_err(|reason| {
                    ConfigError::new(&format!("tokens[{index}].roles[{role_index}]"), reason)
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let expires_at = match entry.expires_at {
            None => None,
            Some(raw) => {
                let at = humantime::parse_rfc3339(&raw).map_err(|err| {
                    ConfigError::new(
                        &key("expires_at"),
                        format!("{raw:?} is not an RFC 3339 time: {err}"),
                    )
                })?;
                let nanos = at
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|since| since.as_nanos())
                    .unwrap_or_default();
                Some(Timestamp(i64::try_from(nanos).unwrap_or(i64::MAX)))
            }
        };
        parsed.push((
            hash,
            TokenEntry {
                name: entry.name,
                roles,
                expires_at,
            },
        ));
    }
    Ok(Tokens::new(parsed))
}

fn decode_sha256(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.trim();
    if hex.len() != 64 {
        return None;
    }
    let mut hash = [0u8; 32];
    for (index, byte) in hash.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(index * 2..index * 2 + 2)?, 16).ok()?;
    }
    Some(hash)
}

fn parse_tls(tls: TlsFileConfig) -> Result<TlsConfig, ConfigError> {
    let read = |key: &str, path: &Path| {
        std::fs::read(path)
            .map_err(|err| ConfigError::new(key, format!("cannot read {}: {err}", path.display())))
    };
    let client_ca_pem = tls
        .client_ca_file
        .as_deref()
        .map(|path| read("tls.client_ca_file", path))
        .transpose()?;
    Ok(TlsConfig {
        cert_pem: read("tls.cert_file", &tls.cert_file)?,
        key_pem: read("tls.key_file", &tls.key_file)?,
        require_client_cert: tls.require_client_cert.unwrap_or(client_ca_pem.is_some()),
        client_ca_pem,
    })
}

/// A whole number from a flag (text) or the file (a TOML integer), within `range`.
fn whole_number(
    key: &str,
    flag: Option<String>,
    from_file: Option<u64>,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    let value = match flag {
        Some(raw) => raw
            .parse::<u64>()
            .map_err(|_| ConfigError::new(key, format!("{raw:?} is not a whole number")))?,
        None => from_file.unwrap_or(default),
    };
    if !range.contains(&value) {
        return Err(ConfigError::new(
            key,
            format!("{value} is outside {}..={}", range.start(), range.end()),
        ));
    }
    Ok(value)
}

fn positive_duration(key: &str, raw: &str) -> Result<Duration, ConfigError> {
    let value = parse_duration(key, raw)?;
    if value.is_zero() {
        return Err(ConfigError::new(key, "must be more than zero"));
    }
    Ok(value)
}

fn parse_duration(key: &str, raw: &str) -> Result<Duration, ConfigError> {
    humantime::parse_duration(raw).map_err(|err| {
        ConfigError::new(
            key,
            format!("{raw:?} is not a duration such as \"30s\": {err}"),
        )
    })
}

#[cfg(test)]
mod tests;
