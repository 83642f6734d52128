//! The `riskgate-vendor-sim` binary as a process: it stops on SIGTERM with exit status 0, like every
//! riskgate binary, even while a Lookout event stream is open (streams never end on their own).

// test code
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use futures::StreamExt as _;
use riskgate_tests::vendor_sim::SimProcess;

/// Generous bound for anything the test waits for.
const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_exits_with_status_0_even_with_an_open_event_stream() -> anyhow::Result<()> {
    let mut sim = SimProcess::start(&["--heartbeat-ms", "100"]).await?;
    let http = reqwest::Client::new();
    let token: serde_json::Value = http
        .post(format!("{}/oauth2/token", sim.url))
        .bearer_auth("sim-lookout-app-key")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await?
        .json()
        .await?;
    let token = token["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let stream = http
        .get(format!("{}/mra/stream/v2/events", sim.url))
        .bearer_auth(&token)
        .send()
        .await?;
    assert_eq!(stream.status(), 200);
    let mut body = stream.bytes_stream();
    // The first heartbeat shows the stream is being served when the signal arrives.
    let first = tokio::time::timeout(WAIT, body.next()).await?;
    assert!(first.is_some_and(|chunk| chunk.is_ok()), "no first frame");

    let (status, took) = sim.process.terminate(WAIT).await?;

    assert_eq!(status.code(), Some(0), "{}", sim.output_text());
    assert!(
        took < Duration::from_secs(5),
        "the simulator took {took:?} to stop"
    );
    Ok(())
}
