//! The webhook connector's JSON configuration, checked at create time; errors name the key.

use std::{net::SocketAddr, time::Duration};

use serde_json::{Map, Value};

use crate::mapping::{ConfigError, Mapping};

/// Default signature header.
pub const DEFAULT_SIGNATURE_HEADER: &str = "X-Riskgate-Signature";
/// Default timestamp header.
pub const DEFAULT_TIMESTAMP_HEADER: &str = "X-Riskgate-Timestamp";
/// Default URL path pushes are POSTed to.
pub const DEFAULT_PATH: &str = "/v1/push";

/// The connector's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookConfig {
    /// Where the HTTP server listens (`listen`, required; port 0 picks a free port, logged at start).
    pub listen: SocketAddr,
    /// The URL path pushes are POSTed to (`path`).
    pub path: String,
    /// A file the bound address (`IP:PORT`) is written to once listening (`address_file`), for
    /// supervisors and tests that listen on port 0.
    pub address_file: Option<std::path::PathBuf>,
    /// The shared HMAC secret (`secret`, or the environment variable named by `secret_env`).
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

const KEYS: &[&str] = &[
    "listen",
    "path",
    "address_file",
    "secret",
    "secret_env",
    "signature_header",
    "timestamp_header",
    "tolerance_secs",
    "max_body_bytes",
    "max_batch_reports",
    "linger_ms",
    "ack_timeout_ms",
    "mapping",
    "values",
];

impl WebhookConfig {
    /// Parses and checks the JSON configuration; `env` reads environment variables (for `secret_env`).
    pub fn parse(raw: &[u8], env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let value: Value =
            serde_json::from_slice(raw).map_err(|e| ConfigError(format!("not valid JSON: {e}")))?;
        let obj = value
            .as_object()
            .ok_or_else(|| ConfigError("must be a JSON object".to_owned()))?;
        for key in obj.keys() {
            if !KEYS.contains(&key.as_str()) {
                return Err(ConfigError(format!("{key}: unknown key")));
            }
        }
        let listen = text(obj, "listen")?
            .ok_or_else(|| ConfigError("listen: required (for example \"127.0.0.1:8787\")".into()))?
            .parse()
            .map_err(|e| ConfigError(format!("listen: not a socket address: {e}")))?;
        let path = text(obj, "path")?.unwrap_or_else(|| DEFAULT_PATH.to_owned());
        if !path.starts_with('/') || path.contains(['?', '#', '{', '}', '*']) {
            return Err(ConfigError(
                "path: must start with / and hold no ?, #, {, } or *".into(),
            ));
        }
        let secret = match (text(obj, "secret")?, text(obj, "secret_env")?) {
            (Some(secret), None) => secret,
            (None, Some(var)) => env(&var).ok_or_else(|| {
                ConfigError(format!("secret_env: environment variable {var} is not set"))
            })?,
            (Some(_), Some(_)) => {
                return Err(ConfigError("secret, secret_env: give only one".into()))
            }
            (None, None) => return Err(ConfigError("secret: required (or secret_env)".into())),
        };
        if secret.len() < 16 {
            return Err(ConfigError("secret: must be at least 16 bytes long".into()));
        }
        let header = |key: &str, default: &str| -> Result<String, ConfigError> {
            let name = text(obj, key)?.unwrap_or_else(|| default.to_owned());
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                return Err(ConfigError(format!("{key}: not a valid header name")));
            }
            Ok(name)
        };
        let mapping = Mapping::parse(
            obj.get("mapping")
                .ok_or_else(|| ConfigError("mapping: required".into()))?,
            obj.get("values"),
        )?;
        Ok(WebhookConfig {
            listen,
            path,
            address_file: text(obj, "address_file")?.map(Into::into),
            secret: secret.into_bytes(),
            signature_header: header("signature_header", DEFAULT_SIGNATURE_HEADER)?,
            timestamp_header: header("timestamp_header", DEFAULT_TIMESTAMP_HEADER)?,
            tolerance: Duration::from_secs(number(obj, "tolerance_secs", 300, 1..=86_400)?),
            max_body_bytes: usize::try_from(number(obj, "max_body_bytes", 1 << 20, 1..=64 << 20)?)
                .map_err(|_| ConfigError("max_body_bytes: too large".into()))?,
            max_batch_reports: usize::try_from(number(obj, "max_batch_reports", 500, 1..=1000)?)
                .map_err(|_| ConfigError("max_batch_reports: too large".into()))?,
            linger: Duration::from_millis(number(obj, "linger_ms", 20, 0..=10_000)?),
            ack_timeout: Duration::from_millis(number(
                obj,
                "ack_timeout_ms",
                10_000,
                100..=600_000,
            )?),
            mapping,
        })
    }
}

fn text(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, ConfigError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(ConfigError(format!("{key}: must be a string"))),
    }
}

fn number(
    obj: &Map<String, Value>,
    key: &str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(value) => value.as_u64().filter(|n| range.contains(n)).ok_or_else(|| {
            ConfigError(format!(
                "{key}: must be an integer from {} to {}",
                range.start(),
                range.end()
            ))
        }),
    }
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
