//! Typed configuration: the configuration bytes a connector gets in [`crate::StartContext`] read into
//! a `serde` struct, with errors that name the key (`poll_interval_ms: invalid type: string "x",
//! expected u64`), unknown keys refused by name, and the range checks connectors share, including
//! keys connectors read alike ([`max_batch_reports`], [`request_timeout`]).
//!
//! Key paths come from `serde_path_to_error`, unknown keys from `serde_ignored`, so the struct needs
//! no `deny_unknown_fields`.

use std::{fmt::Display, ops::RangeInclusive, time::Duration};

use serde::de::DeserializeOwned;

use crate::validate::DEFAULT_MAX_BATCH_REPORTS;

/// A configuration error; the message starts with the key path (`mapping.level: ...`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl ConfigError {
    /// `{key}: {problem}`.
    pub fn at(key: &str, problem: impl Display) -> ConfigError {
        ConfigError(format!("{key}: {problem}"))
    }
}

/// A bad configuration stops the connector at create time, with the key named.
impl From<ConfigError> for crate::ConnectorError {
    fn from(e: ConfigError) -> Self {
        crate::ConnectorError::Config(e.0)
    }
}

/// Reads a JSON configuration into `T`.
pub fn from_json<T: DeserializeOwned>(raw: &[u8]) -> Result<T, ConfigError> {
    let mut json = serde_json::Deserializer::from_slice(raw);
    let config = typed(&mut json, |e: &serde_json::Error| {
        if e.classify() == serde_json::error::Category::Data {
            Ok(e.to_string())
        } else {
            Err(format!("not valid JSON: {e}"))
        }
    })?;
    json.end()
        .map_err(|e| ConfigError(format!("not valid JSON: {e}")))?;
    Ok(config)
}

/// Reads a configuration into `T`: JSON when the text starts with `{`, TOML otherwise.
pub fn from_json_or_toml<T: DeserializeOwned>(raw: &[u8]) -> Result<T, ConfigError> {
    let text = std::str::from_utf8(raw).map_err(|_| ConfigError::at(ROOT, "must be UTF-8"))?;
    if text.trim_start().starts_with('{') {
        return from_json(raw);
    }
    let toml = toml::Deserializer::parse(text)
        .map_err(|e| ConfigError(format!("not valid TOML: {}", e.message())))?;
    // A value's error is only its message: the whole error quotes the source around it.
    typed(toml, |e: &toml::de::Error| Ok(e.message().to_owned()))
}

/// `value`, or `{key}: required`.
pub fn required<T>(key: &str, value: Option<T>) -> Result<T, ConfigError> {
    value.ok_or_else(|| ConfigError::at(key, "required"))
}

/// The HTTP(S) base URL at `key` (required), without a trailing `/` so API paths can be appended.
pub fn base_url(key: &str, value: Option<String>) -> Result<String, ConfigError> {
    let url = required(key, value)?;
    let url = url.trim_end_matches('/');
    if url.starts_with("https://") || url.starts_with("http://") {
        Ok(url.to_owned())
    } else {
        Err(ConfigError::at(key, "must start with https:// or http://"))
    }
}

/// `value` (or `default` when absent), checked to be in `range`.
pub fn in_range(
    key: &str,
    value: Option<u64>,
    default: u64,
    range: RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    let value = value.unwrap_or(default);
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(ConfigError::at(
            key,
            format_args!(
                "must be an integer from {} to {}",
                range.start(),
                range.end()
            ),
        ))
    }
}

/// [`in_range`] for a `usize` (a count or a size).
pub fn in_range_usize(
    key: &str,
    value: Option<u64>,
    default: u64,
    range: RangeInclusive<u64>,
) -> Result<usize, ConfigError> {
    let value = in_range(key, value, default, range)?;
    usize::try_from(value).map_err(|_| ConfigError::at(key, "too large"))
}

/// [`in_range`] for a number of milliseconds (keys ending in `_ms`).
pub fn millis(
    key: &str,
    value: Option<u64>,
    default: u64,
    range: RangeInclusive<u64>,
) -> Result<Duration, ConfigError> {
    in_range(key, value, default, range).map(Duration::from_millis)
}

/// [`in_range`] for a number of seconds (keys ending in `_secs`).
pub fn seconds(
    key: &str,
    value: Option<u64>,
    default: u64,
    range: RangeInclusive<u64>,
) -> Result<Duration, ConfigError> {
    in_range(key, value, default, range).map(Duration::from_secs)
}

/// `max_batch_reports`, the key every batching connector has: most reports per batch, from 1 to
/// [`DEFAULT_MAX_BATCH_REPORTS`] (what the core accepts with its default settings), 500 when absent.
pub fn max_batch_reports(value: Option<u64>) -> Result<usize, ConfigError> {
    // usize to u64 is lossless on every platform a plugin is built for.
    let most = DEFAULT_MAX_BATCH_REPORTS as u64;
    in_range_usize("max_batch_reports", value, 500, 1..=most)
}

/// `request_timeout_ms`, the timeout of one HTTP request to the vendor: from 100 ms to 10 minutes,
/// 30 seconds when absent.
pub fn request_timeout(value: Option<u64>) -> Result<Duration, ConfigError> {
    millis("request_timeout_ms", value, 30_000, 100..=600_000)
}

/// How the configuration as a whole is named in errors.
const ROOT: &str = "configuration";

/// Deserializes `T`, naming the key of the first error and of the first unknown key. `describe`
/// tells a value's problem (`Ok`, prefixed with its key) from a format error (`Err`, bad JSON).
fn typed<'de, T, D>(
    deserializer: D,
    describe: impl Fn(&D::Error) -> Result<String, String>,
) -> Result<T, ConfigError>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    let mut unknown: Vec<String> = Vec::new();
    let mut note_unknown = |path: serde_ignored::Path<'_>| unknown.push(key_path(&path));
    let ignoring = serde_ignored::Deserializer::new(deserializer, &mut note_unknown);
    let config: Result<T, _> = serde_path_to_error::deserialize(ignoring);
    let config = config.map_err(|e| match describe(e.inner()) {
        Ok(problem) => {
            let path = e.path().to_string();
            let key = if path == "." { ROOT } else { path.as_str() };
            ConfigError::at(key, problem)
        }
        Err(format) => ConfigError(format),
    })?;
    match unknown.first() {
        Some(key) => Err(ConfigError::at(key, "unknown key")),
        None => Ok(config),
    }
}

/// A key path as `serde_path_to_error` writes it: `labels[0].name`.
fn key_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", key_path(parent)),
        Path::Map { parent, key } => match key_path(parent) {
            parent if parent.is_empty() => key.clone(),
            parent => format!("{parent}.{key}"),
        },
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => key_path(parent),
    }
}
