//! The transmitter's configuration file (TOML, docs/ssf.md): where it listens, who it is, how it reaches
//! the core, which receivers' tokens it accepts, and the limits of delivery. Unknown keys are refused,
//! naming the key, so a misspelt setting never silently falls back to its default.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use riskgate_web_kit::config::{duration, optional_duration};
pub use riskgate_web_kit::config::{CoreConfig, TlsConfig};
use serde::Deserialize;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where to listen; plain HTTP only on loopback, HTTPS with `[tls]`.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Where the signing keys and the stream store live.
    pub data_dir: PathBuf,
    /// The `iss` of every SET and the metadata's `issuer`; by default the base URL.
    pub issuer: Option<String>,
    /// Where receivers reach the endpoints (no trailing slash); by default `http(s)://<listen address>`.
    pub base_url: Option<String>,
    /// The tenant member of every device subject, if set.
    pub tenant: Option<String>,
    /// `ALL`: a new stream carries every subject until some are removed; `NONE`: none until added.
    #[serde(default)]
    pub default_subjects: DefaultSubjectsSetting,
    /// The shortest time between two verification requests of one stream.
    #[serde(default = "default_min_verification", deserialize_with = "duration")]
    pub min_verification_interval: Duration,
    /// Signing keys.
    #[serde(default)]
    pub keys: KeysConfig,
    /// Delivery limits.
    #[serde(default)]
    pub delivery: DeliveryConfig,
    /// The core the transmitter follows.
    pub core: CoreConfig,
    /// HTTPS.
    pub tls: Option<TlsConfig>,
    /// The receivers' (and admins') bearer tokens.
    #[serde(default)]
    pub tokens: Vec<TokenConfig>,
}

/// `default_subjects` (SSF 1.0 §7.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum DefaultSubjectsSetting {
    /// Every subject.
    #[default]
    All,
    /// No subject until added.
    None,
}

/// `[keys]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysConfig {
    /// An operator's RSA key (PKCS#8, DER or PEM `PRIVATE KEY`); without it the key is made at first start.
    pub file: Option<PathBuf>,
    /// Rotate the key once it is this old (made keys only).
    #[serde(default, deserialize_with = "optional_duration")]
    pub rotate_after: Option<Duration>,
    /// How long a retired key stays in the JWKS.
    #[serde(default = "default_overlap", deserialize_with = "duration")]
    pub overlap: Duration,
}

impl Default for KeysConfig {
    fn default() -> Self {
        Self {
            file: None,
            rotate_after: None,
            overlap: default_overlap(),
        }
    }
}

/// `[delivery]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryConfig {
    /// How long one push POST may take.
    #[serde(default = "default_push_timeout", deserialize_with = "duration")]
    pub push_timeout: Duration,
    /// The first retry delay of a failed push; it doubles up to `max_backoff`.
    #[serde(default = "default_initial_backoff", deserialize_with = "duration")]
    pub initial_backoff: Duration,
    /// The longest retry delay (a receiver's `Retry-After` may ask for longer, up to an hour).
    #[serde(default = "default_max_backoff", deserialize_with = "duration")]
    pub max_backoff: Duration,
    /// How many SETs a poll stream holds unacknowledged before it stops reading the core's log.
    #[serde(default = "default_max_outstanding")]
    pub max_outstanding: usize,
    /// How long a long poll waits for a SET.
    #[serde(default = "default_long_poll", deserialize_with = "duration")]
    pub long_poll: Duration,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            push_timeout: default_push_timeout(),
            initial_backoff: default_initial_backoff(),
            max_backoff: default_max_backoff(),
            max_outstanding: default_max_outstanding(),
            long_poll: default_long_poll(),
        }
    }
}

/// One `[[tokens]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// The receiver's name: it owns the streams it creates.
    pub name: String,
    /// Lowercase hex SHA-256 of the token.
    pub sha256: String,
    /// `ssf.manage`, `ssf.read` or `admin`.
    pub roles: Vec<String>,
    /// The `aud` of the SETs of this receiver's streams; by default its name.
    pub audience: Option<String>,
    /// RFC 3339 time after which the token is refused.
    pub expires_at: Option<String>,
}

impl Config {
    /// Parses the file's text; errors name the key.
    pub fn parse(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|err| err.to_string())
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8443))
}

fn default_min_verification() -> Duration {
    Duration::from_secs(15)
}

fn default_overlap() -> Duration {
    Duration::from_secs(7 * 24 * 3600)
}

fn default_push_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_initial_backoff() -> Duration {
    Duration::from_millis(200)
}

fn default_max_backoff() -> Duration {
    Duration::from_secs(60)
}

fn default_max_outstanding() -> usize {
    1000
}

fn default_long_poll() -> Duration {
    Duration::from_secs(30)
}
