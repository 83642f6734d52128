//! ABI minor 2 through the in-process harness: what a connector says about its vendor feed is what
//! `feed_health` answers, and a re-check reaches a connector that takes them (and is refused as
//! unsupported by one that does not).

use std::time::Duration;

use riskgate_sdk::{
    abi::status, pb, testing::Harness, tokio, Batch, BatchSink, Connector, ConnectorError,
    Manifest, Shutdown, StartContext,
};

const WAIT: Duration = Duration::from_secs(10);

/// Reports a failing then recovered feed, then answers each re-check with one report per device.
struct Rechecking;

impl Connector for Rechecking {
    fn manifest() -> Manifest {
        Manifest {
            name: "rechecking".to_owned(),
            vendor: "tests".to_owned(),
            version: "0.0.0".to_owned(),
        }
    }

    fn create(_start: &StartContext) -> Result<Self, ConnectorError> {
        Ok(Rechecking)
    }

    fn takes_rechecks() -> bool {
        true
    }

    async fn run(self, sink: BatchSink, shutdown: Shutdown) -> Result<(), ConnectorError> {
        sink.feed().disconnected("HTTP 503 from the vendor");
        let mut round = 0u64;
        loop {
            tokio::select! {
                () = shutdown.wait() => return Ok(()),
                recheck = sink.recheck_requested() => {
                    sink.feed().synced();
                    round += 1;
                    let reports = recheck
                        .device_ids
                        .iter()
                        .map(|device_id| pb::DeviceReport {
                            device_id: device_id.clone(),
                            platform: pb::Platform::Android as i32,
                            health_state: pb::HealthState::Secured as i32,
                            observed_at: Some(riskgate_sdk::prost_types::Timestamp::from(
                                std::time::SystemTime::now(),
                            )),
                            vendor_event_id: format!("recheck-{round}-{device_id}"),
                            ..Default::default()
                        })
                        .collect();
                    let batch = Batch { checkpoint: round.to_string().into_bytes(), reports };
                    if sink.send(batch).await.is_err() {
                        return Ok(());
                    }
                }
            }
        }
    }
}

/// Takes no re-checks and says nothing about its feed.
struct Silent;

impl Connector for Silent {
    fn manifest() -> Manifest {
        Manifest {
            name: "silent".to_owned(),
            vendor: "tests".to_owned(),
            version: "0.0.0".to_owned(),
        }
    }

    fn create(_start: &StartContext) -> Result<Self, ConnectorError> {
        Ok(Silent)
    }

    async fn run(self, _sink: BatchSink, shutdown: Shutdown) -> Result<(), ConnectorError> {
        shutdown.wait().await;
        Ok(())
    }
}

fn start() -> StartContext {
    StartContext {
        connector_id: "tests".to_owned(),
        config: Vec::new(),
        checkpoint: None,
        last_batch_seq: 0,
    }
}

/// Waits until `check` holds, polling; the harness has no event to wait on.
fn eventually(mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + WAIT;
    while !check() {
        assert!(
            std::time::Instant::now() < deadline,
            "condition not met within {WAIT:?}"
        );
        std::thread::yield_now();
    }
}

#[test]
fn feed_health_reports_what_the_connector_said_and_keeps_when_a_failure_began() {
    let mut harness = Harness::<Rechecking>::start(start()).unwrap();
    eventually(|| harness.feed_health().unwrap().is_some());
    let failing = harness.feed_health().unwrap().unwrap();
    assert_eq!(failing.state, pb::FeedState::Disconnected as i32);
    assert_eq!(failing.reason, "HTTP 503 from the vendor");
    assert!(failing.since.is_some());
    assert_eq!(failing.last_vendor_sync, None);

    harness.recheck(&["phone-1", "phone-2"]).unwrap();
    let batch = harness.expect_batch(WAIT).unwrap();
    let ids: Vec<&str> = batch.reports.iter().map(|r| r.device_id.as_str()).collect();
    assert_eq!(ids, ["phone-1", "phone-2"]);
    let healthy = harness.feed_health().unwrap().unwrap();
    assert_eq!(healthy.state, pb::FeedState::Connected as i32);
    assert!(healthy.last_vendor_sync.is_some());
    assert_eq!(healthy.reason, "");
    harness.stop(WAIT).unwrap();
}

#[test]
fn a_connector_without_rechecks_refuses_them_as_unsupported_and_reports_no_feed() {
    let mut harness = Harness::<Silent>::start(start()).unwrap();
    assert_eq!(harness.feed_health().unwrap(), None);
    let refused = harness.recheck(&[]).unwrap_err();
    match refused {
        riskgate_sdk::testing::HarnessError::Call { call, error } => {
            assert_eq!(call, "recheck");
            assert_eq!(error.status(), status::ERR_UNSUPPORTED, "{error}");
        }
        other => panic!("{other}"),
    }
    harness.stop(WAIT).unwrap();
}
