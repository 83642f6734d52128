//! The core's `RiskStream` messages, parsed at the edge into what the transmitter acts on: a log entry
//! with the [`Change`] it carries (if CAEP has a word for it), a device's current state (snapshots, used
//! only past the core's retention), the end of a snapshot, and progress.

use riskgate_caep::{
    translate::{Change, Compliance},
    RiskLevel,
};
use riskgate_proto::v1::{
    event::Kind, subscribe_response::Message, ComplianceStatus, Decision, DeviceSnapshot, Reason,
    SubscribeResponse, ThreatLevel,
};

/// One message of the core's stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A log entry.
    Entry(Entry),
    /// A device's current state.
    Snapshot(DeviceState),
    /// The snapshot is complete: live entries follow after `cursor`.
    SnapshotEnd {
        /// The log position the snapshot reflects.
        position: u64,
        /// Resume after it.
        cursor: String,
    },
    /// Nothing for the transmitter up to `position`.
    Progress {
        /// The head position.
        position: u64,
        /// Resume after it.
        cursor: String,
    },
}

/// A log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its position (`txn` of its SETs).
    pub position: u64,
    /// Resume after it.
    pub cursor: String,
    /// When the core wrote it, Unix seconds.
    pub time: u64,
    /// The device it is about.
    pub device_id: String,
    /// What changed, when CAEP can say it.
    pub change: Option<Change>,
    /// Whether it is a report (which may change the device's owner).
    pub is_report: bool,
}

/// A device's state from a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceState {
    /// The device.
    pub device_id: String,
    /// Its owner.
    pub owner: Option<String>,
    /// The position of its latest report.
    pub position: u64,
    /// Its level, if known.
    pub level: Option<RiskLevel>,
    /// Its compliance.
    pub compliance: Compliance,
    /// The resources it may not reach.
    pub denied: Vec<String>,
}

/// Parses one message; `None` for a message without content (never sent by a correct core).
pub fn parse(response: SubscribeResponse) -> Option<Item> {
    Some(match response.message? {
        Message::Event(event) => {
            let cursor = event.cursor;
            let event = event.event?;
            let is_report = matches!(event.kind, Some(Kind::DeviceReported(_)));
            Item::Entry(Entry {
                position: event.position,
                cursor,
                time: event
                    .time
                    .map_or(0, |time| u64::try_from(time.seconds).unwrap_or(0)),
                device_id: event.device_id,
                change: event.kind.and_then(change),
                is_report,
            })
        }
        Message::Snapshot(snapshot) => Item::Snapshot(device_state(snapshot)?),
        Message::SnapshotEnd(end) => Item::SnapshotEnd {
            position: end.position,
            cursor: end.cursor,
        },
        Message::Progress(progress) => Item::Progress {
            position: progress.position,
            cursor: progress.cursor,
        },
    })
}

fn change(kind: Kind) -> Option<Change> {
    match kind {
        Kind::DeviceReported(report) => Some(Change::RiskLevel {
            previous: level(report.previous_level()),
            current: level(report.current_level())?,
            threats: report
                .threats
                .iter()
                .map(|threat| match threat.classification.as_str() {
                    "" => threat.vendor_threat_id.clone(),
                    class => format!("{class} ({})", threat.vendor_threat_id),
                })
                .collect(),
        }),
        Kind::DeviceComplianceChange(change) => Some(Change::Compliance {
            previous: compliance(change.previous_status()),
            current: compliance(change.current_status()),
            reasons: reasons(&change.reasons),
        }),
        Kind::AccessDecisionChange(flip) if flip.current_decision() == Decision::Deny => {
            Some(Change::AccessDenied {
                reasons: reasons(&flip.reasons),
                resource: flip.resource,
            })
        }
        _ => None,
    }
}

fn device_state(snapshot: DeviceSnapshot) -> Option<DeviceState> {
    let compliance_status = compliance(snapshot.compliance());
    let device = snapshot.device?;
    Some(DeviceState {
        owner: Some(device.owner_user_id.clone()).filter(|owner| !owner.is_empty()),
        level: level(device.level()),
        position: device.position,
        compliance: compliance_status,
        denied: snapshot
            .access
            .into_iter()
            .filter(|access| access.decision() == Decision::Deny)
            .map(|access| access.resource)
            .collect(),
        device_id: device.device_id,
    })
}

fn level(level: ThreatLevel) -> Option<RiskLevel> {
    match level {
        ThreatLevel::Unspecified => None,
        ThreatLevel::Secured => Some(RiskLevel::Secured),
        ThreatLevel::Low => Some(RiskLevel::Low),
        ThreatLevel::Medium => Some(RiskLevel::Medium),
        ThreatLevel::High => Some(RiskLevel::High),
    }
}

fn compliance(status: ComplianceStatus) -> Compliance {
    match status {
        ComplianceStatus::Unspecified | ComplianceStatus::Unknown => Compliance::Unknown,
        ComplianceStatus::NotApplicable => Compliance::NotApplicable,
        ComplianceStatus::Compliant => Compliance::Compliant,
        ComplianceStatus::InGracePeriod => Compliance::InGracePeriod,
        ComplianceStatus::Noncompliant => Compliance::Noncompliant,
        ComplianceStatus::Error => Compliance::Error,
    }
}

/// riskgate's reasons as one line each: the message, and the threats behind it.
fn reasons(reasons: &[Reason]) -> Vec<String> {
    reasons
        .iter()
        .map(|reason| match reason.threat_ids.as_slice() {
            [] => format!("{}: {}", reason.code, reason.message),
            threats => format!(
                "{}: {} (threats {})",
                reason.code,
                reason.message,
                threats.join(", ")
            ),
        })
        .collect()
}
