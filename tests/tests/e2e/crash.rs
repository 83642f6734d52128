//! Crash safety: SIGKILL right after an acknowledgement loses nothing that was acknowledged, and
//! a batch and its checkpoint are committed together (never half a batch).

use std::{collections::BTreeMap, os::unix::process::ExitStatusExt as _};

use riskgate_tests::{
    api::{BatchOutcome, DeviceReport, HealthState, ListDevicesRequest, Platform, ReportBatch},
    batch,
    events::{reports_of, strictly_increasing},
    ingest, register_connector, report,
    rpc::{full_history, get_checkpoint, list_all_devices, store_info},
    ts, unix_now, CoreProcess, IngestSession,
};
use tempfile::tempdir;

use crate::support::{check_applied, level_of};

const CONNECTOR: &str = "vendor-crash";
/// States with a level, so that a device's level is that of its last report (a state without a level
/// would keep the earlier one as a known risk).
const STATES: [HealthState; 4] = [
    HealthState::Secured,
    HealthState::LowSeverity,
    HealthState::MediumSeverity,
    HealthState::HighSeverity,
];

fn cursor(seq: u64) -> Vec<u8> {
    format!("cursor-{seq}").into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_after_last_ack_loses_no_acknowledged_report() -> anyhow::Result<()> {
    const BATCHES: u64 = 50;
    const PER_BATCH: u64 = 20;
    const DEVICES: u64 = 250; // each device is reported 4 times, by later and later batches

    let dir = tempdir()?;
    let mut core = CoreProcess::start(dir.path(), &[]).await;
    let mut ingest_client = core.ingest_client().await?;
    register_connector(&core, CONNECTOR).await?;
    let t0 = unix_now() - 3600;

    let mut batches: Vec<ReportBatch> = Vec::new();
    for b in 0..BATCHES {
        let reports = (0..PER_BATCH)
            .map(|r| {
                let n = b * PER_BATCH + r;
                // Each report of a device changes its state: an unchanged one writes no event.
                let state = STATES[usize::try_from((n + n / DEVICES) % 4).expect("small")];
                let platform = if n.is_multiple_of(2) {
                    Platform::Android
                } else {
                    Platform::Ios
                };
                report(
                    &format!("dev-{:03}", n % DEVICES),
                    platform,
                    state,
                    ts(t0 + i64::try_from(b).expect("small")),
                )
            })
            .collect();
        batches.push(batch(CONNECTOR, b + 1, &cursor(b + 1), reports));
    }

    // All batches queued on one stream that stays open; SIGKILL as soon as the last ack arrives.
    let mut session = IngestSession::open(&mut ingest_client, batches.clone()).await?;
    let mut last_position = 0;
    for b in 0..BATCHES {
        let ack = session
            .next_ack()
            .await?
            .unwrap_or_else(|| panic!("stream ended before ack {}", b + 1));
        check_applied(&ack, b + 1, 20)?;
        assert!(
            ack.position >= last_position + PER_BATCH,
            "batch {} wrote at least its {PER_BATCH} reports after position {last_position}: {ack:?}",
            b + 1
        );
        last_position = ack.position;
    }
    let status = core.kill9().await?;
    assert_eq!(status.signal(), Some(9), "killed by SIGKILL: {status}");
    drop(session);

    let core = CoreProcess::start(dir.path(), &[]).await;
    let mut devices = core.device_client().await?;
    let mut ingest_client = core.ingest_client().await?;

    let checkpoint = get_checkpoint(&mut ingest_client, CONNECTOR)
        .await?
        .expect("checkpoint survives");
    assert_eq!(checkpoint.batch_seq, BATCHES);
    assert_eq!(checkpoint.checkpoint, cursor(BATCHES));
    assert_eq!(checkpoint.position, last_position);
    let info = store_info(&mut devices).await?;
    assert!(
        info.head_position >= last_position,
        "the last acknowledged position {last_position} is in the log: {info:?}"
    );
    assert_eq!(info.device_count, DEVICES);

    // Every device holds its last acknowledged report, and its history holds all of them.
    let mut sent: BTreeMap<String, Vec<&DeviceReport>> = BTreeMap::new();
    for r in batches.iter().flat_map(|b| &b.reports) {
        sent.entry(r.device_id.clone()).or_default().push(r);
    }
    let (stored, _) = list_all_devices(
        &mut devices,
        ListDevicesRequest {
            page_size: 1000,
            ..Default::default()
        },
    )
    .await?;
    assert_eq!(stored.len(), sent.len(), "device count");
    let mut wrong = Vec::new();
    for (device, (id, reports)) in stored.iter().zip(&sent) {
        let last = reports.last().expect("at least one report");
        let held = device.reports.first();
        if device.device_id != *id
            || device.reports.len() != 1
            || held.map(|r| (&r.vendor_event_id, r.health_state))
                != Some((&last.vendor_event_id, last.health_state))
            || device.level != level_of(HealthState::try_from(last.health_state)?) as i32
        {
            wrong.push(format!(
                "{id}: expected last report {last:?}, got {device:?}"
            ));
            continue;
        }
        let (events, _) = full_history(&mut devices, id, 1000).await?;
        if !strictly_increasing(&events) {
            wrong.push(format!(
                "{id}: history positions do not increase: {events:?}"
            ));
        }
        let got: Vec<&str> = reports_of(&events)
            .into_iter()
            .map(|(_, r)| r.vendor_event_id.as_str())
            .collect();
        let want: Vec<&str> = reports.iter().map(|r| r.vendor_event_id.as_str()).collect();
        if got != want {
            wrong.push(format!(
                "{id}: history has events {got:?}, expected {want:?}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} devices differ after kill -9:\n{}",
        wrong.len(),
        wrong.join("\n")
    );

    // The connector resumes after its checkpoint.
    let acks = ingest(
        &mut ingest_client,
        vec![
            batches[49].clone(),
            batch(CONNECTOR, BATCHES + 1, b"next", vec![]),
        ],
    )
    .await?;
    assert_eq!(
        acks[0].outcome,
        BatchOutcome::Duplicate as i32,
        "{:?}",
        acks[0]
    );
    check_applied(&acks[1], BATCHES + 1, 0)?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_mid_stream_keeps_acked_batches_and_commits_batches_whole() -> anyhow::Result<()> {
    const BATCHES: u64 = 40;
    const PER_BATCH: u64 = 20;
    const KILL_AFTER: u64 = 10;

    let dir = tempdir()?;
    let mut core = CoreProcess::start(dir.path(), &[]).await;
    let mut ingest_client = core.ingest_client().await?;
    register_connector(&core, CONNECTOR).await?;
    let t = ts(unix_now() - 60);

    // Every batch has its own devices, so what is stored tells which batches were committed.
    let batches: Vec<ReportBatch> = (1..=BATCHES)
        .map(|b| {
            let reports = (0..PER_BATCH)
                .map(|r| {
                    report(
                        &format!("b{b:02}-d{r:02}"),
                        Platform::Windows,
                        HealthState::LowSeverity,
                        t,
                    )
                })
                .collect();
            batch(CONNECTOR, b, &cursor(b), reports)
        })
        .collect();
    let mut session = IngestSession::open(&mut ingest_client, batches).await?;
    for b in 1..=KILL_AFTER {
        let ack = session
            .next_ack()
            .await?
            .unwrap_or_else(|| panic!("stream ended before ack {b}"));
        check_applied(&ack, b, 20)?;
    }
    // Later batches are in flight.
    core.kill9().await?;
    drop(session);

    let core = CoreProcess::start(dir.path(), &[]).await;
    let mut devices = core.device_client().await?;
    let mut ingest_client = core.ingest_client().await?;
    let checkpoint = get_checkpoint(&mut ingest_client, CONNECTOR)
        .await?
        .expect("checkpoint survives");
    let k = checkpoint.batch_seq;
    assert!(
        k >= KILL_AFTER,
        "acknowledged batch {KILL_AFTER} was lost: checkpoint is at {k}"
    );
    assert_eq!(
        checkpoint.checkpoint,
        cursor(k),
        "checkpoint bytes belong to batch {k}"
    );
    assert!(
        checkpoint.position >= k * PER_BATCH,
        "batches 1..={k} wrote at least their reports: {checkpoint:?}"
    );
    let info = store_info(&mut devices).await?;
    assert!(
        info.head_position >= checkpoint.position,
        "the checkpoint's position is in the log: {info:?}, {checkpoint:?}"
    );
    assert_eq!(
        info.device_count,
        k * PER_BATCH,
        "exactly the devices of batches 1..={k}"
    );
    let (stored, _) = list_all_devices(
        &mut devices,
        ListDevicesRequest {
            page_size: 1000,
            ..Default::default()
        },
    )
    .await?;
    let ids: Vec<String> = stored.into_iter().map(|d| d.device_id).collect();
    let want: Vec<String> = (1..=k)
        .flat_map(|b| (0..PER_BATCH).map(move |r| format!("b{b:02}-d{r:02}")))
        .collect();
    assert_eq!(ids, want, "exactly the devices of batches 1..={k}");

    // The connector resumes right after its checkpoint.
    let acks = ingest(
        &mut ingest_client,
        vec![
            batch(CONNECTOR, k, b"again", vec![]),
            batch(CONNECTOR, k + 1, b"next", vec![]),
        ],
    )
    .await?;
    assert_eq!(
        acks[0].outcome,
        BatchOutcome::Duplicate as i32,
        "{:?}",
        acks[0]
    );
    check_applied(&acks[1], k + 1, 0)?;
    Ok(())
}
