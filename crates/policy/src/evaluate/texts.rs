//! The reason texts that depend only on enum values, formatted once per process, so that evaluating a
//! device or answering a check formats no strings (the decision benchmark of issue #9).

use std::{borrow::Cow, sync::LazyLock};

use crate::domain::{policy::ComplianceStatus, ConnectorId, KnownRisk, ThreatLevel};

const LEVELS: [ThreatLevel; 4] = [
    ThreatLevel::Secured,
    ThreatLevel::Low,
    ThreatLevel::Medium,
    ThreatLevel::High,
];

const STATUSES: [ComplianceStatus; 6] = [
    ComplianceStatus::Unknown,
    ComplianceStatus::NotApplicable,
    ComplianceStatus::Compliant,
    ComplianceStatus::InGracePeriod,
    ComplianceStatus::Noncompliant,
    ComplianceStatus::Error,
];

/// One text per (device level, allowed level).
type LevelTable = [[String; LEVELS.len()]; LEVELS.len()];

/// One text per compliance status.
type StatusTable = [String; STATUSES.len()];

fn level_table(text: fn(ThreatLevel, ThreatLevel) -> String) -> LevelTable {
    LEVELS.map(|level| LEVELS.map(|max_level| text(level, max_level)))
}

fn status_table(text: fn(ComplianceStatus) -> String) -> StatusTable {
    STATUSES.map(text)
}

static LEVEL_WITHIN: LazyLock<LevelTable> = LazyLock::new(|| {
    level_table(|level, max| {
        format!(
            "device threat level {} is at or under {}",
            level.api_name(),
            max.api_name()
        )
    })
});

static LEVEL_ABOVE: LazyLock<LevelTable> = LazyLock::new(|| {
    level_table(|level, max| {
        format!(
            "device threat level {} is above the allowed {}",
            level.api_name(),
            max.api_name()
        )
    })
});

static COMPLIANCE_IS: LazyLock<StatusTable> =
    LazyLock::new(|| status_table(|status| format!("device compliance is {}", status.api_name())));

static COMPLIANT_REQUIRED: LazyLock<StatusTable> = LazyLock::new(|| {
    status_table(|status| {
        format!(
            "a compliant device is required; it is {}",
            status.api_name()
        )
    })
});

// The enums are fieldless and listed in declaration order above, so `as usize` indexes the tables.
fn by_level(table: &'static LevelTable, level: ThreatLevel, max: ThreatLevel) -> Cow<'static, str> {
    Cow::Borrowed(&table[level as usize][max as usize])
}

fn by_status(table: &'static StatusTable, status: ComplianceStatus) -> Cow<'static, str> {
    Cow::Borrowed(&table[status as usize])
}

/// "device threat level {level} is at or under {max}".
pub(super) fn level_within(level: ThreatLevel, max: ThreatLevel) -> Cow<'static, str> {
    by_level(&LEVEL_WITHIN, level, max)
}

/// "device threat level {level} is above the allowed {max}".
pub(super) fn level_above(level: ThreatLevel, max: ThreatLevel) -> Cow<'static, str> {
    by_level(&LEVEL_ABOVE, level, max)
}

/// "device compliance is {status}".
pub(super) fn compliance_is(status: ComplianceStatus) -> Cow<'static, str> {
    by_status(&COMPLIANCE_IS, status)
}

/// "a compliant device is required; it is {status}".
pub(super) fn compliant_required(status: ComplianceStatus) -> Cow<'static, str> {
    by_status(&COMPLIANT_REQUIRED, status)
}

/// "last known HIGH from lookout at 2026-12-03T17:00:00Z": a risk a partner reported before it lost sight
/// of the device. Formatted per call: known risks are rare.
pub(super) fn known_risk(connector_id: &ConnectorId, risk: &KnownRisk) -> String {
    format!(
        "last known {} from {connector_id} at {}",
        risk.level().api_name(),
        risk.observed_at.rfc3339()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_name_values_as_the_api_does() {
        assert_eq!(
            level_above(ThreatLevel::High, ThreatLevel::Low),
            "device threat level HIGH is above the allowed LOW"
        );
        assert_eq!(
            compliant_required(ComplianceStatus::InGracePeriod),
            "a compliant device is required; it is IN_GRACE_PERIOD"
        );
    }

    #[test]
    fn every_text_names_its_own_values() {
        for (index, level) in LEVELS.into_iter().enumerate() {
            assert_eq!(
                level as usize, index,
                "LEVELS must follow declaration order"
            );
            for max in LEVELS {
                assert_eq!(
                    level_within(level, max),
                    format!(
                        "device threat level {} is at or under {}",
                        level.api_name(),
                        max.api_name()
                    )
                );
                assert_eq!(
                    level_above(level, max),
                    format!(
                        "device threat level {} is above the allowed {}",
                        level.api_name(),
                        max.api_name()
                    )
                );
            }
        }
        for (index, status) in STATUSES.into_iter().enumerate() {
            assert_eq!(
                status as usize, index,
                "STATUSES must follow declaration order"
            );
            assert_eq!(
                compliance_is(status),
                format!("device compliance is {}", status.api_name())
            );
            assert_eq!(
                compliant_required(status),
                format!(
                    "a compliant device is required; it is {}",
                    status.api_name()
                )
            );
        }
    }
}
