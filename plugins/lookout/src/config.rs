//! The connector's configuration: JSON or TOML, every key checked, errors naming the key.
//!
//! ```json
//! {"base_url": "https://api.lookout.com", "application_key_env": "LOOKOUT_APP_KEY"}
//! ```

use std::{collections::BTreeMap, time::Duration};

use riskgate_sdk::pb::Platform;
use serde::Deserialize;

use crate::LookoutError;

/// Where the riskgate device id comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceIdSource {
    /// The MDM id Lookout knows (`details.external_id` / `device.info.external_id`), as Intune does;
    /// devices without one are skipped and counted.
    ExternalId,
    /// Lookout's own device `guid`.
    Guid,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    base_url: String,
    #[serde(default)]
    application_key: Option<String>,
    #[serde(default)]
    application_key_env: Option<String>,
    #[serde(default)]
    device_id: Option<DeviceIdSource>,
    #[serde(default)]
    platforms: BTreeMap<String, String>,
    #[serde(default)]
    ipad_as_ipados: Option<bool>,
    #[serde(default)]
    compromised_classifications: Vec<String>,
    #[serde(default)]
    request_timeout_ms: Option<u64>,
    #[serde(default)]
    connect_timeout_ms: Option<u64>,
    #[serde(default)]
    stream_idle_timeout_ms: Option<u64>,
    #[serde(default)]
    token_refresh_margin_secs: Option<u64>,
    #[serde(default)]
    page_size: Option<u64>,
    #[serde(default)]
    backoff_initial_ms: Option<u64>,
    #[serde(default)]
    backoff_max_ms: Option<u64>,
    #[serde(default)]
    initial_lookback_secs: Option<u64>,
    #[serde(default)]
    max_batch_reports: Option<u64>,
    #[serde(default)]
    resync_interval_secs: Option<u64>,
}

/// The checked configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// API root, such as `https://api.lookout.com` (no trailing slash).
    pub base_url: String,
    /// The application key (the Bearer on `POST /oauth2/token`).
    pub application_key: String,
    /// Where device ids come from.
    pub device_id: DeviceIdSource,
    /// Lookout platform name (upper case) → riskgate platform.
    pub platforms: BTreeMap<String, Platform>,
    /// Report iOS devices whose model starts with `ipad` as iPadOS.
    pub ipad_as_ipados: bool,
    /// Classifications (upper case) that make a device COMPROMISED while open.
    pub compromised_classifications: Vec<String>,
    /// Timeout of one REST request.
    pub request_timeout: Duration,
    /// Timeout of establishing a connection.
    pub connect_timeout: Duration,
    /// Reconnect when the stream sends nothing (not even a heartbeat) for this long.
    pub stream_idle_timeout: Duration,
    /// Refresh the access token this long before it expires (at most half its lifetime).
    pub token_refresh_margin: Duration,
    /// `limit` of REST pages.
    pub page_size: u64,
    /// First retry delay after an error.
    pub backoff_initial: Duration,
    /// Largest retry delay.
    pub backoff_max: Duration,
    /// On the very first start, the stream starts this long before the device sync.
    pub initial_lookback: Duration,
    /// Most reports per batch.
    pub max_batch_reports: usize,
    /// Re-read and re-report every device this often, so that the core's freshness measures Lookout's
    /// last word rather than the last change; zero turns it off.
    pub resync_interval: Duration,
}

fn platform_named(name: &str) -> Option<Platform> {
    match name.to_ascii_lowercase().as_str() {
        "android" => Some(Platform::Android),
        "ios" => Some(Platform::Ios),
        "ipados" => Some(Platform::Ipados),
        "windows" => Some(Platform::Windows),
        "macos" => Some(Platform::Macos),
        _ => None,
    }
}

fn range(
    key: &str,
    value: Option<u64>,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, LookoutError> {
    let value = value.unwrap_or(default);
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(LookoutError::Config(format!(
            "{key}: must be from {min} to {max}"
        )))
    }
}

