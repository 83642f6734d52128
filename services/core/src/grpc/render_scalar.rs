//! Rendering of the scalar domain values both renderers share (times, durations, levels, platforms) as
//! their proto forms.

use std::time::Duration;

use riskgate_policy::domain::{Platform, ThreatLevel, Timestamp};
use riskgate_proto::v1 as pb;

pub(crate) fn timestamp(ts: Timestamp) -> prost_types::Timestamp {
    let (seconds, nanos) = ts.to_parts();
    prost_types::Timestamp { seconds, nanos }
}

pub(crate) fn level(level: Option<ThreatLevel>) -> i32 {
    (match level {
        None => pb::ThreatLevel::Unspecified,
        Some(ThreatLevel::Secured) => pb::ThreatLevel::Secured,
        Some(ThreatLevel::Low) => pb::ThreatLevel::Low,
        Some(ThreatLevel::Medium) => pb::ThreatLevel::Medium,
        Some(ThreatLevel::High) => pb::ThreatLevel::High,
    }) as i32
}

pub(crate) fn duration(value: Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: value.as_secs() as i64,
        nanos: value.subsec_nanos() as i32,
    }
}

pub(crate) fn platform(platform: Platform) -> i32 {
    (match platform {
        Platform::Android => pb::Platform::Android,
        Platform::Ios => pb::Platform::Ios,
        Platform::Ipados => pb::Platform::Ipados,
        Platform::Windows => pb::Platform::Windows,
        Platform::Macos => pb::Platform::Macos,
    }) as i32
}
