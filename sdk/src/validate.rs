//! The rules a batch must satisfy. The core's `IngestService.Ingest` runs this same code on every
//! batch ([`contents`]), so a connector (in its unit tests), the host and the conformance suite
//! refuse exactly what the core would refuse, with the same error. Errors name the field path the
//! way the core does, such as `reports[2].threats[0].severity`.
//!
//! The core refuses a whole batch for one bad report. A connector that maps vendor records one by
//! one checks each report with [`report`] (the same rules [`batch`] applies to each of its reports)
//! and skips, with a log line, the record that would be refused instead of losing the batch.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::pb;

/// Largest checkpoint, in bytes.
pub const MAX_CHECKPOINT_BYTES: usize = 64 * 1024;
/// Most reports per batch with the core's default `max_batch_reports`.
pub const DEFAULT_MAX_BATCH_REPORTS: usize = 1000;
/// The core's default allowed clock skew for partner timestamps.
pub const DEFAULT_MAX_CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);
/// Most threats per report.
pub const MAX_THREATS: usize = 256;
/// Most groups per report.
pub const MAX_GROUPS: usize = 64;
/// Longest identifier, in bytes.
pub const MAX_ID_BYTES: usize = 256;
/// Longest OS version, in bytes.
pub const MAX_OS_VERSION_BYTES: usize = 64;
/// Longest threat description, in bytes.
pub const MAX_DESCRIPTION_BYTES: usize = 4096;

/// A rule a report or batch breaks: the field path and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ValidationError {
    /// The field path: `reports[3].device_id` from [`batch`], `device_id` from [`report`].
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

/// The error of [`batch`] (the name it had before [`report`] existed).
pub type InvalidBatch = ValidationError;

impl ValidationError {
    /// The same error with its field path below `parent`, as in `reports[3].device_id`.
    fn under(self, parent: &str) -> Self {
        ValidationError {
            field: format!("{parent}.{}", self.field),
            ..self
        }
    }
}

