//! What the store's handles and its writer thread share: the backend, the durable head and counters the
//! writer publishes after each flush, the visibility lock, and the broadcast of committed events.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    thread,
};

use parking_lot::{Mutex, RwLock};
use riskgate_policy::domain::Event;
use tokio::sync::broadcast;

use crate::{backend::StoreBackend, cursor::CursorCodec};

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
    /// Position of the last event written by the batch (reports and the evaluations they caused), or the
    /// head if it wrote none.
    pub position: u64,
}

/// State shared between the handles and the writer.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) backend: Arc<dyn StoreBackend>,
    pub(crate) epoch: String,
    /// Position of the newest event covered by a completed flush. Readers never go past it.
    pub(crate) durable_head: AtomicU64,
    pub(crate) device_count: AtomicU64,
    /// Position of the oldest event still in the log.
    pub(crate) first_retained: AtomicU64,
    /// Held for writing by the writer from `apply` until the flush is done and published, and for reading by
    /// every store read: readers never see a write that is applied but not yet durable.
    pub(crate) visibility: RwLock<()>,
    pub(crate) writer: Mutex<Option<thread::JoinHandle<()>>>,
    /// Every durable commit's events, in log order, for subscribers.
    pub(crate) events: broadcast::Sender<Arc<[Event]>>,
    pub(crate) cursors: CursorCodec,
}

impl Shared {
    /// Publishes what a completed commit made durable.
    pub(crate) fn publish(&self, head: u64, device_count: u64, first_retained: u64) {
        self.device_count.store(device_count, Ordering::Release);
        self.first_retained.store(first_retained, Ordering::Release);
        self.durable_head.store(head, Ordering::Release);
    }
}
