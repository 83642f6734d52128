//! The delivery property: with random writes, disconnects and resumes, a subscriber sees every matching
//! event exactly once after deduplication by position, in order, with nothing missing.

use std::collections::BTreeSet;

use futures::FutureExt;
use proptest::prelude::*;
use riskgate_proto::v1::{subscribe_response::Message, HealthState, SubscriptionFilter};
use riskgate_tests::rpc::full_history;

use crate::support::{read_snapshot, read_until, report_once, start_core, subscribe};

const DEVICES: [&str; 5] = ["d0", "d1", "d2", "d3", "d4"];
const STATES: [HealthState; 4] = [
    HealthState::Secured,
    HealthState::LowSeverity,
    HealthState::HighSeverity,
    HealthState::Activated,
];

#[derive(Debug, Clone)]
enum Op {
    /// Ingest one report.
    Report { device: usize, state: usize },
    /// Read whatever is already waiting on the stream.
    ReadReady,
    /// Drop the stream and resubscribe from the last processed cursor.
    Reconnect,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..DEVICES.len(), 0..STATES.len()).prop_map(|(device, state)| Op::Report { device, state }),
        2 => Just(Op::ReadReady),
        1 => Just(Op::Reconnect),
    ]
}

/// What the client keeps: the positions it processed and the cursor of the last one.
struct Client {
    seen: BTreeSet<u64>,
    cursor: String,
    last: u64,
}

impl Client {
    fn take(&mut self, message: Message) -> Result<(), TestCaseError> {
        match message {
            Message::Event(event) => {
                let position = event.event.unwrap().position;
                // In order on one stream; after a reconnect, never before the resume point.
                prop_assert!(
                    position > self.last,
                    "position {} after {}",
                    position,
                    self.last
                );
                self.seen.insert(position);
                self.last = position;
                self.cursor = event.cursor;
            }
            Message::Progress(progress) => {
                self.last = self.last.max(progress.position);
                self.cursor = progress.cursor;
            }
            other => prop_assert!(false, "unexpected {:?}", other),
        }
        Ok(())
    }
}

async fn run_case(ops: Vec<Op>, mask: u8) -> Result<(), TestCaseError> {
    let fail = |err: anyhow::Error| TestCaseError::fail(format!("{err:#}"));
    let dir = tempfile::tempdir().unwrap();
    let core = start_core(dir.path(), &[]).await.map_err(fail)?;
    let watched: Vec<String> = DEVICES
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, d)| (*d).to_owned())
        .collect();
    let filter = SubscriptionFilter {
        device_ids: watched.clone(),
        ..Default::default()
    };
    let mut stream = subscribe(&core, filter.clone(), "", 100)
        .await
        .map_err(|s| fail(s.into()))?;
    let (_, cursor, start) = read_snapshot(&mut stream).await.map_err(fail)?;
    let mut client = Client {
        seen: BTreeSet::new(),
        cursor,
        last: start,
    };
    let mut batch_seq = 0;
    let mut head = start;
    for op in ops {
        match op {
            Op::Report { device, state } => {
                batch_seq += 1;
                head = report_once(&core, batch_seq, DEVICES[device], STATES[state])
                    .await
                    .map_err(fail)?;
            }
            Op::ReadReady => {
                while let Some(Ok(Some(response))) = stream.message().now_or_never() {
                    client.take(response.message.unwrap())?;
                }
            }
            Op::Reconnect => {
                drop(stream);
                stream = subscribe(&core, filter.clone(), &client.cursor, 100)
                    .await
                    .map_err(|s| fail(s.into()))?;
                // The cursor stands for `client.last`: the new stream must start after it.
            }
        }
    }
    // Drain up to the head (a progress message tells us when nothing more matches).
    if client.last < head {
        for event in read_until(&mut stream, head).await.map_err(fail)? {
            if event.0 > client.last {
                client.seen.insert(event.0);
                client.last = event.0;
            }
        }
    }
    // The oracle is independent of the stream: each watched device's history, after the snapshot.
    let mut devices = core.device_client().await.map_err(fail)?;
    let mut expected = BTreeSet::new();
    for device in &watched {
        if let Ok(history) = full_history(&mut devices, device, 7).await {
            expected.extend(history.0.iter().map(|e| e.position).filter(|p| *p > start));
        }
    }
    prop_assert_eq!(client.seen, expected);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, max_shrink_iters: 10, ..ProptestConfig::default() })]

    #[test]
    fn every_matching_event_is_seen_exactly_once_in_order_across_disconnects(
        ops in prop::collection::vec(op(), 1..30),
        mask in 1u8..32,
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(run_case(ops, mask))?;
    }
}
