//! The risk store: riskgate's domain persistence on top of a [`KvEngine`].
//!
//! One writer thread owns every write. It assigns contiguous positions to the event log, drops duplicate
//! vendor events and stale reports, stores each batch's checkpoint in the same atomic write as its reports,
//! and acknowledges a batch only after the flush that covers it. Batches queued while a flush runs are
//! committed together and share the next flush (group commit).

use std::{
    collections::{HashMap, HashSet},
    ops::Bound,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    thread,
    time::Instant,
};

use tokio::sync::{mpsc, oneshot};

use super::{
    codec::{self, decode, encode},
    engine::{KvEngine, Keyspace, StoreError, StoreResult, WriteBatch},
    keys,
};
use crate::{
    domain::{
        Checkpoint, Clock, ConnectorId, DeviceId, DeviceRecord, DeviceReport, DeviceReported, Event,
        EventKind, PartnerReport, ReportBatch, Timestamp,
    },
    metrics::Metrics,
};

/// Tuning of the writer.
#[derive(Debug, Clone)]
pub struct WriterConfig {
    /// Batches waiting for the writer before `submit` waits (backpressure towards connectors).
    pub queue_depth: usize,
    /// Most batches committed together under one flush.
    pub max_group_batches: usize,
}

impl Default for WriterConfig {
    fn default() -> Self {
        Self {
            queue_depth: 1024,
            max_group_batches: 256,
        }
    }
}

/// What happened to a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchOutcome {
    /// Applied and durable.
    Applied,
    /// Its batch number was already acknowledged: nothing changed.
    Duplicate,
}

/// The acknowledgement of a durable batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchResult {
    /// Applied or duplicate.
    pub outcome: BatchOutcome,
    /// Reports that changed state.
    pub applied: u32,
    /// Reports older than the stored one for their device and connector.
    pub stale: u32,
    /// Reports whose vendor event id was already applied.
    pub duplicates: u32,
    /// Position of the last event written by the batch, or the head if it wrote none.
    pub position: u64,
}

/// The store's identity and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreInfo {
    /// Random identifier chosen at creation, as 32 hex digits.
    pub epoch: String,
    /// Position of the newest durable event.
    pub head_position: u64,
    /// Devices known.
    pub device_count: u64,
}

enum WriteRequest {
    Batch {
        batch: ReportBatch,
        reply: oneshot::Sender<StoreResult<BatchResult>>,
    },
    Shutdown {
        done: oneshot::Sender<StoreResult<()>>,
    },
}

/// Handle to the store; cheap to clone.
#[derive(Debug, Clone)]
pub struct RiskStore {
    shared: Arc<Shared>,
    requests: mpsc::Sender<WriteRequest>,
}

#[derive(Debug)]
struct Shared {
    engine: Arc<dyn KvEngine>,
    epoch: String,
    /// Position of the newest event covered by a completed flush. Readers never go past it.
    durable_head: AtomicU64,
    device_count: AtomicU64,
    writer: Mutex<Option<thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for WriteRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteRequest::Batch { batch, .. } => write!(f, "Batch({}#{})", batch.connector_id, batch.batch_seq),
            WriteRequest::Shutdown { .. } => f.write_str("Shutdown"),
        }
    }
}

impl RiskStore {
    /// Opens the store on `engine`, creating its metadata on first use, and starts the writer thread.
    pub fn open(
        engine: Arc<dyn KvEngine>,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
        config: WriterConfig,
    ) -> StoreResult<Self> {
        let meta = Meta::load_or_create(engine.as_ref())?;
        let shared = Arc::new(Shared {
            engine: engine.clone(),
            epoch: format!("{:032x}", meta.epoch),
            durable_head: AtomicU64::new(meta.head),
            device_count: AtomicU64::new(meta.device_count),
            writer: Mutex::new(None),
        });
        let (requests, receiver) = mpsc::channel(config.queue_depth.max(1));
        let writer = Writer {
            engine,
            clock,
            metrics,
            shared: shared.clone(),
            head: meta.head,
            device_count: meta.device_count,
            max_group: config.max_group_batches.max(1),
        };
        let handle = thread::Builder::new()
            .name("riskgate-writer".into())
            .spawn(move || writer.run(receiver))
            .map_err(|err| StoreError::Engine(format!("cannot start writer thread: {err}")))?;
        *shared.writer.lock().expect("writer handle lock") = Some(handle);
        Ok(Self { shared, requests })
    }

