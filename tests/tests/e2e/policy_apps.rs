//! App protection (unenrolled devices): BLOCK and WIPE above the allowed level, ALLOW again after
//! remediation, and the Defender-versus-third-party partner priority.

use riskgate_tests::{
    admin::{all_platforms, check_app, connector},
    api::{
        AppAction, AppDecision, AppProtectionPolicy, Connector, CreateConnectorRequest,
        HealthState, PartnerKind, PartnerPriority, Platform, PlatformToggles, ThreatLevel,
    },
    events::app_changes,
    expect_status, register_connector_with,
};
use tonic::Code;

use crate::policy_support::{has_reason, Env};

const MAIL: &str = "com.corp.mail";
const DOCS: &str = "com.corp.docs";

fn app_policy(
    policy_id: &str,
    app_id: &str,
    action: AppAction,
    priority: PartnerPriority,
) -> AppProtectionPolicy {
    AppProtectionPolicy {
        policy_id: policy_id.to_owned(),
        app_ids: vec![app_id.to_owned()],
        max_threat_level: ThreatLevel::Low as i32,
        action: action as i32,
        partner_priority: priority as i32,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_protection_blocks_or_wipes_above_the_level_and_allows_after_remediation(
) -> anyhow::Result<()> {
    let mut env = Env::start().await?;
    register_connector_with(
        &env.core,
        Connector {
            app_protection_enabled: Some(all_platforms()),
            ..connector("lookout")
        },
    )
    .await?;
    env.policies
        .put_app_protection_policy(app_policy(
            "mail-block",
            MAIL,
            AppAction::Block,
            PartnerPriority::Unspecified,
        ))
        .await?;
    env.policies
        .put_app_protection_policy(app_policy(
            "docs-wipe",
            DOCS,
            AppAction::Wipe,
            PartnerPriority::Unspecified,
        ))
        .await?;

    // byod-1 is secured at first, then infected.
    env.send(
        "lookout",
        "byod-1",
        Platform::Android,
        HealthState::Secured,
        &[],
    )
    .await?;
    for app in [MAIL, DOCS] {
        let decision = check_app(&mut env.decisions, "byod-1", app).await?;
        assert_eq!(
            decision.decision,
            AppDecision::Allow as i32,
            "{app}: {decision:?}"
        );
    }
    env.send(
        "lookout",
        "byod-1",
        Platform::Android,
        HealthState::HighSeverity,
        &["t-spy"],
    )
    .await?;
    let ack = env
        .send(
            "lookout",
            "byod-2",
            Platform::Android,
            HealthState::Secured,
            &[],
        )
        .await?;
    // (device, app, decision, policy)
    let expected = [
        ("byod-1", MAIL, AppDecision::Block, "mail-block"),
        ("byod-1", DOCS, AppDecision::Wipe, "docs-wipe"),
        ("byod-2", MAIL, AppDecision::Allow, "mail-block"),
        ("byod-2", DOCS, AppDecision::Allow, "docs-wipe"),
    ];
    for (device, app, want, policy) in expected {
        let decision = check_app(&mut env.decisions, device, app).await?;
        assert_eq!(
            (
                decision.decision,
                decision.policy_id.as_str(),
                decision.connector_id.as_str()
            ),
            (want as i32, policy, "lookout"),
            "{app} on {device}: {decision:?}"
        );
        assert!(decision.position >= ack.position, "{decision:?}");
        if want != AppDecision::Allow {
            assert!(
                has_reason(
                    &decision.reasons.iter().collect::<Vec<_>>(),
                    "threat_level_exceeded",
                    "lookout",
                    &["t-spy"]
                ),
                "{app} on {device}: {decision:?}"
            );
        }
    }
    // An app no policy covers starts.
    let other = check_app(&mut env.decisions, "byod-1", "com.example.game").await?;
    assert_eq!(other.decision, AppDecision::Allow as i32, "{other:?}");
    assert!(
        has_reason(
            &other.reasons.iter().collect::<Vec<_>>(),
            "no_app_policy",
            "",
            &[]
        ),
        "{other:?}"
    );

    // Remediated: both apps are allowed again, and the history says so.
    env.send_remediated("lookout", "byod-1", Platform::Android, &["t-spy"])
        .await?;
    for app in [MAIL, DOCS] {
        let decision = check_app(&mut env.decisions, "byod-1", app).await?;
        assert_eq!(
            decision.decision,
            AppDecision::Allow as i32,
            "{app} after remediation: {decision:?}"
        );
    }
    let history = env.history("byod-1").await?;
    for (policy, bad) in [
        ("mail-block", AppDecision::Block),
        ("docs-wipe", AppDecision::Wipe),
    ] {
        let changes: Vec<(i32, i32)> = app_changes(&history)
            .iter()
            .filter(|(_, c)| c.policy_id == policy)
            .map(|(_, c)| (c.previous_decision, c.current_decision))
            .collect();
        let (allow, blocked) = (AppDecision::Allow as i32, bad as i32);
        assert!(
            changes.ends_with(&[(allow, blocked), (blocked, allow)]),
            "{policy}: app_protection_change to {bad:?} when infected, back to ALLOW when remediated: {changes:?}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_protection_uses_defender_or_the_third_party_by_priority() -> anyhow::Result<()> {
    let mut env = Env::start().await?;
    register_connector_with(
        &env.core,
        Connector {
            app_protection_enabled: Some(all_platforms()),
            ..connector("lookout")
        },
    )
    .await?;
    register_connector_with(
        &env.core,
        Connector {
            kind: PartnerKind::MicrosoftDefender as i32,
            app_protection_enabled: Some(all_platforms()),
            ..connector("defender")
        },
    )
    .await?;
    // Per platform, at most one third-party partner for app protection.
    let second = env
        .connectors
        .create_connector(CreateConnectorRequest {
            connector: Some(Connector {
                app_protection_enabled: Some(PlatformToggles {
                    ios: true,
                    ..Default::default()
                }),
                ..connector("zimperium")
            }),
        })
        .await;
    expect_status(second, Code::FailedPrecondition, "lookout")?;

    env.policies
        .put_app_protection_policy(app_policy(
            "defender-first",
            MAIL,
            AppAction::Block,
            PartnerPriority::DefenderOverThirdParty,
        ))
        .await?;
    env.policies
        .put_app_protection_policy(app_policy(
            "third-party-first",
            DOCS,
            AppAction::Wipe,
            PartnerPriority::ThirdPartyOverDefender,
        ))
        .await?;

    // byod-1: lookout says HIGH, Defender says SECURED. byod-2: the other way round.
    env.send(
        "lookout",
        "byod-1",
        Platform::Ios,
        HealthState::HighSeverity,
        &["t-l"],
    )
    .await?;
    env.send(
        "defender",
        "byod-1",
        Platform::Ios,
        HealthState::Secured,
        &[],
    )
    .await?;
    env.send(
        "lookout",
        "byod-2",
        Platform::Ios,
        HealthState::Secured,
        &[],
    )
    .await?;
    env.send(
        "defender",
        "byod-2",
        Platform::Ios,
        HealthState::HighSeverity,
        &["t-d"],
    )
    .await?;
    let expected = [
        ("byod-1", MAIL, AppDecision::Allow, "defender"),
        ("byod-1", DOCS, AppDecision::Wipe, "lookout"),
        ("byod-2", MAIL, AppDecision::Block, "defender"),
        ("byod-2", DOCS, AppDecision::Allow, "lookout"),
    ];
    for (device, app, want, partner) in expected {
        let decision = check_app(&mut env.decisions, device, app).await?;
        assert_eq!(
            (decision.decision, decision.connector_id.as_str()),
            (want as i32, partner),
            "{app} on {device} decided by {partner}: {decision:?}"
        );
    }

    // With Defender gone, the Defender-first policy falls back to the third party.
    env.connectors
        .delete_connector(riskgate_tests::api::DeleteConnectorRequest {
            connector_id: "defender".to_owned(),
        })
        .await?;
    let decision = check_app(&mut env.decisions, "byod-1", MAIL).await?;
    assert_eq!(
        (decision.decision, decision.connector_id.as_str()),
        (AppDecision::Block as i32, "lookout"),
        "{decision:?}"
    );
    Ok(())
}
