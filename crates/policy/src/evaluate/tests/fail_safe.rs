//! Table tests of the fail-safe rules: known risks through missing data, connectors in ERROR or
//! UNRESPONSIVE, each under every `MissingDataMode`; unknown devices; the enrollment window.

use super::*;
use crate::domain::KnownRisk;

/// The lookout connector, its state set up by `state`, under `mode`.
fn lookout_in(state: ConnectorSetup, mode: MissingDataMode) -> Connector {
    let mut lookout = connector("lookout");
    lookout.settings.missing_data = mode;
    lookout.settings.app_protection_enabled.android = true;
    match state {
        ConnectorSetup::Healthy => {}
        ConnectorSetup::Error => lookout.error_message = "quarantined: crashed 3 times".into(),
        ConnectorSetup::Unresponsive => {
            lookout.last_heartbeat = Some(Timestamp(NOW.0 - 8 * 24 * HOUR))
        }
    }
    lookout
}

#[derive(Debug, Clone, Copy)]
enum ConnectorSetup {
    Healthy,
    Error,
    Unresponsive,
}

/// A device whose lookout report is `now`, with a known HIGH from an hour ago when `held`.
fn reported(now: HealthState, held: bool) -> DeviceSummary {
    let mut device = device(&[("lookout", now)]);
    if held {
        device.reports[0].1.known_risk = Some(Box::new(KnownRisk {
            health_state: HealthState::HighSeverity,
            observed_at: Timestamp(NOW.0 - HOUR),
            threat_ids: vec!["trojan-1".into()],
        }));
    }
    device
}

/// One hole of issue 15 per row: (name, connector state, mode, tenant fail mode, report now, known HIGH
/// before it, expected status, expected reason code).
type Row = (
    &'static str,
    ConnectorSetup,
    MissingDataMode,
    UnresponsiveMode,
    HealthState,
    bool,
    ComplianceStatus,
    Option<ReasonCode>,
);

#[test]
fn missing_data_never_clears_known_risk_unless_intune_behaviour_is_chosen() {
    use ComplianceStatus::{Compliant, Noncompliant};
    use ConnectorSetup::{Error, Healthy, Unresponsive};
    use HealthState::{Deactivated, HighSeverity, Misconfigured, Secured, Unknown};
    use MissingDataMode::{Intune, LastKnown, Noncompliant as Strict};
    use UnresponsiveMode::{FailClosed, FailOpen};
    let rows: [Row; 17] = [
        (
            "app removed after HIGH",
            Healthy,
            LastKnown,
            FailOpen,
            Deactivated,
            true,
            Noncompliant,
            Some(ReasonCode::ThreatLevelExceeded),
        ),
        (
            "app removed after HIGH, Intune",
            Healthy,
            Intune,
            FailOpen,
            Deactivated,
            true,
            Compliant,
            None,
        ),
        (
            "app removed after HIGH, strict",
            Healthy,
            Strict,
            FailOpen,
            Deactivated,
            true,
            Noncompliant,
            Some(ReasonCode::MissingPartnerData),
        ),
        (
            "misconfigured after HIGH",
            Healthy,
            LastKnown,
            FailOpen,
            Misconfigured,
            true,
            Noncompliant,
            Some(ReasonCode::ThreatLevelExceeded),
        ),
        (
            "unknown after HIGH",
            Healthy,
            LastKnown,
            FailOpen,
            Unknown,
            true,
            Noncompliant,
            Some(ReasonCode::ThreatLevelExceeded),
        ),
        (
            "secured again after HIGH",
            Healthy,
            LastKnown,
            FailOpen,
            Secured,
            false,
            Compliant,
            None,
        ),
        (
            "HIGH from a connector in ERROR",
            Error,
            LastKnown,
            FailOpen,
            HighSeverity,
            false,
            Noncompliant,
            Some(ReasonCode::ThreatLevelExceeded),
        ),
        (
            "HIGH from a connector in ERROR, Intune",
            Error,
            Intune,
            FailOpen,
            HighSeverity,
            false,
            Compliant,
            None,
        ),
        (
            "known HIGH, connector in ERROR",
            Error,
            LastKnown,
            FailOpen,
            Deactivated,
            true,
            Noncompliant,
            Some(ReasonCode::ThreatLevelExceeded),
        ),
        (
            "HIGH from an unresponsive connector",
            Unresponsive,
            LastKnown,
            FailOpen,
            HighSeverity,
            false,
            Noncompliant,
            Some(ReasonCode::ThreatLevelExceeded),
        ),
        (
            "HIGH from an unresponsive connector, Intune",
            Unresponsive,
            Intune,
            FailOpen,
            HighSeverity,
            false,
            Compliant,
            None,
        ),
        (
            "known HIGH, unresponsive connector",
            Unresponsive,
            LastKnown,
            FailOpen,
            Misconfigured,
            true,
            Noncompliant,
            Some(ReasonCode::ThreatLevelExceeded),
        ),
        (
            "known HIGH, unresponsive connector, Intune",
            Unresponsive,
            Intune,
            FailOpen,
            Misconfigured,
            true,
            Compliant,
            None,
        ),
        (
            "known HIGH, unresponsive connector, strict",
            Unresponsive,
            Strict,
            FailOpen,
            Misconfigured,
            true,
            Noncompliant,
            Some(ReasonCode::MissingPartnerData),
        ),
        (
            "secured, unresponsive connector, fail open",
            Unresponsive,
            LastKnown,
            FailOpen,
            Secured,
            false,
            Compliant,
            None,
        ),
        (
            "secured, unresponsive connector, fail closed",
            Unresponsive,
            LastKnown,
            FailClosed,
            Secured,
            false,
            Noncompliant,
            Some(ReasonCode::PartnerUnresponsive),
        ),
        (
            "no report, unresponsive connector, fail closed",
            Unresponsive,
            LastKnown,
            FailClosed,
            Unknown,
            false,
            Noncompliant,
            Some(ReasonCode::PartnerUnresponsive),
        ),
    ];
    for (name, setup, mode, fail_mode, now, held, want, code) in rows {
        let mut cfg = config(
            vec![lookout_in(setup, mode)],
            vec![policy(Some(ThreatLevel::Low))],
        );
        cfg.tenant.unresponsive_mode = fail_mode;
        let device = reported(now, held);
        let (got, codes) = status(&cfg, &device);
        assert_eq!(got, want, "{name}: {codes:?}");
        if let Some(code) = code {
            assert!(codes.contains(&code), "{name}: {codes:?}");
        }
        // A level above the limit also denies a level rule and blocks the app.
        let states = ConnectorStates::at(&cfg, NOW);
        let level_rule = resource(vec![AccessRule {
            platforms: vec![],
            require_compliant_device: false,
            max_threat_level: Some(ThreatLevel::Low),
        }]);
        let compliance = evaluate_compliance(&cfg, &states, &device, &BTreeMap::new(), NOW);
        let access = decide_access(
            &cfg,
            &states,
            Some((&device, &compliance)),
            &level_rule,
            None,
        );
        let app = decide_app_policy(
            &cfg,
            &states,
            Some(&device),
            &app_policy(AppAction::Block, PartnerPriority::ThirdPartyOverDefender),
        );
        if code == Some(ReasonCode::ThreatLevelExceeded) {
            assert!(!access.allow, "{name}: {access:?}");
            assert_eq!(app.decision, AppDecision::Block, "{name}: {app:?}");
        }
    }
}

