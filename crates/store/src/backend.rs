//! The storage seam in domain terms: what the risk store keeps durable, and nothing of how.
//!
//! [`StoreBackend`] is what a storage engine implements to hold a riskgate store: store metadata, the event
//! log, device state with its compliance memo, checkpoints, the dedup index, configuration objects and the
//! connector states. The writer thread (`writer.rs`) decides every value: it assigns log positions, drops
//! duplicates and stale reports and re-evaluates devices, then hands the backend one [`Commit`] per commit
//! group. A backend only stores it atomically and reads it back. `KvStore` implements it over any
//! [`KvEngine`](crate::KvEngine) (sled, in-memory); a SQL backend maps each part to a table.
//!
//! Every implementation passes [`suite::store_suite`](crate::suite::store_suite).

use riskgate_policy::{
    domain::{policy::PolicyConfig, Checkpoint, ConnectorId, DeviceId, DeviceRecord, Event},
    evaluate::ConnectorStates,
    view::ComplianceMemo,
};

use crate::{commit::Commit, engine::StoreResult};

/// Store-wide metadata, fixed at creation except for the positions and the count, which every commit moves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreMeta {
    /// Random identifier of this store, chosen at creation. Cursors name it, so a cursor of another store
    /// (or of this one before it was wiped) is refused rather than misread.
    pub epoch: u128,
    /// The secret that signs this store's cursors, chosen at creation.
    pub cursor_key: [u8; 32],
    /// Position of the newest event (0 in an empty log).
    pub head: u64,
    /// Devices known.
    pub device_count: u64,
    /// Position of the oldest event still in the log (1 until compaction removes events).
    pub first_retained: u64,
}

impl StoreMeta {
    /// The metadata of a new, empty store with a fresh random epoch and cursor key.
    pub fn fresh() -> Self {
        Self {
            epoch: rand::random(),
            cursor_key: rand::random(),
            head: 0,
            device_count: 0,
            first_retained: 1,
        }
    }
}

/// A scan of stored items in the order the method names; an item that cannot be read is an error in place.
pub type Scan<'a, T> = Box<dyn Iterator<Item = StoreResult<T>> + Send + 'a>;

/// Durable storage of one riskgate store, in domain terms.
///
/// Only the store's single writer thread calls [`apply`](Self::apply) and [`flush`](Self::flush); reads
/// come from any thread. The writer never asks a backend to decide anything: positions, dedup, staleness
/// and evaluation are the writer's, so every backend keeps exactly the same guarantees.
pub trait StoreBackend: Send + Sync + std::fmt::Debug + 'static {
    /// The store's metadata, creating an empty store (with [`StoreMeta::fresh`]) durably on first use.
    /// Refuses a store written in a format this build cannot read.
    fn open(&self) -> StoreResult<StoreMeta>;

    /// Every configuration object.
    fn config(&self) -> StoreResult<PolicyConfig>;

    /// The connector states as of the last evaluation (empty if none was stored).
    fn connector_states(&self) -> StoreResult<ConnectorStates>;

    /// Every device in id order, each with its compliance memo if one was stored.
    fn devices_with_memos(&self) -> Scan<'_, (DeviceRecord, Option<ComplianceMemo>)>;

    /// A device's latest state.
    fn device(&self, device_id: &DeviceId) -> StoreResult<Option<DeviceRecord>>;

    /// The devices with ids after `after` (all devices if `None`), in id order.
    fn devices_after(&self, after: Option<&DeviceId>) -> Scan<'_, DeviceRecord>;

    /// The events with positions `from..=through` still in the log, in position order.
    fn events(&self, from: u64, through: u64) -> Scan<'_, Event>;

    /// The events of `device_id` with positions `from..=through` still in the log, in position order.
    fn device_events(&self, device_id: &DeviceId, from: u64, through: u64) -> Scan<'_, Event>;

    /// A connector's last acknowledged checkpoint.
    fn checkpoint(&self, connector_id: &ConnectorId) -> StoreResult<Option<Checkpoint>>;

    /// The position of the event that applied `vendor_event_id` from `connector_id`, if it was applied and
    /// its dedup entry has not been released by compaction.
    fn dedup_position(
        &self,
        connector_id: &ConnectorId,
        vendor_event_id: &str,
    ) -> StoreResult<Option<u64>>;

    /// Applies every part of `commit` atomically: after a crash either all of it is there or none is.
    /// Reads see it when this returns; it is durable once the next [`flush`](Self::flush) returns.
    fn apply(&self, commit: &Commit) -> StoreResult<()>;

    /// Makes every applied commit durable, as far as the backend's durability setting goes.
    fn flush(&self) -> StoreResult<()>;

    /// Bytes the store takes on disk (0 for an in-memory store).
    fn size_on_disk(&self) -> StoreResult<u64>;
}
