//! # riskgate-lookout
//!
//! A riskgate connector plugin (`cdylib`, built only on `riskgate-sdk`) for the Lookout Mobile Risk
//! API v2: it fetches an OAuth2 client-credentials token (refreshed before it expires), syncs every
//! device and threat over the REST API (paged by `oid`), then follows the `/mra/stream/v2/events`
//! server-sent-events stream, resuming after the last acknowledged SSE batch id.
//!
//! Every device change becomes a `DeviceReport` (health state, threats) per the mapping table in the
//! README ([`mapping`]). Malformed vendor data is skipped, counted and logged; every report is checked
//! with the SDK's validation before it is emitted. 429s wait for `Retry-After`; other errors back off
//! exponentially with jitter.

pub mod checkpoint;
pub mod client;
pub mod config;
mod log;
pub mod mapping;
pub mod stats;

use std::{
    collections::{HashSet, VecDeque},
    time::Duration,
};

use eventsource_stream::Eventsource as _;
use futures::StreamExt as _;
use riskgate_sdk::{
    pb, tokio,
    toolkit::time::{format_unix_ms, now_unix_ms as now_ms},
    validate, Batch, BatchSink, Connector, ConnectorError, Manifest, Shutdown, StartContext,
};
use serde_json::Value;

use crate::{
    checkpoint::Checkpoint,
    client::Client,
    config::Config,
    mapping::{EventOutcome, Fleet},
    stats::Stats,
};

/// Why the connector stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookoutError {
    /// The configuration (or the application key) is wrong.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A permanent failure.
    #[error("{0}")]
    Fatal(String),
    /// Shutdown was requested.
    #[error("shutting down")]
    Shutdown,
}

impl From<LookoutError> for ConnectorError {
    fn from(e: LookoutError) -> Self {
        match e {
            LookoutError::Config(why) => ConnectorError::Config(why),
            LookoutError::Fatal(why) => ConnectorError::Fatal(why),
            LookoutError::Shutdown => ConnectorError::Transient("shut down".to_owned()),
        }
    }
}

/// Stream event types the connector asks for.
const STREAM_TYPES: &str = "DEVICE,THREAT";

/// How many recent event ids are remembered to drop duplicates.
const SEEN_CAPACITY: usize = 50_000;

/// FNV-1a, for content-addressed sync event ids.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The Lookout connector.
#[derive(Debug)]
pub struct LookoutConnector {
    config: Config,
    checkpoint: Checkpoint,
    fleet: Fleet,
    stats: Stats,
    seen: HashSet<String>,
    seen_order: VecDeque<String>,
}

