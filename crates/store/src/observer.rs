//! What the writer reports as it commits, for whoever keeps the service's metrics. The store does not know
//! the metrics registry; the core implements this trait on its own.

use std::time::Duration;

use crate::shared::BatchResult;

/// Receives the writer's measurements. Calls come from the writer thread and must not block.
pub trait WriterObserver: Send + Sync + std::fmt::Debug + 'static {
    /// A batch was committed (or found to be a duplicate).
    fn batch_committed(&self, result: &BatchResult);
    /// One durable flush took `elapsed`.
    fn flushed(&self, elapsed: Duration);
    /// The durable head moved to `head`.
    fn head_moved(&self, head: u64);
}

/// An observer that keeps nothing, for tools and tests that need no metrics.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoObserver;

impl WriterObserver for NoObserver {
    fn batch_committed(&self, _result: &BatchResult) {}
    fn flushed(&self, _elapsed: Duration) {}
    fn head_moved(&self, _head: u64) {}
}
