//! Table-driven tests of every evaluation rule: health states, connector states, partner rules, grace
//! periods and actions, conditional access and app protection.

use std::{collections::BTreeMap, time::Duration};

use super::*;
use crate::domain::policy::{
    AccessRule, AppAction, Assignment, Connector, ConnectorSettings, MissingDataMode, PerPlatform,
    ScheduledAction, TenantSettings, UnknownDeviceAccess, DEFAULT_UNRESPONSIVE_AFTER,
};

const HOUR: i64 = 3_600_000_000_000;
const NOW: Timestamp = Timestamp(1_000 * HOUR);

fn connector(id: &str) -> Connector {
    Connector {
        connector_id: ConnectorId::parse(id).unwrap(),
        settings: ConnectorSettings {
            vendor: "v".into(),
            display_name: id.into(),
            kind: PartnerKind::ThirdParty,
            compliance_enabled: PerPlatform {
                android: true,
                ios: true,
                windows: true,
                macos: true,
            },
            app_protection_enabled: PerPlatform::default(),
            block_on_missing_partner_data: PerPlatform::default(),
            block_unsupported_os_versions: false,
            minimum_os_versions: PerPlatform::default(),
            unresponsive_after: DEFAULT_UNRESPONSIVE_AFTER,
            provisioned: true,
            missing_data: MissingDataMode::LastKnown,
        },
        last_heartbeat: Some(NOW),
        error_message: String::new(),
        version: 1,
        feed: Default::default(),
    }
}

fn policy(max: Option<ThreatLevel>) -> CompliancePolicy {
    CompliancePolicy {
        policy_id: "mtd".into(),
        display_name: String::new(),
        platforms: vec![],
        assignment: Assignment {
            all_devices: true,
            groups: vec![],
            excluded_groups: vec![],
        },
        max_threat_level: max,
        grace_period: Duration::ZERO,
        actions: vec![],
        version: 1,
        updated_at: Timestamp(0),
    }
}

fn config(connectors: Vec<Connector>, policies: Vec<CompliancePolicy>) -> PolicyConfig {
    PolicyConfig {
        connectors: connectors
            .into_iter()
            .map(|c| (c.connector_id.clone(), c))
            .collect(),
        policies: policies
            .into_iter()
            .map(|p| (p.policy_id.clone(), p))
            .collect(),
        resources: BTreeMap::new(),
        app_policies: BTreeMap::new(),
        tenant: TenantSettings::default(),
    }
}

fn device(reports: &[(&str, HealthState)]) -> DeviceSummary {
    let mut reports: Vec<_> = reports
        .iter()
        .map(|(id, state)| {
            (
                ConnectorId::parse(id).unwrap(),
                PartnerSummary {
                    health_state: *state,
                    open_threat_ids: vec![format!("{id}-threat")],
                    known_risk: None,
                },
            )
        })
        .collect();
    reports.sort_by(|a, b| a.0.cmp(&b.0));
    DeviceSummary {
        platform: Platform::Android,
        os_version: "14".into(),
        owner_user_id: "alice".into(),
        groups: vec!["sales".into()],
        first_seen: NOW,
        last_seen: NOW,
        reports,
    }
}

fn status(config: &PolicyConfig, device: &DeviceSummary) -> (ComplianceStatus, Vec<ReasonCode>) {
    let states = ConnectorStates::at(config, NOW);
    let compliance = evaluate_compliance(config, &states, device, &BTreeMap::new(), NOW);
    let codes = compliance
        .policies
        .iter()
        .flat_map(|verdict| verdict.reasons.iter().map(|reason| reason.code))
        .chain(compliance.reasons.iter().map(|reason| reason.code))
        .collect();
    (compliance.status, codes)
}

