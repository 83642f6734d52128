//! The supervisor's TOML configuration: the core, the restart policy, and one entry per connector.
//!
//! ```toml
//! core = "http://127.0.0.1:50051"
//!
//! [restart]
//! initial_backoff = "10s"
//! max_backoff = "5m"
//! jitter = 0.2
//! crash_loop_crashes = 5
//! crash_loop_window = "10m"
//! healthy_after = "10m"
//!
//! [[connectors]]
//! id = "lookout"
//! plugin = "/opt/riskgate/plugins/liblookout_connector.so"
//! sha256 = "…64 hex digits…"
//! config = "/etc/riskgate/lookout.json"
//! ```

use std::{path::PathBuf, time::Duration};

use serde::Deserialize;

/// Why the configuration is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema.
    #[error("invalid supervisor configuration: {0}")]
    Parse(#[from] toml::de::Error),
    /// A value is out of range.
    #[error("invalid supervisor configuration: {0}")]
    Invalid(String),
}

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The core's gRPC endpoint, such as `http://127.0.0.1:50051`.
    pub core: String,
    /// The `riskgate-connector-host` binary; by default the one next to the supervisor.
    #[serde(default)]
    pub host_bin: Option<PathBuf>,
    /// How crashed hosts are restarted.
    #[serde(default)]
    pub restart: RestartPolicy,
    /// The connectors, one host each.
    #[serde(default)]
    pub connectors: Vec<ConnectorEntry>,
}

/// One connector.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorEntry {
    /// The connector id registered in the core.
    pub id: String,
    /// The plugin shared library.
    pub plugin: PathBuf,
    /// The plugin's pinned SHA-256.
    pub sha256: String,
    /// The connector's own configuration file, passed to the plugin.
    #[serde(default)]
    pub config: Option<PathBuf>,
    /// A file holding this connector's own bearer token (role `connector:<id>`). The host gets this file and
    /// nothing else: it starts with an empty environment, so no other secret or admin token reaches the plugin.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// Extra `riskgate-connector-host run` flags, such as `["--heartbeat-interval", "10s"]`.
    #[serde(default)]
    pub host_args: Vec<String>,
}

/// Restart policy (defaults follow Kubernetes' crash-loop backoff).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RestartPolicy {
    /// Delay before the first restart.
    #[serde(with = "humantime_serde_compat")]
    pub initial_backoff: Duration,
    /// Longest delay.
    #[serde(with = "humantime_serde_compat")]
    pub max_backoff: Duration,
    /// Random spread of each delay, as a fraction (0.2 means ±20 %).
    pub jitter: f64,
    /// Crashes within `crash_loop_window` that quarantine the connector.
    pub crash_loop_crashes: usize,
    /// The crash-loop window.
    #[serde(with = "humantime_serde_compat")]
    pub crash_loop_window: Duration,
    /// A host running this long counts as healthy: its backoff and crash count reset.
    #[serde(with = "humantime_serde_compat")]
    pub healthy_after: Duration,
    /// How long a host gets to stop after SIGTERM before it is killed.
    #[serde(with = "humantime_serde_compat")]
    pub stop_timeout: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy {
            initial_backoff: Duration::from_secs(10),
            max_backoff: Duration::from_secs(300),
            jitter: 0.2,
            crash_loop_crashes: 5,
            crash_loop_window: Duration::from_secs(600),
            healthy_after: Duration::from_secs(600),
            stop_timeout: Duration::from_secs(10),
        }
    }
}

impl Config {
    /// Reads and checks a configuration file.
    pub fn load(path: &std::path::Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let config: Config = toml::from_str(&text)?;
        if config.restart.crash_loop_crashes == 0 {
            return Err(ConfigError::Invalid(
                "restart.crash_loop_crashes must be at least 1".to_owned(),
            ));
        }
        if !(0.0..=1.0).contains(&config.restart.jitter) {
            return Err(ConfigError::Invalid(
                "restart.jitter must be between 0 and 1".to_owned(),
            ));
        }
        let mut ids = std::collections::HashSet::new();
        for (index, connector) in config.connectors.iter().enumerate() {
            if !ids.insert(connector.id.as_str()) {
                return Err(ConfigError::Invalid(format!(
                    "connectors[{index}].id: {:?} appears twice",
                    connector.id
                )));
            }
        }
        Ok(config)
    }
}

/// Durations as humantime strings (`"10s"`, `"5m"`).
mod humantime_serde_compat {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Duration, D::Error> {
        let text = String::deserialize(deserializer)?;
        humantime::parse_duration(&text).map_err(serde::de::Error::custom)
    }
}
