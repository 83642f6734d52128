//! The policy engine over time, with the manual clock (`--manual-clock`, `ClockService.AdvanceClock`):
//! unresponsive partners (fail open and fail closed), grace periods and scheduled actions, and a restart
//! that keeps configuration, decisions and deadlines.

use riskgate_tests::{
    admin::{compliance_connector, compliance_policy, compliant_only_resource, secs, DAY, HOUR},
    api::{
        ActionKind, AppAction, AppProtectionPolicy, ComplianceStatus, Connector, ConnectorState,
        Decision, HealthState, ListConnectorsRequest, ListRequest, MissingDataMode, Platform,
        ScheduledAction, TenantSettings, ThreatLevel, UnresponsivePartnerMode,
    },
    events::{access_changes, actions_due, compliance_changes, reports_of},
    register_connector_with,
};

use crate::policy_support::{all_compliance_reasons, has_reason, Env};

const ALLOW: i32 = Decision::Allow as i32;
const DENY: i32 = Decision::Deny as i32;
const HOUR_U: u64 = 3600;

/// Zimperium goes unresponsive after an hour without a heartbeat; lookout after the default 7 days.
/// Zimperium follows Intune's behaviour (`MISSING_DATA_MODE_INTUNE`), under which an unresponsive
/// partner's data is dropped and the tenant's fail mode decides; by default its known HIGH would keep
/// counting (`connector-host` e2e `fail_safe`, policy table tests).
async fn two_partners(env: &Env) -> anyhow::Result<()> {
    register_connector_with(
        &env.core,
        Connector {
            unresponsive_after: Some(secs(HOUR)),
            missing_data: MissingDataMode::Intune as i32,
            ..compliance_connector("zimperium")
        },
    )
    .await?;
    register_connector_with(&env.core, compliance_connector("lookout")).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unresponsive_partner_fail_open_drops_its_data_until_a_heartbeat() -> anyhow::Result<()> {
    let mut env = Env::start().await?;
    two_partners(&env).await?;
    env.create_policy(compliance_policy("mtd", ThreatLevel::Low))
        .await?;
    env.put_resource(compliant_only_resource("exchange"))
        .await?;
    // Noncompliant only because of zimperium.
    env.send(
        "lookout",
        "phone-z",
        Platform::Android,
        HealthState::Secured,
        &[],
    )
    .await?;
    env.send(
        "zimperium",
        "phone-z",
        Platform::Android,
        HealthState::HighSeverity,
        &["t-z"],
    )
    .await?;
    assert_eq!(env.access("phone-z", "exchange").await?.decision, DENY);

    let head = env.head().await?;
    let moved = env.advance(2 * HOUR_U).await?;
    assert_eq!(
        env.connector_state("zimperium").await?,
        ConnectorState::Unresponsive as i32,
        "no heartbeat for 2h with a 1h threshold"
    );
    assert_eq!(
        env.connector_state("lookout").await?,
        ConnectorState::Enabled as i32,
        "lookout's threshold is 7 days"
    );
    let decision = env.access("phone-z", "exchange").await?;
    assert_eq!(
        (decision.decision, decision.compliance, decision.level),
        (
            ALLOW,
            ComplianceStatus::Compliant as i32,
            ThreatLevel::Secured as i32
        ),
        "fail open: zimperium's HIGH is dropped, lookout's SECURED decides: {decision:?}"
    );
    let after = env.head().await?;
    assert_eq!(
        moved.position, after,
        "AdvanceClock answers with the head after re-evaluation"
    );
    assert!(
        env.device_less_events(head, after).await? >= 1,
        "the connector_state_change to UNRESPONSIVE is logged (a device-less event in ({head}, {after}])"
    );
    assert_eq!(
        env.reports_in_history("phone-z").await?,
        2,
        "no new report was needed"
    );

    // A heartbeat brings zimperium back, and its HIGH counts again.
    let head = env.head().await?;
    assert_eq!(
        env.heartbeat("zimperium").await?,
        ConnectorState::Enabled as i32
    );
    let decision = env.access("phone-z", "exchange").await?;
    assert_eq!(
        (decision.decision, decision.level),
        (DENY, ThreatLevel::High as i32),
        "{decision:?}"
    );
    let after = env.head().await?;
    assert!(
        env.device_less_events(head, after).await? >= 1,
        "the connector_state_change back to ENABLED is logged"
    );
    let flips: Vec<i32> = access_changes(&env.history("phone-z").await?)
        .iter()
        .map(|(_, c)| c.current_decision)
        .collect();
    assert_eq!(
        flips,
        [ALLOW, DENY, ALLOW, DENY],
        "access_decision_change events: lookout's SECURED, zimperium's HIGH, unresponsive, heartbeat"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unresponsive_partner_fail_closed_makes_devices_noncompliant_until_a_heartbeat(
) -> anyhow::Result<()> {
    let mut env = Env::start().await?;
    two_partners(&env).await?;
    env.create_policy(compliance_policy("mtd", ThreatLevel::Low))
        .await?;
    env.put_resource(compliant_only_resource("exchange"))
        .await?;
    let settings = env
        .policies
        .update_tenant_settings(TenantSettings {
            unresponsive_partner_mode: UnresponsivePartnerMode::FailClosed as i32,
            ..Default::default()
        })
        .await?
        .into_inner();
    assert_eq!(
        settings.unresponsive_partner_mode,
        UnresponsivePartnerMode::FailClosed as i32
    );
    env.send(
        "zimperium",
        "phone-s",
        Platform::Ios,
        HealthState::Secured,
        &[],
    )
    .await?;
    env.send(
        "lookout",
        "phone-s",
        Platform::Ios,
        HealthState::Secured,
        &[],
    )
    .await?;
    assert_eq!(env.access("phone-s", "exchange").await?.decision, ALLOW);

    let head = env.head().await?;
    env.advance(2 * HOUR_U).await?;
    assert_eq!(
        env.connector_state("zimperium").await?,
        ConnectorState::Unresponsive as i32
    );
    let compliance = env.compliance("phone-s").await?;
    assert_eq!(
        compliance.status,
        ComplianceStatus::Noncompliant as i32,
        "fail closed: {compliance:?}"
    );
    assert!(
        has_reason(
            &all_compliance_reasons(&compliance),
            "partner_unresponsive",
            "zimperium",
            &[]
        ),
        "{compliance:?}"
    );
    assert_eq!(env.access("phone-s", "exchange").await?.decision, DENY);
    let after = env.head().await?;
    assert!(
        env.device_less_events(head, after).await? >= 1,
        "the connector_state_change is logged"
    );

    // The heartbeat brings the partner and the device back.
    assert_eq!(
        env.heartbeat("zimperium").await?,
        ConnectorState::Enabled as i32
    );
    let decision = env.access("phone-s", "exchange").await?;
    assert_eq!(
        (decision.decision, decision.compliance),
        (ALLOW, ComplianceStatus::Compliant as i32),
        "{decision:?}"
    );
    assert_eq!(env.reports_in_history("phone-s").await?, 2);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grace_period_keeps_access_until_it_runs_out_and_a_scheduled_action_fires_once(
) -> anyhow::Result<()> {
    let mut env = Env::start().await?;
    register_connector_with(&env.core, compliance_connector("lookout")).await?;
    env.create_policy(riskgate_tests::api::CompliancePolicy {
        grace_period: Some(secs(24 * HOUR)),
        actions: vec![ScheduledAction {
            kind: ActionKind::RemoteLock as i32,
            after: Some(secs(48 * HOUR)),
        }],
        ..compliance_policy("mtd", ThreatLevel::Low)
    })
    .await?;
    env.put_resource(compliant_only_resource("exchange"))
        .await?;

    env.send(
        "lookout",
        "phone-g",
        Platform::Android,
        HealthState::HighSeverity,
        &["t-g"],
    )
    .await?;
    let compliance = env.compliance("phone-g").await?;
    assert_eq!(
        compliance.status,
        ComplianceStatus::InGracePeriod as i32,
        "{compliance:?}"
    );
    let verdict = &compliance.policies[0];
    let since = verdict.noncompliant_since.expect("noncompliant_since");
    let ends = verdict.grace_period_ends.expect("grace_period_ends");
    assert_eq!(
        ends.seconds - since.seconds,
        24 * HOUR,
        "grace ends 24h after the device became noncompliant: {verdict:?}"
    );
    let decision = env.access("phone-g", "exchange").await?;
    assert_eq!(
        (decision.decision, decision.compliance),
        (ALLOW, ComplianceStatus::InGracePeriod as i32),
        "a device in its grace period keeps access: {decision:?}"
    );

    // 23h later: still in grace.
    env.advance(23 * HOUR_U).await?;
    assert_eq!(
        env.access("phone-g", "exchange").await?.compliance,
        ComplianceStatus::InGracePeriod as i32
    );
    // 25h later: grace is over, without any new report.
    let head = env.head().await?;
    env.advance(2 * HOUR_U).await?;
    let decision = env.access("phone-g", "exchange").await?;
    assert_eq!(
        (decision.decision, decision.compliance),
        (DENY, ComplianceStatus::Noncompliant as i32),
        "the grace period ran out: {decision:?}"
    );
    let compliance = env.compliance("phone-g").await?;
    assert_eq!(
        compliance.policies[0].noncompliant_since,
        Some(since),
        "the same noncompliance episode"
    );
    let history = env.history("phone-g").await?;
    assert_eq!(reports_of(&history).len(), 1, "no new report");
    let changes: Vec<(u64, i32, i32)> = compliance_changes(&history)
        .iter()
        .map(|(p, c)| (*p, c.previous_status, c.current_status))
        .collect();
    assert!(
        changes.iter().any(|(p, from, to)| *p > head
            && *from == ComplianceStatus::InGracePeriod as i32
            && *to == ComplianceStatus::Noncompliant as i32),
        "IN_GRACE_PERIOD -> NONCOMPLIANT is logged when grace runs out: {changes:?}"
    );
    assert!(
        access_changes(&history)
            .iter()
            .any(|(p, c)| *p > head && c.current_decision == DENY),
        "the flip to DENY is logged: {history:?}"
    );
    assert!(
        actions_due(&history).is_empty(),
        "REMOTE_LOCK is due only after 48h: {history:?}"
    );

    // 49h: the remote lock falls due, once; it does not fire again later.
    env.advance(24 * HOUR_U).await?;
    let due = actions_due(&env.history("phone-g").await?)
        .into_iter()
        .map(|(_, a)| (a.policy_id.clone(), a.action))
        .collect::<Vec<_>>();
    assert_eq!(
        due,
        [("mtd".to_owned(), ActionKind::RemoteLock as i32)],
        "one compliance_action_due"
    );
    env.advance(48 * HOUR_U).await?;
    env.advance(HOUR_U).await?;
    let history = env.history("phone-g").await?;
    let due = actions_due(&history);
    assert_eq!(due.len(), 1, "the action fires exactly once: {due:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_connectors_policies_resources_decisions_and_grace_deadlines(
) -> anyhow::Result<()> {
    let mut env = Env::start().await?;
    register_connector_with(
        &env.core,
        Connector {
            display_name: "Lookout MTD".to_owned(),
            app_protection_enabled: Some(riskgate_tests::admin::all_platforms()),
            ..compliance_connector("lookout")
        },
    )
    .await?;
    env.create_policy(riskgate_tests::api::CompliancePolicy {
        grace_period: Some(secs(24 * HOUR)),
        ..compliance_policy("mtd", ThreatLevel::Low)
    })
    .await?;
    env.put_resource(compliant_only_resource("exchange"))
        .await?;
    env.policies
        .put_app_protection_policy(AppProtectionPolicy {
            policy_id: "mail".to_owned(),
            app_ids: vec!["com.corp.mail".to_owned()],
            max_threat_level: ThreatLevel::Low as i32,
            action: AppAction::Block as i32,
            ..Default::default()
        })
        .await?;
    env.policies
        .update_tenant_settings(TenantSettings {
            compliance_validity_period: Some(secs(10 * DAY)),
            ..Default::default()
        })
        .await?;
    env.send(
        "lookout",
        "phone-g",
        Platform::Ios,
        HealthState::HighSeverity,
        &["t-g"],
    )
    .await?;
    env.send(
        "lookout",
        "phone-ok",
        Platform::Ios,
        HealthState::Secured,
        &[],
    )
    .await?;

    /// Everything the restart must keep.
    #[derive(Debug, PartialEq)]
    struct Kept {
        connectors: Vec<riskgate_tests::api::Connector>,
        policies: Vec<riskgate_tests::api::CompliancePolicy>,
        resources: Vec<riskgate_tests::api::Resource>,
        app_policies: Vec<AppProtectionPolicy>,
        tenant: TenantSettings,
        decisions: Vec<riskgate_tests::api::AccessDecision>,
        compliance: Vec<riskgate_tests::api::DeviceCompliance>,
        apps: Vec<riskgate_tests::api::AppLaunchDecision>,
        head: u64,
    }
    async fn kept(env: &mut Env) -> anyhow::Result<Kept> {
        let mut decisions = Vec::new();
        let mut compliance = Vec::new();
        let mut apps = Vec::new();
        for device in ["phone-g", "phone-ok"] {
            decisions.push(env.access(device, "exchange").await?);
            compliance.push(env.compliance(device).await?);
            apps.push(
                riskgate_tests::admin::check_app(&mut env.decisions, device, "com.corp.mail")
                    .await?,
            );
        }
        Ok(Kept {
            connectors: env
                .connectors
                .list_connectors(ListConnectorsRequest {})
                .await?
                .into_inner()
                .connectors,
            policies: env
                .policies
                .list_compliance_policies(ListRequest {})
                .await?
                .into_inner()
                .policies,
            resources: env
                .policies
                .list_resources(ListRequest {})
                .await?
                .into_inner()
                .resources,
            app_policies: env
                .policies
                .list_app_protection_policies(ListRequest {})
                .await?
                .into_inner()
                .policies,
            tenant: env
                .policies
                .get_tenant_settings(riskgate_tests::api::GetTenantSettingsRequest {})
                .await?
                .into_inner(),
            decisions,
            compliance,
            apps,
            head: env.head().await?,
        })
    }
    let before = kept(&mut env).await?;
    assert_eq!(
        before.compliance[0].status,
        ComplianceStatus::InGracePeriod as i32,
        "{:?}",
        before.compliance[0]
    );
    assert_eq!(
        (before.decisions[0].decision, before.decisions[1].decision),
        (ALLOW, ALLOW)
    );
    let grace_ends = before.compliance[0].policies[0]
        .grace_period_ends
        .expect("grace_period_ends");

    let mut env = env.restart().await?;
    let after = kept(&mut env).await?;
    // Compared part by part, and reported at the end, so that the grace deadline is checked too.
    let mut differences = Vec::new();
    macro_rules! same {
        ($($field:ident),*) => {$(
            if after.$field != before.$field {
                differences.push(format!(
                    "{} differ after the restart:\n  before: {:?}\n  after:  {:?}",
                    stringify!($field),
                    before.$field,
                    after.$field
                ));
            }
        )*};
    }
    same!(
        connectors,
        policies,
        resources,
        app_policies,
        tenant,
        decisions,
        compliance,
        apps,
        head
    );

    // The grace period still ends at the same time: 25h after the restart it is over.
    env.advance(23 * HOUR_U).await?;
    assert_eq!(
        env.access("phone-g", "exchange").await?.decision,
        ALLOW,
        "still in grace 23h later"
    );
    let moved = env.advance(2 * HOUR_U).await?;
    let compliance = env.compliance("phone-g").await?;
    let decision = env.access("phone-g", "exchange").await?;
    if compliance.status != ComplianceStatus::Noncompliant as i32 || decision.decision != DENY {
        differences.push(format!(
            "the grace period that ended at {grace_ends:?} did not end after the restart: at {:?} \
             the device is {:?} and exchange answers {}: {compliance:?}",
            moved.now,
            ComplianceStatus::try_from(compliance.status),
            crate::policy_support::decision_name(decision.decision)
        ));
    }

    // The connector keeps ingesting after the restart (it is alive and registered).
    let ack = env
        .send_remediated("lookout", "phone-g", Platform::Ios, &["t-g"])
        .await?;
    let decision = env.access("phone-g", "exchange").await?;
    assert_eq!(decision.decision, ALLOW, "{decision:?}");
    assert!(decision.position >= ack.position);
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connector_state_follows_heartbeats_toggles_errors_provisioning_and_time(
) -> anyhow::Result<()> {
    let mut env = Env::start().await?;
    let created = env
        .connectors
        .create_connector(riskgate_tests::api::CreateConnectorRequest {
            connector: Some(Connector {
                unresponsive_after: Some(secs(HOUR)),
                ..riskgate_tests::admin::connector("lookout")
            }),
        })
        .await?
        .into_inner();
    assert_eq!(
        (created.state, created.provisioned, created.version),
        (ConnectorState::NotSetUp as i32, Some(true), 1),
        "no heartbeat yet; provisioned by default: {created:?}"
    );
    assert!(created.last_heartbeat.is_none(), "{created:?}");
    let alive = riskgate_tests::admin::heartbeat(&mut env.connectors, "lookout").await?;
    assert_eq!(
        alive.state,
        ConnectorState::Available as i32,
        "no toggle on: {alive:?}"
    );
    assert!(alive.last_heartbeat.is_some(), "{alive:?}");
    assert_eq!(
        alive.version, created.version,
        "a heartbeat is not a configuration change: {alive:?}"
    );

    let update = |connector: Connector| riskgate_tests::api::UpdateConnectorRequest {
        connector: Some(connector),
        expected_version: 0,
    };
    let enabled = env
        .connectors
        .update_connector(update(Connector {
            compliance_enabled: Some(riskgate_tests::api::PlatformToggles {
                android: true,
                ..Default::default()
            }),
            ..alive.clone()
        }))
        .await?
        .into_inner();
    assert_eq!(
        enabled.state,
        ConnectorState::Enabled as i32,
        "a toggle is on: {enabled:?}"
    );
    assert!(enabled.version > alive.version, "{enabled:?}");

    let failing = env
        .connectors
        .heartbeat(riskgate_tests::api::HeartbeatRequest {
            connector_id: "lookout".to_owned(),
            error_message: "token expired".to_owned(),
            feed: None,
        })
        .await?
        .into_inner();
    assert_eq!(
        (failing.state, failing.error_message.as_str()),
        (ConnectorState::Error as i32, "token expired"),
        "{failing:?}"
    );
    assert_eq!(
        failing.last_heartbeat, enabled.last_heartbeat,
        "a failure report is not a sign of life: {failing:?}"
    );
    assert_eq!(
        env.heartbeat("lookout").await?,
        ConnectorState::Enabled as i32,
        "a healthy heartbeat clears the error"
    );

    let head = env.head().await?;
    env.advance(2 * HOUR_U).await?;
    assert_eq!(
        env.connector_state("lookout").await?,
        ConnectorState::Unresponsive as i32,
        "2h without a heartbeat, threshold 1h"
    );
    let after = env.head().await?;
    assert!(
        env.device_less_events(head, after).await? >= 1,
        "the state change is logged"
    );
    // Advancing again logs nothing new about the connector: it is still UNRESPONSIVE.
    env.advance(HOUR_U).await?;
    assert_eq!(env.head().await?, after, "no change, no event");
    assert_eq!(
        env.heartbeat("lookout").await?,
        ConnectorState::Enabled as i32
    );

    let current = env
        .connectors
        .get_connector(riskgate_tests::api::GetConnectorRequest {
            connector_id: "lookout".to_owned(),
        })
        .await?
        .into_inner();
    let gone = env
        .connectors
        .update_connector(update(Connector {
            provisioned: Some(false),
            ..current
        }))
        .await?
        .into_inner();
    assert_eq!(
        gone.state,
        ConnectorState::Unavailable as i32,
        "deprovisioned: {gone:?}"
    );
    assert_eq!(
        env.heartbeat("lookout").await?,
        ConnectorState::Unavailable as i32,
        "a heartbeat does not make a deprovisioned connector available"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_settings_mark_stale_devices_and_devices_without_policy_noncompliant(
) -> anyhow::Result<()> {
    let mut env = Env::start().await?;
    register_connector_with(&env.core, compliance_connector("lookout")).await?;
    env.put_resource(compliant_only_resource("exchange"))
        .await?;
    let defaults = env
        .policies
        .get_tenant_settings(riskgate_tests::api::GetTenantSettingsRequest {})
        .await?
        .into_inner();
    assert_eq!(
        defaults.compliance_validity_period,
        Some(secs(30 * DAY)),
        "30 days by default: {defaults:?}"
    );

    // No policy: compliant by default, noncompliant when the tenant says so.
    env.send(
        "lookout",
        "phone-n",
        Platform::Android,
        HealthState::Secured,
        &[],
    )
    .await?;
    assert_eq!(env.access("phone-n", "exchange").await?.decision, ALLOW);
    env.policies
        .update_tenant_settings(TenantSettings {
            no_policy_status: riskgate_tests::api::NoPolicyStatus::Noncompliant as i32,
            compliance_validity_period: Some(secs(DAY)),
            ..Default::default()
        })
        .await?;
    let compliance = env.compliance("phone-n").await?;
    assert_eq!(
        compliance.status,
        ComplianceStatus::Noncompliant as i32,
        "{compliance:?}"
    );
    assert!(
        has_reason(&all_compliance_reasons(&compliance), "no_policy", "", &[]),
        "{compliance:?}"
    );
    assert_eq!(
        env.access("phone-n", "exchange").await?.decision,
        DENY,
        "the settings change re-evaluated the device at once"
    );

    // With a policy, a device that stops reporting for the validity period becomes noncompliant.
    env.create_policy(compliance_policy("mtd", ThreatLevel::Low))
        .await?;
    assert_eq!(env.access("phone-n", "exchange").await?.decision, ALLOW);
    env.advance(23 * HOUR_U).await?;
    assert_eq!(env.access("phone-n", "exchange").await?.decision, ALLOW);
    env.advance(2 * HOUR_U).await?;
    let compliance = env.compliance("phone-n").await?;
    assert_eq!(
        compliance.status,
        ComplianceStatus::Noncompliant as i32,
        "no report for 25h with a validity period of 1 day: {compliance:?}"
    );
    assert!(
        has_reason(
            &all_compliance_reasons(&compliance),
            "stale_device",
            "",
            &[]
        ),
        "{compliance:?}"
    );
    assert_eq!(env.access("phone-n", "exchange").await?.decision, DENY);
    // A fresh report makes it compliant again.
    env.send(
        "lookout",
        "phone-n",
        Platform::Android,
        HealthState::Secured,
        &[],
    )
    .await?;
    assert_eq!(env.access("phone-n", "exchange").await?.decision, ALLOW);
    Ok(())
}
