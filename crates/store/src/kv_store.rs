//! [`KvStore`]: the [`StoreBackend`] over a key-value engine (sled in production, in memory for tests).
//!
//! Each part of the domain lives in its own keyspace under the key layout of `keys.rs`, every value in the
//! versioned encoding of `codec.rs`; a [`Commit`] becomes one atomic [`WriteBatch`](crate::WriteBatch)
//! (`kv_store/write.rs`). The layout is pinned by the golden tests (`golden.rs`).

mod load;
mod meta;
mod write;

use std::{ops::Bound, path::Path, sync::Arc};

use riskgate_policy::{
    domain::{policy::PolicyConfig, Checkpoint, ConnectorId, DeviceId, DeviceRecord, Event},
    evaluate::ConnectorStates,
    view::ComplianceMemo,
};

use crate::{
    backend::{Scan, StoreBackend, StoreMeta},
    codec::decode,
    commit::Commit,
    engine::{Durability, Keyspace, KvEngine, StoreError, StoreResult},
    keys, MemoryEngine, SledEngine,
};

/// A riskgate store kept in a [`KvEngine`].
#[derive(Debug, Clone)]
pub struct KvStore {
    engine: Arc<dyn KvEngine>,
}

impl KvStore {
    /// The store kept in `engine`.
    pub fn new(engine: Arc<dyn KvEngine>) -> Self {
        Self { engine }
    }

    /// The store in the sled database at `path` (created if missing), with a page cache of `cache_bytes`.
    pub fn sled(path: &Path, durability: Durability, cache_bytes: u64) -> StoreResult<Self> {
        let engine = SledEngine::open(path, durability, cache_bytes)?;
        Ok(Self::new(Arc::new(engine)))
    }

    /// A new, empty store in memory. It is not durable: for tests.
    pub fn memory() -> Self {
        Self::new(Arc::new(MemoryEngine::new()))
    }

    /// The engine underneath.
    pub fn engine(&self) -> &Arc<dyn KvEngine> {
        &self.engine
    }

    fn get<T: crate::codec::Stored>(
        &self,
        keyspace: Keyspace,
        key: &[u8],
    ) -> StoreResult<Option<T>> {
        self.engine
            .get(keyspace, key)?
            .map(|bytes| decode(keyspace, &bytes))
            .transpose()
    }

    /// Decodes the values of `keyspace` between `start` and `end`, in key order.
    fn values<T: crate::codec::Stored + Send + 'static>(
        &self,
        keyspace: Keyspace,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
    ) -> Scan<'_, T> {
        Box::new(
            self.engine
                .range(keyspace, start, end)
                .map(move |item| item.and_then(|(_, value)| decode(keyspace, &value))),
        )
    }

    /// The event at `position`, which the device index names and so must exist.
    fn indexed_event(&self, key: StoreResult<(Vec<u8>, Vec<u8>)>) -> StoreResult<Event> {
        let (key, _) = key?;
        let position = keys::device_event_position(&key).ok_or_else(|| StoreError::Corrupt {
            keyspace: Keyspace::DeviceEvents,
            reason: "short key".into(),
        })?;
        self.get(Keyspace::Events, &keys::event(position))?
            .ok_or_else(|| StoreError::Corrupt {
                keyspace: Keyspace::Events,
                reason: format!("indexed event {position} is missing"),
            })
    }
}

impl StoreBackend for KvStore {
    fn open(&self) -> StoreResult<StoreMeta> {
        meta::load_or_create(self.engine.as_ref())
    }

    fn config(&self) -> StoreResult<PolicyConfig> {
        load::config(self.engine.as_ref())
    }

    fn connector_states(&self) -> StoreResult<ConnectorStates> {
        Ok(self
            .get(Keyspace::Meta, keys::META_CONNECTOR_STATES)?
            .unwrap_or_default())
    }

    fn devices_with_memos(&self) -> Scan<'_, (DeviceRecord, Option<ComplianceMemo>)> {
        load::devices_with_memos(self.engine.as_ref())
    }

    fn device(&self, device_id: &DeviceId) -> StoreResult<Option<DeviceRecord>> {
        self.get(Keyspace::Devices, &keys::device(device_id))
    }

    fn devices_after(&self, after: Option<&DeviceId>) -> Scan<'_, DeviceRecord> {
        let after_key = after.map(keys::device);
        let start = after_key
            .as_deref()
            .map_or(Bound::Unbounded, Bound::Excluded);
        self.values(Keyspace::Devices, start, Bound::Unbounded)
    }

    fn events(&self, from: u64, through: u64) -> Scan<'_, Event> {
        let (start, end) = (keys::event(from), keys::event(through));
        self.values(
            Keyspace::Events,
            Bound::Included(&start),
            Bound::Included(&end),
        )
    }

    fn device_events(&self, device_id: &DeviceId, from: u64, through: u64) -> Scan<'_, Event> {
        let start = keys::device_event(device_id, from);
        let end = keys::device_event(device_id, through);
        let index = self.engine.range(
            Keyspace::DeviceEvents,
            Bound::Included(&start),
            Bound::Included(&end),
        );
        Box::new(index.map(move |key| self.indexed_event(key)))
    }

    fn checkpoint(&self, connector_id: &ConnectorId) -> StoreResult<Option<Checkpoint>> {
        self.get(Keyspace::Checkpoints, &keys::checkpoint(connector_id))
    }

    fn dedup_position(
        &self,
        connector_id: &ConnectorId,
        vendor_event_id: &str,
    ) -> StoreResult<Option<u64>> {
        self.get(Keyspace::Dedup, &keys::dedup(connector_id, vendor_event_id))
    }

    fn apply(&self, commit: &Commit) -> StoreResult<()> {
        self.engine.apply(write::batch(commit))
    }

    fn flush(&self) -> StoreResult<()> {
        self.engine.flush()
    }

    fn size_on_disk(&self) -> StoreResult<u64> {
        self.engine.size_on_disk()
    }
}
