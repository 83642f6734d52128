//! From riskgate's event log to CAEP: which changes become which events. The transmitter parses the
//! core's `RiskStream` events into [`Change`]s at its edge; this module decides, without I/O.
//!
//! - A compliance change is a `device-compliance-change` when it changes CAEP's two-valued status:
//!   riskgate's COMPLIANT and NOT_APPLICABLE (no policy applies) are `compliant`; everything else
//!   (NONCOMPLIANT, IN_GRACE_PERIOD, UNKNOWN, ERROR) is `not-compliant`, so an identity provider never
//!   trusts a device riskgate cannot vouch for.
//! - A report that changes the device's level is a `risk-level-change` (`principal: DEVICE`) when the
//!   CAEP levels differ (SECURED and LOW are both CAEP LOW), with `risk_reason` naming the threats.
//! - An access decision that flips to deny is a `session-revoked`, its `reason_admin` naming the resource
//!   and the reasons.

use crate::event::{ComplianceStatus, Context, Event, RiskLevel};

/// riskgate's compliance statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compliance {
    /// No data yet.
    Unknown,
    /// No policy applies.
    NotApplicable,
    /// Compliant.
    Compliant,
    /// Noncompliant, within the grace period.
    InGracePeriod,
    /// Noncompliant.
    Noncompliant,
    /// The status could not be evaluated.
    Error,
}

impl Compliance {
    /// CAEP's status for it.
    pub fn caep(self) -> ComplianceStatus {
        match self {
            Compliance::Compliant | Compliance::NotApplicable => ComplianceStatus::Compliant,
            Compliance::Unknown
            | Compliance::InGracePeriod
            | Compliance::Noncompliant
            | Compliance::Error => ComplianceStatus::NotCompliant,
        }
    }
}

/// A change in riskgate's log that may concern an identity provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The device's compliance status changed; `reasons` say why it is what it is now.
    Compliance {
        /// Before.
        previous: Compliance,
        /// Now.
        current: Compliance,
        /// Why, as riskgate words it.
        reasons: Vec<String>,
    },
    /// A report changed the device's level (`None`: unknown before).
    RiskLevel {
        /// Before.
        previous: Option<RiskLevel>,
        /// Now.
        current: RiskLevel,
        /// The ids (or names) of the threats the report carried.
        threats: Vec<String>,
    },
    /// An access decision for `resource` flipped to deny.
    AccessDenied {
        /// The resource.
        resource: String,
        /// Why, as riskgate words it.
        reasons: Vec<String>,
    },
}

/// The CAEP event for `change`, which happened at `timestamp` (Unix seconds); `None` when CAEP would
/// see no change.
pub fn event(change: &Change, timestamp: u64) -> Option<Event> {
    let context = |reason_admin: Option<String>| Context {
        event_timestamp: Some(timestamp),
        initiating_entity: Some("policy"),
        reason_admin,
    };
    match change {
        Change::Compliance {
            previous,
            current,
            reasons,
        } => (previous.caep() != current.caep()).then(|| Event::DeviceComplianceChange {
            previous: previous.caep(),
            current: current.caep(),
            context: context(joined(reasons)),
        }),
        Change::RiskLevel {
            previous,
            current,
            threats,
        } => (previous.map(RiskLevel::caep) != Some(current.caep())).then(|| {
            Event::RiskLevelChange {
                previous: previous.map(RiskLevel::caep),
                current: current.caep(),
                risk_reason: joined(threats),
                context: context(None),
            }
        }),
        Change::AccessDenied { resource, reasons } => Some(Event::SessionRevoked {
            context: context(Some(match joined(reasons) {
                Some(reasons) => format!("access to {resource} denied: {reasons}"),
                None => format!("access to {resource} denied"),
            })),
        }),
    }
}

fn joined(parts: &[String]) -> Option<String> {
    (!parts.is_empty()).then(|| parts.join("; "))
}

#[cfg(test)]
mod tests;
