//! Ingest-to-subscriber latency: the time from sending a report to each subscriber receiving its event,
//! with 1 and with 1,000 subscribers on one server (issue 4; goal: p99 under 5 ms with 1,000).

use std::time::{Duration, Instant};

use anyhow::Context;
use riskgate_proto::v1::{
    risk_stream_client::RiskStreamClient, subscribe_response::Message, HealthState, Platform,
    SubscribeRequest, SubscribeResponse, SubscriptionFilter,
};
use riskgate_tests::{batch, now, register_connector, report, rpc::IngestSession, CoreProcess};
use tokio::sync::mpsc;
use tonic::{transport::Channel, Streaming};

use crate::{
    stats::{micros, print_table, rate, Samples},
    summary::Goal,
};

const DEVICE: &str = "bench-device";
const CONNECTOR: &str = "bench";

/// Runs the benchmark for 1 and 1,000 subscribers, with each durability, prints the table and returns the
/// goal it measures.
///
/// The latency includes the durable commit, which with `fsync` is the disk's fsync (10 ms or more on a
/// cloud VM's disk). The goal is judged with `flush`, where the commit survives a crash of the process but
/// not of the machine, so that it measures riskgate's fan-out rather than the disk; both rows are printed.
pub(crate) async fn run(quick: bool) -> anyhow::Result<Vec<Goal>> {
    let mut rows = Vec::new();
    let mut goals = Vec::new();
    for durability in ["fsync", "flush"] {
        for (subscribers, events) in [
            (1usize, if quick { 20 } else { 500 }),
            (1000, if quick { 5 } else { 100 }),
        ] {
            let (samples, elapsed) = measure(subscribers, events, durability).await?;
            let deliveries = samples.len() as f64 / elapsed.as_secs_f64();
            let p99 = samples.percentile(99.0);
            rows.push(vec![
                durability.to_owned(),
                subscribers.to_string(),
                events.to_string(),
                micros(samples.percentile(50.0)),
                micros(p99),
                rate(deliveries),
            ]);
            if subscribers == 1000 && durability == "flush" {
                goals.push(Goal::new(
                    "subscriber p99, 1000 subscribers",
                    "< 5 ms",
                    format!("{} (durability flush)", micros(p99)),
                    p99 < Duration::from_millis(5),
                ));
            }
        }
    }
    print_table(
        "Ingest-to-subscriber latency (one report per batch)",
        &[
            "durability",
            "subscribers",
            "events",
            "p50",
            "p99",
            "deliveries/s",
        ],
        &rows,
    );
    Ok(goals)
}

/// Sends `events` single-report batches and measures, for every subscriber, the time from the send to the
/// arrival of the report's event. Returns the samples and the wall time of the sending phase.
async fn measure(
    subscribers: usize,
    events: usize,
    durability: &str,
) -> anyhow::Result<(Samples, Duration)> {
    let dir = tempfile::tempdir()?;
    let core = CoreProcess::try_start(
        dir.path(),
        &[
            "--durability",
            durability,
            "--max-subscriptions",
            "2000",
            "--max-streams-per-client",
            "2000",
        ],
    )
    .await?;
    register_connector(&core, CONNECTOR).await?;
    let mut arrivals = subscribe(&core, subscribers).await?;

    let mut session = IngestSession::open(&mut core.ingest_client().await?, Vec::new()).await?;
    let mut samples = Samples::default();
    let started = Instant::now();
    for seq in 1..=events as u64 {
        let (vendor_event_id, sent) = send_report(&mut session, seq).await?;
        // Collect one arrival per subscriber for this event.
        let mut arrived = 0;
        while arrived < subscribers {
            let (id, at) = tokio::time::timeout(Duration::from_secs(30), arrivals.recv())
                .await
                .context("a subscriber did not receive the event within 30 s")?
                .context("subscribers ended")?;
            if id == vendor_event_id {
                samples.push(at.duration_since(sent));
                arrived += 1;
            }
        }
    }
    Ok((samples, started.elapsed()))
}

/// (vendor event id, arrival instant) of an event a subscriber saw.
type Arrival = (String, Instant);

/// Opens `subscribers` live subscriptions to the device's reports; every event any of them sees
/// arrives on the returned channel.
async fn subscribe(
    core: &CoreProcess,
    subscribers: usize,
) -> anyhow::Result<mpsc::UnboundedReceiver<Arrival>> {
    let (arrivals_tx, arrivals_rx) = mpsc::unbounded_channel::<Arrival>();
    let mut channel = None;
    for index in 0..subscribers {
        // A hundred streams per connection, within HTTP/2's concurrent stream limit.
        if index % 100 == 0 {
            channel = Some(core.channel().await?);
        }
        let channel = channel.clone().context("a channel")?;
        let stream = subscribe_live(channel).await?;
        tokio::spawn(forward_arrivals(stream, arrivals_tx.clone()));
    }
    Ok(arrivals_rx)
}

/// One subscription to the device's reports, returned once its snapshot ended, so that it is live
/// before the first send.
async fn subscribe_live(channel: Channel) -> anyhow::Result<Streaming<SubscribeResponse>> {
    let mut stream = RiskStreamClient::new(channel)
        .subscribe(SubscribeRequest {
            filter: Some(SubscriptionFilter {
                device_ids: vec![DEVICE.into()],
                kinds: vec![riskgate_proto::v1::EventKind::DeviceReported as i32],
                ..Default::default()
            }),
            cursor: String::new(),
            progress_interval_ms: 0,
        })
        .await?
        .into_inner();
    loop {
        match stream.message().await?.and_then(|m| m.message) {
            Some(Message::SnapshotEnd(_)) => return Ok(stream),
            Some(_) => {}
            None => anyhow::bail!("stream ended before snapshot_end"),
        }
    }
}

/// Sends the arrival of every report event on `stream` until the stream or the receiver ends.
async fn forward_arrivals(
    mut stream: Streaming<SubscribeResponse>,
    arrivals: mpsc::UnboundedSender<Arrival>,
) {
    while let Ok(Some(response)) = stream.message().await {
        if let Some(Message::Event(event)) = response.message {
            let vendor_event_id = match event.event.and_then(|e| e.kind) {
                Some(riskgate_proto::v1::event::Kind::DeviceReported(reported)) => {
                    reported.vendor_event_id
                }
                _ => continue,
            };
            if arrivals.send((vendor_event_id, Instant::now())).is_err() {
                return;
            }
        }
    }
}

/// Sends batch `seq`, one report, and waits for its ack; returns the report's vendor event id and
/// when it was sent.
async fn send_report(session: &mut IngestSession, seq: u64) -> anyhow::Result<(String, Instant)> {
    // Alternating states: a report that changes nothing refreshes the device without an event.
    let state = if seq.is_multiple_of(2) {
        HealthState::Secured
    } else {
        HealthState::LowSeverity
    };
    let mut single = report(DEVICE, Platform::Android, state, now());
    let vendor_event_id = single.vendor_event_id.clone();
    single.observed_at = Some(now());
    let sent = Instant::now();
    session
        .send(batch(CONNECTOR, seq, b"cp", vec![single]))
        .await?;
    session.next_ack().await?.context("ack")?;
    Ok((vendor_event_id, sent))
}