/// The limits a batch is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most reports per batch.
    pub max_batch_reports: usize,
    /// How far in the future a timestamp may be.
    pub max_clock_skew: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_batch_reports: DEFAULT_MAX_BATCH_REPORTS,
            max_clock_skew: DEFAULT_MAX_CLOCK_SKEW,
        }
    }
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> ValidationError {
    ValidationError {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Checks a batch as the core would at `now`: its own fields, then its contents with [`contents`].
pub fn batch(
    batch: &pb::PluginBatch,
    limits: &Limits,
    now: SystemTime,
) -> Result<(), ValidationError> {
    if batch.batch_id == 0 {
        return Err(invalid("batch_id", "must be at least 1"));
    }
    contents(&batch.checkpoint, &batch.reports, limits, now)
}

/// Checks what every batch carries, however it is numbered (a plugin's `batch_id`, the core's
/// `batch_seq`): the checkpoint's size, the number of reports, then each report with [`report_at`].
/// The core's `IngestService.Ingest` runs this same function on every `ReportBatch`.
pub fn contents(
    checkpoint: &[u8],
    reports: &[pb::DeviceReport],
    limits: &Limits,
    now: SystemTime,
) -> Result<(), ValidationError> {
    if checkpoint.len() > MAX_CHECKPOINT_BYTES {
        return Err(invalid(
            "checkpoint",
            format!(
                "{} bytes exceed the limit of {MAX_CHECKPOINT_BYTES}",
                checkpoint.len()
            ),
        ));
    }
    if reports.len() > limits.max_batch_reports {
        return Err(invalid(
            "reports",
            format!(
                "{} reports exceed the limit of {} per batch",
                reports.len(),
                limits.max_batch_reports
            ),
        ));
    }
    for (index, one) in reports.iter().enumerate() {
        report_at(one, limits, now).map_err(|e| e.under(&format!("reports[{index}]")))?;
    }
    Ok(())
}

/// Checks one report as the core would now, with the core's default clock skew; the error names
/// the field within the report, such as `threats[0].severity`.
pub fn report(report: &pb::DeviceReport) -> Result<(), ValidationError> {
    report_at(report, &Limits::default(), SystemTime::now())
}

/// Checks one report as the core would at `now` with `limits` (only the clock skew applies to a
/// single report). A report with several faults is refused for the first in the order the core has
/// always checked them: the list sizes and groups, `vendor_event_id`, the device fields, then the
/// threats and `observed_at`.
pub fn report_at(
    report: &pb::DeviceReport,
    limits: &Limits,
    now: SystemTime,
) -> Result<(), ValidationError> {
    let latest = unix_nanos(now).saturating_add(nanos(limits.max_clock_skew));
    list("groups", report.groups.len(), MAX_GROUPS)?;
    for (index, group) in report.groups.iter().enumerate() {
        let field = format!("groups[{index}]");
        text(&field, group, MAX_ID_BYTES)?;
        if group.is_empty() {
            return Err(invalid(field, "must not be empty"));
        }
    }
    list("threats", report.threats.len(), MAX_THREATS)?;
    required_text("vendor_event_id", &report.vendor_event_id)?;
    required_text("device_id", &report.device_id)?;
    enum_value::<pb::Platform>("platform", report.platform)?;
    text("os_version", &report.os_version, MAX_OS_VERSION_BYTES)?;
    text("model", &report.model, MAX_ID_BYTES)?;
    text("owner_user_id", &report.owner_user_id, MAX_ID_BYTES)?;
    enum_value::<pb::HealthState>("health_state", report.health_state)?;
    for (index, threat_msg) in report.threats.iter().enumerate() {
        threat(&format!("threats[{index}]"), threat_msg, latest)?;
    }
    past_timestamp("observed_at", report.observed_at.as_ref(), latest)?;
    Ok(())
}

fn threat(path: &str, threat: &pb::Threat, latest: i64) -> Result<(), ValidationError> {
    let field = |name: &str| format!("{path}.{name}");
    let detected_at = past_timestamp(&field("detected_at"), threat.detected_at.as_ref(), latest)?;
    if let Some(resolved) = &threat.resolved_at {
        let resolved_at = past_timestamp(&field("resolved_at"), Some(resolved), latest)?;
        if resolved_at < detected_at {
            return Err(invalid(field("resolved_at"), "is before detected_at"));
        }
    }
    required_text(&field("vendor_threat_id"), &threat.vendor_threat_id)?;
    enum_value::<pb::ThreatCategory>(&field("category"), threat.category)?;
    text(
        &field("classification"),
        &threat.classification,
        MAX_ID_BYTES,
    )?;
    enum_value::<pb::ThreatLevel>(&field("severity"), threat.severity)?;
    enum_value::<pb::ThreatStatus>(&field("status"), threat.status)?;
    text(
        &field("description"),
        &threat.description,
        MAX_DESCRIPTION_BYTES,
    )?;
    Ok(())
}

fn list(field: &str, len: usize, max: usize) -> Result<(), ValidationError> {
    if len > max {
        return Err(invalid(field, format!("more than {max} entries")));
    }
    Ok(())
}

fn text(field: &str, raw: &str, max_bytes: usize) -> Result<(), ValidationError> {
    if raw.len() > max_bytes {
        return Err(invalid(field, format!("longer than {max_bytes} bytes")));
    }
    if raw.chars().any(char::is_control) {
        return Err(invalid(field, "contains control characters"));
    }
    Ok(())
}

fn required_text(field: &str, raw: &str) -> Result<(), ValidationError> {
    if raw.is_empty() {
        return Err(invalid(field, "required"));
    }
    text(field, raw, MAX_ID_BYTES)
}

/// The nanoseconds since the Unix epoch a protobuf timestamp stands for, if they fit an `i64`
/// (years 1678 to 2262), the range the core stores.
fn unix_nanos_of(raw: &prost_types::Timestamp) -> Option<i64> {
    if !(0..1_000_000_000).contains(&raw.nanos) {
        return None;
    }
    raw.seconds
        .checked_mul(1_000_000_000)?
        .checked_add(i64::from(raw.nanos))
}

/// A required timestamp after the epoch and not later than `latest`, in nanoseconds since the epoch.
fn past_timestamp(
    field: &str,
    raw: Option<&prost_types::Timestamp>,
    latest: i64,
) -> Result<i64, ValidationError> {
    let raw = raw.ok_or_else(|| invalid(field, "required"))?;
    let ts = unix_nanos_of(raw).ok_or_else(|| invalid(field, "out of range"))?;
    if ts <= 0 {
        return Err(invalid(field, "must be after 1970-01-01"));
    }
    if ts > latest {
        return Err(invalid(
            field,
            "is in the future beyond the allowed clock skew",
        ));
    }
    Ok(ts)
}

/// `time` in nanoseconds since the Unix epoch, saturating at the ends of `i64`.
fn unix_nanos(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => nanos(after),
        Err(before) => i64::try_from(before.duration().as_nanos()).map_or(i64::MIN, |n| -n),
    }
}

fn nanos(duration: Duration) -> i64 {
    i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX)
}

