//! Helpers for the streaming tests: opening subscriptions, reading them with deadlines, and
//! ingesting one report at a time.

use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use riskgate_proto::v1::{
    risk_stream_client::RiskStreamClient, subscribe_response::Message, HealthState, Platform,
    SubscribeRequest, SubscribeResponse, SubscriptionFilter,
};
use riskgate_tests::{batch, ingest, now, register_connector, report, CoreProcess};
use tonic::{Status, Streaming};

/// How long any single expected message may take.
pub(crate) const DEADLINE: Duration = Duration::from_secs(20);

/// The connector every streaming test reports through.
pub(crate) const CONNECTOR: &str = "stream-test";

/// Starts a core with `args` and registers [`CONNECTOR`].
pub(crate) async fn start_core(
    dir: &std::path::Path,
    args: &[&str],
) -> anyhow::Result<CoreProcess> {
    let core = CoreProcess::start(dir, args).await;
    register_connector(&core, CONNECTOR).await?;
    Ok(core)
}

/// Opens a subscription.
pub(crate) async fn subscribe(
    core: &CoreProcess,
    filter: SubscriptionFilter,
    cursor: &str,
    progress_interval_ms: u32,
) -> Result<Streaming<SubscribeResponse>, Status> {
    let channel = core
        .channel()
        .await
        .map_err(|err| Status::unavailable(err.to_string()))?;
    let request = SubscribeRequest {
        filter: Some(filter),
        cursor: cursor.to_owned(),
        progress_interval_ms,
    };
    RiskStreamClient::new(channel)
        .subscribe(request)
        .await
        .map(tonic::Response::into_inner)
}

/// The next message, failing if none arrives within [`DEADLINE`] or the stream ends.
pub(crate) async fn next_message(
    stream: &mut Streaming<SubscribeResponse>,
) -> Result<Message, Status> {
    match tokio::time::timeout(DEADLINE, stream.message()).await {
        Err(_) => Err(Status::deadline_exceeded(
            "no message within the test deadline",
        )),
        Ok(Err(status)) => Err(status),
        Ok(Ok(None)) => Err(Status::cancelled("the stream ended")),
        Ok(Ok(Some(response))) => response
            .message
            .ok_or_else(|| Status::internal("empty message")),
    }
}

/// Reads the snapshot: the devices it holds and the snapshot-end cursor and position.
pub(crate) async fn read_snapshot(
    stream: &mut Streaming<SubscribeResponse>,
) -> anyhow::Result<(Vec<String>, String, u64)> {
    let mut devices = Vec::new();
    loop {
        match next_message(stream).await? {
            Message::Snapshot(snapshot) => {
                devices.push(snapshot.device.map(|d| d.device_id).unwrap_or_default())
            }
            Message::SnapshotEnd(end) => return Ok((devices, end.cursor, end.position)),
            other => bail!("unexpected message before snapshot_end: {other:?}"),
        }
    }
}

/// Reads events until one at or after `position` has been seen, or a progress message says the stream is
/// past it. Returns the events read, as (position, kind name, device id, cursor).
pub(crate) async fn read_until(
    stream: &mut Streaming<SubscribeResponse>,
    position: u64,
) -> anyhow::Result<Vec<(u64, &'static str, String, String)>> {
    let mut events = Vec::new();
    loop {
        match next_message(stream).await? {
            Message::Event(event) => {
                let inner = event
                    .event
                    .ok_or_else(|| anyhow!("event without payload"))?;
                let at = inner.position;
                events.push((
                    at,
                    riskgate_tests::events::kind_name(&inner),
                    inner.device_id,
                    event.cursor,
                ));
                if at >= position {
                    return Ok(events);
                }
            }
            Message::Progress(progress) if progress.position >= position => return Ok(events),
            Message::Progress(_) => {}
            other => bail!("unexpected message while reading live events: {other:?}"),
        }
    }
}

/// Ingests one report for `device_id` in its own batch and returns the acknowledged position.
pub(crate) async fn report_once(
    core: &CoreProcess,
    batch_seq: u64,
    device_id: &str,
    health_state: HealthState,
) -> anyhow::Result<u64> {
    let mut client = core.ingest_client().await?;
    let reports = vec![report(device_id, Platform::Android, health_state, now())];
    let acks = ingest(
        &mut client,
        vec![batch(CONNECTOR, batch_seq, b"cp", reports)],
    )
    .await
    .context("ingest")?;
    Ok(acks.last().ok_or_else(|| anyhow!("no ack"))?.position)
}
