//! The risk store handle: opening the store (creating its metadata, rebuilding the in-memory view), reads,
//! and the requests the writer thread serves (`writer.rs`).

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    thread,
};

use parking_lot::{Mutex, RwLock, RwLockReadGuard};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::{
    backend::{StoreBackend, StoreMeta},
    engine::{StoreError, StoreResult},
    shared::{BatchResult, Shared},
    writer::{Compaction, Retention, WriteRequest, Writer},
};
use crate::{cursor::CursorCodec, error::WriteResult, observer::WriterObserver};
use riskgate_policy::{
    domain::{
        Checkpoint, Clock, ConnectorId, DeviceId, DeviceRecord, Event, ReportBatch, Timestamp,
    },
    {
        admin::{AdminCommand, AdminOutcome},
        evaluate::DeviceSummary,
        view::{ComplianceMemo, DeviceView, View},
    },
};

/// Tuning of the writer.
#[derive(Debug, Clone)]
pub struct WriterConfig {
    /// Requests waiting for the writer before senders wait (backpressure towards connectors).
    pub queue_depth: usize,
    /// Most requests committed together under one flush.
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

/// Handle to the store; cheap to clone.
#[derive(Debug, Clone)]
pub struct RiskStore {
    shared: Arc<Shared>,
    view: Arc<RwLock<View>>,
    requests: mpsc::Sender<WriteRequest>,
}

/// Commit groups a subscriber may fall behind the live broadcast before it catches up from the log instead.
const BROADCAST_CAPACITY: usize = 4096;

impl RiskStore {
    /// Opens the store in `backend`: creates its metadata on first use, rebuilds the in-memory view from the
    /// stored configuration, devices and compliance memos, starts the writer thread, and queues a
    /// re-evaluation of every device (logging what changed while the core was down) as the writer's first
    /// request.
    ///
    /// It returns once the view is loaded, without waiting for that pass: until it is done, checks are
    /// answered with the decisions persisted at the last commit (`DeviceView::restored`), and every write
    /// queues behind it. With a million devices the pass takes seconds, and a restarted core must serve
    /// again within 5 s (issue #9); what it can change is only what time changed while the core was down,
    /// which the scheduler's ticks would otherwise apply up to a period late anyway.
    pub async fn open(
        backend: Arc<dyn StoreBackend>,
        clock: Arc<dyn Clock>,
        observer: Arc<dyn WriterObserver>,
        config: WriterConfig,
    ) -> WriteResult<Self> {
        let meta = backend.open()?;
        let loading = std::time::Instant::now();
        let view = Arc::new(RwLock::new(load_view(
            backend.as_ref(),
            &meta,
            clock.now(),
        )?));
        let loaded = loading.elapsed();
        let shared = Arc::new(Shared {
            backend: backend.clone(),
            epoch: format!("{:032x}", meta.epoch),
            durable_head: AtomicU64::new(meta.head),
            device_count: AtomicU64::new(meta.device_count),
            first_retained: AtomicU64::new(meta.first_retained),
            visibility: RwLock::new(()),
            writer: Mutex::new(None),
            events: broadcast::channel(BROADCAST_CAPACITY).0,
            cursors: CursorCodec::new(meta.epoch, meta.cursor_key),
        });
        let (requests, receiver) = mpsc::channel(config.queue_depth.max(1));
        let writer = Writer {
            backend,
            clock,
            observer,
            shared: shared.clone(),
            view: view.clone(),
            head: meta.head,
            device_count: meta.device_count,
            first_retained: meta.first_retained,
            max_group: config.max_group_batches.max(1),
        };
        let handle = thread::Builder::new()
            .name("riskgate-writer".into())
            .spawn(move || writer.run(receiver))
            .map_err(|err| StoreError::Engine(format!("cannot start writer thread: {err}")))?;
        *shared.writer.lock() = Some(handle);
        let store = Self {
            shared,
            view,
            requests,
        };
        tracing::info!(
            devices = meta.device_count,
            load_ms = loaded.as_millis() as u64,
            "view loaded from the store"
        );
        let (reply, evaluated) = oneshot::channel();
        store
            .requests
            .send(WriteRequest::Tick { full: true, reply })
            .await
            .map_err(|_| StoreError::Closed)?;
        let started = std::time::Instant::now();
        tokio::spawn(async move {
            match evaluated.await {
                Ok(Ok(_)) => tracing::info!(
                    devices = meta.device_count,
                    evaluate_ms = started.elapsed().as_millis() as u64,
                    "every device re-evaluated after start"
                ),
                Ok(Err(err)) => {
                    tracing::error!(error = %err, "re-evaluating every device after start failed")
                }
                Err(_) => tracing::warn!("the store closed before re-evaluating every device"),
            }
        });
        Ok(store)
    }

