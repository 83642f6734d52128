//! Wall-clock helpers: epoch milliseconds, Lookout's ISO 8601 format (`2025-02-24T09:59:04.734+00:00`)
//! and a lenient parser for the timestamps clients send in query parameters.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Formats epoch milliseconds the way Lookout does: `2025-02-24T09:59:04.734+00:00`.
pub fn iso_ms(ms: u64) -> String {
    let time = UNIX_EPOCH + Duration::from_millis(ms);
    let text = humantime::format_rfc3339_millis(time).to_string();
    match text.strip_suffix('Z') {
        Some(stem) => format!("{stem}+00:00"),
        None => text,
    }
}

/// Parses an ISO 8601 timestamp with `Z` or a `±HH:MM` offset, or plain epoch milliseconds.
pub fn parse_time_ms(raw: &str) -> Option<u64> {
    let raw = raw.trim();
    if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) {
        return raw.parse().ok();
    }
    let (stem, offset_secs) = split_offset(raw)?;
    let parsed = humantime::parse_rfc3339_weak(stem).ok()?;
    let ms = i128::try_from(parsed.duration_since(UNIX_EPOCH).ok()?.as_millis()).ok()?;
    u64::try_from(ms - i128::from(offset_secs) * 1000).ok()
}

/// Splits `2025-01-01T00:00:00.000+02:00` into the local part and the offset in seconds.
fn split_offset(raw: &str) -> Option<(&str, i64)> {
    if let Some(stem) = raw.strip_suffix('Z').or_else(|| raw.strip_suffix('z')) {
        return Some((stem, 0));
    }
    let bytes = raw.as_bytes();
    if bytes.len() > 6 {
        let sign_at = bytes.len() - 6;
        let sign = bytes[sign_at];
        // A `+` in an unencoded query string arrives as a space.
        if (sign == b'+' || sign == b'-' || sign == b' ') && bytes[sign_at + 3] == b':' {
            let hours: i64 = raw.get(sign_at + 1..sign_at + 3)?.parse().ok()?;
            let minutes: i64 = raw.get(sign_at + 4..)?.parse().ok()?;
            let offset = (hours * 60 + minutes) * 60;
            let offset = if sign == b'-' { -offset } else { offset };
            return Some((raw.get(..sign_at)?, offset));
        }
    }
    // No offset: read as UTC.
    Some((raw, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_lookout_timestamps() {
        let ms = 1_740_391_144_734;
        assert_eq!(iso_ms(ms), "2025-02-24T09:59:04.734+00:00");
        assert_eq!(parse_time_ms(&iso_ms(ms)), Some(ms));
        assert_eq!(parse_time_ms("2025-02-24T09:59:04.734Z"), Some(ms));
        assert_eq!(parse_time_ms("2025-02-24T11:59:04.734+02:00"), Some(ms));
        assert_eq!(parse_time_ms("2025-02-24T09:59:04.734 00:00"), Some(ms));
        assert_eq!(parse_time_ms("2025-02-24T09:59:04Z"), Some(ms - 734));
        assert_eq!(parse_time_ms("1740391144734"), Some(ms));
        assert_eq!(parse_time_ms("yesterday"), None);
    }
}