#[test]
fn every_health_state_against_every_required_level() {
    use ComplianceStatus::{Compliant as C, Noncompliant as N};
    use HealthState::*;
    // (state, verdict at max SECURED, LOW, MEDIUM, HIGH) with block-on-missing off: missing data is not a failure,
    // except that HIGH needs an activated app (unknown and deactivated are not activated).
    let table = [
        (Unknown, [C, C, C, N]),
        (Activated, [C, C, C, C]),
        (Deactivated, [C, C, C, N]),
        (Secured, [C, C, C, C]),
        (LowSeverity, [N, C, C, C]),
        (MediumSeverity, [N, N, C, C]),
        (HighSeverity, [N, N, N, C]),
        (Unresponsive, [C, C, C, C]),
        (Compromised, [N, N, N, C]),
        (Misconfigured, [C, C, C, C]),
    ];
    let levels = [
        ThreatLevel::Secured,
        ThreatLevel::Low,
        ThreatLevel::Medium,
        ThreatLevel::High,
    ];
    for (state, expected) in table {
        for (level, want) in levels.iter().zip(expected) {
            let config = config(vec![connector("lookout")], vec![policy(Some(*level))]);
            let (got, codes) = status(&config, &device(&[("lookout", state)]));
            assert_eq!(got, want, "{state:?} at max {level:?}: {codes:?}");
        }
    }
}

#[test]
fn health_states_without_a_level_are_missing_data_under_block_on_missing() {
    for state in [
        HealthState::Unknown,
        HealthState::Activated,
        HealthState::Deactivated,
        HealthState::Unresponsive,
        HealthState::Misconfigured,
    ] {
        let mut lookout = connector("lookout");
        lookout.settings.block_on_missing_partner_data.android = true;
        let config = config(vec![lookout], vec![policy(Some(ThreatLevel::Medium))]);
        let (got, codes) = status(&config, &device(&[("lookout", state)]));
        assert_eq!(got, ComplianceStatus::Noncompliant, "{state:?}");
        assert!(
            codes.contains(&ReasonCode::MissingPartnerData),
            "{state:?}: {codes:?}"
        );
    }
}

#[test]
fn a_device_with_no_report_is_compliant_unless_block_on_missing_is_on_for_its_platform() {
    let cfg = config(
        vec![connector("lookout")],
        vec![policy(Some(ThreatLevel::Low))],
    );
    assert_eq!(status(&cfg, &device(&[])).0, ComplianceStatus::Compliant);
    let mut ios_only = connector("lookout");
    ios_only.settings.block_on_missing_partner_data.ios = true;
    let cfg = config(vec![ios_only], vec![policy(Some(ThreatLevel::Low))]);
    assert_eq!(
        status(&cfg, &device(&[])).0,
        ComplianceStatus::Compliant,
        "android is not blocked"
    );
    let mut android = connector("lookout");
    android.settings.block_on_missing_partner_data.android = true;
    let cfg = config(vec![android], vec![policy(Some(ThreatLevel::Low))]);
    assert_eq!(status(&cfg, &device(&[])).0, ComplianceStatus::Noncompliant);
}

