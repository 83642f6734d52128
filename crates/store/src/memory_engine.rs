//! An in-memory engine: the reference implementation of [`KvEngine`], used by unit tests of the layers above
//! and as the second engine the shared suite runs against. It is not durable.

use std::{collections::BTreeMap, ops::Bound};

use parking_lot::RwLock;

use crate::engine::{Keyspace, KvEngine, KvIter, StoreResult, WriteBatch};

/// Every entry, keyed by (keyspace tag, key).
type Entries = BTreeMap<(u8, Vec<u8>), Vec<u8>>;

/// A [`KvEngine`] over one ordered map of every keyspace's entries.
#[derive(Debug, Default)]
pub struct MemoryEngine {
    maps: RwLock<Entries>,
}

impl MemoryEngine {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl KvEngine for MemoryEngine {
    fn get(&self, keyspace: Keyspace, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        let maps = self.maps.read();
        Ok(maps.get(&(keyspace.tag(), key.to_vec())).cloned())
    }

    fn range<'a>(
        &'a self,
        keyspace: Keyspace,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
    ) -> KvIter<'a> {
        let tag = keyspace.tag();
        let bound = |bound: Bound<&[u8]>, open: (u8, Vec<u8>)| match bound {
            Bound::Included(key) => Bound::Included((tag, key.to_vec())),
            Bound::Excluded(key) => Bound::Excluded((tag, key.to_vec())),
            Bound::Unbounded => Bound::Included(open),
        };
        let start = bound(start, (tag, Vec::new()));
        let end = match end {
            Bound::Unbounded => Bound::Excluded((tag + 1, Vec::new())),
            other => bound(other, (tag, Vec::new())),
        };
        // Snapshot the range so the iterator does not hold the lock.
        let items: Vec<_> = self
            .maps
            .read()
            .range((start, end))
            .map(|((_, key), value)| Ok((key.clone(), value.clone())))
            .collect();
        Box::new(items.into_iter())
    }

    fn apply(&self, batch: WriteBatch) -> StoreResult<()> {
        let mut maps = self.maps.write();
        for (keyspace, key, value) in batch.writes {
            match value {
                Some(value) => maps.insert((keyspace.tag(), key), value),
                None => maps.remove(&(keyspace.tag(), key)),
            };
        }
        Ok(())
    }

    fn flush(&self) -> StoreResult<()> {
        Ok(())
    }

    fn size_on_disk(&self) -> StoreResult<u64> {
        Ok(0)
    }
}
