//! The `--json` form of every API message riskctl prints.
//!
//! The generated types carry no serde support, so the mapping is written out here. It uses the same
//! words as the tables and policy files: enums as lower-case words (null when unset), timestamps as
//! RFC 3339 strings, durations as `3days`-style strings that `policies apply` reads back.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use riskgate_proto::v1::{self as pb, event::Kind};
use serde_json::{json, Value};

use crate::names::{self, event_kind_word, word_of};

/// A timestamp as RFC 3339 (UTC, with milliseconds when it has them).
pub(crate) fn timestamp_text(ts: Option<&prost_types::Timestamp>) -> Option<String> {
    let ts = ts?;
    let secs = u64::try_from(ts.seconds).ok()?;
    let nanos = u32::try_from(ts.nanos).ok()?;
    let time = UNIX_EPOCH.checked_add(Duration::new(secs, nanos))?;
    Some(if nanos == 0 {
        humantime::format_rfc3339_seconds(time).to_string()
    } else {
        humantime::format_rfc3339_millis(time).to_string()
    })
}

/// A duration as `3days 4h`, which `humantime` (and so the policy files) read back.
pub(crate) fn duration_text(duration: Option<&prost_types::Duration>) -> Option<String> {
    let d = duration?;
    let secs = u64::try_from(d.seconds).ok()?;
    let nanos = u32::try_from(d.nanos).ok()?;
    Some(humantime::format_duration(Duration::new(secs, nanos)).to_string())
}

/// How long ago `ts` was, for tables (`3m ago`).
pub(crate) fn ago(ts: Option<&prost_types::Timestamp>) -> Option<String> {
    let ts = ts?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
    let then = u64::try_from(ts.seconds).ok()?;
    let secs = now.saturating_sub(then);
    Some(format!(
        "{} ago",
        humantime::format_duration(Duration::from_secs(secs))
            .to_string()
            .split(' ')
            .next()
            .unwrap_or("0s")
    ))
}

fn opt(text: Option<String>) -> Value {
    text.map_or(Value::Null, Value::String)
}

/// A threat.
pub(crate) fn threat(t: &pb::Threat) -> Value {
    json!({
        "vendor_threat_id": t.vendor_threat_id,
        "category": opt(word_of::<pb::ThreatCategory>(t.category)),
        "classification": t.classification,
        "severity": opt(word_of::<pb::ThreatLevel>(t.severity)),
        "status": opt(word_of::<pb::ThreatStatus>(t.status)),
        "detected_at": opt(timestamp_text(t.detected_at.as_ref())),
        "resolved_at": opt(timestamp_text(t.resolved_at.as_ref())),
        "description": t.description,
    })
}

/// One connector's latest report about a device.
pub(crate) fn partner_report(r: &pb::PartnerReport) -> Value {
    json!({
        "connector_id": r.connector_id,
        "health_state": opt(word_of::<pb::HealthState>(r.health_state)),
        "level": opt(word_of::<pb::ThreatLevel>(r.level)),
        "threats": r.threats.iter().map(threat).collect::<Vec<_>>(),
        "observed_at": opt(timestamp_text(r.observed_at.as_ref())),
        "received_at": opt(timestamp_text(r.received_at.as_ref())),
        "vendor_event_id": r.vendor_event_id,
        "position": r.position,
        "known_risk": r.known_risk.as_ref().map(known_risk),
    })
}

/// A device.
pub(crate) fn device(d: &pb::Device) -> Value {
    json!({
        "device_id": d.device_id,
        "platform": opt(word_of::<pb::Platform>(d.platform)),
        "os_version": d.os_version,
        "model": d.model,
        "owner_user_id": d.owner_user_id,
        "groups": d.groups,
        "first_seen": opt(timestamp_text(d.first_seen.as_ref())),
        "last_seen": opt(timestamp_text(d.last_seen.as_ref())),
        "level": opt(word_of::<pb::ThreatLevel>(d.level)),
        "reports": d.reports.iter().map(partner_report).collect::<Vec<_>>(),
        "position": d.position,
    })
}

