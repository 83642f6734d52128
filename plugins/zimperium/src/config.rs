//! The Zimperium connector's JSON configuration, checked at create time; errors name the key.

use std::{path::PathBuf, time::Duration};

use riskgate_sdk::toolkit::{
    config::{base_url, in_range, max_batch_reports, millis, request_timeout, required, seconds},
    from_json, secret, Secret,
};
use serde::Deserialize;

use crate::mapping::DeviceIdSource;

/// A configuration error, naming the key.
pub use riskgate_sdk::toolkit::ConfigError;

/// The connector's settings; the secret's `Debug` is redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZimperiumConfig {
    /// The console's base URL, such as `https://tenant.zimperium.com` (`base_url`, required);
    /// the API paths (`/api/...`) are appended.
    pub base_url: String,
    /// The API key's client id (`client_id`, required).
    pub client_id: String,
    /// The API key's secret (`secret`, or the environment variable named by `secret_env`, or the
    /// file named by `secret_file`).
    pub secret: Secret,
    /// Pause between threat polls (`poll_interval_ms`, default 60000).
    pub poll_interval: Duration,
    /// Items per page (`page_size`, 1 to 1000, default 100).
    pub page_size: u32,
    /// Pause between device syncs (`device_sync_interval_ms`, default 300000).
    pub device_sync_interval: Duration,
    /// How far back the first start reads threats, and how far back a restart re-reads history to
    /// rebuild its picture of each device (`initial_lookback_secs`, default 7 days).
    pub lookback: Duration,
    /// How far behind now a window ends, for the vendor's indexing delay (`settle_ms`, default 2000).
    pub settle: Duration,
    /// Timeout of one HTTP request (`request_timeout_ms`, default 30000).
    pub request_timeout: Duration,
    /// Longest pause between retries (`max_backoff_ms`, default 60000).
    pub max_backoff: Duration,
    /// How often the cursor is checkpointed when no device changed (`checkpoint_interval_ms`,
    /// default 60000).
    pub checkpoint_interval: Duration,
    /// Which id identifies a device (`device_id`: `"mdm"`, the default, or `"zimperium"`).
    pub device_id: DeviceIdSource,
    /// Most reports per batch (`max_batch_reports`, 1 to 1000, default 500).
    pub max_batch_reports: usize,
}

/// The configuration as written; unknown keys are refused by the toolkit, by name.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Raw {
    base_url: Option<String>,
    client_id: Option<String>,
    secret: Option<Secret>,
    secret_env: Option<String>,
    secret_file: Option<PathBuf>,
    poll_interval_ms: Option<u64>,
    page_size: Option<u64>,
    device_sync_interval_ms: Option<u64>,
    initial_lookback_secs: Option<u64>,
    settle_ms: Option<u64>,
    request_timeout_ms: Option<u64>,
    max_backoff_ms: Option<u64>,
    checkpoint_interval_ms: Option<u64>,
    device_id: Option<String>,
    max_batch_reports: Option<u64>,
}

impl ZimperiumConfig {
    /// Parses and checks the JSON configuration; `env` reads environment variables.
    pub fn parse(raw: &[u8], env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let raw: Raw = from_json(raw)?;
        let base_url = base_url("base_url", raw.base_url)?;
        let client_id = required("client_id", raw.client_id.filter(|id| !id.is_empty()))?;
        let secret = secret::resolve("secret", raw.secret, raw.secret_env, raw.secret_file, env)?;
        Ok(ZimperiumConfig {
            base_url,
            client_id,
            secret,
            poll_interval: millis(
                "poll_interval_ms",
                raw.poll_interval_ms,
                60_000,
                50..=86_400_000,
            )?,
            page_size: u32::try_from(in_range("page_size", raw.page_size, 100, 1..=1000)?)
                .map_err(|_| ConfigError::at("page_size", "too large"))?,
            device_sync_interval: millis(
                "device_sync_interval_ms",
                raw.device_sync_interval_ms,
                300_000,
                50..=86_400_000,
            )?,
            lookback: seconds(
                "initial_lookback_secs",
                raw.initial_lookback_secs,
                7 * 86_400,
                60..=90 * 86_400,
            )?,
            settle: millis("settle_ms", raw.settle_ms, 2_000, 0..=300_000)?,
            request_timeout: request_timeout(raw.request_timeout_ms)?,
            max_backoff: millis("max_backoff_ms", raw.max_backoff_ms, 60_000, 10..=3_600_000)?,
            checkpoint_interval: millis(
                "checkpoint_interval_ms",
                raw.checkpoint_interval_ms,
                60_000,
                0..=86_400_000,
            )?,
            device_id: device_id_source(raw.device_id.as_deref())?,
            max_batch_reports: max_batch_reports(raw.max_batch_reports)?,
        })
    }
}

