//! The webhook connector's JSON configuration, checked at create time; errors name the key.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use riskgate_sdk::toolkit::{
    config::{in_range_usize, max_batch_reports, millis, required, seconds},
    from_json, secret, Secret,
};
use serde::Deserialize;
use serde_json::Value;

use crate::mapping::{ConfigError, Mapping};

/// Default signature header.
pub const DEFAULT_SIGNATURE_HEADER: &str = "X-Riskgate-Signature";
/// Default timestamp header.
pub const DEFAULT_TIMESTAMP_HEADER: &str = "X-Riskgate-Timestamp";
/// Default URL path pushes are POSTed to.
pub const DEFAULT_PATH: &str = "/v1/push";

/// The connector's settings.
#[derive(Clone, PartialEq)]
pub struct WebhookConfig {
    /// Where the HTTP server listens (`listen`, required; port 0 picks a free port, logged at start).
    pub listen: SocketAddr,
    /// The URL path pushes are POSTed to (`path`).
    pub path: String,
    /// A file the bound address (`IP:PORT`) is written to once listening (`address_file`), for
    /// supervisors and tests that listen on port 0.
    pub address_file: Option<std::path::PathBuf>,
    /// The shared HMAC secret (`secret`, or the environment variable named by `secret_env`, or the
    /// file named by `secret_file`).
    pub secret: Vec<u8>,
    /// The header carrying `sha256=<hex>` (`signature_header`).
    pub signature_header: String,
    /// The header carrying the unix-seconds timestamp (`timestamp_header`).
    pub timestamp_header: String,
    /// How far a push's timestamp may be from the receiver's clock (`tolerance_secs`, default 300).
    pub tolerance: Duration,
    /// Largest accepted body (`max_body_bytes`, default 1 MiB).
    pub max_body_bytes: usize,
    /// Most reports in one batch, and in one push (`max_batch_reports`, 1 to 1000, default 500).
    pub max_batch_reports: usize,
    /// How long the batcher waits for more pushes before sending a batch (`linger_ms`, default 20).
    pub linger: Duration,
    /// How long a push waits for the core's acknowledgement before a 503 (`ack_timeout_ms`, default 10000).
    pub ack_timeout: Duration,
    /// The field mapping (`mapping`, `values`).
    pub mapping: Mapping,
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("listen", &self.listen)
            .field("path", &self.path)
            .field("secret", &"<redacted>")
            .field("mapping", &self.mapping)
            .finish_non_exhaustive()
    }
}

/// The configuration as written; unknown keys are refused by the toolkit, by name.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Raw {
    listen: Option<String>,
    path: Option<String>,
    address_file: Option<PathBuf>,
    secret: Option<Secret>,
    secret_env: Option<String>,
    secret_file: Option<PathBuf>,
    signature_header: Option<String>,
    timestamp_header: Option<String>,
    tolerance_secs: Option<u64>,
    max_body_bytes: Option<u64>,
    max_batch_reports: Option<u64>,
    linger_ms: Option<u64>,
    ack_timeout_ms: Option<u64>,
    mapping: Option<Value>,
    values: Option<Value>,
}