impl Connector for LookoutConnector {
    fn manifest() -> Manifest {
        Manifest {
            name: "lookout".to_owned(),
            vendor: "Lookout".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }

    fn create(start: &StartContext) -> Result<Self, ConnectorError> {
        let config = Config::parse(&start.config)?;
        let checkpoint = match &start.checkpoint {
            None => Checkpoint::default(),
            Some(raw) => Checkpoint::decode(raw).unwrap_or_else(|| {
                log::warn("unreadable checkpoint; starting with a full device sync");
                Checkpoint::default()
            }),
        };
        Ok(LookoutConnector {
            config,
            checkpoint,
            fleet: Fleet::default(),
            stats: Stats::default(),
            seen: HashSet::new(),
            seen_order: VecDeque::new(),
        })
    }

    fn takes_rechecks() -> bool {
        true
    }

    async fn run(self, sink: BatchSink, shutdown: Shutdown) -> Result<(), ConnectorError> {
        match self.run_inner(&sink, &shutdown).await {
            Ok(()) | Err(LookoutError::Shutdown) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

impl LookoutConnector {
    /// The connector's counters.
    pub fn stats(&self) -> Stats {
        self.stats.clone()
    }

    async fn run_inner(
        mut self,
        sink: &BatchSink,
        shutdown: &Shutdown,
    ) -> Result<(), LookoutError> {
        let mut client = Client::new(self.config.clone(), self.stats.clone(), sink.feed().clone())?;
        let first_sync = !self.checkpoint.synced;
        if self.checkpoint.since_ms == 0 {
            let lookback = u64::try_from(self.config.initial_lookback.as_millis()).unwrap_or(0);
            self.checkpoint.since_ms = now_ms().saturating_sub(lookback);
        }
        self.checkpoint.v = 1;
        self.sync(&mut client, shutdown).await?;
        if first_sync {
            let observed = now_ms();
            let mut reports = Vec::new();
            for device in self.fleet.devices.values() {
                if let Some(report) = self.map(device, observed, None) {
                    reports.push(report);
                }
            }
            let done = Checkpoint {
                synced: true,
                ..self.checkpoint.clone()
            };
            log::info(&format!(
                "initial sync: {} devices, {} reports",
                self.fleet.devices.len(),
                reports.len()
            ));
            self.send(sink, reports, &done).await?;
            self.checkpoint = done;
        } else {
            log::info(&format!(
                "resuming the event stream after {:?} ({} devices known)",
                self.checkpoint.last_id,
                self.fleet.devices.len()
            ));
        }
        self.stream(&mut client, sink, shutdown).await
    }

    /// Loads every device and threat over REST into the fleet.
    async fn sync(&mut self, client: &mut Client, shutdown: &Shutdown) -> Result<(), LookoutError> {
        for (path, key) in [
            ("/mra/api/v2/devices", "devices"),
            ("/mra/api/v2/threats", "threats"),
        ] {
            let mut oid: Option<String> = None;
            loop {
                let mut query = vec![("limit", self.config.page_size.to_string())];
                if let Some(oid) = &oid {
                    query.push(("oid", oid.clone()));
                }
                let page = client.get_json(shutdown, path, &query).await?;
                let Some(items) = page.get(key).and_then(Value::as_array) else {
                    self.malformed(&format!(
                        "{path}: page without {key:?}; stopping this listing"
                    ));
                    break;
                };
                for item in items {
                    let applied = if key == "devices" {
                        self.fleet.apply_rest_device(item)
                    } else {
                        self.fleet.apply_rest_threat(item)
                    };
                    if let Err(why) = applied {
                        self.malformed(&format!("{path}: skipped an item: {why}"));
                    }
                    match item.get("oid") {
                        Some(Value::String(s)) => oid = Some(s.clone()),
                        Some(Value::Number(n)) => oid = Some(n.to_string()),
                        _ => {}
                    }
                }
                let full = u64::try_from(items.len()).unwrap_or(0) >= self.config.page_size;
                if !full || items.is_empty() {
                    break;
                }
            }
        }
        Ok(())
    }

    fn malformed(&self, what: &str) {
        let total = self.stats.bump_malformed();
        log::warn(&format!(
            "malformed vendor data skipped ({total} so far): {what}"
        ));
    }

    /// Maps a device to a valid report, or logs why not.
    fn map(
        &self,
        device: &mapping::DeviceState,
        observed_ms: u64,
        event_id: Option<&str>,
    ) -> Option<pb::DeviceReport> {
        let observed_ms = observed_ms.min(now_ms());
        let mapped = match mapping::report(
            device,
            &self.config,
            observed_ms,
            event_id.unwrap_or("pending"),
        ) {
            Ok(mapped) => mapped,
            Err(why) => {
                self.malformed(&why.0);
                return None;
            }
        };
        for note in &mapped.notes {
            self.malformed(&format!("device {}: {note}", device.guid));
        }
        let mut report = mapped.report;
        if event_id.is_none() {
            // Sync reports are named by their content, so a repeated sync repeats the same id.
            let content = format!("{:?}{:?}", report.health_state, report.threats);
            report.vendor_event_id = format!("sync-{}-{:016x}", device.guid, fnv1a(&content));
        }
        if let Err(invalid) = validate::report(&report) {
            self.malformed(&format!(
                "device {}: report would be invalid ({invalid}); skipped",
                device.guid
            ));
            return None;
        }
        Some(report)
    }

    /// Sends reports in batches; only the last batch carries `checkpoint`, earlier ones the previous one.
    async fn send(
        &mut self,
        sink: &BatchSink,
        reports: Vec<pb::DeviceReport>,
        checkpoint: &Checkpoint,
    ) -> Result<(), LookoutError> {
        if reports.is_empty() {
            return Ok(());
        }
        let chunks: Vec<Vec<pb::DeviceReport>> = reports
            .chunks(self.config.max_batch_reports)
            .map(<[_]>::to_vec)
            .collect();
        let last = chunks.len() - 1;
        for (index, chunk) in chunks.into_iter().enumerate() {
            let cp = if index == last {
                checkpoint
            } else {
                &self.checkpoint
            };
            let n = u64::try_from(chunk.len()).unwrap_or(0);
            sink.send(Batch {
                checkpoint: cp.encode(),
                reports: chunk,
            })
            .await
            .map_err(|_| LookoutError::Shutdown)?;
            self.stats.add_reports(n);
        }
        Ok(())
    }

    /// Follows the event stream forever, reconnecting after ends, drops and errors.
    async fn stream(
        &mut self,
        client: &mut Client,
        sink: &BatchSink,
        shutdown: &Shutdown,
    ) -> Result<(), LookoutError> {
        let mut next_resync = self.next_resync();
        loop {
            let mut query = vec![("types", STREAM_TYPES.to_owned())];
            match &self.checkpoint.last_id {
                Some(id) => query.push(("id", id.clone())),
                None => query.push(("start_time", format_unix_ms(self.checkpoint.since_ms))),
            }
            let last_id = self.checkpoint.last_id.clone();
            let response = client
                .open_stream(shutdown, &query, last_id.as_deref())
                .await?;
            let connections = self.stats.bump_connections();
            log::info(&format!(
                "event stream open (connection {connections}) after {last_id:?}"
            ));
            let mut events = response.bytes_stream().eventsource();
            let mut server_retry = None;
            loop {
                let next = tokio::select! {
                    () = shutdown.wait() => return Err(LookoutError::Shutdown),
                    () = resync_due(next_resync) => {
                        self.resync(client, sink, shutdown, "resync").await?;
                        next_resync = self.next_resync();
                        continue;
                    }
                    recheck = sink.recheck_requested() => {
                        self.recheck(client, sink, shutdown, &recheck.device_ids).await?;
                        continue;
                    }
                    next = tokio::time::timeout(self.config.stream_idle_timeout, events.next()) => next,
                };
                let event = match next {
                    Err(_) => {
                        sink.feed()
                            .degraded("event stream idle past stream_idle_timeout; reconnecting");
                        log::warn("event stream idle past stream_idle_timeout; reconnecting");
                        break;
                    }
                    Ok(None) => {
                        log::info("event stream closed by the server; reconnecting");
                        break;
                    }
                    Ok(Some(Err(e))) => {
                        self.stats.bump_errors();
                        sink.feed()
                            .degraded(format!("event stream broken ({e}); reconnecting"));
                        log::warn(&format!(
                            "event stream broken ({e}); reconnecting from {:?}",
                            self.checkpoint.last_id
                        ));
                        break;
                    }
                    Ok(Some(Ok(event))) => event,
                };
                // A heartbeat or a batch on the stream is Lookout's word that the feed is alive.
                sink.feed().synced();
                match event.event.as_str() {
                    "heartbeat" => {}
                    "events" | "event" | "message" => {
                        client.healthy();
                        self.on_batch(client, sink, shutdown, &event.id, &event.data)
                            .await?;
                    }
                    "reconnect" => {
                        server_retry = Some(event.retry.unwrap_or(Duration::from_secs(1)));
                        log::info(&format!("server asked to reconnect in {server_retry:?}"));
                        break;
                    }
                    "end" => {
                        server_retry = Some(self.config.backoff_initial);
                        log::info("server ended the stream; reconnecting");
                        break;
                    }
                    other => log::info(&format!("ignoring stream event type {other:?}")),
                }
            }
            client.stream_pause(shutdown, server_retry).await?;
        }
    }

    /// When the next periodic re-sync is due; `None` when it is off.
    fn next_resync(&self) -> Option<tokio::time::Instant> {
        (!self.config.resync_interval.is_zero())
            .then(|| tokio::time::Instant::now() + self.config.resync_interval)
    }

    /// Re-reads every device and threat over REST and re-reports every device, each under an event id
    /// of this round (`label`), so that the core's freshness moves even when nothing changed (an
    /// unchanged report costs the core no event).
    async fn resync(
        &mut self,
        client: &mut Client,
        sink: &BatchSink,
        shutdown: &Shutdown,
        label: &str,
    ) -> Result<(), LookoutError> {
        self.sync(client, shutdown).await?;
        let round = now_ms();
        let reports: Vec<pb::DeviceReport> = self
            .fleet
            .devices
            .values()
            .filter_map(|device| {
                self.map(
                    device,
                    round,
                    Some(&format!("{label}-{round}-{}", device.guid)),
                )
            })
            .collect();
        log::info(&format!("{label}: re-reported {} devices", reports.len()));
        let checkpoint = self.checkpoint.clone();
        self.send(sink, reports, &checkpoint).await
    }

    /// An admin's re-check: fetches the named devices (by the ids reported to the core) and their
    /// threats from the REST API and reports them; no ids re-syncs every device.
    async fn recheck(
        &mut self,
        client: &mut Client,
        sink: &BatchSink,
        shutdown: &Shutdown,
        device_ids: &[String],
    ) -> Result<(), LookoutError> {
        if device_ids.is_empty() {
            return self.resync(client, sink, shutdown, "recheck").await;
        }
        let round = now_ms();
        let mut reports = Vec::new();
        for wanted in device_ids {
            // The core knows devices by the configured id; Lookout by guid.
            let guid = self
                .fleet
                .devices
                .values()
                .find(|device| mapping::device_id(device, &self.config).as_deref() == Some(wanted))
                .map_or_else(|| wanted.clone(), |device| device.guid.clone());
            let item = client
                .get_json(shutdown, "/mra/api/v2/device", &[("guid", guid.clone())])
                .await?;
            if !item.is_object() {
                log::warn(&format!("recheck: Lookout does not know device {wanted}"));
                continue;
            }
            if let Err(why) = self.fleet.apply_rest_device(&item) {
                self.malformed(&format!("recheck of {wanted}: {why}"));
                continue;
            }
            let threats = client
                .get_json(
                    shutdown,
                    "/mra/api/v2/threats",
                    &[("device_guid", guid.clone()), ("limit", "1000".to_owned())],
                )
                .await?;
            for threat in threats
                .get("threats")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Err(why) = self.fleet.apply_rest_threat(threat) {
                    self.malformed(&format!("recheck of {wanted}: a threat: {why}"));
                }
            }
            if let Some(device) = self.fleet.devices.get(&guid) {
                if let Some(report) =
                    self.map(device, round, Some(&format!("recheck-{round}-{guid}")))
                {
                    reports.push(report);
                }
            }
        }
        log::info(&format!(
            "recheck: re-reported {} of {} devices",
            reports.len(),
            device_ids.len()
        ));
        let checkpoint = self.checkpoint.clone();
        self.send(sink, reports, &checkpoint).await
    }

    fn remember(&mut self, id: &str) -> bool {
        if self.seen.contains(id) {
            return false;
        }
        self.seen.insert(id.to_owned());
        self.seen_order.push_back(id.to_owned());
        if self.seen_order.len() > SEEN_CAPACITY {
            if let Some(old) = self.seen_order.pop_front() {
                self.seen.remove(&old);
            }
        }
        true
    }

    /// Applies one SSE batch and emits one report per device it touched.
    async fn on_batch(
        &mut self,
        client: &mut Client,
        sink: &BatchSink,
        shutdown: &Shutdown,
        sse_id: &str,
        data: &str,
    ) -> Result<(), LookoutError> {
        if !sse_id.is_empty() {
            // Remembered now: a batch that yields nothing still moves the cursor with the next one.
            self.checkpoint.last_id = Some(sse_id.to_owned());
        }
        let parsed: Value = match serde_json::from_str(data) {
            Ok(v) => v,
            Err(e) => {
                self.malformed(&format!("stream batch {sse_id}: data is not JSON ({e})"));
                return Ok(());
            }
        };
        let Some(events) = parsed.get("events").and_then(Value::as_array) else {
            self.malformed(&format!("stream batch {sse_id}: no \"events\" array"));
            return Ok(());
        };
        // Devices touched, in order, with the last event id and time about each.
        let mut touched: Vec<(String, String, u64)> = Vec::new();
        for event in events {
            let Some(id) = event.get("id").and_then(Value::as_str).map(str::to_owned) else {
                self.malformed(&format!("stream batch {sse_id}: an event without an id"));
                continue;
            };
            if self.seen.contains(&id) {
                let total = self.stats.bump_duplicates();
                log::info(&format!("duplicate event {id} skipped ({total} so far)"));
                continue;
            }
            let mut outcome = self.fleet.apply_event(event);
            if let Ok(EventOutcome::UnknownDevice(guid)) = &outcome {
                let guid = guid.clone();
                let item = client
                    .get_json(shutdown, "/mra/api/v2/device", &[("guid", guid.clone())])
                    .await?;
                if item.is_object() {
                    if let Err(why) = self.fleet.apply_rest_device(&item) {
                        self.malformed(&format!("device {guid}: {why}"));
                    }
                }
                outcome = self.fleet.apply_event(event);
            }
            self.remember(&id);
            match outcome {
                Ok(EventOutcome::Device(guid)) => {
                    let at = event
                        .get("created_time")
                        .and_then(Value::as_str)
                        .and_then(mapping::parse_time_ms)
                        .unwrap_or_else(now_ms);
                    match touched.iter_mut().find(|(g, _, _)| *g == guid) {
                        Some(entry) => {
                            entry.1 = id;
                            entry.2 = entry.2.max(at);
                        }
                        None => touched.push((guid, id, at)),
                    }
                }
                Ok(EventOutcome::UnknownDevice(guid)) => {
                    self.malformed(&format!("event {id}: device {guid} unknown to Lookout"))
                }
                Ok(EventOutcome::Ignored) => {
                    self.stats.bump_ignored();
                }
                Err(why) => self.malformed(&format!("event {id}: {why}")),
            }
        }
        let mut reports = Vec::new();
        for (guid, event_id, at) in &touched {
            if let Some(device) = self.fleet.devices.get(guid) {
                if let Some(report) = self.map(device, *at, Some(event_id)) {
                    reports.push(report);
                }
            }
        }
        let checkpoint = self.checkpoint.clone();
        self.send(sink, reports, &checkpoint).await
    }
}

/// Resolves when the periodic re-sync is due; never when it is off.
async fn resync_due(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

riskgate_sdk::export_connector!(LookoutConnector);
