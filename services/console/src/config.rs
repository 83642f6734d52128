//! The console's configuration file (TOML, docs/console.md): where it listens, how it reaches the core
//! with its own token, and how long a sign-in lasts. Unknown keys are refused, naming the key.

use std::{net::SocketAddr, time::Duration};

use riskgate_web_kit::config::duration;
pub use riskgate_web_kit::config::{CoreConfig, TlsConfig};
use serde::Deserialize;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where to listen; plain HTTP only on loopback, HTTPS with `[tls]`.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// How long a sign-in lasts before the user signs in again.
    #[serde(default = "default_session_ttl", deserialize_with = "duration")]
    pub session_ttl: Duration,
    /// Most signed-in sessions held at once; sign-ins beyond it are refused (503) until some expire.
    #[serde(default = "default_max_sessions")]
    pub max_sessions: usize,
    /// Live updates over server-sent events. Off, pages show what was true when they were loaded.
    #[serde(default = "default_live")]
    pub live: bool,
    /// How far back the overview's chart of noncompliant devices reaches.
    #[serde(default = "default_chart_window", deserialize_with = "duration")]
    pub chart_window: Duration,
    /// The core. Its `token_file` holds the console's own token, with the `subscriber` role, for live
    /// updates; pages are read with each signed-in user's own token.
    pub core: CoreConfig,
    /// HTTPS.
    pub tls: Option<TlsConfig>,
}

impl Config {
    /// Parses the file's text; errors name the key.
    pub fn parse(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|err| err.to_string())
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

fn default_session_ttl() -> Duration {
    Duration::from_secs(8 * 3600)
}

fn default_max_sessions() -> usize {
    10_000
}

fn default_live() -> bool {
    true
}

fn default_chart_window() -> Duration {
    Duration::from_secs(24 * 3600)
}
