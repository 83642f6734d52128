//! `ssf`: the Shared Signals transmitter's push latency, from the core's commit of a change to the
//! moment a receiver has the SET, with 1 and with 100 push streams.
//!
//! The fleet is the tests' (vendor simulator, Lookout plugin in a connector host, core); `riskgate-ssf`
//! follows the core, one push stream per receiver path. The receiver is a small HTTP server in this
//! process that answers 202 and notes, per stream, when each SET (by its `txn`) arrived. A flip infects
//! a device (three CAEP events: risk-level-change, device-compliance-change, session-revoked) and then
//! remediates it (two more); every SET of every stream is a sample: its arrival time minus the time the
//! core wrote the event at `txn` (both wall clocks of this machine).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use anyhow::{ensure, Context as _};
use axum::{extract::Path, extract::State, http::StatusCode, routing::post, Router};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use riskgate_tests::{
    api::event::Kind,
    enforcement::{Fleet, HostTimings, Users},
    ssf::{SsfProcess, OKTA_TOKEN},
    wait_until,
};
use serde_json::{json, Value};

use crate::{
    stats::{micros, print_table, Samples},
    summary::Goal,
};

/// The device that flips.
const FLIPPING: &str = "fleet-00001";
/// How long one flip's SETs may take to reach every stream.
const FLIP_WITHIN: Duration = Duration::from_secs(60);
/// The goal: a receiver hears a change within this, at the 99th percentile.
const GOAL: Duration = Duration::from_millis(100);

/// `(stream index, txn)` → when the SET arrived.
type Arrivals = Arc<Mutex<HashMap<(usize, u64), SystemTime>>>;

/// Runs the benchmark with 1 and with 100 streams (5 in quick mode).
pub(crate) async fn run(quick: bool) -> anyhow::Result<Vec<Goal>> {
    let flips = if quick { 2 } else { 50 };
    let many = if quick { 5 } else { 100 };
    let mut rows = Vec::new();
    let mut goals = Vec::new();
    for (streams, goal) in [
        (1, "SSF push p99, 1 stream"),
        (many, "SSF push p99, 100 streams"),
    ] {
        let samples = push_latency(streams, flips).await?;
        let p99 = samples.percentile(99.0);
        rows.push(vec![
            streams.to_string(),
            samples.len().to_string(),
            micros(samples.percentile(50.0)),
            micros(p99),
            micros(samples.percentile(100.0)),
        ]);
        goals.push(Goal::new(goal, "< 100 ms", micros(p99), p99 < GOAL));
    }
    print_table(
        "SSF push: from the core's commit to the receiver's 202",
        &["streams", "SETs", "p50", "p99", "max"],
        &rows,
    );
    Ok(goals)
}

async fn push_latency(streams: usize, flips: usize) -> anyhow::Result<Samples> {
    let fleet = Fleet::start_with(
        3,
        HostTimings::Default,
        Users::None,
        &["--max-streams-per-client", "1000"],
    )
    .await?;
    wait_until(FLIP_WITHIN, "the fleet synced", || async {
        fleet.history(FLIPPING).await.is_ok_and(|events| {
            events
                .iter()
                .any(|event| matches!(event.kind, Some(Kind::DeviceComplianceChange(_))))
        })
    })
    .await?;
    let ssf = SsfProcess::start(&fleet.core.url(), "").await?;
    let arrivals = Arrivals::default();
    let receiver = start_receiver(Arc::clone(&arrivals)).await?;
    for index in 0..streams {
        let body = json!({
            "events_requested": [
                "https://schemas.openid.net/secevent/caep/event-type/device-compliance-change",
                "https://schemas.openid.net/secevent/caep/event-type/risk-level-change",
                "https://schemas.openid.net/secevent/caep/event-type/session-revoked",
            ],
            "delivery": { "method": "urn:ietf:rfc:8935", "endpoint_url": format!("http://{receiver}/s/{index}") },
        });
        ssf.create_stream(OKTA_TOKEN, &body).await?;
    }
    let mut expected = 0;
    for _ in 0..flips {
        fleet.infect(FLIPPING).await?;
        expected += 3;
        wait_for_sets(&arrivals, streams * expected).await?;
        fleet.remediate(FLIPPING).await?;
        expected += 2;
        wait_for_sets(&arrivals, streams * expected).await?;
    }
    let written = event_times(&fleet).await?;
    let mut samples = Samples::default();
    for ((_, txn), arrived) in arrivals
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .iter()
    {
        let written = written
            .get(txn)
            .with_context(|| format!("no event at {txn}"))?;
        samples.push(arrived.duration_since(*written).unwrap_or(Duration::ZERO));
    }
    Ok(samples)
}

async fn wait_for_sets(arrivals: &Arrivals, count: usize) -> anyhow::Result<()> {
    wait_until(FLIP_WITHIN, &format!("{count} SETs received"), || {
        let received = arrivals.lock().map_or(0, |arrivals| arrivals.len());
        async move { received >= count }
    })
    .await
}

/// The receiver: `POST /s/{stream}` notes the SET's `txn` and answers 202.
async fn start_receiver(arrivals: Arrivals) -> anyhow::Result<std::net::SocketAddr> {
    let app = Router::new()
        .route("/s/{stream}", post(receive))
        .with_state(arrivals);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(address)
}

async fn receive(
    State(arrivals): State<Arrivals>,
    Path(stream): Path<usize>,
    body: String,
) -> StatusCode {
    let arrived = SystemTime::now();
    let Some(txn) = txn_of(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    if let Ok(mut arrivals) = arrivals.lock() {
        arrivals.entry((stream, txn)).or_insert(arrived);
    }
    StatusCode::ACCEPTED
}

/// The `txn` of a compact JWS's claims (the tests verify signatures; this only times).
fn txn_of(jwt: &str) -> Option<u64> {
    let payload = URL_SAFE_NO_PAD.decode(jwt.split('.').nth(1)?).ok()?;
    let claims: Value = serde_json::from_slice(&payload).ok()?;
    claims["txn"].as_str()?.parse().ok()
}

/// When the core wrote each of the flipping device's events.
async fn event_times(fleet: &Fleet) -> anyhow::Result<HashMap<u64, SystemTime>> {
    let mut times = HashMap::new();
    for event in fleet.history(FLIPPING).await? {
        let time = event.time.context("an event time")?;
        let since_epoch = Duration::new(u64::try_from(time.seconds)?, u32::try_from(time.nanos)?);
        times.insert(event.position, UNIX_EPOCH + since_epoch);
    }
    ensure!(!times.is_empty(), "no events");
    Ok(times)
}
