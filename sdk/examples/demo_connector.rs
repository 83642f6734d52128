//! A complete riskgate connector: a simulated vendor feed of device health events.
//!
//! It is the SDK's worked example (see the README) and the plugin riskgate's own end-to-end tests
//! stream into the core. Build it as a plugin with:
//!
//! ```sh
//! cargo build -p riskgate-sdk --example demo_connector   # target/debug/examples/libdemo_connector.so
//! ```
//!
//! Configuration (JSON), every key optional:
//!
//! - `devices` (1 to 100000, default 10): how many simulated devices;
//! - `batch_size` (1 to 1000, default 5): reports per batch;
//! - `interval_ms` (0 to 60000, default 100): pause between batches;
//! - `total_events` (default unlimited): end the feed after this many events, counted from the very
//!   first start (the cursor survives restarts through the checkpoint);
//! - `max_unacked` (1 to 1000, default 16): how many batches may await acknowledgement before the
//!   connector waits.
//!
//! The checkpoint is the vendor cursor: the number of events emitted so far, as decimal text.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use riskgate_sdk::{
    pb, prost_types, tracing, Batch, BatchId, BatchSink, Connector, ConnectorError, Manifest,
    Shutdown, StartContext,
};

/// The demo connector's settings, parsed from its JSON configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoConfig {
    /// Simulated devices.
    pub devices: u64,
    /// Reports per batch.
    pub batch_size: u64,
    /// Pause between batches.
    pub interval: Duration,
    /// End of the feed, if any.
    pub total_events: Option<u64>,
    /// Batches that may await acknowledgement.
    pub max_unacked: u64,
}

impl DemoConfig {
    /// Parses and checks the JSON configuration; errors name the key.
    pub fn parse(raw: &[u8]) -> Result<Self, ConnectorError> {
        let value: serde_json::Value = if raw.iter().all(u8::is_ascii_whitespace) {
            serde_json::Value::Object(Default::default())
        } else {
            serde_json::from_slice(raw)
                .map_err(|e| ConnectorError::Config(format!("not valid JSON: {e}")))?
        };
        let object = value
            .as_object()
            .ok_or_else(|| ConnectorError::Config("must be a JSON object".to_owned()))?;
        for key in object.keys() {
            if ![
                "devices",
                "batch_size",
                "interval_ms",
                "total_events",
                "max_unacked",
            ]
            .contains(&key.as_str())
            {
                return Err(ConnectorError::Config(format!("{key}: unknown key")));
            }
        }
        let number = |key: &str,
                      default: u64,
                      range: std::ops::RangeInclusive<u64>|
         -> Result<u64, ConnectorError> {
            match object.get(key) {
                None => Ok(default),
                Some(value) => value.as_u64().filter(|n| range.contains(n)).ok_or_else(|| {
                    ConnectorError::Config(format!(
                        "{key}: must be an integer from {} to {}",
                        range.start(),
                        range.end()
                    ))
                }),
            }
        };
        Ok(DemoConfig {
            devices: number("devices", 10, 1..=100_000)?,
            batch_size: number("batch_size", 5, 1..=1000)?,
            interval: Duration::from_millis(number("interval_ms", 100, 0..=60_000)?),
            total_events: match object.get("total_events") {
                None => None,
                Some(_) => Some(number("total_events", 0, 0..=u64::MAX)?),
            },
            max_unacked: number("max_unacked", 16, 1..=1000)?,
        })
    }
}

/// The connector: its settings and its position in the simulated feed.
#[derive(Debug)]
pub struct DemoConnector {
    config: DemoConfig,
    /// Events emitted so far (the vendor cursor).
    cursor: u64,
}