impl WebhookConfig {
    /// Parses and checks the JSON configuration; `env` reads environment variables (for `secret_env`).
    pub fn parse(raw: &[u8], env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let raw: Raw = from_json(raw)?;
        let listen = raw
            .listen
            .ok_or_else(|| ConfigError::at("listen", "required (for example \"127.0.0.1:8787\")"))?
            .parse()
            .map_err(|e| ConfigError::at("listen", format_args!("not a socket address: {e}")))?;
        let path = raw.path.unwrap_or_else(|| DEFAULT_PATH.to_owned());
        if !path.starts_with('/') || path.contains(['?', '#', '{', '}', '*']) {
            return Err(ConfigError::at(
                "path",
                "must start with / and hold no ?, #, {, } or *",
            ));
        }
        let secret = secret::resolve("secret", raw.secret, raw.secret_env, raw.secret_file, env)?;
        if secret.expose().len() < 16 {
            return Err(ConfigError::at("secret", "must be at least 16 bytes long"));
        }
        let mapping = Mapping::parse(&required("mapping", raw.mapping)?, raw.values.as_ref())?;
        Ok(WebhookConfig {
            listen,
            path,
            address_file: raw.address_file,
            secret: secret.expose().as_bytes().to_vec(),
            signature_header: header_name(
                "signature_header",
                raw.signature_header,
                DEFAULT_SIGNATURE_HEADER,
            )?,
            timestamp_header: header_name(
                "timestamp_header",
                raw.timestamp_header,
                DEFAULT_TIMESTAMP_HEADER,
            )?,
            tolerance: seconds("tolerance_secs", raw.tolerance_secs, 300, 1..=86_400)?,
            max_body_bytes: in_range_usize(
                "max_body_bytes",
                raw.max_body_bytes,
                1 << 20,
                1..=64 << 20,
            )?,
            max_batch_reports: max_batch_reports(raw.max_batch_reports)?,
            linger: millis("linger_ms", raw.linger_ms, 20, 0..=10_000)?,
            ack_timeout: millis("ack_timeout_ms", raw.ack_timeout_ms, 10_000, 100..=600_000)?,
            mapping,
        })
    }
}

/// The header name configured at `key` (or `default`): letters, digits and dashes.
fn header_name(
    key: &str,
    configured: Option<String>,
    default: &str,
) -> Result<String, ConfigError> {
    let name = configured.unwrap_or_else(|| default.to_owned());
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(ConfigError::at(key, "not a valid header name"));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPPING: &str = r#""mapping": {"device_id": "id", "platform": "os", "level": "risk"}"#;

    fn parse(json: &str) -> Result<WebhookConfig, ConfigError> {
        WebhookConfig::parse(json.as_bytes(), |var| {
            (var == "HOOK_SECRET").then(|| "from-the-environment".to_owned())
        })
    }

    #[test]
    fn defaults_apply_and_the_secret_can_come_from_the_environment() {
        let config = parse(&format!(
            r#"{{"listen": "127.0.0.1:0", "secret_env": "HOOK_SECRET", {MAPPING}}}"#
        ))
        .unwrap();
        assert_eq!(config.secret, b"from-the-environment");
        assert_eq!(config.path, DEFAULT_PATH);
        assert_eq!(config.signature_header, DEFAULT_SIGNATURE_HEADER);
        assert_eq!(config.tolerance, Duration::from_secs(300));
        assert_eq!(config.max_batch_reports, 500);
    }

    #[test]
    fn each_bad_key_is_named() {
        let cases = [
            (r#"{"secret": "0123456789abcdef"}"#.to_owned(), "listen: required"),
            (
                format!(r#"{{"listen": "nowhere", "secret": "0123456789abcdef", {MAPPING}}}"#),
                "listen: not a socket address",
            ),
            (
                format!(r#"{{"listen": "127.0.0.1:0", "secret": "short", {MAPPING}}}"#),
                "secret: must be at least 16 bytes",
            ),
            (
                format!(r#"{{"listen": "127.0.0.1:0", "secret_env": "UNSET", {MAPPING}}}"#),
                "secret_env: environment variable UNSET is not set",
            ),
            (
                format!(
                    r#"{{"listen": "127.0.0.1:0", "secret": "0123456789abcdef", "tolerance_secs": 0, {MAPPING}}}"#
                ),
                "tolerance_secs: must be an integer from 1",
            ),
            (
                format!(r#"{{"listen": "127.0.0.1:0", "secret": "0123456789abcdef", "colour": 1, {MAPPING}}}"#),
                "colour: unknown key",
            ),
            (
                r#"{"listen": "127.0.0.1:0", "secret": "0123456789abcdef", "mapping": {"device_id": "id"}}"#
                    .to_owned(),
                "mapping.platform: required",
            ),
            (
                format!(
                    r#"{{"listen": "127.0.0.1:0", "secret": "0123456789abcdef", {MAPPING}, "values": {{"level": {{"RED": "scarlet"}}}}}}"#
                ),
                "values.level.RED: \"scarlet\" is not a riskgate level",
            ),
        ];
        for (json, expected) in cases {
            let err = parse(&json).unwrap_err();
            assert!(err.0.starts_with(expected), "{json}: got {err}");
        }
    }
}
