use serde_json::json;

use super::*;

fn policy(reason: &str) -> Context {
    Context {
        event_timestamp: Some(1_615_304_991),
        initiating_entity: Some("policy"),
        reason_admin: Some(reason.to_owned()),
    }
}

#[test]
fn device_compliance_change_has_both_statuses_and_the_context() {
    let event = Event::DeviceComplianceChange {
        previous: ComplianceStatus::Compliant,
        current: ComplianceStatus::NotCompliant,
        context: policy("threat level HIGH exceeds LOW (policy mtd)"),
    };
    assert_eq!(
        event.uri(),
        "https://schemas.openid.net/secevent/caep/event-type/device-compliance-change"
    );
    assert_eq!(
        event.body(),
        json!({
            "previous_status": "compliant",
            "current_status": "not-compliant",
            "event_timestamp": 1_615_304_991,
            "initiating_entity": "policy",
            "reason_admin": {"en": "threat level HIGH exceeds LOW (policy mtd)"},
        })
    );
}

#[test]
fn risk_level_change_names_the_device_principal_and_leaves_out_an_unknown_previous_level() {
    let event = Event::RiskLevelChange {
        previous: None,
        current: CaepLevel::High,
        risk_reason: Some("t-trojan".into()),
        context: Context::default(),
    };
    assert_eq!(
        event.body(),
        json!({"principal": "DEVICE", "current_level": "HIGH", "risk_reason": "t-trojan"})
    );
}

#[test]
fn secured_and_low_are_both_caep_low() {
    assert_eq!(RiskLevel::Secured.caep(), CaepLevel::Low);
    assert_eq!(RiskLevel::Low.caep(), CaepLevel::Low);
    assert_eq!(RiskLevel::Medium.caep(), CaepLevel::Medium);
    assert_eq!(RiskLevel::High.caep(), CaepLevel::High);
}

#[test]
fn verification_echoes_the_state_and_stream_updated_the_status() {
    let verification = Event::Verification {
        state: Some("abc".into()),
    };
    assert_eq!(
        verification.uri(),
        "https://schemas.openid.net/secevent/ssf/event-type/verification"
    );
    assert_eq!(verification.body(), json!({"state": "abc"}));
    let updated = Event::StreamUpdated {
        status: StreamStatus::Paused,
        reason: Some("behind the core's retention".into()),
    };
    assert_eq!(
        updated.body(),
        json!({"status": "paused", "reason": "behind the core's retention"})
    );
}