fn enum_value<E>(field: &str, raw: i32) -> Result<(), ValidationError>
where
    E: TryFrom<i32>,
{
    E::try_from(raw).map_err(|_| invalid(field, format!("unknown value {raw}")))?;
    if raw == 0 {
        return Err(invalid(field, "required"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> pb::DeviceReport {
        pb::DeviceReport {
            device_id: "dev-1".to_owned(),
            platform: pb::Platform::Android as i32,
            health_state: pb::HealthState::Secured as i32,
            observed_at: Some(prost_types::Timestamp {
                seconds: 1_700_000_000,
                nanos: 0,
            }),
            vendor_event_id: "evt-1".to_owned(),
            ..Default::default()
        }
    }

    fn check(reports: Vec<pb::DeviceReport>) -> Result<(), ValidationError> {
        let msg = pb::PluginBatch {
            batch_id: 1,
            checkpoint: b"c".to_vec(),
            reports,
        };
        batch(&msg, &Limits::default(), SystemTime::now())
    }

    #[test]
    fn valid_report_passes_and_each_broken_field_is_named() {
        assert_eq!(check(vec![report()]), Ok(()));
        let mut no_id = report();
        no_id.device_id.clear();
        assert_eq!(
            check(vec![report(), no_id]).unwrap_err().field,
            "reports[1].device_id"
        );
        let mut bad_platform = report();
        bad_platform.platform = 99;
        assert_eq!(
            check(vec![bad_platform]).unwrap_err().to_string(),
            "reports[0].platform: unknown value 99"
        );
        let mut future = report();
        future.observed_at = Some(prost_types::Timestamp {
            seconds: 4_000_000_000,
            nanos: 0,
        });
        assert_eq!(
            check(vec![future]).unwrap_err().field,
            "reports[0].observed_at"
        );
    }

    #[test]
    fn too_many_reports_and_zero_batch_id_are_refused() {
        let err = check(vec![report(); DEFAULT_MAX_BATCH_REPORTS + 1]).unwrap_err();
        assert_eq!(err.field, "reports");
        let zero = pb::PluginBatch::default();
        assert_eq!(
            batch(&zero, &Limits::default(), SystemTime::now())
                .unwrap_err()
                .field,
            "batch_id"
        );
    }

    fn threat() -> pb::Threat {
        pb::Threat {
            vendor_threat_id: "t-1".to_owned(),
            category: pb::ThreatCategory::Application as i32,
            severity: pb::ThreatLevel::Medium as i32,
            status: pb::ThreatStatus::Open as i32,
            detected_at: Some(prost_types::Timestamp {
                seconds: 1_700_000_000,
                nanos: 0,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_single_report_is_checked_and_its_error_names_the_field_within_it() {
        assert_eq!(super::report(&report()), Ok(()));
        let mut no_event = report();
        no_event.vendor_event_id.clear();
        assert_eq!(
            super::report(&no_event),
            Err(invalid("vendor_event_id", "required"))
        );
        let mut bad_threat = report();
        bad_threat.threats = vec![
            threat(),
            pb::Threat {
                severity: 0,
                ..threat()
            },
        ];
        assert_eq!(
            super::report(&bad_threat).unwrap_err().to_string(),
            "threats[1].severity: required"
        );
        let mut control = report();
        control.groups = vec!["ok".to_owned(), "bad\n".to_owned()];
        assert_eq!(super::report(&control).unwrap_err().field, "groups[1]");
    }

    #[test]
    fn the_batch_check_is_the_report_check_under_the_report_index() {
        let mut early = report();
        early.threats = vec![pb::Threat {
            resolved_at: Some(prost_types::Timestamp {
                seconds: 1_600_000_000,
                nanos: 0,
            }),
            ..threat()
        }];
        let alone = super::report(&early).unwrap_err();
        assert_eq!(alone.field, "threats[0].resolved_at");
        let in_batch = check(vec![report(), report(), early]).unwrap_err();
        assert_eq!(in_batch.field, format!("reports[2].{}", alone.field));
        assert_eq!(in_batch.reason, alone.reason);
    }

    #[test]
    fn report_at_applies_the_given_clock_skew() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut ahead = report();
        ahead.observed_at = Some(prost_types::Timestamp {
            seconds: 1_700_000_060,
            nanos: 0,
        });
        let strict = Limits {
            max_clock_skew: Duration::from_secs(30),
            ..Limits::default()
        };
        assert_eq!(report_at(&ahead, &Limits::default(), now), Ok(()));
        assert_eq!(
            report_at(&ahead, &strict, now).unwrap_err().field,
            "observed_at"
        );
    }
}
