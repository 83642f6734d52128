//! Reading the event log: the log holds device reports and the evaluation events they cause
//! (compliance, access and app-protection changes, due actions) as well as device-less connector and
//! configuration events, so tests pick the kinds they assert on.

use riskgate_proto::v1::{
    event::Kind, AccessDecisionChange, AppProtectionChange, ComplianceActionDue,
    DeviceComplianceChange, DeviceReported, Event,
};

/// The name of an event's kind, as in the proto oneof (`device_reported`, ...); `none` if unset.
pub fn kind_name(event: &Event) -> &'static str {
    match &event.kind {
        Some(Kind::DeviceReported(_)) => "device_reported",
        Some(Kind::DeviceComplianceChange(_)) => "device_compliance_change",
        Some(Kind::ComplianceActionDue(_)) => "compliance_action_due",
        Some(Kind::AccessDecisionChange(_)) => "access_decision_change",
        Some(Kind::AppProtectionChange(_)) => "app_protection_change",
        Some(Kind::ConnectorStateChange(_)) => "connector_state_change",
        Some(Kind::ConfigChange(_)) => "config_change",
        Some(Kind::KnownRiskCleared(_)) => "known_risk_cleared",
        None => "none",
    }
}

/// The `device_reported` payloads of `events`, with their positions, in order.
pub fn reports_of(events: &[Event]) -> Vec<(u64, &DeviceReported)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            Some(Kind::DeviceReported(r)) => Some((e.position, r)),
            _ => None,
        })
        .collect()
}

/// The `device_compliance_change` payloads of `events`, with their positions, in order.
pub fn compliance_changes(events: &[Event]) -> Vec<(u64, &DeviceComplianceChange)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            Some(Kind::DeviceComplianceChange(c)) => Some((e.position, c)),
            _ => None,
        })
        .collect()
}

/// The `access_decision_change` payloads of `events`, with their positions, in order.
pub fn access_changes(events: &[Event]) -> Vec<(u64, &AccessDecisionChange)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            Some(Kind::AccessDecisionChange(c)) => Some((e.position, c)),
            _ => None,
        })
        .collect()
}

/// The `app_protection_change` payloads of `events`, with their positions, in order.
pub fn app_changes(events: &[Event]) -> Vec<(u64, &AppProtectionChange)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            Some(Kind::AppProtectionChange(c)) => Some((e.position, c)),
            _ => None,
        })
        .collect()
}

/// The `compliance_action_due` payloads of `events`, with their positions, in order.
pub fn actions_due(events: &[Event]) -> Vec<(u64, &ComplianceActionDue)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            Some(Kind::ComplianceActionDue(a)) => Some((e.position, a)),
            _ => None,
        })
        .collect()
}

/// Whether the positions of `events` are strictly increasing (a device's history is in log order).
pub fn strictly_increasing(events: &[Event]) -> bool {
    events.windows(2).all(|w| w[0].position < w[1].position)
}