#[test]
fn every_connector_state_decides_whether_its_data_counts() {
    // A connector reporting HIGH under a LOW policy, with block-on-missing on, in each state.
    type Case = (
        &'static str,
        fn(&mut Connector),
        UnresponsiveMode,
        ComplianceStatus,
        Option<ReasonCode>,
    );
    let cases: [Case; 9] = [
        (
            "enabled",
            |_| {},
            UnresponsiveMode::FailOpen,
            ComplianceStatus::Noncompliant,
            Some(ReasonCode::ThreatLevelExceeded),
        ),
        (
            "available (no compliance toggle)",
            |c| c.settings.compliance_enabled = PerPlatform::default(),
            UnresponsiveMode::FailOpen,
            ComplianceStatus::Compliant,
            None,
        ),
        (
            "unavailable",
            |c| c.settings.provisioned = false,
            UnresponsiveMode::FailOpen,
            ComplianceStatus::Compliant,
            None,
        ),
        (
            "not set up",
            |c| c.last_heartbeat = None,
            UnresponsiveMode::FailOpen,
            ComplianceStatus::Compliant,
            None,
        ),
        (
            "unresponsive, fail open, Intune's behaviour: its data is ignored",
            |c| {
                c.last_heartbeat = Some(Timestamp(NOW.0 - 8 * 24 * HOUR));
                c.settings.missing_data = MissingDataMode::Intune;
            },
            UnresponsiveMode::FailOpen,
            ComplianceStatus::Compliant,
            None,
        ),
        (
            "unresponsive, fail closed, Intune's behaviour",
            |c| {
                c.last_heartbeat = Some(Timestamp(NOW.0 - 8 * 24 * HOUR));
                c.settings.missing_data = MissingDataMode::Intune;
            },
            UnresponsiveMode::FailClosed,
            ComplianceStatus::Noncompliant,
            Some(ReasonCode::PartnerUnresponsive),
        ),
        (
            "error, Intune's behaviour",
            |c| {
                c.error_message = "token expired".into();
                c.settings.missing_data = MissingDataMode::Intune;
            },
            UnresponsiveMode::FailOpen,
            ComplianceStatus::Error,
            Some(ReasonCode::PartnerError),
        ),
        (
            "unresponsive, fail open, by default: its HIGH still counts",
            |c| c.last_heartbeat = Some(Timestamp(NOW.0 - 8 * 24 * HOUR)),
            UnresponsiveMode::FailOpen,
            ComplianceStatus::Noncompliant,
            Some(ReasonCode::ThreatLevelExceeded),
        ),
        (
            "error, by default: its HIGH still counts",
            |c| c.error_message = "quarantined: crashed 3 times".into(),
            UnresponsiveMode::FailOpen,
            ComplianceStatus::Noncompliant,
            Some(ReasonCode::ThreatLevelExceeded),
        ),
    ];
    for (name, setup, mode, want, code) in cases {
        let mut lookout = connector("lookout");
        lookout.settings.block_on_missing_partner_data.android = true;
        setup(&mut lookout);
        let mut cfg = config(vec![lookout], vec![policy(Some(ThreatLevel::Low))]);
        cfg.tenant.unresponsive_mode = mode;
        let (got, codes) = status(&cfg, &device(&[("lookout", HealthState::HighSeverity)]));
        assert_eq!(got, want, "{name}: {codes:?}");
        if let Some(code) = code {
            assert!(codes.contains(&code), "{name}: {codes:?}");
        }
    }
}

#[test]
fn connector_states_follow_the_documented_transitions() {
    let mut c = connector("lookout");
    assert_eq!(c.state(NOW), ConnectorState::Enabled);
    c.settings.compliance_enabled = PerPlatform::default();
    assert_eq!(c.state(NOW), ConnectorState::Available, "no toggle on");
    c.settings.app_protection_enabled.ios = true;
    assert_eq!(
        c.state(NOW),
        ConnectorState::Enabled,
        "an app-protection toggle also enables"
    );
    c.error_message = "boom".into();
    assert_eq!(c.state(NOW), ConnectorState::Error);
    let past_threshold = NOW
        .saturating_add(DEFAULT_UNRESPONSIVE_AFTER)
        .saturating_add(Duration::from_secs(1));
    assert_eq!(c.state(past_threshold), ConnectorState::Unresponsive);
    c.last_heartbeat = None;
    assert_eq!(
        c.state(NOW),
        ConnectorState::Error,
        "a host that failed before its first heartbeat"
    );
    c.error_message.clear();
    assert_eq!(c.state(NOW), ConnectorState::NotSetUp);
    c.settings.provisioned = false;
    assert_eq!(c.state(NOW), ConnectorState::Unavailable);
}