/// `device_id`: `"mdm"` (the default) or `"zimperium"`.
fn device_id_source(raw: Option<&str>) -> Result<DeviceIdSource, ConfigError> {
    match raw {
        None | Some("mdm") => Ok(DeviceIdSource::Mdm),
        Some("zimperium") => Ok(DeviceIdSource::Zimperium),
        Some(other) => Err(ConfigError::at(
            "device_id",
            format_args!("{other:?} is neither \"mdm\" nor \"zimperium\""),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_sample_config_parses() {
        let sample = include_str!("../../../docs/examples/production/zimperium.json");
        let config = parse(sample).expect("the production sample parses");
        assert_eq!(config.base_url, "https://tenant.zimperium.com");
    }

    fn parse(json: &str) -> Result<ZimperiumConfig, ConfigError> {
        ZimperiumConfig::parse(json.as_bytes(), |var| {
            (var == "ZIM_SECRET").then(|| "from-env".to_owned())
        })
    }

    #[test]
    fn defaults_apply_and_the_secret_can_come_from_the_environment() {
        let config = parse(
            r#"{"base_url": "https://t.zimperium.com/", "client_id": "c", "secret_env": "ZIM_SECRET"}"#,
        )
        .unwrap();
        assert_eq!(config.base_url, "https://t.zimperium.com");
        assert_eq!(config.secret, "from-env");
        assert_eq!(config.poll_interval, Duration::from_secs(60));
        assert_eq!(config.page_size, 100);
        assert_eq!(config.device_id, DeviceIdSource::Mdm);
        assert!(
            !format!("{config:?}").contains("from-env"),
            "the secret is redacted"
        );
    }

    #[test]
    fn each_bad_key_is_named() {
        for (json, expected) in [
            (r#"{"client_id": "c", "secret": "s"}"#, "base_url: required"),
            (
                r#"{"base_url": "ftp://x", "client_id": "c", "secret": "s"}"#,
                "base_url: must start",
            ),
            (
                r#"{"base_url": "http://x", "secret": "s"}"#,
                "client_id: required",
            ),
            (
                r#"{"base_url": "http://x", "client_id": "c"}"#,
                "secret: required",
            ),
            (
                r#"{"base_url": "http://x", "client_id": "c", "secret_env": "NOPE"}"#,
                "secret_env: environment variable NOPE is not set",
            ),
            (
                r#"{"base_url": "http://x", "client_id": "c", "secret": "s", "page_size": 5000}"#,
                "page_size: must be an integer from 1 to 1000",
            ),
            (
                r#"{"base_url": "http://x", "client_id": "c", "secret": "s", "device_id": "imei"}"#,
                "device_id: \"imei\" is neither",
            ),
            (
                r#"{"base_url": "http://x", "client_id": "c", "secret": "s", "x": 1}"#,
                "x: unknown key",
            ),
        ] {
            let err = parse(json).unwrap_err();
            assert!(err.0.starts_with(expected), "{json}: {err}");
        }
    }
}
