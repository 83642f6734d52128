//! Replays are idempotent: a re-sent acknowledged batch is a DUPLICATE, re-sent reports under a new
//! batch number are counted as duplicates, and older observations are counted as stale; none of them
//! changes the stored state.

use riskgate_tests::{
    api::{BatchOutcome, HealthState, Platform},
    batch, ingest, register_connector, report,
    rpc::{full_history, get_checkpoint, get_device, snapshot, store_info},
    ts, unix_now, CoreProcess,
};
use tempfile::tempdir;

use crate::support::check_applied;

const CONNECTOR: &str = "vendor-r";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resent_acknowledged_batch_is_duplicate_and_changes_nothing() -> anyhow::Result<()> {
    let dir = tempdir()?;
    let core = CoreProcess::start(dir.path(), &[]).await;
    let mut ingest_client = core.ingest_client().await?;
    register_connector(&core, CONNECTOR).await?;
    let mut devices = core.device_client().await?;
    let t0 = unix_now() - 3600;

    let first = batch(
        CONNECTOR,
        1,
        b"cursor-1",
        vec![
            report("dev-1", Platform::Android, HealthState::Secured, ts(t0)),
            report("dev-2", Platform::Ios, HealthState::HighSeverity, ts(t0)),
            report("dev-3", Platform::Windows, HealthState::LowSeverity, ts(t0)),
        ],
    );
    let acks = ingest(&mut ingest_client, vec![first.clone()]).await?;
    check_applied(&acks[0], 1, 3)?;
    let before = snapshot(core.channel().await?, &[CONNECTOR]).await?;
    let head = before.info.head_position;
    assert_eq!(
        acks[0].position, head,
        "the ack carries the position of the batch's last event"
    );
    assert!(head >= 3, "3 reports applied, head {head}");

    // The same batch again, on a new stream.
    let acks = ingest(&mut ingest_client, vec![first.clone()]).await?;
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0].batch_seq, 1);
    assert_eq!(
        acks[0].outcome,
        BatchOutcome::Duplicate as i32,
        "{:?}",
        acks[0]
    );
    assert_eq!(acks[0].applied, 0, "{:?}", acks[0]);
    assert_eq!(
        acks[0].position, head,
        "a batch that writes nothing acknowledges the head position"
    );
    assert_eq!(
        snapshot(core.channel().await?, &[CONNECTOR]).await?,
        before,
        "a DUPLICATE changes nothing"
    );

    // The same number with different content is still a duplicate: the new device and the new
    // checkpoint are not stored.
    let impostor = batch(
        CONNECTOR,
        1,
        b"other-cursor",
        vec![report(
            "dev-new",
            Platform::Android,
            HealthState::Compromised,
            ts(t0 + 10),
        )],
    );
    let acks = ingest(&mut ingest_client, vec![impostor]).await?;
    assert_eq!(
        acks[0].outcome,
        BatchOutcome::Duplicate as i32,
        "{:?}",
        acks[0]
    );
    assert_eq!(
        get_device(&mut devices, "dev-new").await?,
        None,
        "a duplicate batch's report is not applied"
    );
    assert_eq!(snapshot(core.channel().await?, &[CONNECTOR]).await?, before);

    // On one stream: a new batch, a replay of batch 1, a replay of batch 2, another new batch.
    let second = batch(
        CONNECTOR,
        2,
        b"cursor-2",
        vec![report(
            "dev-4",
            Platform::Android,
            HealthState::Secured,
            ts(t0),
        )],
    );
    let third = batch(
        CONNECTOR,
        3,
        b"cursor-3",
        vec![report(
            "dev-5",
            Platform::Android,
            HealthState::Secured,
            ts(t0),
        )],
    );
    let acks = ingest(
        &mut ingest_client,
        vec![second.clone(), first.clone(), second.clone(), third],
    )
    .await?;
    let outcomes: Vec<(u64, i32, u32)> = acks
        .iter()
        .map(|a| (a.batch_seq, a.outcome, a.applied))
        .collect();
    let (applied, duplicate) = (BatchOutcome::Applied as i32, BatchOutcome::Duplicate as i32);
    assert_eq!(
        outcomes,
        [
            (2, applied, 1),
            (1, duplicate, 0),
            (2, duplicate, 0),
            (3, applied, 1)
        ]
    );
    let positions: Vec<u64> = acks.iter().map(|a| a.position).collect();
    assert!(
        positions[0] > head
            && positions[1] == positions[0]
            && positions[2] == positions[0]
            && positions[3] > positions[0],
        "applied batches move the head, replays acknowledge it unchanged: {positions:?} after head {head}"
    );
    let checkpoint = get_checkpoint(&mut ingest_client, CONNECTOR)
        .await?
        .expect("checkpoint");
    assert_eq!(
        (checkpoint.batch_seq, checkpoint.checkpoint.as_slice()),
        (3, &b"cursor-3"[..])
    );
    assert_eq!(
        store_info(&mut devices).await?.head_position,
        positions[3],
        "the head is the last applied batch's last event"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_reports_under_new_batch_seq_are_counted_as_duplicates() -> anyhow::Result<()> {
    let dir = tempdir()?;
    let core = CoreProcess::start(dir.path(), &[]).await;
    let mut ingest_client = core.ingest_client().await?;
    register_connector(&core, CONNECTOR).await?;
    let t0 = unix_now() - 3600;

    let reports = vec![
        report("dev-1", Platform::Android, HealthState::Secured, ts(t0)),
        report(
            "dev-2",
            Platform::Ios,
            HealthState::MediumSeverity,
            ts(t0 + 1),
        ),
        report(
            "dev-3",
            Platform::Macos,
            HealthState::Compromised,
            ts(t0 + 2),
        ),
    ];
    let acks = ingest(
        &mut ingest_client,
        vec![batch(CONNECTOR, 1, b"cursor-1", reports.clone())],
    )
    .await?;
    check_applied(&acks[0], 1, 3)?;
    let before = snapshot(core.channel().await?, &[]).await?;

    let acks = ingest(
        &mut ingest_client,
        vec![batch(CONNECTOR, 2, b"cursor-2", reports)],
    )
    .await?;
    let ack = acks[0];
    assert_eq!(ack.batch_seq, 2);
    assert_eq!(
        ack.outcome,
        BatchOutcome::Applied as i32,
        "a new batch number is not a DUPLICATE batch: {ack:?}"
    );
    assert_eq!(
        (ack.applied, ack.stale, ack.duplicates),
        (0, 0, 3),
        "every report is a duplicate: {ack:?}"
    );
    assert_eq!(
        ack.position, before.info.head_position,
        "nothing written: the head position"
    );
    assert_eq!(
        snapshot(core.channel().await?, &[]).await?,
        before,
        "devices, histories and head are unchanged"
    );
    // The batch itself was acknowledged, so it is the connector's checkpoint now.
    let checkpoint = get_checkpoint(&mut ingest_client, CONNECTOR)
        .await?
        .expect("checkpoint");
    assert_eq!(
        (checkpoint.batch_seq, checkpoint.checkpoint.as_slice()),
        (2, &b"cursor-2"[..])
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn older_observed_at_is_stale_and_does_not_change_device() -> anyhow::Result<()> {
    let dir = tempdir()?;
    let core = CoreProcess::start(dir.path(), &[]).await;
    let mut ingest_client = core.ingest_client().await?;
    register_connector(&core, CONNECTOR).await?;
    let mut devices = core.device_client().await?;
    let t0 = unix_now() - 3600;

    let current = report(
        "dev-1",
        Platform::Android,
        HealthState::MediumSeverity,
        ts(t0 + 100),
    );
    let acks = ingest(
        &mut ingest_client,
        vec![batch(CONNECTOR, 1, b"", vec![current.clone()])],
    )
    .await?;
    check_applied(&acks[0], 1, 1)?;
    let before = snapshot(core.channel().await?, &[]).await?;

    // Older, with a new event id: stale.
    let older = report(
        "dev-1",
        Platform::Ios,
        HealthState::HighSeverity,
        ts(t0 + 50),
    );
    let acks = ingest(
        &mut ingest_client,
        vec![batch(CONNECTOR, 2, b"", vec![older.clone()])],
    )
    .await?;
    let ack = acks[0];
    assert_eq!(ack.outcome, BatchOutcome::Applied as i32, "{ack:?}");
    assert_eq!(
        (ack.applied, ack.stale, ack.duplicates),
        (0, 1, 0),
        "the older report is stale: {ack:?}"
    );
    assert_eq!(
        ack.position, before.info.head_position,
        "nothing written: the head position"
    );
    assert_eq!(
        snapshot(core.channel().await?, &[]).await?,
        before,
        "a stale report changes nothing"
    );

    // Staleness is per (device, connector): another connector's older report is applied.
    register_connector(&core, "vendor-other").await?;
    let acks = ingest(
        &mut ingest_client,
        vec![batch("vendor-other", 1, b"", vec![older])],
    )
    .await?;
    check_applied(&acks[0], 1, 1)?;

    // Only strictly older is stale: the same observed_at with a new event id is applied.
    let same_time = report(
        "dev-1",
        Platform::Android,
        HealthState::LowSeverity,
        ts(t0 + 100),
    );
    let acks = ingest(
        &mut ingest_client,
        vec![batch(CONNECTOR, 3, b"", vec![same_time.clone()])],
    )
    .await?;
    check_applied(&acks[0], 3, 1)?;
    let device = get_device(&mut devices, "dev-1").await?.expect("dev-1");
    let ours = device
        .reports
        .iter()
        .find(|r| r.connector_id == CONNECTOR)
        .expect("report");
    assert_eq!(ours.vendor_event_id, same_time.vendor_event_id);
    assert_eq!(ours.health_state, HealthState::LowSeverity as i32);

    // A mixed batch: one new, one duplicate, one stale.
    let head = store_info(&mut devices).await?.head_position;
    let acks = ingest(
        &mut ingest_client,
        vec![batch(
            CONNECTOR,
            4,
            b"",
            vec![
                report("dev-2", Platform::Android, HealthState::Secured, ts(t0)),
                same_time,
                report(
                    "dev-1",
                    Platform::Android,
                    HealthState::Secured,
                    ts(t0 + 99),
                ),
            ],
        )],
    )
    .await?;
    let ack = acks[0];
    assert_eq!(
        (ack.applied, ack.duplicates, ack.stale),
        (1, 1, 1),
        "{ack:?}"
    );
    assert!(
        ack.position > head,
        "the applied report moves the head: {ack:?}, head before {head}"
    );
    assert_eq!(store_info(&mut devices).await?.head_position, ack.position);
    let (events, _) = full_history(&mut devices, "dev-1", 100).await?;
    assert!(
        events.iter().all(|e| e.position <= head),
        "the duplicate and the stale report add nothing to dev-1's history: {events:?}"
    );
    Ok(())
}
