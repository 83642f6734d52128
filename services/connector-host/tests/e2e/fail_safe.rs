//! A failing connector keeps its evidence (issue 15, point 2): a plugin that reports devices HIGH and then
//! crashes leaves them denied while its host restarts, once the supervisor quarantines it, and past the
//! connector's unresponsiveness threshold, checked with the core's manual clock.

use std::{sync::Mutex, time::Duration};

use riskgate_proto::v1 as api;
use riskgate_tests::admin::{
    advance_clock, check_access, compliance_connector, compliance_policy, compliant_only_resource,
    MANUAL_CLOCK,
};

use crate::support::{
    artifacts, config_file, sha256_file, start_supervisor, supervisor_config, wait_until, Core,
    Supervised, WAIT,
};

/// A device the faulty plugin's first good batch reports.
const DEVICE: &str = "faulty-device-0";

async fn exchange(core: &Core) -> anyhow::Result<api::Decision> {
    let mut client =
        api::decision_service_client::DecisionServiceClient::new(core.channel().await?);
    let answer = check_access(&mut client, DEVICE, "exchange").await?;
    Ok(api::Decision::try_from(answer.decision)?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashing_plugins_high_devices_stay_denied_through_restarts_quarantine_and_silence(
) -> anyhow::Result<()> {
    let core = Core::start_with(&[MANUAL_CLOCK]).await?;
    let channel = core.channel().await?;
    api::connector_service_client::ConnectorServiceClient::new(channel.clone())
        .create_connector(api::CreateConnectorRequest {
            connector: Some(compliance_connector("crashy")),
        })
        .await?;
    let mut policies = api::policy_service_client::PolicyServiceClient::new(channel.clone());
    policies
        .create_compliance_policy(compliance_policy("max-low", api::ThreatLevel::Low))
        .await?;
    policies
        .put_resource(compliant_only_resource("exchange"))
        .await?;

    let dir = tempfile::tempdir()?;
    let faulty = artifacts().plugin("faulty_connector");
    let abort = config_file(
        dir.path(),
        "abort.json",
        r#"{"fault": "abort", "good_batches": 1, "health_state": "HIGH_SEVERITY"}"#,
    );
    let config = supervisor_config(
        dir.path(),
        &core,
        &[Supervised {
            id: "crashy",
            plugin: faulty,
            sha256: sha256_file(faulty),
            config: &abort,
        }],
    );
    let mut supervisor = start_supervisor(&config)?;

    wait_until(WAIT, "the HIGH device is denied", || async {
        matches!(exchange(&core).await, Ok(api::Decision::Deny))
    })
    .await?;

    // Every answer from here until the quarantine, through each crash and restart, must be a deny.
    let answers = Mutex::new(Vec::new());
    let last = Mutex::new(api::Connector::default());
    wait_until(WAIT, "the crash loop is quarantined", || async {
        let answer = exchange(&core).await.ok();
        answers.lock().unwrap().push(answer);
        let connector = core.connector("crashy").await.unwrap_or_default();
        let quarantined = connector.error_message.starts_with("quarantined:");
        *last.lock().unwrap() = connector;
        quarantined
    })
    .await
    .map_err(|e| {
        anyhow::anyhow!(
            "{e}; last {:?}\n{}",
            last.lock().unwrap(),
            supervisor.output.text()
        )
    })?;
    let answers = answers.into_inner().unwrap();
    assert!(
        answers
            .iter()
            .all(|answer| *answer == Some(api::Decision::Deny)),
        "a restarting connector's HIGH device must stay denied: {answers:?}"
    );
    assert_eq!(
        last.into_inner().unwrap().state,
        api::ConnectorState::Error as i32
    );
    assert_eq!(exchange(&core).await?, api::Decision::Deny, "quarantined");

    // Past the unresponsiveness threshold (7 days by default) the known HIGH still counts.
    let mut clock = api::clock_service_client::ClockServiceClient::new(channel);
    advance_clock(&mut clock, Duration::from_secs(8 * 24 * 3600)).await?;
    let connector = core.connector("crashy").await?;
    assert_eq!(
        connector.state,
        api::ConnectorState::Unresponsive as i32,
        "{connector:?}"
    );
    assert_eq!(exchange(&core).await?, api::Decision::Deny, "unresponsive");

    let (status, _) = supervisor.terminate(WAIT).await?;
    assert_eq!(status.code(), Some(0), "{}", supervisor.output.text());
    Ok(())
}
