//! How values read on a page: the words for the API's enums, badges that carry their meaning in text
//! as well as colour, times and ages.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use maud::{html, Markup};
use riskgate_proto::v1::{ComplianceStatus, ConnectorState, Decision, FeedState, ThreatLevel};

/// A proto enum's name without its prefix, in lower case with spaces: `HEALTH_STATE_HIGH_SEVERITY`
/// with prefix `HEALTH_STATE_` reads "high severity".
pub fn word(name: &str, prefix: &str) -> String {
    name.strip_prefix(prefix)
        .unwrap_or(name)
        .to_ascii_lowercase()
        .replace('_', " ")
}

/// The console's path of a device's page, its id percent-encoded as one path segment (an id may hold
/// `/`, `?` or `#`).
pub fn device_path(device_id: &str) -> String {
    format!("/devices/{}", segment(device_id))
}

/// `text` percent-encoded as one URL path segment.
pub fn segment(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A level as a badge: "HIGH" on red, and so on; no level reads "no data".
pub fn level(raw: i32) -> Markup {
    let (text, class) = match ThreatLevel::try_from(raw) {
        Ok(ThreatLevel::High) => ("HIGH", "bad"),
        Ok(ThreatLevel::Medium) => ("MEDIUM", "warn"),
        Ok(ThreatLevel::Low) => ("LOW", "fair"),
        Ok(ThreatLevel::Secured) => ("SECURED", "good"),
        Ok(ThreatLevel::Unspecified) | Err(_) => ("no data", "none"),
    };
    badge(text, class)
}

/// A compliance status as a badge.
pub fn compliance(raw: i32) -> Markup {
    let status = ComplianceStatus::try_from(raw).unwrap_or(ComplianceStatus::Unspecified);
    let class = match status {
        ComplianceStatus::Compliant | ComplianceStatus::NotApplicable => "good",
        ComplianceStatus::InGracePeriod => "warn",
        ComplianceStatus::Noncompliant | ComplianceStatus::Error => "bad",
        ComplianceStatus::Unknown | ComplianceStatus::Unspecified => "none",
    };
    badge(&word(status.as_str_name(), "COMPLIANCE_STATUS_"), class)
}

/// An access decision as a badge.
pub fn decision(raw: i32) -> Markup {
    match Decision::try_from(raw) {
        Ok(Decision::Allow) => badge("allow", "good"),
        _ => badge("deny", "bad"),
    }
}

/// A connector's state as a badge.
pub fn connector_state(raw: i32) -> Markup {
    let state = ConnectorState::try_from(raw).unwrap_or(ConnectorState::Unspecified);
    let class = match state {
        ConnectorState::Enabled | ConnectorState::Available => "good",
        ConnectorState::NotSetUp | ConnectorState::Unavailable => "none",
        ConnectorState::Unresponsive | ConnectorState::Error | ConnectorState::Unspecified => "bad",
    };
    badge(&word(state.as_str_name(), "CONNECTOR_STATE_"), class)
}

/// A vendor feed's state as a badge.
pub fn feed_state(raw: i32) -> Markup {
    let state = FeedState::try_from(raw).unwrap_or(FeedState::Unspecified);
    let (text, class) = match state {
        FeedState::Connected => ("connected", "good"),
        FeedState::Degraded => ("degraded", "warn"),
        FeedState::Disconnected => ("disconnected", "bad"),
        FeedState::Unspecified => ("not reported", "none"),
    };
    badge(text, class)
}

/// Text on a coloured background; the text alone says what the colour says.
pub fn badge(text: &str, class: &str) -> Markup {
    html! { span class=(format!("badge {class}")) { (text) } }
}

/// A time as `2026-12-05 02:30:00 UTC`, or a dash.
pub fn time(at: Option<&prost_types::Timestamp>) -> String {
    at.and_then(|at| time::OffsetDateTime::from_unix_timestamp(at.seconds).ok())
        .and_then(|at| {
            at.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
            ))
            .ok()
        })
        .unwrap_or_else(|| "–".to_owned())
}

/// How long ago `at` was, such as "3m 20s ago", or a dash.
pub fn age(at: Option<&prost_types::Timestamp>) -> String {
    at.map_or_else(
        || "–".to_owned(),
        |at| match u64::try_from(unix_now() - at.seconds) {
            Ok(secs) => format!("{} ago", span(Duration::from_secs(secs))),
            Err(_) => "just now".to_owned(),
        },
    )
}

/// A duration in at most two units, such as "2h 5m".
pub fn span(duration: Duration) -> String {
    let rounded = Duration::from_secs(duration.as_secs());
    humantime::format_duration(rounded)
        .to_string()
        .split(' ')
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Now, in Unix seconds.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        })
}
