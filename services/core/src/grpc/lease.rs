//! One connector, one feed: at most one Ingest stream writes for a connector at a time.
//!
//! A stream takes its connector's lease with its first batch for that connector. A newer stream
//! takes the lease over, and the older one is fenced off: its next batch ends it with `ABORTED`.
//! Newer wins because the usual reason for a second stream is a restarted connector host whose old
//! connection the server has not yet seen die; refusing the newer stream would lock the restarted
//! host out until then. Two hosts running for one connector (a misconfiguration) fence each other
//! in turn, and every takeover is logged.
//!
//! Checking the lease and queueing the batch in the writer happen under the connector's lock, and a
//! takeover takes that lock too, so every batch of the older stream is queued before any batch of
//! the newer one: the writer sees one stream's batches, then the other's, never a mix.

use crate::error::{CoreError, CoreResult};
use std::{
    collections::HashMap,
    future::Future,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};

use riskgate_policy::{domain::ConnectorId, error::DomainError};

/// The current lease holder of each connector that has a stream.
#[derive(Debug, Default)]
pub(crate) struct IngestLeases {
    holders: parking_lot::Mutex<HashMap<ConnectorId, Arc<tokio::sync::Mutex<u64>>>>,
    next_generation: AtomicU64,
}

/// One stream's hold on one connector's lease.
#[derive(Debug)]
pub(crate) struct Lease {
    connector_id: ConnectorId,
    generation: u64,
    holder: Arc<tokio::sync::Mutex<u64>>,
}

impl IngestLeases {
    fn holder(&self, connector_id: &ConnectorId) -> Arc<tokio::sync::Mutex<u64>> {
        let mut holders = self.holders.lock();
        holders.entry(connector_id.clone()).or_default().clone()
    }

    /// Takes `connector_id`'s lease for a new stream, fencing off the stream that held it.
    pub(crate) async fn take(&self, connector_id: &ConnectorId) -> Lease {
        let generation = self.next_generation.fetch_add(1, Ordering::Relaxed) + 1;
        let holder = self.holder(connector_id);
        let previous = std::mem::replace(&mut *holder.lock().await, generation);
        if previous != 0 {
            tracing::warn!(connector = %connector_id, "a newer Ingest stream took over the connector; the older one is fenced off");
        }
        Lease {
            connector_id: connector_id.clone(),
            generation,
            holder,
        }
    }
}

impl Lease {
    /// Runs `queue` (which hands a batch to the writer) if this stream still holds the lease, with
    /// takeovers held off until it returns.
    pub(crate) async fn while_held<T>(&self, queue: impl Future<Output = T>) -> CoreResult<T> {
        let current = self.holder.lock().await;
        if *current != self.generation {
            return Err(CoreError::Domain(DomainError::Aborted(format!(
                "a newer Ingest stream took over connector {}; only one stream per connector may write",
                self.connector_id
            ))));
        }
        Ok(queue.await)
    }

    /// The connector this lease is for.
    pub(crate) fn connector_id(&self) -> &ConnectorId {
        &self.connector_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_newer_stream_fences_the_older_one_off() {
        let leases = IngestLeases::default();
        let id = ConnectorId::parse("lookout").unwrap();
        let older = leases.take(&id).await;
        assert_eq!(older.while_held(async { 1 }).await.unwrap(), 1);
        let newer = leases.take(&id).await;
        assert!(matches!(
            older.while_held(async { 2 }).await,
            Err(CoreError::Domain(DomainError::Aborted(_)))
        ));
        assert_eq!(newer.while_held(async { 3 }).await.unwrap(), 3);
    }

    #[tokio::test]
    async fn connectors_have_separate_leases() {
        let leases = IngestLeases::default();
        let a = leases.take(&ConnectorId::parse("a").unwrap()).await;
        let _b = leases.take(&ConnectorId::parse("b").unwrap()).await;
        assert!(a.while_held(async {}).await.is_ok());
    }
}