#[test]
fn two_partners_on_one_platform_the_worst_level_wins_and_each_must_report() {
    let mut a = connector("a");
    let mut b = connector("b");
    a.settings.block_on_missing_partner_data.android = true;
    b.settings.block_on_missing_partner_data.android = true;
    let cfg = config(vec![a, b], vec![policy(Some(ThreatLevel::Low))]);
    let (got, codes) = status(
        &cfg,
        &device(&[
            ("a", HealthState::Secured),
            ("b", HealthState::MediumSeverity),
        ]),
    );
    assert_eq!(got, ComplianceStatus::Noncompliant);
    assert!(codes.contains(&ReasonCode::ThreatLevelExceeded));
    let (got, codes) = status(&cfg, &device(&[("a", HealthState::Secured)]));
    assert_eq!(got, ComplianceStatus::Noncompliant, "b never reported");
    assert!(codes.contains(&ReasonCode::MissingPartnerData));
    assert_eq!(
        status(
            &cfg,
            &device(&[("a", HealthState::Secured), ("b", HealthState::LowSeverity)])
        )
        .0,
        ComplianceStatus::Compliant
    );
}

#[test]
fn unsupported_os_versions_are_noncompliant_when_blocked() {
    for (os, minimum, blocked, want) in [
        ("14", "13", true, ComplianceStatus::Compliant),
        ("12.1", "13", true, ComplianceStatus::Noncompliant),
        ("13.0.1", "13", true, ComplianceStatus::Compliant),
        ("", "13", true, ComplianceStatus::Noncompliant),
        ("12", "13", false, ComplianceStatus::Compliant),
    ] {
        let mut c = connector("lookout");
        c.settings.block_unsupported_os_versions = blocked;
        c.settings.minimum_os_versions.android = minimum.into();
        let cfg = config(vec![c], vec![policy(Some(ThreatLevel::High))]);
        let mut d = device(&[("lookout", HealthState::Secured)]);
        d.os_version = os.into();
        assert_eq!(
            status(&cfg, &d).0,
            want,
            "os {os:?} min {minimum} blocked {blocked}"
        );
    }
}

#[test]
fn policies_target_by_platform_and_groups_and_the_worst_policy_wins() {
    let mut ios_only = policy(Some(ThreatLevel::Secured));
    ios_only.policy_id = "ios".into();
    ios_only.platforms = vec![Platform::Ios];
    let mut engineering = policy(Some(ThreatLevel::Secured));
    engineering.policy_id = "eng".into();
    engineering.assignment = Assignment {
        all_devices: false,
        groups: vec!["eng".into()],
        excluded_groups: vec![],
    };
    let mut all_but_sales = policy(Some(ThreatLevel::Secured));
    all_but_sales.policy_id = "not-sales".into();
    all_but_sales.assignment.excluded_groups = vec!["sales".into()];
    let cfg = config(
        vec![connector("lookout")],
        vec![ios_only, engineering, all_but_sales],
    );
    let (got, codes) = status(&cfg, &device(&[("lookout", HealthState::HighSeverity)]));
    assert_eq!(
        got,
        ComplianceStatus::Compliant,
        "no policy targets an android device in sales"
    );
    assert!(codes.contains(&ReasonCode::NoPolicy));
    let mut lenient = policy(Some(ThreatLevel::High));
    lenient.policy_id = "lenient".into();
    let mut strict = policy(Some(ThreatLevel::Low));
    strict.policy_id = "strict".into();
    let cfg = config(vec![connector("lookout")], vec![lenient, strict]);
    assert_eq!(
        status(&cfg, &device(&[("lookout", HealthState::HighSeverity)])).0,
        ComplianceStatus::Noncompliant
    );
}

#[test]
fn tenant_settings_decide_unassigned_and_silent_devices() {
    let mut cfg = config(vec![connector("lookout")], vec![]);
    assert_eq!(status(&cfg, &device(&[])).0, ComplianceStatus::Compliant);
    cfg.tenant.no_policy_status = NoPolicyStatus::Noncompliant;
    assert_eq!(status(&cfg, &device(&[])).0, ComplianceStatus::Noncompliant);
    let cfg = config(
        vec![connector("lookout")],
        vec![policy(Some(ThreatLevel::High))],
    );
    let mut silent = device(&[("lookout", HealthState::Secured)]);
    silent.last_seen = Timestamp(NOW.0 - 31 * 24 * HOUR);
    let (got, codes) = status(&cfg, &silent);
    assert_eq!(got, ComplianceStatus::Noncompliant);
    assert!(codes.contains(&ReasonCode::StaleDevice));
}

