//! Timestamps as vendor APIs write them: RFC 3339 with any offset in, RFC 3339 UTC out, and Unix
//! epoch milliseconds (the cursor unit of most vendor APIs).
//!
//! Parsing and formatting are the `time` crate's (its RFC 3339 well-known format). Vendors also send
//! a local date-time without any offset meaning UTC (`2025-02-24T09:59:04`); [`parse_rfc3339`]
//! accepts that too.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::{format_description::well_known::Rfc3339, macros::format_description, OffsetDateTime};

/// A timestamp that does not parse; it names the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not an RFC 3339 time")]
pub struct TimeError {
    /// The text that did not parse.
    pub input: String,
}

/// Parses an RFC 3339 timestamp (`2025-02-24T11:59:04.734+02:00`, `…Z`, `t`/`z` or a space as
/// separators), or one without an offset read as UTC, to the instant in UTC.
pub fn parse_rfc3339(text: &str) -> Result<OffsetDateTime, TimeError> {
    let trimmed = text.trim();
    OffsetDateTime::parse(trimmed, &Rfc3339)
        // No offset at all: the same text with `Z` is an RFC 3339 time.
        .or_else(|_| OffsetDateTime::parse(&format!("{trimmed}Z"), &Rfc3339))
        .map(|time| time.to_offset(time::UtcOffset::UTC))
        .map_err(|_| TimeError {
            input: text.to_owned(),
        })
}

/// [`parse_rfc3339`] as a [`SystemTime`].
pub fn parse_rfc3339_system(text: &str) -> Result<SystemTime, TimeError> {
    parse_rfc3339(text).map(SystemTime::from)
}

/// [`parse_rfc3339`] as Unix epoch milliseconds; a time before 1970 is an error.
pub fn parse_rfc3339_ms(text: &str) -> Result<u64, TimeError> {
    let time = parse_rfc3339(text)?;
    u64::try_from(time.unix_timestamp_nanos() / 1_000_000).map_err(|_| TimeError {
        input: text.to_owned(),
    })
}

/// Formats as RFC 3339 in UTC with as many fractional digits as needed (`2025-02-24T09:59:04.734Z`).
pub fn format_rfc3339(time: SystemTime) -> String {
    utc(time)
        .and_then(|utc| utc.format(&Rfc3339).ok())
        .unwrap_or_else(|| OUT_OF_RANGE.to_owned())
}

/// Formats as RFC 3339 in UTC with exactly three fractional digits (`2025-02-24T09:59:04.734Z`), the
/// form most vendor APIs write.
pub fn format_rfc3339_millis(time: SystemTime) -> String {
    let millis =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    utc(time)
        .and_then(|utc| utc.format(&millis).ok())
        .unwrap_or_else(|| OUT_OF_RANGE.to_owned())
}

/// What the formatters write for an instant RFC 3339 cannot hold (its years have four digits).
const OUT_OF_RANGE: &str = "9999-12-31T23:59:59.999Z";

/// `time` as a UTC date-time, if RFC 3339 can write it (years 0000 to 9999).
fn utc(time: SystemTime) -> Option<OffsetDateTime> {
    let since_epoch = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => time::Duration::try_from(after).ok()?,
        Err(before) => -time::Duration::try_from(before.duration()).ok()?,
    };
    OffsetDateTime::UNIX_EPOCH
        .checked_add(since_epoch)
        .filter(|utc| (0..=9999).contains(&utc.year()))
}

/// [`format_rfc3339_millis`] of Unix epoch milliseconds.
pub fn format_unix_ms(ms: u64) -> String {
    format_rfc3339_millis(from_unix_ms(ms))
}

/// Milliseconds since the Unix epoch (0 before it, `u64::MAX` far beyond it).
pub fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |since| {
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
    })
}

/// Milliseconds since the Unix epoch, now.
pub fn now_unix_ms() -> u64 {
    unix_ms(SystemTime::now())
}

/// The instant `ms` milliseconds after the Unix epoch.
pub fn from_unix_ms(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}
