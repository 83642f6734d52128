//! Parsing of proto requests into domain types. Every check names the field path in its error, such as
//! `reports[2].threats[0].severity`, and refuses UNSPECIFIED and unknown enum values.

use std::time::Duration;

use crate::error::{CoreError, CoreResult};
use riskgate_proto::v1 as pb;

use riskgate_policy::domain::{
    policy::{FeedHealth, FeedState},
    ConnectorId, DeviceId, DeviceInfo, DeviceReport, HealthState, Platform, ReportBatch, Threat,
    ThreatCategory, ThreatLevel, ThreatStatus, Timestamp,
};

/// Largest checkpoint a connector may store, in bytes.
pub(crate) const MAX_CHECKPOINT_BYTES: usize = 64 * 1024;
const MAX_THREATS: usize = 256;
const MAX_GROUPS: usize = 64;
const MAX_ID_BYTES: usize = 256;
const MAX_OS_VERSION_BYTES: usize = 64;
const MAX_DESCRIPTION_BYTES: usize = 4096;
/// Largest page a list RPC returns.
pub(crate) const MAX_PAGE_SIZE: u32 = 1000;
/// Page size when the request leaves it 0.
pub(crate) const DEFAULT_PAGE_SIZE: u32 = 100;

/// Request limits that come from configuration.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most reports in one batch.
    pub max_batch_reports: usize,
    /// How far in the future a partner timestamp may be.
    pub max_clock_skew: Duration,
}

/// A required identifier field.
pub(crate) fn device_id(field: &str, raw: &str) -> CoreResult<DeviceId> {
    DeviceId::parse(raw).map_err(|reason| CoreError::invalid(field, reason))
}

/// A required connector id field.
pub(crate) fn connector_id(field: &str, raw: &str) -> CoreResult<ConnectorId> {
    ConnectorId::parse(raw).map_err(|reason| CoreError::invalid(field, reason))
}

/// A page size: 0 means the default, above the maximum is refused.
pub(crate) fn page_size(raw: u32) -> CoreResult<usize> {
    match raw {
        0 => Ok(DEFAULT_PAGE_SIZE as usize),
        1..=MAX_PAGE_SIZE => Ok(raw as usize),
        _ => Err(CoreError::invalid(
            "page_size",
            format!("{raw} is above the maximum of {MAX_PAGE_SIZE}"),
        )),
    }
}

/// A connector's batch, checked whole before anything of it is applied: the parse the Ingest RPC runs
/// on every `ReportBatch`. Public so the fuzz targets (`fuzz/targets`) can drive it directly.
pub fn report_batch(
    msg: pb::ReportBatch,
    limits: &Limits,
    now: Timestamp,
) -> CoreResult<ReportBatch> {
    let connector_id = connector_id("connector_id", &msg.connector_id)?;
    if msg.batch_seq == 0 {
        return Err(CoreError::invalid("batch_seq", "must be at least 1"));
    }
    if msg.checkpoint.len() > MAX_CHECKPOINT_BYTES {
        return Err(CoreError::invalid(
            "checkpoint",
            format!(
                "{} bytes exceed the limit of {MAX_CHECKPOINT_BYTES}",
                msg.checkpoint.len()
            ),
        ));
    }
    if msg.reports.len() > limits.max_batch_reports {
        return Err(CoreError::invalid(
            "reports",
            format!(
                "{} reports exceed the limit of {} per batch",
                msg.reports.len(),
                limits.max_batch_reports
            ),
        ));
    }
    let latest = now.saturating_add(limits.max_clock_skew);
    let reports = msg
        .reports
        .into_iter()
        .enumerate()
        .map(|(index, report)| device_report(&format!("reports[{index}]"), report, latest))
        .collect::<CoreResult<_>>()?;
    Ok(ReportBatch {
        connector_id,
        batch_seq: msg.batch_seq,
        checkpoint: msg.checkpoint,
        reports,
    })
}