impl Connector for DemoConnector {
    fn manifest() -> Manifest {
        Manifest {
            name: "demo".to_owned(),
            vendor: "riskgate examples".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }

    fn create(start: &StartContext) -> Result<Self, ConnectorError> {
        let config = DemoConfig::parse(&start.config)?;
        // Resume right after the last acknowledged batch.
        let cursor = match &start.checkpoint {
            None => 0,
            Some(raw) => std::str::from_utf8(raw)
                .ok()
                .and_then(|text| text.parse().ok())
                .ok_or_else(|| ConnectorError::Fatal(format!("unreadable checkpoint {raw:?}")))?,
        };
        // Logging is the ordinary `tracing` macros: the host writes the record into its own log
        // with this level and target (sdk/LOGGING.md).
        tracing::info!(target: "demo::feed", cursor, "demo connector created");
        Ok(DemoConnector { config, cursor })
    }

    async fn run(mut self, sink: BatchSink, shutdown: Shutdown) -> Result<(), ConnectorError> {
        loop {
            if shutdown.is_shutdown() {
                return Ok(());
            }
            let remaining = self
                .config
                .total_events
                .map(|total| total.saturating_sub(self.cursor));
            if remaining == Some(0) {
                // A finite feed: returning Ok ends it once the host has pulled every batch.
                tracing::info!(target: "demo::feed", events = self.cursor, "feed complete");
                return Ok(());
            }
            let count = remaining.unwrap_or(u64::MAX).min(self.config.batch_size);
            let reports = (self.cursor..self.cursor + count)
                .map(|event| self.report(event))
                .collect();
            self.cursor += count;
            let batch = Batch {
                checkpoint: self.cursor.to_string().into_bytes(),
                reports,
            };
            // Waits while the sink is full: that is how a slow core slows this connector down.
            let sent = match sink.send(batch).await {
                Ok(id) => id,
                Err(_closed) => return Ok(()),
            };
            // Learn acknowledgements: stay at most `max_unacked` batches ahead of the core.
            if let Some(oldest) = sent.0.checked_sub(self.config.max_unacked) {
                if sink.wait_acknowledged(BatchId(oldest)).await.is_err() {
                    return Ok(());
                }
            }
            tokio_sleep(self.config.interval, &shutdown).await;
        }
    }
}

async fn tokio_sleep(pause: Duration, shutdown: &Shutdown) {
    riskgate_sdk::tokio::select! {
        () = riskgate_sdk::tokio::time::sleep(pause) => {}
        () = shutdown.wait() => {}
    }
}

impl DemoConnector {
    /// The simulated report of feed event number `event`.
    fn report(&self, event: u64) -> pb::DeviceReport {
        let device = event % self.config.devices;
        let health = [
            pb::HealthState::Secured,
            pb::HealthState::LowSeverity,
            pb::HealthState::MediumSeverity,
            pb::HealthState::HighSeverity,
        ][usize::try_from(event % 4).unwrap_or(0)];
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        pb::DeviceReport {
            device_id: format!("demo-device-{device}"),
            platform: if device.is_multiple_of(2) {
                pb::Platform::Android
            } else {
                pb::Platform::Ios
            } as i32,
            os_version: "14".to_owned(),
            model: "Demo Phone".to_owned(),
            owner_user_id: format!("user{device}@example.com"),
            groups: vec!["demo".to_owned()],
            health_state: health as i32,
            threats: Vec::new(),
            observed_at: Some(prost_types::Timestamp {
                seconds: i64::try_from(now.as_secs()).unwrap_or(i64::MAX),
                nanos: 0,
            }),
            vendor_event_id: format!("demo-event-{event}"),
        }
    }
}

riskgate_sdk::export_connector!(DemoConnector);

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use riskgate_sdk::{testing::Harness, CallError, Pulled, StartContext};

    use super::DemoConnector;

    const WAIT: Duration = Duration::from_secs(10);

    fn start(config: &str, checkpoint: Option<&str>) -> StartContext {
        StartContext {
            connector_id: "demo".to_owned(),
            config: config.as_bytes().to_vec(),
            checkpoint: checkpoint.map(|c| c.as_bytes().to_vec()),
            last_batch_seq: 0,
        }
    }

    #[test]
    fn emits_valid_batches_whose_checkpoint_counts_events() {
        let mut harness =
            Harness::<DemoConnector>::start(start(r#"{"batch_size": 3, "interval_ms": 0}"#, None))
                .unwrap();
        let first = harness.expect_batch(WAIT).unwrap();
        assert_eq!(first.reports.len(), 3);
        assert_eq!(first.checkpoint, b"3");
        harness.ack(first.batch_id).unwrap();
        let second = harness.expect_batch(WAIT).unwrap();
        assert_eq!(second.checkpoint, b"6");
        harness.stop(WAIT).unwrap();
    }

    #[test]
    fn resumes_after_the_acknowledged_checkpoint() {
        let mut harness = Harness::<DemoConnector>::start(start(
            r#"{"batch_size": 2, "interval_ms": 0}"#,
            Some("40"),
        ))
        .unwrap();
        let batch = harness.expect_batch(WAIT).unwrap();
        assert_eq!(batch.reports[0].vendor_event_id, "demo-event-40");
        assert_eq!(batch.checkpoint, b"42");
        harness.stop(WAIT).unwrap();
    }

    #[test]
    fn finite_feed_ends_after_total_events() {
        let mut harness = Harness::<DemoConnector>::start(start(
            r#"{"batch_size": 2, "interval_ms": 0, "total_events": 3}"#,
            None,
        ))
        .unwrap();
        let sizes: Vec<usize> = (0..2)
            .map(|_| harness.expect_batch(WAIT).unwrap().reports.len())
            .collect();
        assert_eq!(sizes, [2, 1]);
        assert_eq!(harness.next_batch(WAIT).unwrap(), Pulled::End);
        harness.stop(WAIT).unwrap();
    }

    #[test]
    fn invalid_config_is_a_config_error_naming_the_key() {
        let err = Harness::<DemoConnector>::create(start(r#"{"devices": 0}"#, None)).unwrap_err();
        assert!(
            matches!(&err, riskgate_sdk::testing::HarnessError::Call { error: CallError::Config(m), .. } if m.starts_with("devices:")),
            "{err}"
        );
    }
}