    /// Queues `batch` for the writer and returns a receiver for its acknowledgement. Batches are applied in
    /// the order they were queued, so a connector can pipeline several before awaiting the first ack.
    /// Waits while the writer's queue is full.
    pub async fn enqueue(&self, batch: ReportBatch) -> StoreResult<oneshot::Receiver<StoreResult<BatchResult>>> {
        let (reply, ack) = oneshot::channel();
        self.requests
            .send(WriteRequest::Batch { batch, reply })
            .await
            .map_err(|_| StoreError::Closed)?;
        Ok(ack)
    }

    /// Applies `batch` and waits until it is durable.
    pub async fn submit(&self, batch: ReportBatch) -> StoreResult<BatchResult> {
        self.enqueue(batch).await?.await.map_err(|_| StoreError::Closed)?
    }

    /// Commits everything queued before this call, flushes, and stops the writer. Later submissions fail
    /// with [`StoreError::Closed`].
    pub async fn shutdown(&self) -> StoreResult<()> {
        let (done, finished) = oneshot::channel();
        if self.requests.send(WriteRequest::Shutdown { done }).await.is_ok() {
            finished.await.map_err(|_| StoreError::Closed)??;
        }
        let handle = self.shared.writer.lock().expect("writer handle lock").take();
        if let Some(handle) = handle {
            // The writer has answered the shutdown, so joining only waits for the thread to return.
            tokio::task::spawn_blocking(move || handle.join())
                .await
                .map_err(|err| StoreError::Engine(format!("writer join: {err}")))?
                .map_err(|_| StoreError::Engine("writer thread panicked".into()))?;
        }
        Ok(())
    }

    /// The store's identity, durable head and size.
    pub fn info(&self) -> StoreInfo {
        StoreInfo {
            epoch: self.shared.epoch.clone(),
            head_position: self.shared.durable_head.load(Ordering::Acquire),
            device_count: self.shared.device_count.load(Ordering::Acquire),
        }
    }

    /// A device's latest state.
    pub fn device(&self, device_id: &DeviceId) -> StoreResult<Option<DeviceRecord>> {
        read_device(self.shared.engine.as_ref(), device_id)
    }

    /// Up to `limit` devices after `after` (exclusive) in id order that satisfy `filter`.
    pub fn list_devices(
        &self,
        after: Option<&DeviceId>,
        limit: usize,
        filter: impl Fn(&DeviceRecord) -> bool,
    ) -> StoreResult<Vec<DeviceRecord>> {
        let after_key = after.map(keys::device);
        let start = after_key.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
        let mut devices = Vec::new();
        for item in self.shared.engine.range(Keyspace::Devices, start, Bound::Unbounded) {
            let (_, value) = item?;
            let device: DeviceRecord = decode(Keyspace::Devices, &value)?;
            if filter(&device) {
                devices.push(device);
                if devices.len() == limit {
                    break;
                }
            }
        }
        Ok(devices)
    }

    /// Up to `limit` of a device's durable events after position `after`, oldest first.
    pub fn device_history(&self, device_id: &DeviceId, after: u64, limit: usize) -> StoreResult<Vec<Event>> {
        let engine = self.shared.engine.as_ref();
        let head = self.shared.durable_head.load(Ordering::Acquire);
        let start = keys::device_event(device_id, after.saturating_add(1));
        let end = keys::device_event(device_id, head);
        let mut events = Vec::new();
        for item in engine.range(Keyspace::DeviceEvents, Bound::Included(&start), Bound::Included(&end)) {
            let (key, _) = item?;
            let position = keys::device_event_position(&key).ok_or_else(|| StoreError::Corrupt {
                keyspace: Keyspace::DeviceEvents,
                reason: "short key".into(),
            })?;
            let event = engine.get(Keyspace::Events, &keys::event(position))?.ok_or_else(|| {
                StoreError::Corrupt {
                    keyspace: Keyspace::Events,
                    reason: format!("indexed event {position} is missing"),
                }
            })?;
            events.push(decode(Keyspace::Events, &event)?);
            if events.len() == limit {
                break;
            }
        }
        Ok(events)
    }

