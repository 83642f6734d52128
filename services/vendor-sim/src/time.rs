//! Wall-clock helpers: epoch milliseconds, Lookout's ISO 8601 format (`2025-02-24T09:59:04.734+00:00`)
//! and a lenient parser for the timestamps clients send in query parameters.

use riskgate_sdk::toolkit::time::{format_unix_ms, parse_rfc3339_ms};

/// Milliseconds since the Unix epoch, now.
pub use riskgate_sdk::toolkit::time::now_unix_ms as now_ms;

/// Formats epoch milliseconds the way Lookout does: `2025-02-24T09:59:04.734+00:00`.
pub fn iso_ms(ms: u64) -> String {
    let text = format_unix_ms(ms);
    match text.strip_suffix('Z') {
        Some(stem) => format!("{stem}+00:00"),
        None => text,
    }
}

/// Parses an ISO 8601 timestamp with `Z` or a `±HH:MM` offset (none means UTC), or plain epoch
/// milliseconds.
pub fn parse_time_ms(raw: &str) -> Option<u64> {
    let raw = raw.trim();
    if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) {
        return raw.parse().ok();
    }
    parse_rfc3339_ms(&restore_plus(raw)).ok()
}

/// A `+` in an unencoded query string arrives as a space: `…04.734 02:00` is `…04.734+02:00`.
fn restore_plus(raw: &str) -> String {
    let bytes = raw.as_bytes();
    match bytes.len().checked_sub(6) {
        Some(sign_at) if bytes[sign_at] == b' ' && bytes[sign_at + 3] == b':' => {
            format!("{}+{}", &raw[..sign_at], &raw[sign_at + 1..])
        }
        _ => raw.to_owned(),
    }
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
