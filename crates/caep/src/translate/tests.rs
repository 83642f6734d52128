use super::*;
use crate::event::CaepLevel;

#[test]
fn only_compliant_and_not_applicable_are_caep_compliant() {
    use Compliance::*;
    for (status, caep) in [
        (Compliant, ComplianceStatus::Compliant),
        (NotApplicable, ComplianceStatus::Compliant),
        (Unknown, ComplianceStatus::NotCompliant),
        (InGracePeriod, ComplianceStatus::NotCompliant),
        (Noncompliant, ComplianceStatus::NotCompliant),
        (Error, ComplianceStatus::NotCompliant),
    ] {
        assert_eq!(status.caep(), caep, "{status:?}");
    }
}

#[test]
fn a_compliance_change_caep_cannot_see_is_not_sent() {
    let change = Change::Compliance {
        previous: Compliance::InGracePeriod,
        current: Compliance::Noncompliant,
        reasons: vec![],
    };
    assert_eq!(event(&change, 1), None);
}

#[test]
fn losing_compliance_is_a_device_compliance_change_with_the_reasons() {
    let change = Change::Compliance {
        previous: Compliance::Compliant,
        current: Compliance::Noncompliant,
        reasons: vec!["threat level HIGH exceeds LOW (policy mtd)".into()],
    };
    assert_eq!(
        event(&change, 7),
        Some(Event::DeviceComplianceChange {
            previous: ComplianceStatus::Compliant,
            current: ComplianceStatus::NotCompliant,
            context: Context {
                event_timestamp: Some(7),
                initiating_entity: Some("policy"),
                reason_admin: Some("threat level HIGH exceeds LOW (policy mtd)".into()),
            },
        })
    );
}

#[test]
fn a_level_change_within_caep_low_is_not_sent_and_a_real_one_names_the_threats() {
    let within_low = Change::RiskLevel {
        previous: Some(RiskLevel::Secured),
        current: RiskLevel::Low,
        threats: vec![],
    };
    assert_eq!(event(&within_low, 1), None);
    let raised = Change::RiskLevel {
        previous: Some(RiskLevel::Low),
        current: RiskLevel::High,
        threats: vec!["t-trojan".into(), "t-mitm".into()],
    };
    let Some(Event::RiskLevelChange {
        previous,
        current,
        risk_reason,
        ..
    }) = event(&raised, 1)
    else {
        panic!("a risk-level-change")
    };
    assert_eq!((previous, current), (Some(CaepLevel::Low), CaepLevel::High));
    assert_eq!(risk_reason.as_deref(), Some("t-trojan; t-mitm"));
}

#[test]
fn a_first_level_is_a_change_from_unknown() {
    let first = Change::RiskLevel {
        previous: None,
        current: RiskLevel::Secured,
        threats: vec![],
    };
    assert!(matches!(
        event(&first, 1),
        Some(Event::RiskLevelChange {
            previous: None,
            current: CaepLevel::Low,
            ..
        })
    ));
}

#[test]
fn access_denied_is_session_revoked_naming_the_resource() {
    let change = Change::AccessDenied {
        resource: "exchange".into(),
        reasons: vec!["noncompliant (policy mtd)".into()],
    };
    let Some(Event::SessionRevoked { context }) = event(&change, 1) else {
        panic!("session-revoked")
    };
    assert_eq!(
        context.reason_admin.as_deref(),
        Some("access to exchange denied: noncompliant (policy mtd)")
    );
}
