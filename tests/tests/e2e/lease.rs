//! One connector, one feed: a second Ingest stream for the same connector takes the connector over,
//! and the first one is fenced off with ABORTED, its later batches applied nowhere.

use riskgate_tests::{batch, register_connector, rpc::get_device, CoreProcess, IngestSession};
use tempfile::tempdir;
use tonic::Code;

use crate::support::{check_applied, valid_report};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_ingest_stream_for_a_connector_fences_the_older_one_off() -> anyhow::Result<()> {
    let dir = tempdir()?;
    let core = CoreProcess::start(dir.path(), &[]).await;
    register_connector(&core, "vendor-a").await?;
    register_connector(&core, "vendor-b").await?;
    let mut devices = core.device_client().await?;

    let mut older = IngestSession::open(
        &mut core.ingest_client().await?,
        vec![batch("vendor-a", 1, b"1", vec![valid_report("dev-1")])],
    )
    .await?;
    check_applied(&older.next_ack().await?.expect("ack of batch 1"), 1, 1)?;

    // A second host for the same connector: its stream takes over.
    let mut newer = IngestSession::open(
        &mut core.ingest_client().await?,
        vec![batch("vendor-a", 2, b"2", vec![valid_report("dev-2")])],
    )
    .await?;
    check_applied(&newer.next_ack().await?.expect("ack of batch 2"), 2, 1)?;

    // The older stream's next batch ends it with ABORTED, and nothing of it is applied.
    older
        .send(batch("vendor-a", 3, b"3", vec![valid_report("dev-3")]))
        .await?;
    let status = older
        .next_ack()
        .await
        .expect_err("the older stream is fenced off");
    assert_eq!(status.code(), Code::Aborted, "{status:?}");
    assert!(status.message().contains("vendor-a"), "{status:?}");
    assert!(get_device(&mut devices, "dev-3").await?.is_none());

    // The newer stream keeps writing, and other connectors are not affected.
    newer
        .send(batch("vendor-a", 3, b"3", vec![valid_report("dev-4")]))
        .await?;
    check_applied(&newer.next_ack().await?.expect("ack of batch 3"), 3, 1)?;
    let mut other = IngestSession::open(
        &mut core.ingest_client().await?,
        vec![batch("vendor-b", 1, b"1", vec![valid_report("dev-b")])],
    )
    .await?;
    check_applied(&other.next_ack().await?.expect("vendor-b's ack"), 1, 1)?;
    Ok(())
}
