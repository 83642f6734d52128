//! The policy engine's conditional access, against the real binary: "a device reported high risk loses
//! Exchange and SharePoint; the same device, reported secured after remediation, gets them back";
//! block-on-missing partner data; two partners on one platform; policy changes that re-evaluate at once.

use riskgate_tests::{
    admin::{all_platforms, compliance_connector, compliance_policy, compliant_only_resource},
    api::{
        BatchCheckAccessRequest, CheckAccessRequest, ComplianceStatus, Connector, Decision,
        DeleteByIdRequest, GetByIdRequest, GetConnectorRequest, HealthState, ListRequest, Platform,
        ThreatLevel, UpdateCompliancePolicyRequest, UpdateConnectorRequest,
    },
    events::{access_changes, compliance_changes, reports_of, strictly_increasing},
    expect_status, register_connector, register_connector_with,
};
use tonic::Code;

use crate::policy_support::{all_compliance_reasons, decision_name, has_reason, names_threat, Env};

const ALLOW: i32 = Decision::Allow as i32;
const DENY: i32 = Decision::Deny as i32;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn infected_device_loses_exchange_and_sharepoint_and_gets_them_back_after_remediation(
) -> anyhow::Result<()> {
    let mut env = Env::start().await?;
    register_connector_with(&env.core, compliance_connector("lookout")).await?;
    env.create_policy(compliance_policy("mtd", ThreatLevel::Low))
        .await?;
    for name in ["exchange", "sharepoint"] {
        env.put_resource(compliant_only_resource(name)).await?;
    }

    // Secured at first: allowed.
    let secured = env
        .send(
            "lookout",
            "phone-1",
            Platform::Ios,
            HealthState::Secured,
            &[],
        )
        .await?;
    for resource in ["exchange", "sharepoint"] {
        let decision = env.access("phone-1", resource).await?;
        assert_eq!(decision.decision, ALLOW, "{resource}: {decision:?}");
        assert!(decision.position >= secured.position, "{decision:?}");
    }
    // Checks that fail only on the explanation, reported at the end so the rest still runs.
    let mut unexplained = Vec::new();

    // Infected: a HIGH threat from lookout.
    let infected = env
        .send(
            "lookout",
            "phone-1",
            Platform::Ios,
            HealthState::HighSeverity,
            &["t-trojan"],
        )
        .await?;
    for resource in ["exchange", "sharepoint"] {
        let decision = env.access("phone-1", resource).await?;
        assert_eq!(
            decision.decision, DENY,
            "{resource}: an infected device is denied: {decision:?}"
        );
        assert_eq!(
            (decision.compliance, decision.level),
            (
                ComplianceStatus::Noncompliant as i32,
                ThreatLevel::High as i32
            ),
            "{resource}: {decision:?}"
        );
        assert_eq!(
            (decision.resource.as_str(), decision.device_id.as_str()),
            (resource, "phone-1")
        );
        assert!(
            decision.position >= infected.position,
            "{resource}: the decision sees the acknowledged report: {decision:?}, ack {infected:?}"
        );
        let reasons: Vec<_> = decision.reasons.iter().collect();
        assert!(
            has_reason(&reasons, "noncompliant", "", &[]),
            "{resource}: the deny says the device is noncompliant: {reasons:?}"
        );
        if !names_threat(&decision.reasons, "lookout", "t-trojan") {
            unexplained.push(format!(
                "CheckAccess {resource}: the DENY does not name connector lookout and threat t-trojan: {reasons:?}"
            ));
        }
    }
    // The compliance verdict behind it.
    let compliance = env.compliance("phone-1").await?;
    assert_eq!(
        compliance.status,
        ComplianceStatus::Noncompliant as i32,
        "{compliance:?}"
    );
    let mtd = compliance
        .policies
        .iter()
        .find(|p| p.policy_id == "mtd")
        .expect("the mtd policy targets the device");
    assert_eq!(mtd.status, ComplianceStatus::Noncompliant as i32);
    assert!(mtd.noncompliant_since.is_some(), "{mtd:?}");
    assert!(
        has_reason(
            &all_compliance_reasons(&compliance),
            "threat_level_exceeded",
            "lookout",
            &["t-trojan"]
        ),
        "{compliance:?}"
    );

    // Both resources at once, at one position.
    let batch = env
        .decisions
        .batch_check_access(BatchCheckAccessRequest {
            checks: ["exchange", "sharepoint", "exchange"]
                .iter()
                .map(|resource| CheckAccessRequest {
                    device_id: "phone-1".to_owned(),
                    user_id: String::new(),
                    resource: (*resource).to_owned(),
                })
                .collect(),
        })
        .await?
        .into_inner();
    let answers: Vec<(&str, i32)> = batch
        .decisions
        .iter()
        .map(|d| (d.resource.as_str(), d.decision))
        .collect();
    assert_eq!(
        answers,
        [("exchange", DENY), ("sharepoint", DENY), ("exchange", DENY)],
        "answers in request order"
    );
    assert!(
        batch
            .decisions
            .iter()
            .all(|d| d.position == batch.decisions[0].position),
        "one position for the whole batch: {batch:?}"
    );

    // Remediated: SECURED, with a newer observed_at.
    let remediated = env
        .send_remediated("lookout", "phone-1", Platform::Ios, &["t-trojan"])
        .await?;
    assert!(remediated.position > infected.position);
    for resource in ["exchange", "sharepoint"] {
        let decision = env.access("phone-1", resource).await?;
        assert_eq!(
            decision.decision, ALLOW,
            "{resource}: the remediated device gets access back: {decision:?}"
        );
        assert_eq!(
            (decision.compliance, decision.level),
            (
                ComplianceStatus::Compliant as i32,
                ThreatLevel::Secured as i32
            ),
            "{resource}: {decision:?}"
        );
        assert!(
            decision.position >= remediated.position,
            "{resource}: {decision:?}, ack {remediated:?}"
        );
    }

    // The history: the two reports, and per resource a flip to DENY then back to ALLOW.
    let history = env.history("phone-1").await?;
    assert!(strictly_increasing(&history), "{history:?}");
    let reports = reports_of(&history);
    assert_eq!(reports.len(), 3, "one device_reported per report");
    for resource in ["exchange", "sharepoint"] {
        let flips: Vec<_> = access_changes(&history)
            .into_iter()
            .filter(|(_, c)| c.resource == resource)
            .collect();
        let decisions: Vec<String> = flips
            .iter()
            .map(|(_, c)| decision_name(c.current_decision))
            .collect();
        // An unknown device is denied, so the first report flips it to ALLOW.
        assert_eq!(
            decisions,
            ["Allow", "Deny", "Allow"],
            "{resource}: access_decision_change events: {flips:?}"
        );
        let (deny_at, deny) = flips[1];
        let (allow_at, allow) = flips[2];
        assert!(
            reports[1].0 < deny_at && deny_at <= infected.position,
            "{resource}: the deny was caused by the infected report's batch: {flips:?}"
        );
        assert!(
            reports[2].0 < allow_at && allow_at <= remediated.position,
            "{resource}: the allow was caused by the remediation's batch: {flips:?}"
        );
        assert_eq!(deny.previous_decision, ALLOW, "{resource}: {deny:?}");
        assert_eq!(allow.previous_decision, DENY, "{resource}: {allow:?}");
        if !names_threat(&deny.reasons, "lookout", "t-trojan") {
            unexplained.push(format!(
                "access_decision_change {resource} to DENY does not name connector lookout and threat t-trojan: {deny:?}"
            ));
        }
    }
    // And the compliance changes: a new device goes from UNKNOWN to its status.
    let statuses: Vec<(i32, i32)> = compliance_changes(&history)
        .iter()
        .map(|(_, c)| (c.previous_status, c.current_status))
        .collect();
    assert_eq!(
        statuses,
        [
            (
                ComplianceStatus::Unknown as i32,
                ComplianceStatus::Compliant as i32
            ),
            (
                ComplianceStatus::Compliant as i32,
                ComplianceStatus::Noncompliant as i32
            ),
            (
                ComplianceStatus::Noncompliant as i32,
                ComplianceStatus::Compliant as i32
            )
        ],
        "device_compliance_change events: {history:?}"
    );
    assert!(
        unexplained.is_empty(),
        "denials do not say which partner and threats caused them:\n{}",
        unexplained.join("\n")
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_without_partner_data_under_block_on_missing_is_denied_until_the_partner_reports(
) -> anyhow::Result<()> {
    let mut env = Env::start().await?;
    register_connector_with(
        &env.core,
        Connector {
            block_on_missing_partner_data: Some(all_platforms()),
            ..compliance_connector("lookout")
        },
    )
    .await?;
    // An inventory feed whose data does not count for compliance makes the device known.
    register_connector(&env.core, "inventory").await?;
    env.create_policy(compliance_policy("mtd", ThreatLevel::Low))
        .await?;
    env.put_resource(compliant_only_resource("exchange"))
        .await?;

    env.send(
        "inventory",
        "tablet-1",
        Platform::Ipados,
        HealthState::Secured,
        &[],
    )
    .await?;
    let compliance = env.compliance("tablet-1").await?;
    assert_eq!(
        compliance.status,
        ComplianceStatus::Noncompliant as i32,
        "no data from lookout: {compliance:?}"
    );
    assert!(
        has_reason(
            &all_compliance_reasons(&compliance),
            "missing_partner_data",
            "lookout",
            &[]
        ),
        "{compliance:?}"
    );
    let decision = env.access("tablet-1", "exchange").await?;
    assert_eq!(decision.decision, DENY, "{decision:?}");

    // A report that carries no level (the MTD app is merely activated) is still missing data.
    env.send(
        "lookout",
        "tablet-1",
        Platform::Ipados,
        HealthState::Activated,
        &[],
    )
    .await?;
    let compliance = env.compliance("tablet-1").await?;
    assert!(
        compliance.status == ComplianceStatus::Noncompliant as i32
            && has_reason(
                &all_compliance_reasons(&compliance),
                "missing_partner_data",
                "lookout",
                &[]
            ),
        "ACTIVATED carries no level: {compliance:?}"
    );
    assert_eq!(env.access("tablet-1", "exchange").await?.decision, DENY);

    // Once lookout reports a level (iPadOS uses the ios toggles), the device gets access.
    let ack = env
        .send(
            "lookout",
            "tablet-1",
            Platform::Ipados,
            HealthState::Secured,
            &[],
        )
        .await?;
    let decision = env.access("tablet-1", "exchange").await?;
    assert_eq!(decision.decision, ALLOW, "{decision:?}");
    assert_eq!(decision.compliance, ComplianceStatus::Compliant as i32);
    assert!(decision.position >= ack.position);
    // An unknown device is denied too, so the only flip is to ALLOW, caused by lookout's level.
    let history = env.history("tablet-1").await?;
    let flips: Vec<(u64, i32, i32)> = access_changes(&history)
        .iter()
        .map(|(p, c)| (*p, c.previous_decision, c.current_decision))
        .collect();
    let level_reported_at = reports_of(&history)[2].0;
    assert!(
        matches!(flips.as_slice(), [(p, DENY, ALLOW)] if *p <= ack.position && *p > level_reported_at),
        "one flip, DENY -> ALLOW, when lookout reported a level: {history:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_partners_on_one_platform_worst_level_wins_and_a_missing_one_blocks(
) -> anyhow::Result<()> {
    let mut env = Env::start().await?;
    register_connector_with(&env.core, compliance_connector("lookout")).await?;
    register_connector_with(&env.core, compliance_connector("zimperium")).await?;
    env.create_policy(compliance_policy("mtd", ThreatLevel::Medium))
        .await?;
    env.put_resource(compliant_only_resource("exchange"))
        .await?;

    // (connector, state, expected level, expected decision, connector named by the failure)
    let steps = [
        (
            "lookout",
            HealthState::Secured,
            ThreatLevel::Secured,
            ALLOW,
            "",
        ),
        (
            "zimperium",
            HealthState::HighSeverity,
            ThreatLevel::High,
            DENY,
            "zimperium",
        ),
        (
            "zimperium",
            HealthState::MediumSeverity,
            ThreatLevel::Medium,
            ALLOW,
            "",
        ),
        (
            "lookout",
            HealthState::Compromised,
            ThreatLevel::High,
            DENY,
            "lookout",
        ),
        (
            "lookout",
            HealthState::LowSeverity,
            ThreatLevel::Medium,
            ALLOW,
            "",
        ),
    ];
    for (connector_id, state, level, want, culprit) in steps {
        let threat = format!("t-{connector_id}-{}", state.as_str_name());
        env.send(
            connector_id,
            "phone-2",
            Platform::Android,
            state,
            &[&threat],
        )
        .await?;
        let decision = env.access("phone-2", "exchange").await?;
        let what = format!("after {connector_id} reported {state:?}");
        assert_eq!(
            (decision.decision, decision.level),
            (want, level as i32),
            "{what}: the worst level of both partners decides: {decision:?}"
        );
        if !culprit.is_empty() {
            let compliance = env.compliance("phone-2").await?;
            assert!(
                has_reason(
                    &all_compliance_reasons(&compliance),
                    "threat_level_exceeded",
                    culprit,
                    &[&threat]
                ),
                "{what}: the reason names {culprit} and its threat: {compliance:?}"
            );
        }
    }

    // With block-on-missing on both partners, one partner alone is not enough.
    for id in ["lookout", "zimperium"] {
        let current = env
            .connectors
            .get_connector(GetConnectorRequest {
                connector_id: id.to_owned(),
            })
            .await?
            .into_inner();
        let version = current.version;
        let updated = env
            .connectors
            .update_connector(UpdateConnectorRequest {
                connector: Some(Connector {
                    block_on_missing_partner_data: Some(all_platforms()),
                    ..current
                }),
                expected_version: version,
            })
            .await?
            .into_inner();
        assert_eq!(updated.version, version + 1, "{updated:?}");
    }
    env.send(
        "lookout",
        "phone-3",
        Platform::Android,
        HealthState::Secured,
        &[],
    )
    .await?;
    let compliance = env.compliance("phone-3").await?;
    assert_eq!(
        compliance.status,
        ComplianceStatus::Noncompliant as i32,
        "{compliance:?}"
    );
    assert!(
        has_reason(
            &all_compliance_reasons(&compliance),
            "missing_partner_data",
            "zimperium",
            &[]
        ),
        "the missing partner is named: {compliance:?}"
    );
    assert_eq!(env.access("phone-3", "exchange").await?.decision, DENY);
    env.send(
        "zimperium",
        "phone-3",
        Platform::Android,
        HealthState::LowSeverity,
        &[],
    )
    .await?;
    let decision = env.access("phone-3", "exchange").await?;
    assert_eq!(
        (decision.decision, decision.compliance, decision.level),
        (
            ALLOW,
            ComplianceStatus::Compliant as i32,
            ThreatLevel::Low as i32
        ),
        "both partners have reported: {decision:?}"
    );
    // phone-2 has data from both: still allowed.
    assert_eq!(env.access("phone-2", "exchange").await?.decision, ALLOW);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_changes_re_evaluate_at_once_without_a_new_report() -> anyhow::Result<()> {
    let mut env = Env::start().await?;
    register_connector_with(&env.core, compliance_connector("lookout")).await?;
    let created = env
        .create_policy(compliance_policy("mtd", ThreatLevel::Low))
        .await?;
    assert_eq!(created.version, 1, "{created:?}");
    assert!(created.updated_at.is_some(), "{created:?}");
    let resource = env
        .put_resource(compliant_only_resource("exchange"))
        .await?;

    env.send(
        "lookout",
        "phone-1",
        Platform::Android,
        HealthState::HighSeverity,
        &["t-1"],
    )
    .await?;
    assert_eq!(env.access("phone-1", "exchange").await?.decision, DENY);

    // LOW -> HIGH: allowed, without any new report.
    let head = env.head().await?;
    let updated = env
        .policies
        .update_compliance_policy(UpdateCompliancePolicyRequest {
            policy: Some(compliance_policy("mtd", ThreatLevel::High)),
            expected_version: 1,
        })
        .await?
        .into_inner();
    assert_eq!(
        updated.version, 2,
        "the version goes up by one: {updated:?}"
    );
    assert_eq!(updated.max_threat_level, ThreatLevel::High as i32);
    let decision = env.access("phone-1", "exchange").await?;
    assert_eq!(
        (decision.decision, decision.compliance),
        (ALLOW, ComplianceStatus::Compliant as i32),
        "the policy change re-evaluated the device at once: {decision:?}"
    );
    assert!(decision.position > head, "{decision:?} after head {head}");
    let history = env.history("phone-1").await?;
    assert_eq!(reports_of(&history).len(), 1, "no new report");
    let last_flip = access_changes(&history)
        .last()
        .map(|(position, c)| (*position, c.previous_decision, c.current_decision));
    assert!(
        matches!(last_flip, Some((p, DENY, ALLOW)) if p > head),
        "the flip to ALLOW is logged after the policy change: {history:?}"
    );

    // A stale expected_version is refused and changes nothing.
    let stale = env
        .policies
        .update_compliance_policy(UpdateCompliancePolicyRequest {
            policy: Some(compliance_policy("mtd", ThreatLevel::Low)),
            expected_version: 1,
        })
        .await;
    expect_status(stale, Code::Aborted, "")?;
    let stored = env
        .policies
        .get_compliance_policy(GetByIdRequest {
            id: "mtd".to_owned(),
        })
        .await?
        .into_inner();
    assert_eq!(
        (stored.version, stored.max_threat_level),
        (2, ThreatLevel::High as i32),
        "the refused update changed nothing: {stored:?}"
    );
    assert_eq!(env.access("phone-1", "exchange").await?.decision, ALLOW);

    // Without expected_version the update applies: back to LOW, denied again.
    let again = env
        .policies
        .update_compliance_policy(UpdateCompliancePolicyRequest {
            policy: Some(compliance_policy("mtd", ThreatLevel::Low)),
            expected_version: 0,
        })
        .await?
        .into_inner();
    assert_eq!(again.version, 3, "{again:?}");
    assert_eq!(env.access("phone-1", "exchange").await?.decision, DENY);
    let listed = env
        .policies
        .list_compliance_policies(ListRequest {})
        .await?
        .into_inner()
        .policies;
    assert_eq!(listed, vec![again.clone()], "ListCompliancePolicies");

    // Replacing a resource bumps its version; a resource without rules for the platform allows.
    let replaced = env
        .put_resource(riskgate_tests::api::Resource {
            name: "exchange".to_owned(),
            rules: vec![riskgate_tests::api::AccessRule {
                platforms: vec![Platform::Ios as i32],
                require_compliant_device: true,
                max_threat_level: 0,
            }],
            ..Default::default()
        })
        .await?;
    assert_eq!(replaced.version, resource.version + 1, "{replaced:?}");
    let decision = env.access("phone-1", "exchange").await?;
    assert_eq!(
        decision.decision, ALLOW,
        "no rule applies to Android: {decision:?}"
    );

    // Deleting the resource: CheckAccess is NOT_FOUND.
    env.policies
        .delete_resource(DeleteByIdRequest {
            id: "exchange".to_owned(),
        })
        .await?;
    let gone = env
        .decisions
        .check_access(CheckAccessRequest {
            device_id: "phone-1".to_owned(),
            user_id: String::new(),
            resource: "exchange".to_owned(),
        })
        .await;
    expect_status(gone, Code::NotFound, "exchange")?;

    // Deleting the policy: the device has no policy and is compliant (the default).
    env.policies
        .delete_compliance_policy(DeleteByIdRequest {
            id: "mtd".to_owned(),
        })
        .await?;
    let compliance = env.compliance("phone-1").await?;
    assert_eq!(
        compliance.status,
        ComplianceStatus::Compliant as i32,
        "{compliance:?}"
    );
    assert!(
        has_reason(&all_compliance_reasons(&compliance), "no_policy", "", &[]),
        "{compliance:?}"
    );

    // An unknown device is denied, not an error.
    env.put_resource(compliant_only_resource("sharepoint"))
        .await?;
    let unknown = env.access("never-seen", "sharepoint").await?;
    assert_eq!(unknown.decision, DENY, "{unknown:?}");
    assert!(
        has_reason(
            &unknown.reasons.iter().collect::<Vec<_>>(),
            "device_unknown",
            "",
            &[]
        ),
        "{unknown:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_target_platforms_and_groups_and_skip_excluded_groups() -> anyhow::Result<()> {
    let mut env = Env::start().await?;
    register_connector_with(&env.core, compliance_connector("lookout")).await?;
    env.create_policy(riskgate_tests::api::CompliancePolicy {
        platforms: vec![Platform::Android as i32],
        assignment: Some(riskgate_tests::api::Assignment {
            all_devices: false,
            groups: vec!["sales".to_owned()],
            excluded_groups: vec!["contractors".to_owned()],
        }),
        ..compliance_policy("android-sales", ThreatLevel::Low)
    })
    .await?;
    env.put_resource(compliant_only_resource("exchange"))
        .await?;

    // (device, platform, groups, targeted)
    let devices = [
        ("sales-android", Platform::Android, vec!["sales"], true),
        ("sales-ios", Platform::Ios, vec!["sales"], false),
        ("hr-android", Platform::Android, vec!["hr"], false),
        (
            "contractor-android",
            Platform::Android,
            vec!["sales", "contractors"],
            false,
        ),
    ];
    for (device, platform, groups, targeted) in devices {
        let mut sent = env.next_report(device, platform, HealthState::HighSeverity);
        sent.groups = groups.iter().map(|g| (*g).to_owned()).collect();
        env.send_report("lookout", sent).await?;
        let compliance = env.compliance(device).await?;
        let policies: Vec<&str> = compliance
            .policies
            .iter()
            .map(|p| p.policy_id.as_str())
            .collect();
        let decision = env.access(device, "exchange").await?;
        if targeted {
            assert_eq!(policies, ["android-sales"], "{device}: {compliance:?}");
            assert_eq!(decision.decision, DENY, "{device}: {decision:?}");
        } else {
            assert!(
                policies.is_empty(),
                "{device} is not targeted: {compliance:?}"
            );
            assert_eq!(
                (compliance.status, decision.decision),
                (ComplianceStatus::Compliant as i32, ALLOW),
                "{device}: no policy, compliant by default: {compliance:?}"
            );
        }
    }
    Ok(())
}