    async fn request<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<WriteResult<T>>) -> WriteRequest,
    ) -> WriteResult<T> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(make(reply))
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Queues `batch` for the writer and returns a receiver for its acknowledgement. Batches are applied in
    /// the order they were queued, so a connector can pipeline several before awaiting the first ack.
    /// Waits while the writer's queue is full.
    pub async fn enqueue(
        &self,
        batch: ReportBatch,
    ) -> WriteResult<oneshot::Receiver<WriteResult<BatchResult>>> {
        let (reply, ack) = oneshot::channel();
        self.requests
            .send(WriteRequest::Batch { batch, reply })
            .await
            .map_err(|_| StoreError::Closed)?;
        Ok(ack)
    }

    /// Applies `batch` and waits until it is durable.
    pub async fn submit(&self, batch: ReportBatch) -> WriteResult<BatchResult> {
        self.enqueue(batch)
            .await?
            .await
            .map_err(|_| StoreError::Closed)?
    }

    /// Applies an admin change and waits until it is durable and every device is re-evaluated.
    pub async fn admin(&self, command: AdminCommand) -> WriteResult<AdminOutcome> {
        self.request(|reply| WriteRequest::Admin { command, reply })
            .await
    }

    /// Clears a device's known risks (one connector's, or all) and waits until that is durable and the
    /// device re-evaluated; answers with the device as it is now.
    pub async fn clear_known_risk(
        &self,
        device_id: DeviceId,
        connector_id: Option<ConnectorId>,
    ) -> WriteResult<DeviceRecord> {
        self.request(|reply| WriteRequest::ClearKnownRisk {
            device_id,
            connector_id,
            reply,
        })
        .await
    }

    /// Re-evaluates what time has changed (every device if `full`); returns the head position after it.
    pub async fn tick(&self, full: bool) -> WriteResult<u64> {
        self.request(|reply| WriteRequest::Tick { full, reply })
            .await
    }

    /// Drops one chunk of events past `retention`.
    pub async fn compact(&self, retention: Retention) -> WriteResult<Compaction> {
        self.request(|reply| WriteRequest::Compact { retention, reply })
            .await
    }

    /// A receiver of every durable commit's events. Subscribe before reading the head, so that nothing
    /// committed after the head you read can be missed.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<[Event]>> {
        self.shared.events.subscribe()
    }

    /// Issues and checks this store's cursors.
    pub fn cursors(&self) -> &CursorCodec {
        &self.shared.cursors
    }

    /// Position of the oldest retained event.
    pub fn first_retained(&self) -> u64 {
        self.shared.first_retained.load(Ordering::Acquire)
    }

    /// Up to `limit` durable events after position `after`, in order. `None` if compaction removed any of
    /// them first: then the caller's position is past retention, and reading on would leave a gap.
    pub fn events_after(&self, after: u64, limit: usize) -> StoreResult<Option<Vec<Event>>> {
        let head = self.shared.durable_head.load(Ordering::Acquire);
        let mut events = Vec::new();
        let stored = self.shared.backend.events(after.saturating_add(1), head);
        for (expected, event) in (after + 1..).zip(stored) {
            let event = event?;
            if event.position != expected {
                return Ok(None);
            }
            events.push(event);
            if events.len() == limit {
                break;
            }
        }
        if events.is_empty() && after < head {
            // Nothing found although events after `after` exist: they were compacted away.
            return Ok(None);
        }
        Ok(Some(events))
    }

    /// Commits everything queued before this call, flushes, and stops the writer. Later requests fail
    /// with [`StoreError::Closed`].
    pub async fn shutdown(&self) -> StoreResult<()> {
        let (done, finished) = oneshot::channel();
        if self
            .requests
            .send(WriteRequest::Shutdown { done })
            .await
            .is_ok()
        {
            finished.await.map_err(|_| StoreError::Closed)??;
        }
        let handle = self.shared.writer.lock().take();
        if let Some(handle) = handle {
            // The writer has answered the shutdown, so joining only waits for the thread to return.
            tokio::task::spawn_blocking(move || handle.join())
                .await
                .map_err(|err| StoreError::Engine(format!("writer join: {err}")))?
                .map_err(|_| StoreError::Engine("writer thread panicked".into()))?;
        }
        Ok(())
    }

    /// Read access to the in-memory view, for checks. Hold it briefly: the writer waits for it to publish.
    pub fn view(&self) -> RwLockReadGuard<'_, View> {
        self.view.read()
    }

    /// The store's identity, durable head and size.
    pub fn info(&self) -> StoreInfo {
        StoreInfo {
            epoch: self.shared.epoch.clone(),
            head_position: self.shared.durable_head.load(Ordering::Acquire),
            device_count: self.shared.device_count.load(Ordering::Acquire),
        }
    }

    /// Bytes the store takes on disk (0 if the engine cannot tell).
    pub fn size_on_disk(&self) -> u64 {
        self.shared.backend.size_on_disk().unwrap_or(0)
    }

    /// A device's latest state.
    pub fn device(&self, device_id: &DeviceId) -> StoreResult<Option<DeviceRecord>> {
        let _durable_only = self.shared.visibility.read();
        self.shared.backend.device(device_id)
    }

    /// Up to `limit` devices after `after` (exclusive) in id order that satisfy `filter`. Ask for one more
    /// than a page to learn whether another page follows.
    pub fn list_devices(
        &self,
        after: Option<&DeviceId>,
        limit: usize,
        filter: impl Fn(&DeviceRecord) -> bool,
    ) -> StoreResult<Vec<DeviceRecord>> {
        let _durable_only = self.shared.visibility.read();
        let mut devices = Vec::new();
        for device in self.shared.backend.devices_after(after) {
            let device = device?;
            if filter(&device) {
                devices.push(device);
                if devices.len() == limit {
                    break;
                }
            }
        }
        Ok(devices)
    }

    /// Up to `limit` of a device's durable events after position `after`, oldest first. Ask for one more
    /// than a page to learn whether another page follows.
    pub fn device_history(
        &self,
        device_id: &DeviceId,
        after: u64,
        limit: usize,
    ) -> StoreResult<Vec<Event>> {
        let _durable_only = self.shared.visibility.read();
        let head = self.shared.durable_head.load(Ordering::Acquire);
        self.shared
            .backend
            .device_events(device_id, after.saturating_add(1), head)
            .take(limit)
            .collect()
    }

    /// A connector's last acknowledged checkpoint.
    pub fn checkpoint(&self, connector_id: &ConnectorId) -> StoreResult<Option<Checkpoint>> {
        let _durable_only = self.shared.visibility.read();
        self.shared.backend.checkpoint(connector_id)
    }
}

/// Rebuilds the view: configuration, connector states, then every device with its persisted memo.
fn load_view(backend: &dyn StoreBackend, meta: &StoreMeta, now: Timestamp) -> StoreResult<View> {
    let mut view = View {
        head: meta.head,
        config: Arc::new(backend.config()?),
        states: Arc::new(backend.connector_states()?),
        ..View::default()
    };
    view.devices
        .reserve(usize::try_from(meta.device_count).unwrap_or_default());
    for device in backend.devices_with_memos() {
        let (record, memo) = device?;
        let memo = memo.unwrap_or_else(ComplianceMemo::unknown);
        let summary = DeviceSummary::from_record(&record);
        let device_view = DeviceView::restored(summary, memo, now);
        view.devices.insert(record.device_id, Box::new(device_view));
    }
    Ok(view)
}

#[cfg(test)]
#[path = "risk_store_tests.rs"]
mod tests;