#[test]
fn a_known_risk_reason_names_the_level_the_partner_and_what_it_reports_now() {
    let cfg = config(
        vec![lookout_in(
            ConnectorSetup::Healthy,
            MissingDataMode::LastKnown,
        )],
        vec![policy(Some(ThreatLevel::Low))],
    );
    let states = ConnectorStates::at(&cfg, NOW);
    let device = reported(HealthState::Misconfigured, true);
    let compliance = evaluate_compliance(&cfg, &states, &device, &BTreeMap::new(), NOW);
    let reason = compliance
        .policies
        .iter()
        .flat_map(|verdict| &verdict.reasons)
        .find(|reason| reason.code == ReasonCode::ThreatLevelExceeded)
        .expect("a level reason");
    let observed = Timestamp(NOW.0 - HOUR).rfc3339();
    assert_eq!(
        reason.message,
        format!("last known HIGH from lookout at {observed}; lookout now reports MISCONFIGURED (above LOW)")
    );
    assert_eq!(reason.threat_ids, vec!["trojan-1".to_owned()]);
    assert_eq!(
        effective_level(&cfg, &states, &device),
        Some(ThreatLevel::High)
    );
}

#[test]
fn each_resource_chooses_what_an_unknown_device_gets() {
    let cfg = config(vec![connector("lookout")], vec![]);
    let states = ConnectorStates::at(&cfg, NOW);
    let mut exchange = resource(vec![]);
    let verdict = decide_access::<Compliance>(&cfg, &states, None, &exchange, None);
    assert!(!verdict.allow);
    assert_eq!(verdict.reasons[0].code, ReasonCode::DeviceUnknown);
    assert!(verdict.reasons[0]
        .message
        .contains("denies unknown devices"));
    exchange.unknown_device = UnknownDeviceAccess::Allow;
    let verdict = decide_access::<Compliance>(&cfg, &states, None, &exchange, None);
    assert!(verdict.allow);
    assert_eq!(verdict.reasons[0].code, ReasonCode::UnknownDeviceAllowed);
}

#[test]
fn a_new_device_with_an_activated_app_is_in_grace_only_within_the_enrollment_window() {
    let mut lookout = connector("lookout");
    lookout.settings.block_on_missing_partner_data.android = true;
    let mut cfg = config(vec![lookout], vec![policy(Some(ThreatLevel::Low))]);
    let mut device = device(&[("lookout", HealthState::Activated)]);
    device.first_seen = Timestamp(NOW.0 - HOUR);
    let (off, _) = status(&cfg, &device);
    assert_eq!(
        off,
        ComplianceStatus::Noncompliant,
        "the window is off by default"
    );

    cfg.tenant.enrollment_grace = Duration::from_secs(2 * 3600);
    let (inside, codes) = status(&cfg, &device);
    assert_eq!(inside, ComplianceStatus::InGracePeriod, "{codes:?}");
    assert!(codes.contains(&ReasonCode::EnrollmentGrace), "{codes:?}");
    let states = ConnectorStates::at(&cfg, NOW);
    let compliance = evaluate_compliance(&cfg, &states, &device, &BTreeMap::new(), NOW);
    assert_eq!(compliance.next_deadline, Some(Timestamp(NOW.0 + HOUR)));

    cfg.tenant.enrollment_grace = Duration::from_secs(1800);
    let (after, _) = status(&cfg, &device);
    assert_eq!(after, ComplianceStatus::Noncompliant, "past the window");

    cfg.tenant.enrollment_grace = Duration::from_secs(2 * 3600);
    let scanned = reported(HealthState::HighSeverity, false);
    let (high, _) = status(
        &cfg,
        &DeviceSummary {
            first_seen: device.first_seen,
            ..scanned
        },
    );
    assert_eq!(
        high,
        ComplianceStatus::Noncompliant,
        "a scanned device is judged on its level"
    );
}