fn device_report(path: &str, msg: pb::DeviceReport, latest: Timestamp) -> CoreResult<DeviceReport> {
    let field = |name: &str| format!("{path}.{name}");
    if msg.groups.len() > MAX_GROUPS {
        return Err(CoreError::invalid(
            field("groups"),
            format!("more than {MAX_GROUPS} entries"),
        ));
    }
    for (index, group) in msg.groups.iter().enumerate() {
        text(&format!("{path}.groups[{index}]"), group, MAX_ID_BYTES)?;
        if group.is_empty() {
            return Err(CoreError::invalid(
                format!("{path}.groups[{index}]"),
                "must not be empty",
            ));
        }
    }
    if msg.threats.len() > MAX_THREATS {
        return Err(CoreError::invalid(
            field("threats"),
            format!("more than {MAX_THREATS} entries"),
        ));
    }
    let vendor_event_id = required_text(&field("vendor_event_id"), msg.vendor_event_id)?;
    Ok(DeviceReport {
        device_id: device_id(&field("device_id"), &msg.device_id)?,
        info: DeviceInfo {
            platform: platform(&field("platform"), msg.platform)?,
            os_version: text(&field("os_version"), &msg.os_version, MAX_OS_VERSION_BYTES)?,
            model: text(&field("model"), &msg.model, MAX_ID_BYTES)?,
            owner_user_id: text(&field("owner_user_id"), &msg.owner_user_id, MAX_ID_BYTES)?,
            groups: msg.groups,
        },
        health_state: health_state(&field("health_state"), msg.health_state)?,
        threats: msg
            .threats
            .into_iter()
            .enumerate()
            .map(|(index, threat_msg)| {
                threat(&format!("{path}.threats[{index}]"), threat_msg, latest)
            })
            .collect::<CoreResult<_>>()?,
        observed_at: past_timestamp(&field("observed_at"), msg.observed_at, latest)?,
        vendor_event_id,
    })
}

fn threat(path: &str, msg: pb::Threat, latest: Timestamp) -> CoreResult<Threat> {
    let field = |name: &str| format!("{path}.{name}");
    let detected_at = past_timestamp(&field("detected_at"), msg.detected_at, latest)?;
    let resolved_at = match msg.resolved_at {
        None => None,
        Some(raw) => {
            let resolved_at = past_timestamp(&field("resolved_at"), Some(raw), latest)?;
            if resolved_at < detected_at {
                return Err(CoreError::invalid(
                    field("resolved_at"),
                    "is before detected_at",
                ));
            }
            Some(resolved_at)
        }
    };
    Ok(Threat {
        vendor_threat_id: required_text(&field("vendor_threat_id"), msg.vendor_threat_id)?,
        category: threat_category(&field("category"), msg.category)?,
        classification: text(&field("classification"), &msg.classification, MAX_ID_BYTES)?,
        severity: threat_level(&field("severity"), msg.severity)?,
        status: threat_status(&field("status"), msg.status)?,
        detected_at,
        resolved_at,
        description: text(
            &field("description"),
            &msg.description,
            MAX_DESCRIPTION_BYTES,
        )?,
    })
}

fn text(field: &str, raw: &str, max_bytes: usize) -> CoreResult<String> {
    if raw.len() > max_bytes {
        return Err(CoreError::invalid(
            field,
            format!("longer than {max_bytes} bytes"),
        ));
    }
    if raw.chars().any(char::is_control) {
        return Err(CoreError::invalid(field, "contains control characters"));
    }
    Ok(raw.to_owned())
}

fn required_text(field: &str, raw: String) -> CoreResult<String> {
    if raw.is_empty() {
        return Err(CoreError::invalid(field, "required"));
    }
    text(field, &raw, MAX_ID_BYTES)?;
    Ok(raw)
}

/// A required timestamp that is not later than `latest` (now plus the allowed clock skew).
fn past_timestamp(
    field: &str,
    raw: Option<prost_types::Timestamp>,
    latest: Timestamp,
) -> CoreResult<Timestamp> {
    let raw = raw.ok_or_else(|| CoreError::invalid(field, "required"))?;
    let ts = Timestamp::from_parts(raw.seconds, raw.nanos)
        .ok_or_else(|| CoreError::invalid(field, "out of range"))?;
    if ts.0 <= 0 {
        return Err(CoreError::invalid(field, "must be after 1970-01-01"));
    }
    if ts > latest {
        return Err(CoreError::invalid(
            field,
            "is in the future beyond the allowed clock skew",
        ));
    }
    Ok(ts)
}