    /// A connector's last acknowledged checkpoint.
    pub fn checkpoint(&self, connector_id: &ConnectorId) -> StoreResult<Option<Checkpoint>> {
        read_checkpoint(self.shared.engine.as_ref(), connector_id)
    }
}

fn read_device(engine: &dyn KvEngine, device_id: &DeviceId) -> StoreResult<Option<DeviceRecord>> {
    engine
        .get(Keyspace::Devices, &keys::device(device_id))?
        .map(|bytes| decode(Keyspace::Devices, &bytes))
        .transpose()
}

fn read_checkpoint(engine: &dyn KvEngine, connector_id: &ConnectorId) -> StoreResult<Option<Checkpoint>> {
    engine
        .get(Keyspace::Checkpoints, &keys::checkpoint(connector_id))?
        .map(|bytes| decode(Keyspace::Checkpoints, &bytes))
        .transpose()
}

/// Store-wide metadata, kept in the Meta keyspace.
struct Meta {
    epoch: u128,
    head: u64,
    device_count: u64,
}

const META_DEVICE_COUNT: &[u8] = b"device_count";

impl Meta {
    fn load_or_create(engine: &dyn KvEngine) -> StoreResult<Self> {
        let Some(format) = engine.get(Keyspace::Meta, keys::META_FORMAT)? else {
            let meta = Meta {
                epoch: rand::random(),
                head: 0,
                device_count: 0,
            };
            let mut batch = WriteBatch::default();
            batch.put(Keyspace::Meta, keys::META_FORMAT.to_vec(), vec![codec::FORMAT_VERSION]);
            batch.put(Keyspace::Meta, keys::META_EPOCH.to_vec(), encode(&meta.epoch));
            batch.put(Keyspace::Meta, keys::META_HEAD.to_vec(), encode(&meta.head));
            batch.put(Keyspace::Meta, META_DEVICE_COUNT.to_vec(), encode(&meta.device_count));
            engine.apply(batch)?;
            engine.flush()?;
            return Ok(meta);
        };
        match format.as_slice() {
            [version] if *version <= codec::FORMAT_VERSION => {}
            [version] => {
                return Err(StoreError::UnsupportedFormat {
                    found: *version,
                    supported: codec::FORMAT_VERSION,
                })
            }
            _ => {
                return Err(StoreError::Corrupt {
                    keyspace: Keyspace::Meta,
                    reason: "bad format marker".into(),
                })
            }
        }
        let read = |key: &[u8]| -> StoreResult<Vec<u8>> {
            engine.get(Keyspace::Meta, key)?.ok_or_else(|| StoreError::Corrupt {
                keyspace: Keyspace::Meta,
                reason: format!("missing {}", String::from_utf8_lossy(key)),
            })
        };
        Ok(Meta {
            epoch: decode(Keyspace::Meta, &read(keys::META_EPOCH)?)?,
            head: decode(Keyspace::Meta, &read(keys::META_HEAD)?)?,
            device_count: decode(Keyspace::Meta, &read(META_DEVICE_COUNT)?)?,
        })
    }
}

/// The writer thread's state. Only this thread writes to the engine.
struct Writer {
    engine: Arc<dyn KvEngine>,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    shared: Arc<Shared>,
    /// Position of the newest applied event.
    head: u64,
    device_count: u64,
    max_group: usize,
}

/// Writes planned for one commit group that are not yet in the engine; later batches of the group read
/// through it so that they see the earlier ones.
#[derive(Default)]
struct Overlay {
    head: u64,
    new_devices: u64,
    writes: WriteBatch,
    devices: HashMap<DeviceId, DeviceRecord>,
    dedup: HashSet<Vec<u8>>,
    checkpoints: HashMap<ConnectorId, Checkpoint>,
}

