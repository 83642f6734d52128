//! Cursors: resuming, surviving restarts, refusing forged and foreign cursors, and retention.

use std::time::Duration;

use base64::Engine;
use riskgate_proto::v1::{
    subscribe_response::Message, HealthState, Platform, SubscriptionFilter, ThreatCategory,
    ThreatLevel,
};
use riskgate_tests::{batch, ingest, now, report, rpc::store_info, wait_until};
use tonic::Code;

use crate::support::{
    next_message, read_snapshot, read_until, report_once, start_core, subscribe, CONNECTOR,
};

const OLDEST_TRAILER: &str = "riskgate-oldest-position";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_from_a_cursor_delivers_exactly_what_came_after_it() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let core = start_core(dir.path(), &[]).await?;
    let mut stream = subscribe(&core, SubscriptionFilter::default(), "", 0).await?;
    read_snapshot(&mut stream).await?;
    let first = report_once(&core, 1, "phone", HealthState::Secured).await?;
    let seen = read_until(&mut stream, first).await?;
    let cursor = seen.last().unwrap().3.clone();
    drop(stream);
    let second = report_once(&core, 2, "phone", HealthState::HighSeverity).await?;
    let mut resumed = subscribe(&core, SubscriptionFilter::default(), &cursor, 0).await?;
    let events = read_until(&mut resumed, second).await?;
    let positions: Vec<u64> = events.iter().map(|e| e.0).collect();
    assert_eq!(
        positions,
        (first + 1..=second).collect::<Vec<_>>(),
        "no snapshot, no repeat, no gap"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursors_handed_out_before_a_restart_stay_valid_after_it() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut core = start_core(dir.path(), &[]).await?;
    let mut stream = subscribe(&core, SubscriptionFilter::default(), "", 0).await?;
    let (_, cursor, position) = read_snapshot(&mut stream).await?;
    drop(stream);
    let before_restart = report_once(&core, 1, "phone", HealthState::LowSeverity).await?;
    assert!(core.terminate().await?.success());
    let core = riskgate_tests::CoreProcess::start(dir.path(), &[]).await;
    let mut resumed = subscribe(&core, SubscriptionFilter::default(), &cursor, 0).await?;
    let events = read_until(&mut resumed, before_restart).await?;
    assert_eq!(
        events.first().map(|e| e.0),
        Some(position + 1),
        "resumes right after the cursor"
    );
    assert!(events
        .iter()
        .any(|(_, kind, device, _)| *kind == "device_reported" && device == "phone"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_forged_cursors_are_invalid_argument() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let core = start_core(dir.path(), &[]).await?;
    let mut stream = subscribe(&core, SubscriptionFilter::default(), "", 0).await?;
    let (_, cursor, _) = read_snapshot(&mut stream).await?;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut forged = engine.decode(&cursor)?;
    // Move the position forward by one without the store's key.
    forged[24] ^= 1;
    let truncated = &cursor[..cursor.len() - 4];
    for bad in ["garbage!", truncated, &engine.encode(&forged)] {
        let status = subscribe(&core, SubscriptionFilter::default(), bad, 0)
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{bad}: {status:?}");
        assert!(status.message().contains("cursor"), "{status:?}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_from_another_store_is_out_of_range_with_the_oldest_position() -> anyhow::Result<()>
{
    let (dir_a, dir_b) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let core_a = start_core(dir_a.path(), &[]).await?;
    let core_b = start_core(dir_b.path(), &[]).await?;
    let mut stream = subscribe(&core_a, SubscriptionFilter::default(), "", 0).await?;
    let (_, cursor, _) = read_snapshot(&mut stream).await?;
    let status = subscribe(&core_b, SubscriptionFilter::default(), &cursor, 0)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
    assert!(
        status.metadata().get(OLDEST_TRAILER).is_some(),
        "{status:?}"
    );
    Ok(())
}

/// A cursor naming an epoch that is not this store's cannot have its signature checked (each store
/// signs with its own key), so an altered epoch reads as another store's cursor: OUT_OF_RANGE, "start
/// again from a snapshot", as stream.proto documents. It never resumes anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_with_an_altered_epoch_is_out_of_range_as_another_stores() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let core = start_core(dir.path(), &[]).await?;
    let mut stream = subscribe(&core, SubscriptionFilter::default(), "", 0).await?;
    let (_, cursor, _) = read_snapshot(&mut stream).await?;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut altered = engine.decode(&cursor)?;
    // Byte 0 is the format version; bytes 1 to 16 the store epoch.
    altered[1] ^= 1;
    let status = subscribe(
        &core,
        SubscriptionFilter::default(),
        &engine.encode(&altered),
        0,
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
    assert!(status.message().contains("another store"), "{status:?}");
    Ok(())
}

/// Retention of 50 events, compacted every 100 ms.
const SHORT_RETENTION: [&str; 4] = [
    "--retention-max-events",
    "50",
    "--compaction-interval",
    "100ms",
];

/// Ingests 20 reports per batch, each carrying `threats` threats (to make events large).
async fn flood(
    core: &riskgate_tests::CoreProcess,
    batches: std::ops::RangeInclusive<u64>,
    threats: usize,
) -> anyhow::Result<u64> {
    let mut client = core.ingest_client().await?;
    let threat_list: Vec<_> = (0..threats)
        .map(|t| {
            riskgate_tests::threat(
                &format!("threat-{t}"),
                ThreatCategory::Application,
                ThreatLevel::Low,
            )
        })
        .collect();
    let batches: Vec<_> = batches
        .map(|seq| {
            let reports = (0..20)
                .map(|i| {
                    let mut report = report(
                        &format!("dev-{seq}-{i}"),
                        Platform::Ios,
                        HealthState::LowSeverity,
                        now(),
                    );
                    report.threats = threat_list.clone();
                    report
                })
                .collect();
            batch(CONNECTOR, seq, b"cp", reports)
        })
        .collect();
    Ok(ingest(&mut client, batches).await?.last().unwrap().position)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_older_than_retention_is_out_of_range_naming_the_oldest_position(
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let core = start_core(dir.path(), &SHORT_RETENTION).await?;
    let mut stream = subscribe(&core, SubscriptionFilter::default(), "", 0).await?;
    let (_, cursor, position) = read_snapshot(&mut stream).await?;
    drop(stream);
    flood(&core, 1..=20, 0).await?;
    let devices = core.device_client().await?;
    wait_until(
        Duration::from_secs(20),
        "compaction passes the cursor",
        || {
            let mut devices = devices.clone();
            async move {
                store_info(&mut devices)
                    .await
                    .is_ok_and(|info| info.oldest_position > position + 1)
            }
        },
    )
    .await?;
    let oldest = store_info(&mut devices.clone()).await?.oldest_position;
    let status = subscribe(&core, SubscriptionFilter::default(), &cursor, 0)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
    let trailer: u64 = status
        .metadata()
        .get(OLDEST_TRAILER)
        .unwrap()
        .to_str()?
        .parse()?;
    assert!(trailer >= oldest, "trailer {trailer}, oldest {oldest}");
    assert!(
        status.message().contains("oldest retained position"),
        "{status:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_racing_a_catch_up_ends_the_stream_with_out_of_range_never_a_gap(
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    // Keep 10,000 events, compacted every 100 ms.
    let args = [
        "--retention-max-events",
        "10000",
        "--compaction-interval",
        "100ms",
    ];
    let core = start_core(dir.path(), &args).await?;
    let mut stream = subscribe(&core, SubscriptionFilter::default(), "", 0).await?;
    let (_, cursor, start) = read_snapshot(&mut stream).await?;
    drop(stream);
    // About 6,000 events of several KiB: all within retention, and far more than a stream's buffers hold.
    let first_flood = flood(&core, 1..=150, 20).await?;
    // Resume from the old cursor and read nothing: the subscriber is catching up from the log, page by
    // page, and stalls once its buffers are full.
    let mut catching_up = subscribe(&core, SubscriptionFilter::default(), &cursor, 0).await?;
    // Meanwhile the log moves on and compaction removes what the stalled catch-up has not read yet.
    let head = flood(&core, 151..=450, 20).await?;
    let devices = core.device_client().await?;
    wait_until(
        Duration::from_secs(20),
        "compaction passes the stalled catch-up",
        || {
            let mut devices = devices.clone();
            async move {
                store_info(&mut devices)
                    .await
                    .is_ok_and(|info| info.oldest_position > first_flood)
            }
        },
    )
    .await?;
    // What was already read from the log arrives contiguous; then the stream ends with OUT_OF_RANGE.
    let mut expected = start + 1;
    loop {
        match next_message(&mut catching_up).await {
            Ok(Message::Event(event)) => {
                let position = event.event.unwrap().position;
                assert_eq!(position, expected, "a gap in the delivered positions");
                expected += 1;
                assert!(
                    position < head,
                    "the stalled catch-up must not reach the head"
                );
            }
            Ok(Message::Progress(_)) => {}
            Ok(other) => anyhow::bail!("unexpected {other:?}"),
            Err(status) => {
                assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
                assert!(status.metadata().get(OLDEST_TRAILER).is_some());
                return Ok(());
            }
        }
    }
}