/// A reason for a decision.
pub(crate) fn reason(r: &pb::Reason) -> Value {
    json!({
        "code": r.code,
        "message": r.message,
        "policy_id": r.policy_id,
        "connector_id": r.connector_id,
        "threat_ids": r.threat_ids,
    })
}

fn reasons(list: &[pb::Reason]) -> Vec<Value> {
    list.iter().map(reason).collect()
}

/// A risk a partner reported before it lost sight of a device.
pub(crate) fn known_risk(k: &pb::KnownRisk) -> Value {
    json!({
        "health_state": opt(word_of::<pb::HealthState>(k.health_state)),
        "level": opt(word_of::<pb::ThreatLevel>(k.level)),
        "observed_at": opt(timestamp_text(k.observed_at.as_ref())),
        "threat_ids": k.threat_ids,
    })
}

/// An event, with `kind` naming the oneof member and its fields alongside.
pub(crate) fn event(e: &pb::Event) -> Value {
    let mut value = json!({
        "position": e.position,
        "time": opt(timestamp_text(e.time.as_ref())),
        "device_id": e.device_id,
    });
    let details = match &e.kind {
        Some(Kind::DeviceReported(r)) => json!({
            "connector_id": r.connector_id,
            "health_state": opt(word_of::<pb::HealthState>(r.health_state)),
            "report_level": opt(word_of::<pb::ThreatLevel>(r.report_level)),
            "previous_level": opt(word_of::<pb::ThreatLevel>(r.previous_level)),
            "current_level": opt(word_of::<pb::ThreatLevel>(r.current_level)),
            "vendor_event_id": r.vendor_event_id,
            "observed_at": opt(timestamp_text(r.observed_at.as_ref())),
            "threats": r.threats.iter().map(threat).collect::<Vec<_>>(),
        }),
        Some(Kind::DeviceComplianceChange(c)) => json!({
            "previous_status": opt(word_of::<pb::ComplianceStatus>(c.previous_status)),
            "current_status": opt(word_of::<pb::ComplianceStatus>(c.current_status)),
            "reasons": reasons(&c.reasons),
        }),
        Some(Kind::ComplianceActionDue(a)) => {
            json!({ "policy_id": a.policy_id, "action": opt(word_of::<pb::ActionKind>(a.action)) })
        }
        Some(Kind::AccessDecisionChange(c)) => json!({
            "resource": c.resource,
            "previous_decision": opt(word_of::<pb::Decision>(c.previous_decision)),
            "current_decision": opt(word_of::<pb::Decision>(c.current_decision)),
            "reasons": reasons(&c.reasons),
        }),
        Some(Kind::AppProtectionChange(c)) => json!({
            "policy_id": c.policy_id,
            "previous_decision": opt(word_of::<pb::AppDecision>(c.previous_decision)),
            "current_decision": opt(word_of::<pb::AppDecision>(c.current_decision)),
            "reasons": reasons(&c.reasons),
        }),
        Some(Kind::ConnectorStateChange(c)) => json!({
            "connector_id": c.connector_id,
            "previous_state": opt(word_of::<pb::ConnectorState>(c.previous_state)),
            "current_state": opt(word_of::<pb::ConnectorState>(c.current_state)),
        }),
        Some(Kind::ConfigChange(c)) => json!({
            "object": opt(word_of::<pb::ConfigObject>(c.object)),
            "id": c.id,
            "version": c.version,
        }),
        Some(Kind::KnownRiskCleared(c)) => json!({
            "connector_id": c.connector_id,
            "risk": c.risk.as_ref().map(known_risk),
        }),
        None => json!({}),
    };
    let kind = event_kind_word(e).unwrap_or_else(|| "unknown".to_owned());
    value["kind"] = json!(kind);
    value[kind] = details;
    value
}

