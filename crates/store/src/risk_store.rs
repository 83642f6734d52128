//! The risk store handle: opening the store (creating its metadata, rebuilding the in-memory view), reads,
//! and the requests the writer thread serves (`writer.rs`).

use std::{
    ops::Bound,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    thread,
};

use parking_lot::{Mutex, RwLock, RwLockReadGuard};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::{
    codec::{self, decode, encode},
    engine::{Keyspace, KvEngine, StoreError, StoreResult, WriteBatch},
    keys,
    shared::{read_checkpoint, read_device, BatchResult, Shared},
    writer::{Compaction, Retention, WriteRequest, Writer},
};
use crate::{cursor::CursorCodec, error::WriteResult, observer::WriterObserver};
use riskgate_policy::{
    domain::{
        policy::{
            AppProtectionPolicy, CompliancePolicy, Connector, PolicyConfig, Resource,
            TenantSettings,
        },
        Checkpoint, Clock, ConnectorId, DeviceId, DeviceRecord, Event, ReportBatch, Timestamp,
    },
    {
        admin::{AdminCommand, AdminOutcome},
        evaluate::{ConnectorStates, DeviceSummary},
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
    /// Opens the store on `engine`: creates its metadata on first use, rebuilds the in-memory view from the
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
        engine: Arc<dyn KvEngine>,
        clock: Arc<dyn Clock>,
        observer: Arc<dyn WriterObserver>,
        config: WriterConfig,
    ) -> WriteResult<Self> {
        let meta = Meta::load_or_create(engine.as_ref())?;
        let loading = std::time::Instant::now();
        let view = Arc::new(RwLock::new(load_view(engine.as_ref(), &meta, clock.now())?));
        let loaded = loading.elapsed();
        let shared = Arc::new(Shared {
            engine: engine.clone(),
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
            engine,
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
        let start = keys::event(after.saturating_add(1));
        let end = keys::event(head);
        let range = self.shared.engine.range(
            Keyspace::Events,
            Bound::Included(&start),
            Bound::Included(&end),
        );
        for (expected, item) in (after + 1..).zip(range) {
            let (_, value) = item?;
            let event: Event = decode(Keyspace::Events, &value)?;
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
        self.shared.engine.size_on_disk().unwrap_or(0)
    }

    /// A device's latest state.
    pub fn device(&self, device_id: &DeviceId) -> StoreResult<Option<DeviceRecord>> {
        let _durable_only = self.shared.visibility.read();
        read_device(self.shared.engine.as_ref(), device_id)
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
        let after_key = after.map(keys::device);
        let start = after_key
            .as_deref()
            .map_or(Bound::Unbounded, Bound::Excluded);
        let mut devices = Vec::new();
        for item in self
            .shared
            .engine
            .range(Keyspace::Devices, start, Bound::Unbounded)
        {
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

    /// Up to `limit` of a device's durable events after position `after`, oldest first. Ask for one more
    /// than a page to learn whether another page follows.
    pub fn device_history(
        &self,
        device_id: &DeviceId,
        after: u64,
        limit: usize,
    ) -> StoreResult<Vec<Event>> {
        let _durable_only = self.shared.visibility.read();
        let engine = self.shared.engine.as_ref();
        let head = self.shared.durable_head.load(Ordering::Acquire);
        let start = keys::device_event(device_id, after.saturating_add(1));
        let end = keys::device_event(device_id, head);
        let mut events = Vec::new();
        for item in engine.range(
            Keyspace::DeviceEvents,
            Bound::Included(&start),
            Bound::Included(&end),
        ) {
            let (key, _) = item?;
            let position =
                keys::device_event_position(&key).ok_or_else(|| StoreError::Corrupt {
                    keyspace: Keyspace::DeviceEvents,
                    reason: "short key".into(),
                })?;
            let event = engine
                .get(Keyspace::Events, &keys::event(position))?
                .ok_or_else(|| StoreError::Corrupt {
                    keyspace: Keyspace::Events,
                    reason: format!("indexed event {position} is missing"),
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
        let _durable_only = self.shared.visibility.read();
        read_checkpoint(self.shared.engine.as_ref(), connector_id)
    }
}

/// Rebuilds the view: configuration, then every device with its persisted memo.
fn load_view(engine: &dyn KvEngine, meta: &Meta, now: Timestamp) -> StoreResult<View> {
    let (head, device_count) = (meta.head, meta.device_count);
    let mut config = PolicyConfig::default();
    for item in engine.range(Keyspace::Config, Bound::Unbounded, Bound::Unbounded) {
        let (key, value) = item?;
        match key.first() {
            Some(1) => {
                let connector: Connector = decode(Keyspace::Config, &value)?;
                config
                    .connectors
                    .insert(connector.connector_id.clone(), connector);
            }
            Some(2) => {
                let policy: CompliancePolicy = decode(Keyspace::Config, &value)?;
                config.policies.insert(policy.policy_id.clone(), policy);
            }
            Some(3) => {
                let resource: Resource = decode(Keyspace::Config, &value)?;
                config.resources.insert(resource.name.clone(), resource);
            }
            Some(4) => {
                let policy: AppProtectionPolicy = decode(Keyspace::Config, &value)?;
                config.app_policies.insert(policy.policy_id.clone(), policy);
            }
            Some(5) => config.tenant = decode::<TenantSettings>(Keyspace::Config, &value)?,
            _ => {
                return Err(StoreError::Corrupt {
                    keyspace: Keyspace::Config,
                    reason: "unknown object kind".into(),
                })
            }
        }
    }
    let states = match engine.get(Keyspace::Meta, keys::META_CONNECTOR_STATES)? {
        Some(bytes) => decode(Keyspace::Meta, &bytes)?,
        None => ConnectorStates::default(),
    };
    let mut view = View {
        head,
        config: Arc::new(config),
        states: Arc::new(states),
        ..View::default()
    };
    // Devices and their memos are keyed alike (keys::compliance), so one ordered pass over each keyspace
    // pairs them; a get per device would descend the tree a million times (issue #9: serving again within
    // 5 s of a restart with 1M devices).
    let mut memos = engine
        .range(Keyspace::Compliance, Bound::Unbounded, Bound::Unbounded)
        .peekable();
    view.devices
        .reserve(usize::try_from(device_count).unwrap_or_default());
    for item in engine.range(Keyspace::Devices, Bound::Unbounded, Bound::Unbounded) {
        let (key, value) = item?;
        let record: DeviceRecord = decode(Keyspace::Devices, &value)?;
        let memo = next_memo_for(&mut memos, &key)?.unwrap_or_else(ComplianceMemo::unknown);
        let summary = DeviceSummary::from_record(&record);
        let device_view = DeviceView::restored(summary, memo, now);
        view.devices.insert(record.device_id, Box::new(device_view));
    }
    Ok(view)
}

/// Advances the ordered memo iterator to `device_key` and takes its memo, if it has one.
fn next_memo_for(
    memos: &mut std::iter::Peekable<super::engine::KvIter<'_>>,
    device_key: &[u8],
) -> StoreResult<Option<ComplianceMemo>> {
    loop {
        let ordering = match memos.peek() {
            None => return Ok(None),
            Some(Ok((memo_key, _))) => memo_key.as_slice().cmp(device_key),
            Some(Err(_)) => std::cmp::Ordering::Less,
        };
        match ordering {
            std::cmp::Ordering::Greater => return Ok(None),
            std::cmp::Ordering::Less => {
                // A memo of no device (or a read error, which `?` returns).
                memos.next().transpose()?;
            }
            std::cmp::Ordering::Equal => {
                let memo = memos.next().transpose()?;
                return memo
                    .map(|(_, bytes)| decode(Keyspace::Compliance, &bytes))
                    .transpose();
            }
        }
    }
}

/// Store-wide metadata, kept in the Meta keyspace.
struct Meta {
    epoch: u128,
    head: u64,
    device_count: u64,
    first_retained: u64,
    cursor_key: [u8; 32],
}

impl Meta {
    fn load_or_create(engine: &dyn KvEngine) -> StoreResult<Self> {
        let Some(format) = engine.get(Keyspace::Meta, keys::META_FORMAT)? else {
            let meta = Meta {
                epoch: rand::random(),
                head: 0,
                device_count: 0,
                first_retained: 1,
                cursor_key: rand::random(),
            };
            let mut batch = WriteBatch::default();
            batch.put(
                Keyspace::Meta,
                keys::META_FORMAT.to_vec(),
                vec![codec::FORMAT_VERSION],
            );
            batch.put(
                Keyspace::Meta,
                keys::META_EPOCH.to_vec(),
                encode(&meta.epoch),
            );
            batch.put(Keyspace::Meta, keys::META_HEAD.to_vec(), encode(&meta.head));
            batch.put(
                Keyspace::Meta,
                keys::META_DEVICE_COUNT.to_vec(),
                encode(&meta.device_count),
            );
            batch.put(
                Keyspace::Meta,
                keys::META_FIRST_RETAINED.to_vec(),
                encode(&meta.first_retained),
            );
            batch.put(
                Keyspace::Meta,
                keys::META_CURSOR_KEY.to_vec(),
                encode(&meta.cursor_key),
            );
            engine.apply(batch)?;
            engine.flush()?;
            return Ok(meta);
        };
        match format.as_slice() {
            [version] if *version == codec::FORMAT_VERSION => {}
            // An older store: its values are migrated as they are read and rewritten in the current format
            // as they change. Raise the store's marker first, so that an older build, which could not
            // read those values, refuses the whole store instead of failing on its first such value.
            [version] if *version < codec::FORMAT_VERSION => {
                let mut batch = WriteBatch::default();
                batch.put(
                    Keyspace::Meta,
                    keys::META_FORMAT.to_vec(),
                    vec![codec::FORMAT_VERSION],
                );
                engine.apply(batch)?;
                engine.flush()?;
            }
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
            engine
                .get(Keyspace::Meta, key)?
                .ok_or_else(|| StoreError::Corrupt {
                    keyspace: Keyspace::Meta,
                    reason: format!("missing {}", String::from_utf8_lossy(key)),
                })
        };
        Ok(Meta {
            epoch: decode(Keyspace::Meta, &read(keys::META_EPOCH)?)?,
            head: decode(Keyspace::Meta, &read(keys::META_HEAD)?)?,
            device_count: decode(Keyspace::Meta, &read(keys::META_DEVICE_COUNT)?)?,
            first_retained: decode(Keyspace::Meta, &read(keys::META_FIRST_RETAINED)?)?,
            cursor_key: decode(Keyspace::Meta, &read(keys::META_CURSOR_KEY)?)?,
        })
    }
}

#[cfg(test)]
#[path = "risk_store_tests.rs"]
mod tests;
