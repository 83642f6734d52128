//! Configuration: defaults, then a TOML file, then environment variables, then flags (the later wins).
//! Everything is validated before anything binds; errors name the key.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use serde::Deserialize;

use crate::store::Durability;

/// Default data directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = "./riskgate-data";
/// Default gRPC listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:50051";
/// Default Prometheus metrics listen address.
pub const DEFAULT_METRICS_LISTEN: &str = "127.0.0.1:9464";
/// Default most reports in one batch.
pub const DEFAULT_MAX_BATCH_REPORTS: u64 = 1000;
/// Hard ceiling for `max_batch_reports`, so one batch stays well under the gRPC message size limit.
pub const MAX_BATCH_REPORTS_CEILING: u64 = 10_000;
/// Default tolerated clock skew for timestamps from partners.
pub const DEFAULT_MAX_CLOCK_SKEW: &str = "5m";
/// Default time to drain in-flight requests on shutdown.
pub const DEFAULT_SHUTDOWN_GRACE: &str = "10s";
/// Default most concurrent subscriptions.
pub const DEFAULT_MAX_SUBSCRIPTIONS: u64 = 10_000;
/// Default event retention by age.
pub const DEFAULT_RETENTION_MAX_AGE: &str = "7days";
/// Default event retention by count.
pub const DEFAULT_RETENTION_MAX_EVENTS: u64 = 10_000_000;
/// Default compaction period.
pub const DEFAULT_COMPACTION_INTERVAL: &str = "10s";
/// Default scheduler period.
pub const DEFAULT_EVALUATION_INTERVAL: &str = "1s";

/// The validated configuration of `riskgate-core`.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the store lives. Key `data_dir`.
    pub data_dir: PathBuf,
    /// gRPC listen address. Key `listen`.
    pub listen: SocketAddr,
    /// Prometheus `/metrics` listen address. Key `metrics_listen`.
    pub metrics_listen: SocketAddr,
    /// How far a flush goes: `flush` (survives kill -9) or `fsync` (survives power loss). Key `durability`.
    pub durability: Durability,
    /// Most reports in one ingest batch. Key `max_batch_reports`.
    pub max_batch_reports: usize,
    /// How far in the future a partner timestamp may be. Key `max_clock_skew`.
    pub max_clock_skew: Duration,
    /// How long shutdown waits for in-flight requests. Key `shutdown_grace`.
    pub shutdown_grace: Duration,
    /// Log format: `text` or `json`. Key `log_format`.
    pub log_format: LogFormat,
    /// How often the scheduler re-evaluates what time changes (grace periods, heartbeats, validity).
    /// Key `evaluation_interval`.
    pub evaluation_interval: Duration,
    /// Test support: time stands still except through `ClockService.AdvanceClock`. Key `manual_clock`.
    pub manual_clock: bool,
    /// Most concurrent Subscribe streams. Key `max_subscriptions`.
    pub max_subscriptions: usize,
    /// Events older than this are compacted away. Key `retention_max_age`.
    pub retention_max_age: Duration,
    /// At most this many events are kept. Key `retention_max_events`.
    pub retention_max_events: u64,
    /// How often compaction runs. Key `compaction_interval`.
    pub compaction_interval: Duration,
}

/// How logs are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

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
    pub config: Option<PathBuf>,
    /// Data directory [default: ./riskgate-data].
    #[arg(long, env = "RISKGATE_DATA_DIR")]
    pub data_dir: Option<String>,
    /// gRPC listen address [default: 127.0.0.1:50051].
    #[arg(long, env = "RISKGATE_LISTEN")]
    pub listen: Option<String>,
    /// Prometheus metrics listen address [default: 127.0.0.1:9464].
    #[arg(long, env = "RISKGATE_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
    /// `flush` or `fsync` [default: fsync].
    #[arg(long, env = "RISKGATE_DURABILITY")]
    pub durability: Option<String>,
    /// Most reports per ingest batch [default: 1000].
    #[arg(long, env = "RISKGATE_MAX_BATCH_REPORTS")]
    pub max_batch_reports: Option<String>,
    /// Tolerated clock skew of partner timestamps, such as "5m" [default: 5m].
    #[arg(long, env = "RISKGATE_MAX_CLOCK_SKEW")]
    pub max_clock_skew: Option<String>,
    /// Drain time on shutdown, such as "10s" [default: 10s].
    #[arg(long, env = "RISKGATE_SHUTDOWN_GRACE")]
    pub shutdown_grace: Option<String>,
    /// `text` or `json` [default: text].
    #[arg(long, env = "RISKGATE_LOG_FORMAT")]
    pub log_format: Option<String>,
    /// How often time-driven decisions are re-evaluated, such as "1s" [default: 1s].
    #[arg(long, env = "RISKGATE_EVALUATION_INTERVAL")]
    pub evaluation_interval: Option<String>,
    /// Test support only: the clock stands still except through ClockService.AdvanceClock.
    #[arg(long, env = "RISKGATE_MANUAL_CLOCK")]
    pub manual_clock: bool,
    /// Most concurrent Subscribe streams [default: 10000].
    #[arg(long, env = "RISKGATE_MAX_SUBSCRIPTIONS")]
    pub max_subscriptions: Option<String>,
    /// Keep events this long, such as "7days" [default: 7days].
    #[arg(long, env = "RISKGATE_RETENTION_MAX_AGE")]
    pub retention_max_age: Option<String>,
    /// Keep at most this many events [default: 10000000].
    #[arg(long, env = "RISKGATE_RETENTION_MAX_EVENTS")]
    pub retention_max_events: Option<String>,
    /// How often compaction runs, such as "10s" [default: 10s].
    #[arg(long, env = "RISKGATE_COMPACTION_INTERVAL")]
    pub compaction_interval: Option<String>,
}

