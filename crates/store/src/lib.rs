//! riskgate's durable risk store: the single-writer store of events, device state, checkpoints, dedup and
//! configuration, the domain-level storage seam under it, and that seam's key-value implementation over sled
//! or memory.
//!
//! Layering (dependencies point down, no module imports one above it):
//! - [`RiskStore`] (`risk_store.rs`) is the handle: opening, reads, and requests to the writer.
//! - `writer.rs` is the single writer thread: positions, dedup, stale detection, checkpoints, re-evaluation
//!   through `riskgate_policy`, and group commit. It hands each commit group to the backend as one
//!   [`Commit`], and knows nothing of how a backend stores it.
//! - `shared.rs` is what both share (backend, durable head, visibility lock, broadcast).
//! - [`StoreBackend`] (`backend.rs`, `commit.rs`) is the storage seam in domain terms: store metadata, the
//!   event log, devices and memos, checkpoints, dedup, configuration. A new store (PostgreSQL, say)
//!   implements it and passes [`suite::store_suite`].
//! - [`KvStore`] (`kv_store/`) implements it over a [`KvEngine`], with the versioned value encoding
//!   (`codec.rs`, `migrate_v1.rs`) and the key layout (`keys.rs`).
//! - [`KvEngine`] is the narrow seam to an embedded key-value engine: keyspaces, point reads, ordered scans,
//!   an atomic multi-key write and a durable flush. sled 0.34.7 is the production engine; another one is
//!   added by implementing it and passing [`suite::engine_suite`].
//! - [`cursor`]: the opaque, signed cursors that name a position in this store's log.
//!
//! The store reports its measurements through [`WriterObserver`]; it does not know the metrics registry.

#![forbid(unsafe_code)]

mod backend;
mod codec;
mod commit;
pub mod cursor;
mod engine;
mod error;
#[cfg(test)]
mod golden;
mod keys;
mod kv_store;
mod memory_engine;
mod migrate_v1;
mod observer;
mod risk_store;
mod shared;
mod sled_engine;
pub mod suite;
mod writer;

pub use backend::{Scan, StoreBackend, StoreMeta};
pub use commit::{Commit, Compacted, ConfigChange, ConfigEntry, DedupEntry};
pub use engine::{Durability, Keyspace, KvEngine, KvIter, StoreError, StoreResult, WriteBatch};
pub use error::{WriteError, WriteResult};
pub use kv_store::KvStore;
pub use memory_engine::MemoryEngine;
pub use observer::{NoObserver, WriterObserver};
pub use risk_store::{RiskStore, StoreInfo, WriterConfig};
pub use shared::{BatchOutcome, BatchResult};
pub use sled_engine::SledEngine;
pub use writer::{Compaction, Retention};
