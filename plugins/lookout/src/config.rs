//! The connector's configuration: JSON or TOML, every key checked, errors naming the key.
//!
//! ```json
//! {"base_url": "https://api.lookout.com", "application_key_env": "LOOKOUT_APP_KEY"}
//! ```

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use riskgate_sdk::{
    pb::Platform,
    toolkit::{
        config::{base_url, in_range, max_batch_reports, millis, request_timeout, seconds},
        from_json_or_toml, secret, ConfigError, Secret,
    },
};
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

/// The configuration as written; unknown keys are refused by the toolkit, by name.
#[derive(Debug, Deserialize)]
struct Raw {
    #[serde(default)]
    base_url: Option<String>,
    #[serde(default)]
    application_key: Option<Secret>,
    #[serde(default)]
    application_key_env: Option<String>,
    #[serde(default)]
    application_key_file: Option<PathBuf>,
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
    /// The application key (the Bearer on `POST /oauth2/token`): `application_key`, or the
    /// environment variable named by `application_key_env`, or the file named by
    /// `application_key_file`.
    pub application_key: Secret,
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

impl From<ConfigError> for LookoutError {
    fn from(e: ConfigError) -> Self {
        LookoutError::Config(e.0)
    }
}

impl Config {
    /// Parses JSON (text starting with `{`) or TOML.
    pub fn parse(raw: &[u8]) -> Result<Config, LookoutError> {
        let raw: Raw = from_json_or_toml(raw)?;
        Ok(Config {
            base_url: base_url("base_url", raw.base_url)?,
            application_key: secret::resolve(
                "application_key",
                raw.application_key,
                raw.application_key_env,
                raw.application_key_file,
                |var| std::env::var(var).ok(),
            )?,
            device_id: raw.device_id.unwrap_or(DeviceIdSource::ExternalId),
            platforms: platforms(raw.platforms)?,
            ipad_as_ipados: raw.ipad_as_ipados.unwrap_or(true),
            compromised_classifications: raw
                .compromised_classifications
                .iter()
                .map(|c| c.to_ascii_uppercase())
                .collect(),
            request_timeout: request_timeout(raw.request_timeout_ms)?,
            connect_timeout: millis(
                "connect_timeout_ms",
                raw.connect_timeout_ms,
                10_000,
                100..=600_000,
            )?,
            stream_idle_timeout: millis(
                "stream_idle_timeout_ms",
                raw.stream_idle_timeout_ms,
                30_000,
                100..=3_600_000,
            )?,
            token_refresh_margin: seconds(
                "token_refresh_margin_secs",
                raw.token_refresh_margin_secs,
                300,
                0..=86_400,
            )?,
            page_size: in_range("page_size", raw.page_size, 500, 1..=1000)?,
            backoff_initial: millis(
                "backoff_initial_ms",
                raw.backoff_initial_ms,
                500,
                1..=600_000,
            )?,
            backoff_max: millis("backoff_max_ms", raw.backoff_max_ms, 60_000, 1..=3_600_000)?,
            initial_lookback: seconds(
                "initial_lookback_secs",
                raw.initial_lookback_secs,
                60,
                0..=9 * 86_400,
            )?,
            max_batch_reports: max_batch_reports(raw.max_batch_reports)?,
            resync_interval: seconds(
                "resync_interval_secs",
                raw.resync_interval_secs,
                86_400,
                0..=30 * 86_400,
            )?,
        })
    }
}

/// The platform table: Lookout's ANDROID and IOS, then the configured `platforms` (vendor name →
/// riskgate platform name).
fn platforms(
    configured: BTreeMap<String, String>,
) -> Result<BTreeMap<String, Platform>, LookoutError> {
    let mut platforms = BTreeMap::from([
        ("ANDROID".to_owned(), Platform::Android),
        ("IOS".to_owned(), Platform::Ios),
    ]);
    for (vendor, ours) in configured {
        let platform = platform_named(&ours).ok_or_else(|| {
            LookoutError::Config(format!(
                "platforms.{vendor}: {ours:?} is not one of android, ios, ipados, windows, macos"
            ))
        })?;
        platforms.insert(vendor.to_ascii_uppercase(), platform);
    }
    Ok(platforms)
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
