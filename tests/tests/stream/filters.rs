//! Each subscription filter field alone selects exactly the events it names.

use riskgate_proto::v1::{EventKind, HealthState, Platform, SubscriptionFilter, ThreatLevel};
use riskgate_tests::{
    admin::{compliance_connector, compliance_policy, compliant_only_resource},
    batch, ingest, now, register_connector_with, report,
};

use crate::support::{read_snapshot, read_until, subscribe};

/// Everything each filter saw, as (kind, device id).
type Seen = Vec<(&'static str, String)>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_filter_field_alone_selects_only_its_events() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let core = riskgate_tests::CoreProcess::start(dir.path(), &[]).await;
    register_connector_with(&core, compliance_connector("mtd")).await?;
    let mut policies = core.policy_client().await?;
    policies
        .create_compliance_policy(compliance_policy("low-only", ThreatLevel::Low))
        .await?;
    policies
        .put_resource(compliant_only_resource("exchange"))
        .await?;
    policies
        .put_resource(compliant_only_resource("wifi"))
        .await?;

    let filters: Vec<(&str, SubscriptionFilter)> = vec![
        (
            "device_ids",
            SubscriptionFilter {
                device_ids: vec!["alice-phone".into()],
                ..Default::default()
            },
        ),
        (
            "user_ids",
            SubscriptionFilter {
                user_ids: vec!["bob".into()],
                ..Default::default()
            },
        ),
        (
            "groups",
            SubscriptionFilter {
                groups: vec!["sales".into()],
                ..Default::default()
            },
        ),
        (
            "platforms",
            SubscriptionFilter {
                platforms: vec![Platform::Windows as i32],
                ..Default::default()
            },
        ),
        (
            "kinds",
            SubscriptionFilter {
                kinds: vec![EventKind::DeviceComplianceChange as i32],
                ..Default::default()
            },
        ),
        (
            "min_level",
            SubscriptionFilter {
                min_level: ThreatLevel::High as i32,
                ..Default::default()
            },
        ),
        (
            "resources",
            SubscriptionFilter {
                resources: vec!["wifi".into()],
                kinds: vec![EventKind::AccessDecisionChange as i32],
                ..Default::default()
            },
        ),
    ];
    let mut streams = Vec::new();
    for (name, filter) in &filters {
        let mut stream = subscribe(&core, filter.clone(), "", 100).await?;
        read_snapshot(&mut stream).await?;
        streams.push((*name, stream));
    }

    let device =
        |id: &str, platform: Platform, owner: &str, groups: &[&str], health: HealthState| {
            let mut r = report(id, platform, health, now());
            r.owner_user_id = owner.into();
            r.groups = groups.iter().map(|g| (*g).to_owned()).collect();
            r
        };
    let reports = vec![
        device(
            "alice-phone",
            Platform::Ios,
            "alice",
            &["eng"],
            HealthState::Secured,
        ),
        device(
            "bob-laptop",
            Platform::Windows,
            "bob",
            &["sales"],
            HealthState::HighSeverity,
        ),
        device(
            "carol-tablet",
            Platform::Android,
            "carol",
            &["eng"],
            HealthState::MediumSeverity,
        ),
    ];
    let mut ingest_client = core.ingest_client().await?;
    let head = ingest(&mut ingest_client, vec![batch("mtd", 1, b"cp", reports)]).await?[0].position;

    for (name, mut stream) in streams {
        let seen: Seen = read_until(&mut stream, head)
            .await?
            .into_iter()
            .map(|(_, kind, device, _)| (kind, device))
            .collect();
        assert!(!seen.is_empty(), "{name} saw nothing");
        let all = |pred: &dyn Fn(&(&'static str, String)) -> bool| seen.iter().all(pred);
        match name {
            "device_ids" => assert!(all(&|(_, d)| d == "alice-phone"), "{name}: {seen:?}"),
            "user_ids" | "platforms" | "min_level" | "groups" => {
                assert!(all(&|(_, d)| d == "bob-laptop"), "{name}: {seen:?}")
            }
            "kinds" => {
                assert!(
                    all(&|(k, _)| *k == "device_compliance_change"),
                    "{name}: {seen:?}"
                );
                assert_eq!(
                    seen.len(),
                    3,
                    "one compliance change per new device: {seen:?}"
                );
            }
            "resources" => {
                assert!(
                    all(&|(k, _)| *k == "access_decision_change"),
                    "{name}: {seen:?}"
                );
                // Only the compliant device flips from deny (unknown) to allow; only its wifi flip is selected.
                assert_eq!(
                    seen,
                    vec![("access_decision_change", "alice-phone".to_owned())]
                );
            }
            _ => unreachable!(),
        }
    }
    Ok(())
}
