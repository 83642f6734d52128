//! What a connector emits: a [`Batch`] of device reports with the vendor cursor after them, and the
//! [`BatchId`] the SDK gives it. A module of its own so that the connector API and the batch queue
//! (`sink`) both depend on it and not on each other.

use crate::pb;

/// A batch of device reports and the vendor cursor after them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    /// The vendor cursor after this batch (at most 64 KiB). Once the batch is acknowledged, a
    /// restarted connector gets it back as [`StartContext::checkpoint`](crate::StartContext::checkpoint).
    pub checkpoint: Vec<u8>,
    /// The reports (at most 1000 by default), applied by the core in order.
    pub reports: Vec<pb::DeviceReport>,
}

/// The identifier the SDK gives a batch when it is sent: 1, 2, 3, ... within one instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BatchId(pub u64);
