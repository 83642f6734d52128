//! Helpers shared by the end-to-end test modules: a reference model of the level rules and
//! shorthands for common assertions.

use anyhow::ensure;
use riskgate_tests::{
    api::{BatchAck, BatchOutcome, HealthState, ThreatLevel},
    api::{DeviceReport, Platform},
    builders::{report, ts, unix_now},
};

/// The documented HealthState → ThreatLevel mapping (UNSPECIFIED means missing data).
pub(crate) fn level_of(state: HealthState) -> ThreatLevel {
    match state {
        HealthState::Secured => ThreatLevel::Secured,
        HealthState::LowSeverity => ThreatLevel::Low,
        HealthState::MediumSeverity => ThreatLevel::Medium,
        HealthState::HighSeverity | HealthState::Compromised => ThreatLevel::High,
        HealthState::Unspecified
        | HealthState::Unknown
        | HealthState::Activated
        | HealthState::Deactivated
        | HealthState::Unresponsive
        | HealthState::Misconfigured => ThreatLevel::Unspecified,
    }
}

/// The worst of `levels`, ignoring missing data; UNSPECIFIED if none carries a level.
pub(crate) fn worst(levels: impl IntoIterator<Item = ThreatLevel>) -> ThreatLevel {
    // SECURED < LOW < MEDIUM < HIGH, and UNSPECIFIED (0) is below all of them.
    levels
        .into_iter()
        .max_by_key(|level| *level as i32)
        .unwrap_or(ThreatLevel::Unspecified)
}

/// A valid Android report observed a minute ago.
pub(crate) fn valid_report(device_id: &str) -> DeviceReport {
    report(
        device_id,
        Platform::Android,
        HealthState::Secured,
        ts(unix_now() - 60),
    )
}

/// Checks that `ack` acknowledges `batch_seq` as APPLIED with `applied` reports and no stale or
/// duplicate ones.
pub(crate) fn check_applied(ack: &BatchAck, batch_seq: u64, applied: u32) -> anyhow::Result<()> {
    ensure!(
        ack.batch_seq == batch_seq
            && ack.outcome == BatchOutcome::Applied as i32
            && ack.applied == applied
            && ack.stale == 0
            && ack.duplicates == 0,
        "expected batch {batch_seq} APPLIED with {applied} applied, 0 stale, 0 duplicates; got {ack:?}"
    );
    Ok(())
}
