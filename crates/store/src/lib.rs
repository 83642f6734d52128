//! riskgate's durable risk store: a narrow key-value engine trait, its sled and in-memory engines, and the
//! risk store built on it.
//!
//! Layering (dependencies point down, no module imports one above it):
//! - [`RiskStore`] (`risk_store.rs`) is the handle: opening, reads, and requests to the writer.
//! - `writer.rs` is the single writer thread: sequence numbers, dedup, stale detection, checkpoints,
//!   re-evaluation through `riskgate_policy`, and group commit. It knows the domain and the key layout, but not
//!   which engine is underneath.
//! - `shared.rs` is what both share (engine, durable head, visibility lock, broadcast) and the point reads.
//! - `codec.rs`, `keys.rs`, `migrate_v1.rs`: versioned value encoding and the key layout.
//! - [`KvEngine`] is the narrow seam to the storage engine: keyspaces, point reads, ordered scans, an atomic
//!   multi-key write and a durable flush. sled 0.34.7 is the production engine; another one is added by
//!   implementing this trait and passing [`suite::engine_suite`].
//! - [`cursor`]: the opaque, signed cursors that name a position in this store's log.
//!
//! The store reports its measurements through [`WriterObserver`]; it does not know the metrics registry.

#![forbid(unsafe_code)]

mod codec;
pub mod cursor;
mod engine;
mod error;
#[cfg(test)]
mod golden;
mod keys;
mod memory_engine;
mod migrate_v1;
mod observer;
mod risk_store;
mod shared;
mod sled_engine;
pub mod suite;
mod writer;

pub use engine::{Durability, Keyspace, KvEngine, KvIter, StoreError, StoreResult, WriteBatch};
pub use error::{WriteError, WriteResult};
pub use memory_engine::MemoryEngine;
pub use observer::{NoObserver, WriterObserver};
pub use risk_store::{RiskStore, StoreInfo, WriterConfig};
pub use shared::{BatchOutcome, BatchResult};
pub use sled_engine::SledEngine;
pub use writer::{Compaction, Retention};
