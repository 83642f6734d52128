//! Storage: a narrow key-value engine trait, its sled and in-memory adapters, and the risk store built on it.
//!
//! Layering (dependencies point down):
//! - [`RiskStore`] owns the single writer thread: sequence numbers, dedup, stale detection, checkpoints and
//!   group commit. It knows the domain and the key layout, but not which engine is underneath.
//! - [`KvEngine`] is the narrow seam to the storage engine: keyspaces, point reads, ordered scans, an atomic
//!   multi-key write and a durable flush. sled 0.34.7 is the production engine; another one can be added by
//!   implementing this trait and passing [`engine_suite`] (see `store/suite.rs`).

mod codec;
mod engine;
#[cfg(test)]
mod golden;
mod keys;
mod memory_engine;
mod migrate_v1;
mod risk_store;
mod sled_engine;
#[cfg(test)]
mod suite;
mod writer;

pub use engine::{Durability, Keyspace, KvEngine, KvIter, StoreError, StoreResult, WriteBatch};
pub use memory_engine::MemoryEngine;
pub use risk_store::{BatchOutcome, BatchResult, RiskStore, StoreInfo, WriterConfig};
pub use sled_engine::SledEngine;
pub use writer::{Compaction, Retention};