#[test]
fn grace_period_then_noncompliant_and_actions_fire_once_when_due() {
    let mut p = policy(Some(ThreatLevel::Low));
    p.grace_period = Duration::from_secs(24 * 3600);
    p.actions = vec![
        ScheduledAction {
            kind: ActionKind::Notify,
            after: Duration::ZERO,
        },
        ScheduledAction {
            kind: ActionKind::RemoteLock,
            after: Duration::from_secs(48 * 3600),
        },
    ];
    let cfg = config(vec![connector("lookout")], vec![p]);
    let states = ConnectorStates::at(&cfg, NOW);
    let d = device(&[("lookout", HealthState::HighSeverity)]);
    let first = evaluate_compliance(&cfg, &states, &d, &BTreeMap::new(), NOW);
    assert_eq!(first.status, ComplianceStatus::InGracePeriod);
    assert_eq!(
        first.due_actions,
        vec![("mtd".to_owned(), ActionKind::Notify)]
    );
    assert_eq!(first.next_deadline, Some(Timestamp(NOW.0 + 24 * HOUR)));
    let later = Timestamp(NOW.0 + 25 * HOUR);
    let second = evaluate_compliance(&cfg, &states, &d, &first.episodes, later);
    assert_eq!(second.status, ComplianceStatus::Noncompliant);
    assert!(second.due_actions.is_empty(), "notify fired once already");
    let third = evaluate_compliance(
        &cfg,
        &states,
        &d,
        &second.episodes,
        Timestamp(NOW.0 + 49 * HOUR),
    );
    assert_eq!(
        third.due_actions,
        vec![("mtd".to_owned(), ActionKind::RemoteLock)]
    );
    let healed = evaluate_compliance(
        &cfg,
        &states,
        &device(&[("lookout", HealthState::Secured)]),
        &third.episodes,
        later,
    );
    assert_eq!(healed.status, ComplianceStatus::Compliant);
    assert!(healed.episodes.is_empty(), "remediation ends the episode");
}

#[test]
fn the_views_compliance_state_derives_the_verdict_and_decisions_it_was_made_from() {
    use crate::view::ComplianceState;

    let mut p = policy(Some(ThreatLevel::Low));
    p.grace_period = Duration::from_secs(24 * 3600);
    p.actions = vec![ScheduledAction {
        kind: ActionKind::Notify,
        after: Duration::from_secs(3600),
    }];
    let cfg = config(vec![connector("lookout")], vec![p]);
    let states = ConnectorStates::at(&cfg, NOW);
    let rule = AccessRule {
        platforms: Vec::new(),
        require_compliant_device: true,
        max_threat_level: Some(ThreatLevel::Low),
    };
    let app = resource(vec![rule]);
    let mut episodes = BTreeMap::new();
    // Compliant, then in grace, then past the action, then past the grace period, then remediated.
    for (hours, health) in [
        (0, HealthState::Secured),
        (1, HealthState::HighSeverity),
        (3, HealthState::HighSeverity),
        (30, HealthState::HighSeverity),
        (31, HealthState::Secured),
    ] {
        let now = Timestamp(NOW.0 + hours * HOUR);
        let d = device(&[("lookout", health)]);
        let evaluated = evaluate_compliance(&cfg, &states, &d, &episodes, now);
        let state = ComplianceState::new(&cfg, &states, &d, &evaluated, now);
        let derived = state.verdict(&cfg, &states, &d);
        // Actions fall due once: deriving again reports none, and everything else is the same.
        assert!(derived.due_actions.is_empty(), "at {hours}h");
        assert_eq!(
            derived,
            Compliance {
                due_actions: Vec::new(),
                ..evaluated.clone()
            },
            "at {hours}h"
        );
        assert_eq!(
            decide_access(&cfg, &states, Some((&d, &state)), &app, None),
            decide_access(&cfg, &states, Some((&d, &evaluated)), &app, None),
            "at {hours}h"
        );
        episodes = evaluated.episodes;
    }
}

