//! Process lifecycle: graceful shutdown on SIGTERM and SIGINT (exit status 0), and a restart on the
//! same data dir that serves exactly the same state.

use nix::sys::signal::Signal;
use riskgate_tests::{
    api::{
        BatchOutcome, HealthState, ListConnectorsRequest, Platform, ThreatCategory, ThreatLevel,
    },
    batch, ingest, register_connector, report,
    rpc::{snapshot, store_info},
    threat, ts, unix_now, CoreProcess, IngestSession,
};
use tempfile::tempdir;

use crate::support::check_applied;

const CONNECTORS: [&str; 3] = ["vendor-a", "vendor-b", "vendor-never"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_after_sigterm_preserves_devices_history_checkpoint_and_epoch() -> anyhow::Result<()>
{
    let dir = tempdir()?;
    let mut core = CoreProcess::start(dir.path(), &[]).await;
    let mut ingest_client = core.ingest_client().await?;
    register_connector(&core, "vendor-a").await?;
    register_connector(&core, "vendor-b").await?;
    let t0 = unix_now() - 3600;

    let mut rich = report("dev-1", Platform::Ios, HealthState::MediumSeverity, ts(t0));
    rich.os_version = "17.4".to_owned();
    rich.model = "iPhone 15".to_owned();
    rich.owner_user_id = "bob@example.com".to_owned();
    rich.groups = vec!["finance".to_owned()];
    rich.threats = vec![
        threat("t-1", ThreatCategory::WebContent, ThreatLevel::Medium),
        threat("t-2", ThreatCategory::Configuration, ThreatLevel::Low),
    ];
    let acks = ingest(
        &mut ingest_client,
        vec![
            batch(
                "vendor-a",
                1,
                b"a-1",
                vec![
                    rich,
                    report("dev-2", Platform::Android, HealthState::Secured, ts(t0)),
                ],
            ),
            batch(
                "vendor-b",
                7,
                b"b-7",
                vec![report(
                    "dev-1",
                    Platform::Ios,
                    HealthState::HighSeverity,
                    ts(t0 + 5),
                )],
            ),
            batch(
                "vendor-a",
                2,
                b"a-2",
                vec![
                    report(
                        "dev-2",
                        Platform::Android,
                        HealthState::LowSeverity,
                        ts(t0 + 10),
                    ),
                    report(
                        "dev-3",
                        Platform::Windows,
                        HealthState::Misconfigured,
                        ts(t0 + 10),
                    ),
                ],
            ),
        ],
    )
    .await?;
    check_applied(&acks[0], 1, 2)?;
    check_applied(&acks[1], 7, 1)?;
    check_applied(&acks[2], 2, 2)?;

    let before = snapshot(core.channel().await?, &CONNECTORS).await?;
    assert!(
        acks[0].position < acks[1].position && acks[1].position < acks[2].position,
        "ack positions increase: {acks:?}"
    );
    assert!(
        before.info.head_position >= acks[2].position && acks[2].position >= 5,
        "the log holds at least the 5 applied reports: head {}, acks {acks:?}",
        before.info.head_position
    );
    let connectors_before = core
        .connector_client()
        .await?
        .list_connectors(ListConnectorsRequest {})
        .await?
        .into_inner();

    let status = core.terminate().await?;
    assert!(
        status.success(),
        "SIGTERM exits with status 0, got {status}"
    );

    let core = CoreProcess::start(dir.path(), &[]).await;
    let after = snapshot(core.channel().await?, &CONNECTORS).await?;
    assert_eq!(
        after.info.store_epoch, before.info.store_epoch,
        "store_epoch survives a restart"
    );
    assert_eq!(
        after, before,
        "devices, histories, checkpoints and store info survive a restart"
    );
    let connectors_after = core
        .connector_client()
        .await?
        .list_connectors(ListConnectorsRequest {})
        .await?
        .into_inner();
    assert_eq!(
        connectors_after, connectors_before,
        "registered connectors survive a restart"
    );

    // Ingest continues where it stopped.
    let mut ingest_client = core.ingest_client().await?;
    let acks = ingest(
        &mut ingest_client,
        vec![
            batch("vendor-a", 2, b"a-2", vec![]),
            batch(
                "vendor-a",
                3,
                b"a-3",
                vec![report(
                    "dev-4",
                    Platform::Macos,
                    HealthState::Secured,
                    ts(t0 + 20),
                )],
            ),
        ],
    )
    .await?;
    assert_eq!(
        acks[0].outcome,
        BatchOutcome::Duplicate as i32,
        "{:?}",
        acks[0]
    );
    check_applied(&acks[1], 3, 1)?;
    assert_eq!(
        acks[0].position, before.info.head_position,
        "a duplicate acknowledges the head position"
    );
    assert!(
        acks[1].position > before.info.head_position,
        "positions continue after a restart: {} after head {}",
        acks[1].position,
        before.info.head_position
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_exits_zero_and_keeps_data() -> anyhow::Result<()> {
    let dir = tempdir()?;
    let mut core = CoreProcess::start(dir.path(), &[]).await;
    let mut ingest_client = core.ingest_client().await?;
    register_connector(&core, "vendor-a").await?;
    let acks = ingest(
        &mut ingest_client,
        vec![batch(
            "vendor-a",
            1,
            b"",
            vec![report(
                "dev-1",
                Platform::Android,
                HealthState::Secured,
                ts(unix_now() - 60),
            )],
        )],
    )
    .await?;
    check_applied(&acks[0], 1, 1)?;
    let info = store_info(&mut core.device_client().await?).await?;
    let (epoch, head) = (info.store_epoch.clone(), info.head_position);
    assert!(head >= acks[0].position, "{info:?} {acks:?}");

    let status = core.stop_with(Signal::SIGINT).await?;
    assert!(status.success(), "SIGINT exits with status 0, got {status}");

    let core = CoreProcess::start(dir.path(), &[]).await;
    let info = store_info(&mut core.device_client().await?).await?;
    assert_eq!(
        (info.store_epoch, info.head_position),
        (epoch, head),
        "the same store at the same head after SIGINT and a restart"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_an_open_ingest_stream_exits_zero() -> anyhow::Result<()> {
    let dir = tempdir()?;
    let mut core = CoreProcess::start(dir.path(), &[]).await;
    let mut ingest_client = core.ingest_client().await?;
    register_connector(&core, "vendor-a").await?;
    let first = batch(
        "vendor-a",
        1,
        b"c1",
        vec![report(
            "dev-1",
            Platform::Android,
            HealthState::Secured,
            ts(unix_now() - 60),
        )],
    );
    let mut session = IngestSession::open(&mut ingest_client, vec![first]).await?;
    let ack = session.next_ack().await?.expect("ack");
    check_applied(&ack, 1, 1)?;

    // The client keeps its stream open; shutdown must still complete.
    let status = core.terminate().await?;
    assert!(
        status.success(),
        "SIGTERM with an open stream exits with status 0, got {status}"
    );
    drop(session);

    let core = CoreProcess::start(dir.path(), &[]).await;
    let head = store_info(&mut core.device_client().await?)
        .await?
        .head_position;
    assert!(
        head >= ack.position,
        "the acknowledged batch (position {}) survives: head {head}",
        ack.position
    );
    Ok(())
}