impl Config {
    /// Parses JSON (text starting with `{`) or TOML.
    pub fn parse(raw: &[u8]) -> Result<Config, LookoutError> {
        let text = std::str::from_utf8(raw)
            .map_err(|_| LookoutError::Config("configuration: must be UTF-8".to_owned()))?;
        let raw: Raw = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| LookoutError::Config(e.to_string()))?
        } else {
            toml::from_str(text).map_err(|e| LookoutError::Config(e.to_string()))?
        };
        let base_url = raw.base_url.trim_end_matches('/').to_owned();
        if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
            return Err(LookoutError::Config(
                "base_url: must be an http(s) URL".to_owned(),
            ));
        }
        let application_key =
            match (raw.application_key, raw.application_key_env) {
                (Some(key), None) => key,
                (None, Some(var)) => std::env::var(&var).map_err(|_| {
                    LookoutError::Config(format!(
                        "application_key_env: environment variable {var} is not set"
                    ))
                })?,
                _ => return Err(LookoutError::Config(
                    "application_key: set exactly one of application_key and application_key_env"
                        .to_owned(),
                )),
            };
        if application_key.is_empty() {
            return Err(LookoutError::Config(
                "application_key: must not be empty".to_owned(),
            ));
        }
        let mut platforms = BTreeMap::from([
            ("ANDROID".to_owned(), Platform::Android),
            ("IOS".to_owned(), Platform::Ios),
        ]);
        for (vendor, ours) in raw.platforms {
            let platform = platform_named(&ours).ok_or_else(|| {
                LookoutError::Config(format!(
                    "platforms.{vendor}: {ours:?} is not one of android, ios, ipados, windows, macos"
                ))
            })?;
            platforms.insert(vendor.to_ascii_uppercase(), platform);
        }
        Ok(Config {
            base_url,
            application_key,
            device_id: raw.device_id.unwrap_or(DeviceIdSource::ExternalId),
            platforms,
            ipad_as_ipados: raw.ipad_as_ipados.unwrap_or(true),
            compromised_classifications: raw
                .compromised_classifications
                .iter()
                .map(|c| c.to_ascii_uppercase())
                .collect(),
            request_timeout: Duration::from_millis(range(
                "request_timeout_ms",
                raw.request_timeout_ms,
                30_000,
                100,
                600_000,
            )?),
            connect_timeout: Duration::from_millis(range(
                "connect_timeout_ms",
                raw.connect_timeout_ms,
                10_000,
                100,
                600_000,
            )?),
            stream_idle_timeout: Duration::from_millis(range(
                "stream_idle_timeout_ms",
                raw.stream_idle_timeout_ms,
                30_000,
                100,
                3_600_000,
            )?),
            token_refresh_margin: Duration::from_secs(range(
                "token_refresh_margin_secs",
                raw.token_refresh_margin_secs,
                300,
                0,
                86_400,
            )?),
            page_size: range("page_size", raw.page_size, 500, 1, 1000)?,
            backoff_initial: Duration::from_millis(range(
                "backoff_initial_ms",
                raw.backoff_initial_ms,
                500,
                1,
                600_000,
            )?),
            backoff_max: Duration::from_millis(range(
                "backoff_max_ms",
                raw.backoff_max_ms,
                60_000,
                1,
                3_600_000,
            )?),
            initial_lookback: Duration::from_secs(range(
                "initial_lookback_secs",
                raw.initial_lookback_secs,
                60,
                0,
                9 * 86_400,
            )?),
            max_batch_reports: usize::try_from(range(
                "max_batch_reports",
                raw.max_batch_reports,
                500,
                1,
                1000,
            )?)
            .unwrap_or(500),
            resync_interval: Duration::from_secs(range(
                "resync_interval_secs",
                raw.resync_interval_secs,
                86_400,
                0,
                30 * 86_400,
            )?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_sample_config_parses() {
        let sample = include_bytes!("../../../docs/examples/production/lookout.toml");
        let config = Config::parse(sample).expect("the production sample parses");
        assert_eq!(config.base_url, "https://api.lookout.com");
    }

    #[test]
    fn json_and_toml_parse_and_bad_keys_are_named() {
        let json = Config::parse(br#"{"base_url":"http://127.0.0.1:1/","application_key":"k","platforms":{"ios":"ipados"}}"#).unwrap();
        assert_eq!(json.base_url, "http://127.0.0.1:1");
        assert_eq!(json.platforms["IOS"], Platform::Ipados);
        let toml = Config::parse(
            b"base_url = \"https://api.lookout.com\"\napplication_key = \"k\"\npage_size = 10\n",
        )
        .unwrap();
        assert_eq!(toml.page_size, 10);
        let err = |raw: &[u8]| Config::parse(raw).unwrap_err().to_string();
        assert!(
            err(br#"{"base_url":"http://x","application_key":"k","page_size":0}"#)
                .contains("page_size")
        );
        assert!(err(br#"{"base_url":"ftp://x","application_key":"k"}"#).contains("base_url"));
        assert!(err(br#"{"base_url":"http://x"}"#).contains("application_key"));
        assert!(err(br#"{"base_url":"http://x","application_key":"k","nope":1}"#).contains("nope"));
        assert!(err(
            br#"{"base_url":"http://x","application_key_env":"RISKGATE_LOOKOUT_TEST_UNSET_VAR"}"#
        )
        .contains("RISKGATE_LOOKOUT_TEST_UNSET_VAR"));
        assert!(err(
            br#"{"base_url":"http://x","application_key":"k","platforms":{"IOS":"symbian"}}"#
        )
        .contains("platforms.IOS"));
    }
}