/// A compliance verdict with only a status.
fn verdict(status: ComplianceStatus) -> Compliance {
    Compliance {
        status,
        policies: vec![],
        reasons: vec![],
        episodes: BTreeMap::new(),
        due_actions: vec![],
        next_deadline: None,
    }
}

fn resource(rules: Vec<AccessRule>) -> Resource {
    Resource {
        name: "exchange".into(),
        rules,
        version: 1,
        unknown_device: UnknownDeviceAccess::Deny,
    }
}

#[test]
fn access_rules_table() {
    let compliant_rule = AccessRule {
        platforms: vec![],
        require_compliant_device: true,
        max_threat_level: None,
    };
    let level_rule = AccessRule {
        platforms: vec![],
        require_compliant_device: false,
        max_threat_level: Some(ThreatLevel::Low),
    };
    let ios_rule = AccessRule {
        platforms: vec![Platform::Ios],
        require_compliant_device: true,
        max_threat_level: None,
    };
    let cfg = config(vec![connector("lookout")], vec![]);
    let states = ConnectorStates::at(&cfg, NOW);
    let secured = device(&[("lookout", HealthState::Secured)]);
    let high = device(&[("lookout", HealthState::HighSeverity)]);
    let silent = device(&[]);
    let [compliant, grace, noncompliant, error] = [
        ComplianceStatus::Compliant,
        ComplianceStatus::InGracePeriod,
        ComplianceStatus::Noncompliant,
        ComplianceStatus::Error,
    ]
    .map(verdict);
    type Case<'a> = (
        &'static str,
        Vec<AccessRule>,
        Option<(&'a DeviceSummary, &'a Compliance)>,
        Option<&'static str>,
        bool,
        Option<ReasonCode>,
    );
    let cases: Vec<Case<'_>> = vec![
        (
            "unknown device",
            vec![compliant_rule.clone()],
            None,
            None,
            false,
            Some(ReasonCode::DeviceUnknown),
        ),
        (
            "compliant",
            vec![compliant_rule.clone()],
            Some((&secured, &compliant)),
            None,
            true,
            None,
        ),
        (
            "grace period keeps access",
            vec![compliant_rule.clone()],
            Some((&secured, &grace)),
            None,
            true,
            None,
        ),
        (
            "noncompliant",
            vec![compliant_rule.clone()],
            Some((&secured, &noncompliant)),
            None,
            false,
            Some(ReasonCode::Noncompliant),
        ),
        (
            "error",
            vec![compliant_rule.clone()],
            Some((&secured, &error)),
            None,
            false,
            Some(ReasonCode::Noncompliant),
        ),
        (
            "level under",
            vec![level_rule.clone()],
            Some((&secured, &noncompliant)),
            None,
            true,
            None,
        ),
        (
            "level over",
            vec![level_rule.clone()],
            Some((&high, &compliant)),
            None,
            false,
            Some(ReasonCode::ThreatLevelExceeded),
        ),
        (
            "level unknown fails closed",
            vec![level_rule.clone()],
            Some((&silent, &compliant)),
            None,
            false,
            Some(ReasonCode::MissingPartnerData),
        ),
        (
            "rule for another platform",
            vec![ios_rule],
            Some((&high, &noncompliant)),
            None,
            true,
            Some(ReasonCode::NoRuleForPlatform),
        ),
        (
            "owner matches",
            vec![compliant_rule.clone()],
            Some((&secured, &compliant)),
            Some("alice"),
            true,
            None,
        ),
        (
            "another user",
            vec![compliant_rule],
            Some((&secured, &compliant)),
            Some("mallory"),
            false,
            Some(ReasonCode::UserMismatch),
        ),
    ];
    for (name, rules, device, user, allow, code) in cases {
        let verdict = decide_access(&cfg, &states, device, &resource(rules), user);
        assert_eq!(verdict.allow, allow, "{name}: {:?}", verdict.reasons);
        if let Some(code) = code {
            assert!(
                verdict.reasons.iter().any(|r| r.code == code),
                "{name}: {:?}",
                verdict.reasons
            );
        }
    }
    let verdict = decide_access(
        &cfg,
        &states,
        Some((&high, &compliant)),
        &resource(vec![level_rule]),
        None,
    );
    let reason = verdict
        .reasons
        .iter()
        .find(|r| r.code == ReasonCode::ThreatLevelExceeded)
        .unwrap();
    assert_eq!(
        reason.connector_id.as_ref().map(ConnectorId::as_str),
        Some("lookout")
    );
    assert_eq!(
        reason.threat_ids,
        vec!["lookout-threat".to_owned()],
        "the reason names the threats"
    );
}