fn toggles(t: Option<&pb::PlatformToggles>) -> Value {
    json!(names::toggle_words(t))
}

/// A connector. Toggles are lists of the platforms that are on.
pub(crate) fn connector(c: &pb::Connector) -> Value {
    let min = c.minimum_os_versions.clone().unwrap_or_default();
    json!({
        "connector_id": c.connector_id,
        "vendor": c.vendor,
        "display_name": c.display_name,
        "kind": word_of::<pb::PartnerKind>(c.kind).unwrap_or_else(|| "third_party".to_owned()),
        "state": opt(word_of::<pb::ConnectorState>(c.state)),
        "compliance_enabled": toggles(c.compliance_enabled.as_ref()),
        "app_protection_enabled": toggles(c.app_protection_enabled.as_ref()),
        "block_on_missing_partner_data": toggles(c.block_on_missing_partner_data.as_ref()),
        "block_unsupported_os_versions": c.block_unsupported_os_versions,
        "minimum_os_versions": {
            "android": min.android, "ios": min.ios, "windows": min.windows, "macos": min.macos,
        },
        "unresponsive_after": opt(duration_text(c.unresponsive_after.as_ref())),
        "last_heartbeat": opt(timestamp_text(c.last_heartbeat.as_ref())),
        "provisioned": c.provisioned.unwrap_or(true),
        "error_message": c.error_message,
        "version": c.version,
        "missing_data": word_of::<pb::MissingDataMode>(c.missing_data).unwrap_or_else(|| "last_known".to_owned()),
        "feed": c.feed.as_ref().map(|feed| json!({
            "state": opt(word_of::<pb::FeedState>(feed.state)),
            "reason": feed.reason,
            "since": opt(timestamp_text(feed.since.as_ref())),
            "last_vendor_sync": opt(timestamp_text(feed.last_vendor_sync.as_ref())),
        })),
        "vendor_sync_lag": opt(duration_text(c.vendor_sync_lag.as_ref())),
    })
}

fn platforms(list: &[i32]) -> Value {
    json!(list
        .iter()
        .map(|p| names::or_dash(word_of::<pb::Platform>(*p)))
        .collect::<Vec<_>>())
}

/// A compliance policy.
pub(crate) fn compliance_policy(p: &pb::CompliancePolicy) -> Value {
    let assignment = p.assignment.clone().unwrap_or_default();
    json!({
        "id": p.policy_id,
        "display_name": p.display_name,
        "platforms": platforms(&p.platforms),
        "all_devices": assignment.all_devices,
        "groups": assignment.groups,
        "excluded_groups": assignment.excluded_groups,
        "max_threat_level": opt(word_of::<pb::ThreatLevel>(p.max_threat_level)),
        "grace_period": opt(duration_text(p.grace_period.as_ref())),
        "actions": p.actions.iter().map(|a| json!({
            "kind": opt(word_of::<pb::ActionKind>(a.kind)),
            "after": opt(duration_text(a.after.as_ref())),
        })).collect::<Vec<_>>(),
        "version": p.version,
        "updated_at": opt(timestamp_text(p.updated_at.as_ref())),
    })
}

/// A conditional-access resource.
pub(crate) fn resource(r: &pb::Resource) -> Value {
    json!({
        "name": r.name,
        "rules": r.rules.iter().map(|rule| json!({
            "platforms": platforms(&rule.platforms),
            "require_compliant_device": rule.require_compliant_device,
            "max_threat_level": opt(word_of::<pb::ThreatLevel>(rule.max_threat_level)),
        })).collect::<Vec<_>>(),
        "version": r.version,
        "unknown_device": word_of::<pb::UnknownDeviceAccess>(r.unknown_device).unwrap_or_else(|| "deny".to_owned()),
    })
}

