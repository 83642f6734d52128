//! Parsing of proto requests into domain types. Every check names the field path in its error, such as
//! `reports[2].threats[0].severity`, and refuses UNSPECIFIED and unknown enum values.
//!
//! A report batch's rules and limits are the plugin SDK's (`riskgate_sdk::validate`), the one
//! definition connectors, the connector host and the core share; this module runs them, then only
//! converts the checked batch into domain types.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::{
    error::{CoreError, CoreResult},
    stream::filter::EventClass,
};
use riskgate_proto::v1 as pb;
use riskgate_sdk::validate;

use riskgate_policy::domain::{
    policy::{FeedHealth, FeedState},
    ConnectorId, DeviceId, DeviceInfo, DeviceReport, HealthState, Platform, ReportBatch, Threat,
    ThreatCategory, ThreatLevel, ThreatStatus, Timestamp,
};

/// Largest page a list RPC returns.
pub(crate) const MAX_PAGE_SIZE: u32 = 1000;
/// Page size when the request leaves it 0.
pub(crate) const DEFAULT_PAGE_SIZE: u32 = 100;

/// Request limits that come from configuration: most reports in one batch, and how far in the future
/// a partner timestamp may be. The SDK's, so connectors check against the same limits.
pub(crate) use riskgate_sdk::validate::Limits;

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
/// on every `ReportBatch` (outside the crate: `ingest_contract::parse_report_batch`).
pub(crate) fn report_batch(
    msg: pb::ReportBatch,
    limits: &Limits,
    now: Timestamp,
) -> CoreResult<ReportBatch> {
    let connector_id = connector_id("connector_id", &msg.connector_id)?;
    if msg.batch_seq == 0 {
        return Err(CoreError::invalid("batch_seq", "must be at least 1"));
    }
    validate::contents(&msg.checkpoint, &msg.reports, limits, system_time(now))
        .map_err(|invalid| CoreError::invalid(invalid.field, invalid.reason))?;
    let reports = msg
        .reports
        .into_iter()
        .enumerate()
        .map(|(index, report)| device_report(&format!("reports[{index}]"), report))
        .collect::<CoreResult<_>>()?;
    Ok(ReportBatch {
        connector_id,
        batch_seq: msg.batch_seq,
        checkpoint: msg.checkpoint,
        reports,
    })
}

/// `now` as the SDK's validation takes it.
fn system_time(now: Timestamp) -> SystemTime {
    let offset = Duration::from_nanos(now.0.unsigned_abs());
    if now.0 >= 0 {
        UNIX_EPOCH + offset
    } else {
        UNIX_EPOCH - offset
    }
}

/// Converts a report `validate::contents` accepted. The domain types are still built through their
/// checked constructors; none of them refuses a report the validation passed.
fn device_report(path: &str, msg: pb::DeviceReport) -> CoreResult<DeviceReport> {
    let field = |name: &str| format!("{path}.{name}");
    Ok(DeviceReport {
        device_id: device_id(&field("device_id"), &msg.device_id)?,
        info: DeviceInfo {
            platform: platform(&field("platform"), msg.platform)?,
            os_version: msg.os_version,
            model: msg.model,
            owner_user_id: msg.owner_user_id,
            groups: msg.groups,
        },
        health_state: health_state(&field("health_state"), msg.health_state)?,
        threats: msg
            .threats
            .into_iter()
            .enumerate()
            .map(|(index, threat_msg)| threat(&format!("{path}.threats[{index}]"), threat_msg))
            .collect::<CoreResult<_>>()?,
        observed_at: timestamp(&field("observed_at"), msg.observed_at)?,
        vendor_event_id: msg.vendor_event_id,
    })
}

/// Converts a threat of a validated report.
fn threat(path: &str, msg: pb::Threat) -> CoreResult<Threat> {
    let field = |name: &str| format!("{path}.{name}");
    Ok(Threat {
        vendor_threat_id: msg.vendor_threat_id,
        category: threat_category(&field("category"), msg.category)?,
        classification: msg.classification,
        severity: threat_level(&field("severity"), msg.severity)?,
        status: threat_status(&field("status"), msg.status)?,
        detected_at: timestamp(&field("detected_at"), msg.detected_at)?,
        resolved_at: msg
            .resolved_at
            .map(|raw| timestamp(&field("resolved_at"), Some(raw)))
            .transpose()?,
        description: msg.description,
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

/// A timestamp of a validated report (present and within the range the domain stores).
fn timestamp(field: &str, raw: Option<prost_types::Timestamp>) -> CoreResult<Timestamp> {
    let raw = raw.ok_or_else(|| CoreError::invalid(field, "required"))?;
    Timestamp::from_parts(raw.seconds, raw.nanos)
        .ok_or_else(|| CoreError::invalid(field, "out of range"))
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

/// A kind of event, as subscriptions and log reads select them.
pub(crate) fn event_class(field: &str, raw: i32) -> CoreResult<EventClass> {
    enum_value(field, raw, |value| match value {
        pb::EventKind::Unspecified => None,
        pb::EventKind::DeviceReported => Some(EventClass::DeviceReported),
        pb::EventKind::DeviceComplianceChange => Some(EventClass::ComplianceChange),
        pb::EventKind::AccessDecisionChange => Some(EventClass::AccessDecisionChange),
        pb::EventKind::AppProtectionChange => Some(EventClass::AppProtectionChange),
        pb::EventKind::ComplianceActionDue => Some(EventClass::ComplianceActionDue),
        pb::EventKind::ConnectorStateChange => Some(EventClass::ConnectorStateChange),
        pb::EventKind::ConfigChange => Some(EventClass::ConfigChange),
        pb::EventKind::KnownRiskCleared => Some(EventClass::KnownRiskCleared),
    })
}

/// An optional point in time (unset: `None`), within the range the domain stores.
pub(crate) fn optional_timestamp(
    field: &str,
    raw: Option<prost_types::Timestamp>,
) -> CoreResult<Option<Timestamp>> {
    raw.map(|raw| timestamp(field, Some(raw))).transpose()
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