fn app_policy(action: AppAction, priority: PartnerPriority) -> AppProtectionPolicy {
    AppProtectionPolicy {
        policy_id: "outlook".into(),
        display_name: String::new(),
        app_ids: vec!["com.microsoft.outlook".into()],
        platforms: vec![],
        max_threat_level: Some(ThreatLevel::Low),
        action,
        partner_priority: priority,
        version: 1,
    }
}

#[test]
fn app_protection_blocks_or_wipes_above_the_level_and_respects_partner_priority() {
    let mut lookout = connector("lookout");
    lookout.settings.app_protection_enabled.android = true;
    let mut defender = connector("defender");
    defender.settings.kind = PartnerKind::MicrosoftDefender;
    defender.settings.app_protection_enabled.android = true;
    let app = "com.microsoft.outlook";
    for (action, want) in [
        (AppAction::Block, AppDecision::Block),
        (AppAction::Wipe, AppDecision::Wipe),
    ] {
        let mut cfg = config(vec![lookout.clone()], vec![]);
        cfg.app_policies.insert(
            "outlook".into(),
            app_policy(action, PartnerPriority::DefenderOverThirdParty),
        );
        let states = ConnectorStates::at(&cfg, NOW);
        let high = device(&[("lookout", HealthState::HighSeverity)]);
        assert_eq!(
            decide_app_launch(&cfg, &states, Some(&high), app).decision,
            want
        );
        let low = device(&[("lookout", HealthState::LowSeverity)]);
        assert_eq!(
            decide_app_launch(&cfg, &states, Some(&low), app).decision,
            AppDecision::Allow
        );
        assert_eq!(
            decide_app_launch(&cfg, &states, Some(&high), "other.app").decision,
            AppDecision::Allow
        );
        assert_eq!(
            decide_app_launch(&cfg, &states, Some(&device(&[])), app).decision,
            AppDecision::Block,
            "no data: the MTD app must be activated"
        );
    }
    // Defender says HIGH, Lookout says secured: the priority picks whose data counts.
    let d = device(&[
        ("defender", HealthState::HighSeverity),
        ("lookout", HealthState::Secured),
    ]);
    for (priority, want, partner) in [
        (
            PartnerPriority::DefenderOverThirdParty,
            AppDecision::Block,
            "defender",
        ),
        (
            PartnerPriority::ThirdPartyOverDefender,
            AppDecision::Allow,
            "lookout",
        ),
    ] {
        let mut cfg = config(vec![lookout.clone(), defender.clone()], vec![]);
        cfg.app_policies
            .insert("outlook".into(), app_policy(AppAction::Block, priority));
        let states = ConnectorStates::at(&cfg, NOW);
        let verdict = decide_app_launch(&cfg, &states, Some(&d), app);
        assert_eq!(verdict.decision, want, "{priority:?}");
        assert_eq!(
            verdict.connector_id.as_ref().map(ConnectorId::as_str),
            Some(partner)
        );
    }
}

#[test]
fn os_versions_compare_numerically() {
    assert!(os_at_least("10.3", "9.9"));
    assert!(os_at_least("13", "13.0.0"));
    assert!(!os_at_least("13", "13.0.1"));
    assert!(!os_at_least("beta", "1"));
}

mod fail_safe;