impl Overlay {
    fn absorb(&mut self, other: Overlay) {
        self.head = other.head;
        self.new_devices += other.new_devices;
        self.writes.extend(other.writes);
        self.devices.extend(other.devices);
        self.dedup.extend(other.dedup);
        self.checkpoints.extend(other.checkpoints);
    }
}

impl Writer {
    fn run(mut self, mut receiver: mpsc::Receiver<WriteRequest>) {
        while let Some(first) = receiver.blocking_recv() {
            let mut group = vec![first];
            while group.len() < self.max_group {
                match receiver.try_recv() {
                    Ok(next) => group.push(next),
                    Err(_) => break,
                }
            }
            if self.commit_group(group) {
                return;
            }
        }
        // Every handle is gone: make what was applied durable before the thread ends.
        if let Err(err) = self.engine.flush() {
            tracing::error!(error = %err, "final flush failed");
        }
    }

    /// Plans, applies and flushes one group, then answers every request in it. Returns true on shutdown.
    fn commit_group(&mut self, group: Vec<WriteRequest>) -> bool {
        let now = self.clock.now();
        let mut overlay = Overlay {
            head: self.head,
            ..Overlay::default()
        };
        let mut replies = Vec::with_capacity(group.len());
        let mut shutdown = None;
        for request in group {
            match request {
                WriteRequest::Batch { batch, reply } => {
                    let result = self.plan_batch(&overlay, &batch, now).map(|(result, planned)| {
                        overlay.absorb(planned);
                        result
                    });
                    replies.push((reply, result));
                }
                // Requests behind a shutdown in the same group still get committed; the channel is FIFO, so
                // they were queued before the shutdown was observed by their senders' failure.
                WriteRequest::Shutdown { done } => shutdown = Some(done),
            }
        }
        let committed = self.commit(overlay);
        for (reply, result) in replies {
            let result = match (&committed, result) {
                (Ok(()), result) => result,
                (Err(err), Ok(_)) => Err(err.clone()),
                (Err(_), Err(err)) => Err(err),
            };
            if let Ok(result) = &result {
                self.metrics.record_batch(result);
            }
            // The submitter may have gone away (stream cancelled); its batch is durable all the same.
            let _ = reply.send(result);
        }
        match shutdown {
            Some(done) => {
                let _ = done.send(committed.and_then(|()| self.engine.flush()));
                true
            }
            None => false,
        }
    }

    /// Applies the planned writes atomically and flushes them, then publishes the new head.
    fn commit(&mut self, mut overlay: Overlay) -> StoreResult<()> {
        if overlay.writes.is_empty() {
            return Ok(());
        }
        let device_count = self.device_count + overlay.new_devices;
        overlay
            .writes
            .put(Keyspace::Meta, keys::META_HEAD.to_vec(), encode(&overlay.head));
        overlay
            .writes
            .put(Keyspace::Meta, META_DEVICE_COUNT.to_vec(), encode(&device_count));
        self.engine.apply(overlay.writes)?;
        let started = Instant::now();
        self.engine.flush()?;
        self.metrics.observe_flush(started.elapsed());
        self.head = overlay.head;
        self.device_count = device_count;
        self.shared.device_count.store(device_count, Ordering::Release);
        self.shared.durable_head.store(overlay.head, Ordering::Release);
        self.metrics.set_head(overlay.head);
        Ok(())
    }