/// A plugin's feed health from a heartbeat; `None` when the host sent none. Times later than `now` (a
/// plugin clock ahead of the core's) are taken as `now`, so a skewed clock can neither refuse heartbeats
/// nor push the feed's silence into the future.
pub(crate) fn feed_health(
    raw: Option<pb::FeedHealth>,
    now: Timestamp,
) -> CoreResult<Option<FeedHealth>> {
    let Some(raw) = raw else { return Ok(None) };
    let state = match pb::FeedState::try_from(raw.state) {
        Ok(pb::FeedState::Unspecified) => FeedState::Unknown,
        Ok(pb::FeedState::Connected) => FeedState::Connected,
        Ok(pb::FeedState::Degraded) => FeedState::Degraded,
        Ok(pb::FeedState::Disconnected) => FeedState::Disconnected,
        Err(_) => {
            return Err(CoreError::invalid(
                "feed.state",
                format!("unknown value {}", raw.state),
            ))
        }
    };
    let time =
        |field: &str, raw: Option<prost_types::Timestamp>| -> CoreResult<Option<Timestamp>> {
            raw.map(|raw| {
                Timestamp::from_parts(raw.seconds, raw.nanos)
                    .filter(|ts| ts.0 > 0)
                    .map(|ts| ts.min(now))
                    .ok_or_else(|| CoreError::invalid(field, "out of range"))
            })
            .transpose()
        };
    Ok(Some(FeedHealth {
        state,
        reason: text("feed.reason", &raw.reason, 1024)?,
        since: time("feed.since", raw.since)?,
        last_vendor_sync: time("feed.last_vendor_sync", raw.last_vendor_sync)?,
    }))
}

/// Decodes a proto enum, refusing unknown values and UNSPECIFIED, then maps it to the domain enum.
fn enum_value<P, D>(field: &str, raw: i32, map: impl FnOnce(P) -> Option<D>) -> CoreResult<D>
where
    P: TryFrom<i32>,
{
    let value =
        P::try_from(raw).map_err(|_| CoreError::invalid(field, format!("unknown value {raw}")))?;
    map(value).ok_or_else(|| CoreError::invalid(field, "required"))
}

pub(crate) fn platform(field: &str, raw: i32) -> CoreResult<Platform> {
    enum_value(field, raw, |value| match value {
        pb::Platform::Unspecified => None,
        pb::Platform::Android => Some(Platform::Android),
        pb::Platform::Ios => Some(Platform::Ios),
        pb::Platform::Ipados => Some(Platform::Ipados),
        pb::Platform::Windows => Some(Platform::Windows),
        pb::Platform::Macos => Some(Platform::Macos),
    })
}

pub(crate) fn threat_level(field: &str, raw: i32) -> CoreResult<ThreatLevel> {
    enum_value(field, raw, |value| match value {
        pb::ThreatLevel::Unspecified => None,
        pb::ThreatLevel::Secured => Some(ThreatLevel::Secured),
        pb::ThreatLevel::Low => Some(ThreatLevel::Low),
        pb::ThreatLevel::Medium => Some(ThreatLevel::Medium),
        pb::ThreatLevel::High => Some(ThreatLevel::High),
    })
}

fn health_state(field: &str, raw: i32) -> CoreResult<HealthState> {
    enum_value(field, raw, |value| match value {
        pb::HealthState::Unspecified => None,
        pb::HealthState::Unknown => Some(HealthState::Unknown),
        pb::HealthState::Activated => Some(HealthState::Activated),
        pb::HealthState::Deactivated => Some(HealthState::Deactivated),
        pb::HealthState::Secured => Some(HealthState::Secured),
        pb::HealthState::LowSeverity => Some(HealthState::LowSeverity),
        pb::HealthState::MediumSeverity => Some(HealthState::MediumSeverity),
        pb::HealthState::HighSeverity => Some(HealthState::HighSeverity),
        pb::HealthState::Unresponsive => Some(HealthState::Unresponsive),
        pb::HealthState::Compromised => Some(HealthState::Compromised),
        pb::HealthState::Misconfigured => Some(HealthState::Misconfigured),
    })
}

fn threat_category(field: &str, raw: i32) -> CoreResult<ThreatCategory> {
    enum_value(field, raw, |value| match value {
        pb::ThreatCategory::Unspecified => None,
        pb::ThreatCategory::Application => Some(ThreatCategory::Application),
        pb::ThreatCategory::Network => Some(ThreatCategory::Network),
        pb::ThreatCategory::Os => Some(ThreatCategory::Os),
        pb::ThreatCategory::WebContent => Some(ThreatCategory::WebContent),
        pb::ThreatCategory::Configuration => Some(ThreatCategory::Configuration),
        pb::ThreatCategory::File => Some(ThreatCategory::File),
    })
}

fn threat_status(field: &str, raw: i32) -> CoreResult<ThreatStatus> {
    enum_value(field, raw, |value| match value {
        pb::ThreatStatus::Unspecified => None,
        pb::ThreatStatus::Open => Some(ThreatStatus::Open),
        pb::ThreatStatus::Resolved => Some(ThreatStatus::Resolved),
        pb::ThreatStatus::Ignored => Some(ThreatStatus::Ignored),
    })
}
