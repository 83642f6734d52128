//! The happy path: the demo plugin streams into the core, acknowledgements flow back, the host
//! heartbeats, stops within its deadline on SIGTERM, and a restarted host resumes at the checkpoint.

use std::time::Duration;

use riskgate_proto::v1 as api;

use crate::support::{artifacts, config_file, sha256_file, start_host, wait_until, Core, WAIT};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_plugin_streams_every_batch_and_a_restart_resumes_after_the_checkpoint(
) -> anyhow::Result<()> {
    let core = Core::start().await?;
    core.create_connector("demo").await?;
    let dir = tempfile::tempdir()?;
    let plugin = artifacts().plugin("demo_connector");
    let sha = sha256_file(plugin);

    // A finite feed: 50 events in batches of 5; the host exits 0 once all are acknowledged.
    let config = config_file(
        dir.path(),
        "demo.json",
        r#"{"devices": 5, "batch_size": 5, "interval_ms": 0, "total_events": 50}"#,
    );
    let mut host = start_host(&core, "demo", plugin, &sha, &config, &[])?;
    let status = host.wait_exit(WAIT).await?;
    assert_eq!(
        status.code(),
        Some(0),
        "host output:\n{}",
        host.output.text()
    );
    let checkpoint = core.checkpoint("demo").await?.expect("a checkpoint");
    assert_eq!(checkpoint.batch_seq, 10);
    assert_eq!(checkpoint.checkpoint, b"50");
    assert_eq!(core.device_count().await?, 5);
    let device = core.device("demo-device-0").await?;
    assert_eq!(device.reports[0].connector_id, "demo");
    assert_eq!(device.reports[0].vendor_event_id, "demo-event-45");

    // The connector went live through the heartbeats.
    let connector = core.connector("demo").await?;
    assert!(connector.last_heartbeat.is_some());
    assert!(
        [
            api::ConnectorState::Available as i32,
            api::ConnectorState::Enabled as i32
        ]
        .contains(&connector.state),
        "state {:?}",
        connector.state
    );

    // Raise the end of the feed: the restarted plugin gets checkpoint "50" and continues from event 50.
    let config = config_file(
        dir.path(),
        "demo.json",
        r#"{"devices": 5, "batch_size": 5, "interval_ms": 0, "total_events": 80}"#,
    );
    let mut host = start_host(&core, "demo", plugin, &sha, &config, &[])?;
    let status = host.wait_exit(WAIT).await?;
    assert_eq!(
        status.code(),
        Some(0),
        "host output:\n{}",
        host.output.text()
    );
    let checkpoint = core.checkpoint("demo").await?.expect("a checkpoint");
    assert_eq!(
        checkpoint.batch_seq, 16,
        "batch numbers continue from the checkpoint"
    );
    assert_eq!(checkpoint.checkpoint, b"80");
    let device = core.device("demo-device-0").await?;
    assert_eq!(device.reports[0].vendor_event_id, "demo-event-75");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_stops_within_its_deadline_on_sigterm_and_keeps_what_was_acknowledged(
) -> anyhow::Result<()> {
    let core = Core::start().await?;
    core.create_connector("demo-term").await?;
    let dir = tempfile::tempdir()?;
    let plugin = artifacts().plugin("demo_connector");
    let config = config_file(
        dir.path(),
        "demo.json",
        r#"{"devices": 3, "batch_size": 2, "interval_ms": 10}"#,
    );
    let mut host = start_host(
        &core,
        "demo-term",
        plugin,
        &sha256_file(plugin),
        &config,
        &[],
    )?;
    wait_until(WAIT, "five batches are acknowledged", || async {
        core.batch_seq("demo-term").await >= 5
    })
    .await?;

    let (status, took) = host.terminate(WAIT).await?;
    assert_eq!(
        status.code(),
        Some(0),
        "host output:\n{}",
        host.output.text()
    );
    assert!(
        took < Duration::from_secs(4),
        "stop took {took:?}, deadline 3s"
    );
    let acked = core.checkpoint("demo-term").await?.expect("a checkpoint");
    let events: u64 = std::str::from_utf8(&acked.checkpoint)?.parse()?;
    assert_eq!(
        events,
        acked.batch_seq * 2,
        "the checkpoint is that of the last acknowledged batch"
    );
    core.assert_serving().await?;
    Ok(())
}