    /// Works out the writes of one batch against the engine plus the group's overlay, without touching
    /// either, so that a failure leaves nothing of the batch behind.
    fn plan_batch(
        &self,
        group: &Overlay,
        batch: &ReportBatch,
        now: Timestamp,
    ) -> StoreResult<(BatchResult, Overlay)> {
        let connector = &batch.connector_id;
        let mut planned = Overlay {
            head: group.head,
            ..Overlay::default()
        };
        let last_acked = match group.checkpoints.get(connector) {
            Some(checkpoint) => Some(checkpoint.batch_seq),
            None => read_checkpoint(self.engine.as_ref(), connector)?.map(|c| c.batch_seq),
        };
        if last_acked.is_some_and(|last| batch.batch_seq <= last) {
            return Ok((
                BatchResult {
                    outcome: BatchOutcome::Duplicate,
                    applied: 0,
                    stale: 0,
                    duplicates: 0,
                    position: group.head,
                },
                planned,
            ));
        }
        let mut result = BatchResult {
            outcome: BatchOutcome::Applied,
            applied: 0,
            stale: 0,
            duplicates: 0,
            position: group.head,
        };
        for report in &batch.reports {
            let dedup_key = keys::dedup(connector, &report.vendor_event_id);
            let seen = planned.dedup.contains(&dedup_key)
                || group.dedup.contains(&dedup_key)
                || self.engine.get(Keyspace::Dedup, &dedup_key)?.is_some();
            if seen {
                result.duplicates += 1;
                continue;
            }
            let existing = match planned.devices.get(&report.device_id) {
                Some(device) => Some(device.clone()),
                None => match group.devices.get(&report.device_id) {
                    Some(device) => Some(device.clone()),
                    None => read_device(self.engine.as_ref(), &report.device_id)?,
                },
            };
            let is_stale = existing
                .as_ref()
                .and_then(|device| device.reports.get(connector))
                .is_some_and(|current| report.observed_at < current.observed_at);
            if is_stale {
                result.stale += 1;
                continue;
            }
            planned.head += 1;
            let position = planned.head;
            if existing.is_none() {
                planned.new_devices += 1;
            }
            let (device, event) = apply_report(existing, connector, report, position, now);
            planned
                .writes
                .put(Keyspace::Events, keys::event(position), encode(&event));
            planned.writes.put(
                Keyspace::DeviceEvents,
                keys::device_event(&device.device_id, position),
                Vec::new(),
            );
            planned
                .writes
                .put(Keyspace::Dedup, dedup_key.clone(), encode(&position));
            planned
                .writes
                .put(Keyspace::Devices, keys::device(&device.device_id), encode(&device));
            planned.dedup.insert(dedup_key);
            planned.devices.insert(device.device_id.clone(), device);
            result.applied += 1;
            result.position = position;
        }
        let checkpoint = Checkpoint {
            cursor: batch.checkpoint.clone(),
            batch_seq: batch.batch_seq,
            position: planned.head,
            updated_at: now,
        };
        planned
            .writes
            .put(Keyspace::Checkpoints, keys::checkpoint(connector), encode(&checkpoint));
        planned.checkpoints.insert(connector.clone(), checkpoint);
        Ok((result, planned))
    }
}

/// The device's new state and the event recording one applied report.
fn apply_report(
    existing: Option<DeviceRecord>,
    connector: &ConnectorId,
    report: &DeviceReport,
    position: u64,
    now: Timestamp,
) -> (DeviceRecord, Event) {
    let mut device = existing.unwrap_or_else(|| DeviceRecord {
        device_id: report.device_id.clone(),
        info: report.info.clone(),
        first_seen: now,
        last_seen: now,
        reports: Default::default(),
        position,
    });
    let previous_level = device.level();
    device.info = report.info.clone();
    device.last_seen = now;
    device.position = position;
    device.reports.insert(
        connector.clone(),
        PartnerReport {
            health_state: report.health_state,
            threats: report.threats.clone(),
            observed_at: report.observed_at,
            received_at: now,
            vendor_event_id: report.vendor_event_id.clone(),
            position,
        },
    );
    let event = Event {
        position,
        time: now,
        device_id: device.device_id.clone(),
        kind: EventKind::DeviceReported(DeviceReported {
            connector_id: connector.clone(),
            health_state: report.health_state,
            previous_level,
            current_level: device.level(),
            vendor_event_id: report.vendor_event_id.clone(),
            observed_at: report.observed_at,
            threats: report.threats.clone(),
        }),
    };
    (device, event)
}

#[cfg(test)]
#[path = "risk_store_tests.rs"]
mod tests;
