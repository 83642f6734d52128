//! The sled 0.34.7 adapter. All keyspaces live in sled's default tree under a one-byte tag, so that one
//! `apply_batch` commits writes to several keyspaces atomically (sled batches are atomic per tree), and so
//! that the store avoids sled's space growth with many trees (sled issue #1484).

use std::{
    fs::File,
    ops::Bound,
    path::{Path, PathBuf},
    sync::mpsc::{sync_channel, SyncSender},
};

use super::engine::{Durability, Keyspace, KvEngine, KvIter, StoreError, StoreResult, WriteBatch};

/// A sled database used as a [`KvEngine`].
#[derive(Debug)]
pub struct SledEngine {
    db: sled::Db,
    path: PathBuf,
    durability: Durability,
    /// Wakes the thread that frees replaced tree nodes ([`start_collector`]).
    collector: SyncSender<()>,
}

impl SledEngine {
    /// Opens (or creates) the store in `path`, with a page cache of `cache_bytes`.
    pub fn open(path: &Path, durability: Durability, cache_bytes: u64) -> StoreResult<Self> {
        let db = sled::Config::new()
            .path(path)
            // riskgate flushes explicitly at every group commit; sled's background flush would only add I/O.
            .flush_every_ms(None)
            .cache_capacity(cache_bytes)
            .open()
            .map_err(engine_error)?;
        let collector = start_collector().map_err(|err| {
            StoreError::Engine(format!("cannot start the collector thread: {err}"))
        })?;
        Ok(Self {
            db,
            path: path.to_owned(),
            durability,
            collector,
        })
    }

    /// fsyncs every file of the store, because sled's flush uses `sync_file_range`, which neither flushes the
    /// drive cache nor the file's metadata (sled #1351).
    fn fsync_files(&self) -> StoreResult<()> {
        fn sync_dir(dir: &Path) -> std::io::Result<()> {
            for entry in std::fs::read_dir(dir)? {
                let entry = entry?;
                let file_type = entry.file_type()?;
                if file_type.is_dir() {
                    sync_dir(&entry.path())?;
                } else if file_type.is_file() {
                    File::open(entry.path())?.sync_all()?;
                }
            }
            // The directory entries themselves (new blob files) must be durable too.
            File::open(dir)?.sync_all()
        }
        sync_dir(&self.path).map_err(|err| StoreError::Engine(format!("fsync: {err}")))
    }
}

/// How many times the collector pins per signal; each pass frees at most a few bags of garbage.
const COLLECT_PASSES: usize = 64;

/// Starts the thread that frees the tree nodes sled replaced, and returns what wakes it after a flush.
///
/// sled 0.34 copies a node on every change and hands the old one to crossbeam-epoch's global collector,
/// which frees only a few bags per pin. With one writer thread doing all the pinning, garbage is made faster
/// than it is freed: a bulk ingest of 200,000 devices held nearly 1 GiB of replaced nodes (BENCHMARKS.md,
/// `scale`). This thread pins and flushes after each commit, off the writer's path; it ends when the engine
/// (the sender) is dropped.
fn start_collector() -> std::io::Result<SyncSender<()>> {
    let (wake, woken) = sync_channel::<()>(1);
    std::thread::Builder::new()
        .name("riskgate-sled-collector".into())
        .spawn(move || {
            while woken.recv().is_ok() {
                for _ in 0..COLLECT_PASSES {
                    crossbeam_epoch::pin().flush();
                }
            }
        })?;
    Ok(wake)
}

fn engine_error(err: sled::Error) -> StoreError {
    StoreError::Engine(err.to_string())
}

fn tagged(keyspace: Keyspace, key: &[u8]) -> Vec<u8> {
    let mut tagged = Vec::with_capacity(key.len() + 1);
    tagged.push(keyspace.tag());
    tagged.extend_from_slice(key);
    tagged
}

fn tagged_bound(keyspace: Keyspace, bound: Bound<&[u8]>, is_start: bool) -> Bound<Vec<u8>> {
    match bound {
        Bound::Included(key) => Bound::Included(tagged(keyspace, key)),
        Bound::Excluded(key) => Bound::Excluded(tagged(keyspace, key)),
        // An open bound stops at the keyspace's edge: its tag for the start, the next tag for the end.
        Bound::Unbounded if is_start => Bound::Included(vec![keyspace.tag()]),
        Bound::Unbounded => Bound::Excluded(vec![keyspace.tag() + 1]),
    }
}

impl KvEngine for SledEngine {
    fn get(&self, keyspace: Keyspace, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        let value = self.db.get(tagged(keyspace, key)).map_err(engine_error)?;
        Ok(value.map(|v| v.to_vec()))
    }

    fn range<'a>(
        &'a self,
        keyspace: Keyspace,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
    ) -> KvIter<'a> {
        let range = (
            tagged_bound(keyspace, start, true),
            tagged_bound(keyspace, end, false),
        );
        Box::new(self.db.range(range).map(|item| {
            let (key, value) = item.map_err(engine_error)?;
            Ok((key[1..].to_vec(), value.to_vec()))
        }))
    }

    fn apply(&self, batch: WriteBatch) -> StoreResult<()> {
        let mut sled_batch = sled::Batch::default();
        for (keyspace, key, value) in batch.writes {
            let key = tagged(keyspace, &key);
            match value {
                Some(value) => sled_batch.insert(key, value),
                None => sled_batch.remove(key),
            }
        }
        self.db.apply_batch(sled_batch).map_err(engine_error)
    }

    fn flush(&self) -> StoreResult<()> {
        self.db.flush().map_err(engine_error)?;
        if self.durability == Durability::Fsync {
            self.fsync_files()?;
        }
        // A signal already pending covers this flush too.
        let _ = self.collector.try_send(());
        Ok(())
    }

    fn size_on_disk(&self) -> StoreResult<u64> {
        self.db.size_on_disk().map_err(engine_error)
    }
}
