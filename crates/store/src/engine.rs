//! The storage-engine seam: what riskgate needs from an embedded key-value store, and nothing more.

use std::ops::Bound;

/// A failure of the storage engine or of the bytes it returned.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The engine failed (I/O, corruption detected by the engine).
    #[error("storage engine: {0}")]
    Engine(String),
    /// Stored bytes could not be decoded.
    #[error("corrupt record in {keyspace:?}: {reason}")]
    Corrupt {
        /// Where the record was.
        keyspace: Keyspace,
        /// What was wrong.
        reason: String,
    },
    /// The data was written by a newer riskgate with a format this one does not know.
    #[error("unsupported storage format version {found} (this build reads up to {supported})")]
    UnsupportedFormat {
        /// The version found.
        found: u8,
        /// The newest version this build understands.
        supported: u8,
    },
    /// The writer thread is gone (the store is shutting down or crashed).
    #[error("the store is shutting down")]
    Closed,
}

/// Result of a storage operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// The logical keyspaces. An engine keeps them apart; a write batch may span several of them atomically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Keyspace {
    /// Store metadata: format version, epoch, head position.
    Meta,
    /// The append-only event log, keyed by position (u64 big-endian).
    Events,
    /// The latest state per device, keyed by device id.
    Devices,
    /// Index of each device's events: device id (length-prefixed) + position.
    DeviceEvents,
    /// Vendor event ids already applied, per connector.
    Dedup,
    /// The last acknowledged checkpoint per connector.
    Checkpoints,
    /// Configuration objects: connectors, policies, resources, tenant settings.
    Config,
    /// Per-device compliance memo: episodes and last decisions.
    Compliance,
}

impl Keyspace {
    /// A stable one-byte tag, used by engines that keep all keyspaces in one ordered map.
    pub fn tag(self) -> u8 {
        match self {
            Keyspace::Meta => 1,
            Keyspace::Events => 2,
            Keyspace::Devices => 3,
            Keyspace::DeviceEvents => 4,
            Keyspace::Dedup => 5,
            Keyspace::Checkpoints => 6,
            Keyspace::Config => 7,
            Keyspace::Compliance => 8,
        }
    }
}

/// How hard a flush pushes data towards the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// The engine's own flush. For sled this is `sync_file_range`: it survives a process crash (kill -9) but
    /// not necessarily a power loss, because it does not flush the drive's volatile cache
    /// (sled issues #1351 and #1452).
    Flush,
    /// The engine's flush followed by `fsync` of every file of the store: survives power loss too, at the
    /// cost of one drive-cache flush per group commit.
    Fsync,
}

/// A set of writes applied atomically: after a crash either all of them are there or none is.
#[derive(Debug, Default)]
pub struct WriteBatch {
    /// The writes in order: `None` deletes the key.
    pub writes: Vec<(Keyspace, Vec<u8>, Option<Vec<u8>>)>,
}

impl WriteBatch {
    /// Sets `key` to `value`.
    pub fn put(&mut self, keyspace: Keyspace, key: Vec<u8>, value: Vec<u8>) {
        self.writes.push((keyspace, key, Some(value)));
    }

    /// Removes `key`.
    pub fn delete(&mut self, keyspace: Keyspace, key: Vec<u8>) {
        self.writes.push((keyspace, key, None));
    }

    /// Appends every write of `other`, keeping order.
    pub fn extend(&mut self, other: WriteBatch) {
        self.writes.extend(other.writes);
    }

    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }
}

/// An ordered scan: key-value pairs in ascending key order.
pub type KvIter<'a> = Box<dyn Iterator<Item = StoreResult<(Vec<u8>, Vec<u8>)>> + Send + 'a>;

/// The narrow interface riskgate needs from an embedded key-value engine.
///
/// Keys compare as byte strings. Writes become visible to reads when `apply` returns, and durable when
/// the next `flush` returns.
pub trait KvEngine: Send + Sync + std::fmt::Debug + 'static {
    /// The value at `key`, if any.
    fn get(&self, keyspace: Keyspace, key: &[u8]) -> StoreResult<Option<Vec<u8>>>;

    /// The pairs with keys between `start` and `end`, in ascending order.
    fn range<'a>(
        &'a self,
        keyspace: Keyspace,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
    ) -> KvIter<'a>;

    /// Applies every write of `batch` atomically.
    fn apply(&self, batch: WriteBatch) -> StoreResult<()>;

    /// Makes every applied write durable, as far as the engine's durability setting goes.
    fn flush(&self) -> StoreResult<()>;

    /// Bytes the store takes on disk (0 for an in-memory engine).
    fn size_on_disk(&self) -> StoreResult<u64>;
}