/// The keys a TOML file may set; unknown keys are refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<String>,
    listen: Option<String>,
    metrics_listen: Option<String>,
    durability: Option<String>,
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
}

impl Config {
    /// Merges defaults, the file named by `args.config`, and `args` (which already hold flags over
    /// environment variables), and validates the result.
    pub fn resolve(args: Args) -> Result<Self, ConfigError> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let pick = |flag: Option<String>, from_file: Option<String>, default: &str| {
            flag.or(from_file).unwrap_or_else(|| default.to_owned())
        };
        let data_dir = pick(args.data_dir, file.data_dir, DEFAULT_DATA_DIR);
        if data_dir.trim().is_empty() {
            return Err(ConfigError::new("data_dir", "must not be empty"));
        }
        let max_batch_reports = whole_number(
            "max_batch_reports",
            args.max_batch_reports,
            file.max_batch_reports,
            DEFAULT_MAX_BATCH_REPORTS,
            1..=MAX_BATCH_REPORTS_CEILING,
        )?;
        let max_subscriptions = whole_number(
            "max_subscriptions",
            args.max_subscriptions,
            file.max_subscriptions,
            DEFAULT_MAX_SUBSCRIPTIONS,
            1..=1_000_000,
        )?;
        let retention_max_events = whole_number(
            "retention_max_events",
            args.retention_max_events,
            file.retention_max_events,
            DEFAULT_RETENTION_MAX_EVENTS,
            1..=u64::MAX,
        )?;
        Ok(Self {
            data_dir: PathBuf::from(data_dir),
            listen: parse_addr("listen", &pick(args.listen, file.listen, DEFAULT_LISTEN))?,
            metrics_listen: parse_addr(
                "metrics_listen",
                &pick(
                    args.metrics_listen,
                    file.metrics_listen,
                    DEFAULT_METRICS_LISTEN,
                ),
            )?,
            durability: match pick(args.durability, file.durability, "fsync").as_str() {
                "flush" => Durability::Flush,
                "fsync" => Durability::Fsync,
                other => {
                    return Err(ConfigError::new(
                        "durability",
                        format!("{other:?} is not one of \"flush\", \"fsync\""),
                    ))
                }
            },
            max_batch_reports: max_batch_reports as usize,
            max_clock_skew: parse_duration(
                "max_clock_skew",
                &pick(
                    args.max_clock_skew,
                    file.max_clock_skew,
                    DEFAULT_MAX_CLOCK_SKEW,
                ),
            )?,
            shutdown_grace: parse_duration(
                "shutdown_grace",
                &pick(
                    args.shutdown_grace,
                    file.shutdown_grace,
                    DEFAULT_SHUTDOWN_GRACE,
                ),
            )?,
            log_format: match pick(args.log_format, file.log_format, "text").as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                other => {
                    return Err(ConfigError::new(
                        "log_format",
                        format!("{other:?} is not one of \"text\", \"json\""),
                    ))
                }
            },
            evaluation_interval: positive_duration(
                "evaluation_interval",
                &pick(
                    args.evaluation_interval,
                    file.evaluation_interval,
                    DEFAULT_EVALUATION_INTERVAL,
                ),
            )?,
            manual_clock: args.manual_clock || file.manual_clock.unwrap_or(false),
            max_subscriptions: max_subscriptions as usize,
            retention_max_age: positive_duration(
                "retention_max_age",
                &pick(
                    args.retention_max_age,
                    file.retention_max_age,
                    DEFAULT_RETENTION_MAX_AGE,
                ),
            )?,
            retention_max_events,
            compaction_interval: positive_duration(
                "compaction_interval",
                &pick(
                    args.compaction_interval,
                    file.compaction_interval,
                    DEFAULT_COMPACTION_INTERVAL,
                ),
            )?,
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
