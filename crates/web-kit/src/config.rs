//! Configuration pieces the HTTP services' TOML files share: `[tls]`, `[core]`, and durations written
//! as humantime text ("30s", "7d").

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use serde::{Deserialize, Deserializer};

/// `[tls]`: serve HTTPS with this certificate.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain.
    pub cert_file: PathBuf,
    /// PEM private key.
    pub key_file: PathBuf,
}

/// `[core]`: how the service reaches the core's gRPC API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoreConfig {
    /// The core's gRPC URL.
    pub url: String,
    /// A file holding the service's own token for the core.
    pub token_file: Option<PathBuf>,
    /// The CA of the core's certificate, for an https URL.
    pub ca_file: Option<PathBuf>,
}

/// Refuses plain HTTP anywhere but on loopback: tokens and session cookies cross this connection.
pub fn check_listen(listen: SocketAddr, tls: Option<&TlsConfig>) -> Result<(), String> {
    if tls.is_some() || listen.ip().is_loopback() {
        Ok(())
    } else {
        Err(format!(
            "listen {listen}: plain HTTP is allowed only on loopback; configure [tls]"
        ))
    }
}

/// A duration written as humantime text, such as `30s` or `7d`.
pub fn duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(deserializer)?;
    humantime::parse_duration(&text)
        .map_err(|err| serde::de::Error::custom(format!("{text:?} is not a duration: {err}")))
}

/// An optional [`duration`] (absent: `None`, with `#[serde(default)]`).
pub fn optional_duration<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Duration>, D::Error> {
    duration(deserializer).map(Some)
}