/// An app-protection policy.
pub(crate) fn app_policy(p: &pb::AppProtectionPolicy) -> Value {
    json!({
        "id": p.policy_id,
        "display_name": p.display_name,
        "apps": p.app_ids,
        "platforms": platforms(&p.platforms),
        "max_threat_level": opt(word_of::<pb::ThreatLevel>(p.max_threat_level)),
        "action": opt(word_of::<pb::AppAction>(p.action)),
        "partner_priority": opt(word_of::<pb::PartnerPriority>(p.partner_priority)),
        "version": p.version,
    })
}

/// A conditional-access decision.
pub(crate) fn access_decision(d: &pb::AccessDecision) -> Value {
    json!({
        "device_id": d.device_id,
        "resource": d.resource,
        "decision": opt(word_of::<pb::Decision>(d.decision)),
        "compliance": opt(word_of::<pb::ComplianceStatus>(d.compliance)),
        "level": opt(word_of::<pb::ThreatLevel>(d.level)),
        "reasons": reasons(&d.reasons),
        "position": d.position,
    })
}

/// An app-launch decision.
pub(crate) fn app_decision(d: &pb::AppLaunchDecision) -> Value {
    json!({
        "decision": opt(word_of::<pb::AppDecision>(d.decision)),
        "policy_id": d.policy_id,
        "connector_id": d.connector_id,
        "reasons": reasons(&d.reasons),
        "position": d.position,
    })
}

/// A device's compliance.
pub(crate) fn device_compliance(c: &pb::DeviceCompliance) -> Value {
    json!({
        "device_id": c.device_id,
        "status": opt(word_of::<pb::ComplianceStatus>(c.status)),
        "level": opt(word_of::<pb::ThreatLevel>(c.level)),
        "policies": c.policies.iter().map(|p| json!({
            "policy_id": p.policy_id,
            "status": opt(word_of::<pb::ComplianceStatus>(p.status)),
            "reasons": reasons(&p.reasons),
            "noncompliant_since": opt(timestamp_text(p.noncompliant_since.as_ref())),
            "grace_period_ends": opt(timestamp_text(p.grace_period_ends.as_ref())),
        })).collect::<Vec<_>>(),
        "reasons": reasons(&c.reasons),
        "position": c.position,
    })
}

/// A device's state in a subscription snapshot.
pub(crate) fn snapshot(s: &pb::DeviceSnapshot) -> Value {
    json!({
        "device": s.device.as_ref().map_or(Value::Null, device),
        "compliance": opt(word_of::<pb::ComplianceStatus>(s.compliance)),
        "access": s.access.iter().map(|a| json!({
            "resource": a.resource,
            "decision": opt(word_of::<pb::Decision>(a.decision)),
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_durations_are_readable() {
        let ts = prost_types::Timestamp {
            seconds: 1_700_000_000,
            nanos: 0,
        };
        assert_eq!(
            timestamp_text(Some(&ts)).as_deref(),
            Some("2023-11-14T22:13:20Z")
        );
        let three_days = prost_types::Duration {
            seconds: 3 * 86_400,
            nanos: 0,
        };
        assert_eq!(duration_text(Some(&three_days)).as_deref(), Some("3days"));
        assert_eq!(duration_text(None), None);
    }

    #[test]
    fn events_name_their_kind_and_carry_its_fields() {
        let e = pb::Event {
            position: 7,
            time: None,
            device_id: "d1".into(),
            kind: Some(Kind::AccessDecisionChange(pb::AccessDecisionChange {
                resource: "exchange".into(),
                previous_decision: pb::Decision::Allow as i32,
                current_decision: pb::Decision::Deny as i32,
                reasons: vec![],
            })),
        };
        let value = event(&e);
        assert_eq!(value["kind"], "access_decision_change");
        assert_eq!(value["access_decision_change"]["current_decision"], "deny");
        assert_eq!(value["position"], 7);
    }
}
