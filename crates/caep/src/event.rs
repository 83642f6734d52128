//! The events riskgate transmits: CAEP 1.0's `device-compliance-change`, `risk-level-change` and
//! `session-revoked`, and SSF 1.0's `verification` and `stream-updated`. Each is one member of a SET's
//! `events` claim, keyed by its URI.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// The URI prefix of CAEP 1.0's event types.
pub const CAEP_EVENT_TYPE: &str = "https://schemas.openid.net/secevent/caep/event-type/";
/// The URI prefix of SSF 1.0's own event types.
pub const SSF_EVENT_TYPE: &str = "https://schemas.openid.net/secevent/ssf/event-type/";

/// The CAEP events riskgate transmits, the stream's `events_supported`. The framework's own `verification`
/// and `stream-updated` are always delivered and never requested (SSF 1.0 §8.1.1).
pub const SUPPORTED_EVENTS: [&str; 3] = [
    "https://schemas.openid.net/secevent/caep/event-type/device-compliance-change",
    "https://schemas.openid.net/secevent/caep/event-type/risk-level-change",
    "https://schemas.openid.net/secevent/caep/event-type/session-revoked",
];

/// riskgate's threat level of a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RiskLevel {
    /// No threat.
    Secured,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
}

/// CAEP's risk levels (`risk-level-change`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum CaepLevel {
    /// LOW.
    Low,
    /// MEDIUM.
    Medium,
    /// HIGH.
    High,
}

impl RiskLevel {
    /// CAEP's level for this one. CAEP has nothing below LOW, so riskgate's SECURED and LOW are both LOW
    /// (a policy that allows "at or under LOW" allows both); a change between the two is no change in
    /// CAEP's terms and is not transmitted.
    pub fn caep(self) -> CaepLevel {
        match self {
            RiskLevel::Secured | RiskLevel::Low => CaepLevel::Low,
            RiskLevel::Medium => CaepLevel::Medium,
            RiskLevel::High => CaepLevel::High,
        }
    }
}

/// `device-compliance-change`'s statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ComplianceStatus {
    /// `compliant`.
    Compliant,
    /// `not-compliant`.
    NotCompliant,
}

/// A stream's status (SSF 1.0 §8.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StreamStatus {
    /// Events are transmitted.
    Enabled,
    /// Events are held and transmitted once enabled again.
    Paused,
    /// Nothing is held.
    Disabled,
}

/// One event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A device's compliance changed.
    DeviceComplianceChange {
        /// Before.
        previous: ComplianceStatus,
        /// Now.
        current: ComplianceStatus,
        /// When the change happened (Unix seconds), and why.
        context: Context,
    },
    /// A device's risk level changed (`principal: DEVICE`).
    RiskLevelChange {
        /// Before; `None` when riskgate knew no level.
        previous: Option<CaepLevel>,
        /// Now.
        current: CaepLevel,
        /// What raised or lowered it: the threats, named.
        risk_reason: Option<String>,
        /// When the change happened, and why.
        context: Context,
    },
    /// The device may no longer reach a resource: sessions of the subject should end.
    SessionRevoked {
        /// When, and why (`reason_admin` is required by the interop profile).
        context: Context,
    },
    /// The answer to a receiver's verification request, echoing its `state`.
    Verification {
        /// The receiver's opaque state, if it sent one.
        state: Option<String>,
    },
    /// The transmitter changed a stream's status itself.
    StreamUpdated {
        /// The new status.
        status: StreamStatus,
        /// Why.
        reason: Option<String>,
    },
}

/// The optional members every CAEP event may carry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// When the change happened, Unix seconds.
    pub event_timestamp: Option<u64>,
    /// Who caused it; riskgate's changes come from its policies (`policy`).
    pub initiating_entity: Option<&'static str>,
    /// Why, for administrators (English).
    pub reason_admin: Option<String>,
}

impl Event {
    /// The event type URI, the key of the SET's `events` claim.
    pub fn uri(&self) -> String {
        let (prefix, name) = match self {
            Event::DeviceComplianceChange { .. } => (CAEP_EVENT_TYPE, "device-compliance-change"),
            Event::RiskLevelChange { .. } => (CAEP_EVENT_TYPE, "risk-level-change"),
            Event::SessionRevoked { .. } => (CAEP_EVENT_TYPE, "session-revoked"),
            Event::Verification { .. } => (SSF_EVENT_TYPE, "verification"),
            Event::StreamUpdated { .. } => (SSF_EVENT_TYPE, "stream-updated"),
        };
        format!("{prefix}{name}")
    }

    /// The event's members.
    pub fn body(&self) -> Value {
        let mut body = match self {
            Event::DeviceComplianceChange {
                previous, current, ..
            } => json!({ "previous_status": previous, "current_status": current }),
            Event::RiskLevelChange {
                previous,
                current,
                risk_reason,
                ..
            } => {
                let mut body = json!({ "principal": "DEVICE", "current_level": current });
                if let Some(previous) = previous {
                    body["previous_level"] = json!(previous);
                }
                if let Some(reason) = risk_reason {
                    body["risk_reason"] = json!(reason);
                }
                body
            }
            Event::SessionRevoked { .. } => json!({}),
            Event::Verification { state } => match state {
                Some(state) => json!({ "state": state }),
                None => json!({}),
            },
            Event::StreamUpdated { status, reason } => match reason {
                Some(reason) => json!({ "status": status, "reason": reason }),
                None => json!({ "status": status }),
            },
        };
        if let (Some(context), Some(members)) = (self.context(), body.as_object_mut()) {
            context.add_to(members);
        }
        body
    }

    fn context(&self) -> Option<&Context> {
        match self {
            Event::DeviceComplianceChange { context, .. }
            | Event::RiskLevelChange { context, .. }
            | Event::SessionRevoked { context } => Some(context),
            Event::Verification { .. } | Event::StreamUpdated { .. } => None,
        }
    }
}

impl Context {
    fn add_to(&self, members: &mut Map<String, Value>) {
        if let Some(timestamp) = self.event_timestamp {
            members.insert("event_timestamp".into(), json!(timestamp));
        }
        if let Some(entity) = self.initiating_entity {
            members.insert("initiating_entity".into(), json!(entity));
        }
        if let Some(reason) = &self.reason_admin {
            members.insert("reason_admin".into(), json!({ "en": reason }));
        }
    }
}

#[cfg(test)]
mod tests;
