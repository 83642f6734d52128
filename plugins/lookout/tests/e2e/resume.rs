//! A restarted connector resumes from the acknowledged checkpoint: what happened while it was down
//! reaches the core, and no vendor event shows up twice.

use std::collections::HashSet;

use riskgate_proto::v1 as api;
use serde_json::json;

use crate::support::{plugin_config, start_sim, wait_health, Core, Host, WAIT};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_connector_resumes_from_the_checkpoint_without_loss_or_duplicates(
) -> anyhow::Result<()> {
    let sim = start_sim(&[]).await?;
    for id in ["a", "b", "c"] {
        sim.add_device(id, "ANDROID").await?;
    }
    let core = Core::start().await?;
    core.create_compliance_connector("lookout").await?;
    let config = plugin_config(&sim, json!({}));
    let mut host = Host::start(&core, "lookout", &config)?;
    wait_health(&core, "c", api::HealthState::Secured).await?;
    sim.admin(
        "infect",
        json!({"device": "a", "vendor": "lookout", "severity": "HIGH"}),
    )
    .await?;
    wait_health(&core, "a", api::HealthState::HighSeverity).await?;
    host.proc.terminate(WAIT).await?;

    // While the connector is down: a remediation, a new infection and a state change.
    sim.admin("remediate", json!({"device": "a", "vendor": "lookout"}))
        .await?;
    sim.admin(
        "infect",
        json!({"device": "b", "vendor": "lookout", "severity": "MEDIUM"}),
    )
    .await?;
    sim.admin(
        "device-state",
        json!({"device": "c", "protection_status": "DISCONNECTED"}),
    )
    .await?;
    let connections_before = sim.counter("stream_connections").await;

    let host = Host::start(&core, "lookout", &config)?;
    wait_health(&core, "a", api::HealthState::Secured).await?;
    wait_health(&core, "b", api::HealthState::MediumSeverity).await?;
    wait_health(&core, "c", api::HealthState::Unresponsive).await?;
    assert!(sim.counter("stream_connections").await > connections_before);
    assert!(
        host.proc
            .output
            .text()
            .contains("resuming the event stream after Some("),
        "the second start resumed from a stream id instead of syncing again"
    );

    for id in ["a", "b", "c"] {
        let reports = core.reports(id).await?;
        let ids: Vec<&str> = reports.iter().map(|r| r.vendor_event_id.as_str()).collect();
        let unique: HashSet<&str> = ids.iter().copied().collect();
        assert_eq!(
            unique.len(),
            ids.len(),
            "{id}: a vendor event applied twice: {ids:?}"
        );
        assert_eq!(
            ids.iter().filter(|i| i.starts_with("sync-")).count(),
            1,
            "{id}: exactly one sync report: {ids:?}"
        );
    }
    // a: sync, infection, remediation. b: sync, infection. c: sync, disconnection.
    assert_eq!(core.reports("a").await?.len(), 3);
    assert_eq!(core.reports("b").await?.len(), 2);
    assert_eq!(core.reports("c").await?.len(), 2);
    Ok(())
}
