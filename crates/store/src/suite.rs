//! The test suites every storage implementation passes, exported so that a new one runs exactly the same
//! checks: [`store_suite`] for a [`StoreBackend`](crate::StoreBackend) (the domain-level seam a PostgreSQL
//! store implements), [`engine_suite`] for a [`KvEngine`](crate::KvEngine) under [`KvStore`](crate::KvStore).
//! A failed expectation panics, as a test does.

// This module is a test suite exported for other stores' tests: a panic is how it reports a failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod engine;
pub(crate) mod samples;
mod store;

pub use engine::engine_suite;
pub use store::{store_suite, SuiteStores};

#[cfg(test)]
mod tests {
    use std::{collections::HashMap, path::PathBuf, sync::Arc};

    use parking_lot::Mutex;

    use super::*;
    use crate::{
        engine::{Durability, Keyspace, KvEngine, WriteBatch},
        KvStore, MemoryEngine, SledEngine, StoreBackend,
    };

    /// A small page cache: the suite's stores are tiny.
    const TEST_CACHE_BYTES: u64 = 16 << 20;

    /// In-memory stores by name; "reopening" one hands back the same store.
    #[derive(Default)]
    struct MemoryStores(Mutex<HashMap<String, Arc<dyn StoreBackend>>>);

    impl SuiteStores for MemoryStores {
        fn open(&self, name: &str) -> Arc<dyn StoreBackend> {
            self.0
                .lock()
                .entry(name.to_owned())
                .or_insert_with(|| Arc::new(KvStore::memory()))
                .clone()
        }
    }

    /// sled stores in a temporary directory, one folder per name.
    struct SledStores(tempfile::TempDir, Durability);

    impl SuiteStores for SledStores {
        fn open(&self, name: &str) -> Arc<dyn StoreBackend> {
            let path: PathBuf = self.0.path().join(name);
            Arc::new(KvStore::sled(&path, self.1, TEST_CACHE_BYTES).unwrap())
        }
    }

    #[test]
    fn the_in_memory_store_passes_the_store_suite() {
        store_suite(&MemoryStores::default());
    }

    #[test]
    fn the_sled_store_passes_the_store_suite() {
        for durability in [Durability::Flush, Durability::Fsync] {
            store_suite(&SledStores(tempfile::tempdir().unwrap(), durability));
        }
    }

    #[test]
    fn memory_engine_passes_the_engine_suite() {
        engine_suite(Arc::new(MemoryEngine::new()));
    }

    #[test]
    fn sled_engine_passes_the_engine_suite() {
        for durability in [Durability::Flush, Durability::Fsync] {
            let dir = tempfile::tempdir().unwrap();
            engine_suite(Arc::new(
                SledEngine::open(dir.path(), durability, TEST_CACHE_BYTES).unwrap(),
            ));
        }
    }

    #[test]
    fn sled_engine_keeps_flushed_writes_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let engine = SledEngine::open(dir.path(), Durability::Fsync, TEST_CACHE_BYTES).unwrap();
            let mut batch = WriteBatch::default();
            batch.put(Keyspace::Devices, b"d".to_vec(), b"kept".to_vec());
            engine.apply(batch).unwrap();
            engine.flush().unwrap();
        }
        let engine = SledEngine::open(dir.path(), Durability::Fsync, TEST_CACHE_BYTES).unwrap();
        assert_eq!(
            engine.get(Keyspace::Devices, b"d").unwrap(),
            Some(b"kept".to_vec())
        );
    }
}
