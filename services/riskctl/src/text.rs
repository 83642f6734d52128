//! The human-readable form of decisions, events and snapshot entries: one line each, plus reason
//! lines for decisions.

use riskgate_proto::v1::{self as pb, event::Kind};

use crate::{
    json::timestamp_text,
    names::{event_kind_word, or_dash, word_of},
};

/// `code: message [policy P] [connector C] [threats T1,T2]`.
pub(crate) fn reason(r: &pb::Reason) -> String {
    let mut text = format!("{}: {}", r.code, r.message);
    if !r.policy_id.is_empty() {
        text.push_str(&format!(" [policy {}]", r.policy_id));
    }
    if !r.connector_id.is_empty() {
        text.push_str(&format!(" [connector {}]", r.connector_id));
    }
    if !r.threat_ids.is_empty() {
        text.push_str(&format!(" [threats {}]", r.threat_ids.join(",")));
    }
    text
}

/// Reason lines, indented, or nothing.
pub(crate) fn reason_lines(reasons: &[pb::Reason]) -> String {
    reasons
        .iter()
        .map(|r| format!("  - {}\n", reason(r)))
        .collect()
}

/// `previous -> current`.
fn change(previous: Option<String>, current: Option<String>) -> String {
    format!("{} -> {}", or_dash(previous), or_dash(current))
}

/// One line per event: position, time, device, kind and what changed.
pub(crate) fn event_line(e: &pb::Event) -> String {
    let time = or_dash(timestamp_text(e.time.as_ref()));
    let device = if e.device_id.is_empty() {
        "-"
    } else {
        e.device_id.as_str()
    };
    let detail = match &e.kind {
        Some(Kind::DeviceReported(r)) => format!(
            "{} health={} level {}{}",
            r.connector_id,
            or_dash(word_of::<pb::HealthState>(r.health_state)),
            change(
                word_of::<pb::ThreatLevel>(r.previous_level),
                word_of::<pb::ThreatLevel>(r.current_level)
            ),
            match r.threats.len() {
                0 => String::new(),
                n => format!(" threats={n}"),
            }
        ),
        Some(Kind::DeviceComplianceChange(c)) => change(
            word_of::<pb::ComplianceStatus>(c.previous_status),
            word_of::<pb::ComplianceStatus>(c.current_status),
        ),
        Some(Kind::ComplianceActionDue(a)) => format!(
            "{} policy={}",
            or_dash(word_of::<pb::ActionKind>(a.action)),
            a.policy_id
        ),
        Some(Kind::AccessDecisionChange(c)) => format!(
            "{} {}",
            c.resource,
            change(
                word_of::<pb::Decision>(c.previous_decision),
                word_of::<pb::Decision>(c.current_decision)
            )
        ),
        Some(Kind::AppProtectionChange(c)) => format!(
            "{} {}",
            c.policy_id,
            change(
                word_of::<pb::AppDecision>(c.previous_decision),
                word_of::<pb::AppDecision>(c.current_decision)
            )
        ),
        Some(Kind::ConnectorStateChange(c)) => format!(
            "{} {}",
            c.connector_id,
            change(
                word_of::<pb::ConnectorState>(c.previous_state),
                word_of::<pb::ConnectorState>(c.current_state)
            )
        ),
        Some(Kind::ConfigChange(c)) => format!(
            "{} {} version={}",
            or_dash(word_of::<pb::ConfigObject>(c.object)),
            if c.id.is_empty() { "-" } else { &c.id },
            c.version
        ),
        Some(Kind::KnownRiskCleared(c)) => format!(
            "{} level={}",
            c.connector_id,
            or_dash(
                c.risk
                    .as_ref()
                    .and_then(|risk| word_of::<pb::ThreatLevel>(risk.level))
            )
        ),
        None => return format!("#{} {time} {device} unknown event kind", e.position),
    };
    let kind = event_kind_word(e).unwrap_or_default();
    format!("#{} {time} {device} {kind} {detail}", e.position)
}

/// One line per snapshot entry: device, platform, level, compliance and its access decisions.
pub(crate) fn snapshot_line(s: &pb::DeviceSnapshot) -> String {
    let device = s.device.clone().unwrap_or_default();
    let access: Vec<String> = s
        .access
        .iter()
        .map(|a| {
            format!(
                "{}={}",
                a.resource,
                or_dash(word_of::<pb::Decision>(a.decision))
            )
        })
        .collect();
    format!(
        "snapshot {} platform={} level={} compliance={}{}",
        device.device_id,
        or_dash(word_of::<pb::Platform>(device.platform)),
        or_dash(word_of::<pb::ThreatLevel>(device.level)),
        or_dash(word_of::<pb::ComplianceStatus>(s.compliance)),
        if access.is_empty() {
            String::new()
        } else {
            format!(" access: {}", access.join(" "))
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_access_flip_reads_as_one_line() {
        let e = pb::Event {
            position: 12,
            time: Some(prost_types::Timestamp {
                seconds: 1_700_000_000,
                nanos: 0,
            }),
            device_id: "dev-1".into(),
            kind: Some(Kind::AccessDecisionChange(pb::AccessDecisionChange {
                resource: "exchange".into(),
                previous_decision: pb::Decision::Allow as i32,
                current_decision: pb::Decision::Deny as i32,
                reasons: vec![],
            })),
        };
        assert_eq!(
            event_line(&e),
            "#12 2023-11-14T22:13:20Z dev-1 access_decision_change exchange allow -> deny"
        );
    }
}
