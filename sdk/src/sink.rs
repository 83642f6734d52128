//! The connector's side of the plugin's batch queue: [`BatchSink`] (bounded, so a slow core slows the
//! connector instead of growing its memory), acknowledgements, and the [`Shutdown`] signal.

use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, watch};

use crate::{
    batch::{Batch, BatchId},
    feed::{Feed, Recheck},
};

/// The latest batch the core acknowledged (acknowledgements are cumulative).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acked {
    /// The acknowledged batch; every earlier batch is acknowledged too.
    pub batch_id: BatchId,
    /// That batch's checkpoint: what a restarted connector will get back.
    pub checkpoint: Vec<u8>,
}

/// The sink was closed: the instance is shutting down (or was dropped). Stop producing and return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the batch sink is closed: the connector is shutting down")]
pub struct SinkClosed;

/// Where a connector sends its batches. Cheap to clone; every clone feeds the same bounded queue.
#[derive(Debug, Clone)]
pub struct BatchSink {
    tx: mpsc::Sender<(BatchId, Batch)>,
    next_id: Arc<Mutex<u64>>,
    acks: watch::Receiver<Option<Acked>>,
    shutdown: Shutdown,
    handle: tokio::runtime::Handle,
    feed: Feed,
    rechecks: Arc<tokio::sync::Mutex<mpsc::Receiver<Recheck>>>,
}

impl BatchSink {
    pub(crate) fn new(
        tx: mpsc::Sender<(BatchId, Batch)>,
        acks: watch::Receiver<Option<Acked>>,
        shutdown: Shutdown,
        handle: tokio::runtime::Handle,
        feed: Feed,
        rechecks: mpsc::Receiver<Recheck>,
    ) -> Self {
        BatchSink {
            tx,
            next_id: Arc::new(Mutex::new(0)),
            acks,
            shutdown,
            handle,
            feed,
            rechecks: Arc::new(tokio::sync::Mutex::new(rechecks)),
        }
    }

    /// Where the connector says how its vendor feed is doing (ABI minor 2; see [`Feed`]).
    pub fn feed(&self) -> &Feed {
        &self.feed
    }

    /// Waits for the next re-check request. Only a connector whose [`crate::Connector::takes_rechecks`]
    /// is true gets any; for others this never resolves. Meant for a `select!` beside the connector's
    /// own work.
    pub async fn recheck_requested(&self) -> Recheck {
        let mut rechecks = self.rechecks.lock().await;
        match rechecks.recv().await {
            Some(recheck) => recheck,
            None => std::future::pending().await,
        }
    }

    /// Queues a batch, waiting while the queue is full (backpressure from the core). Returns the id
    /// the batch got, or [`SinkClosed`] once shutdown began.
    pub async fn send(&self, batch: Batch) -> Result<BatchId, SinkClosed> {
        let permit = tokio::select! {
            biased;
            () = self.shutdown.wait() => return Err(SinkClosed),
            permit = self.tx.reserve() => permit.map_err(|_| SinkClosed)?,
        };
        // Ids are assigned while holding a queue slot, so ids follow queue order across clones.
        let mut next_id = self.next_id.lock().unwrap_or_else(|e| e.into_inner());
        *next_id += 1;
        let id = BatchId(*next_id);
        permit.send((id, batch));
        Ok(id)
    }

    /// [`BatchSink::send`] for blocking code, such as a `tokio::task::spawn_blocking` closure or a
    /// thread the connector started. Panics if called from inside an async task.
    pub fn blocking_send(&self, batch: Batch) -> Result<BatchId, SinkClosed> {
        self.handle.block_on(self.send(batch))
    }

    /// The latest acknowledged batch, if any.
    pub fn acknowledged(&self) -> Option<Acked> {
        self.acks.borrow().clone()
    }

    /// Waits until `batch_id` (or a later batch) is acknowledged. Returns [`SinkClosed`] on shutdown.
    pub async fn wait_acknowledged(&self, batch_id: BatchId) -> Result<Acked, SinkClosed> {
        let mut acks = self.acks.clone();
        tokio::select! {
            biased;
            () = self.shutdown.wait() => Err(SinkClosed),
            acked = acks.wait_for(|acked| acked.as_ref().is_some_and(|a| a.batch_id >= batch_id)) => {
                let acked = acked.map_err(|_| SinkClosed)?;
                acked.clone().ok_or(SinkClosed)
            }
        }
    }
}

/// Fires when the host asks the connector to stop. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Shutdown {
    rx: watch::Receiver<bool>,
}

impl Shutdown {
    pub(crate) fn new(rx: watch::Receiver<bool>) -> Self {
        Shutdown { rx }
    }

    /// Whether shutdown has begun.
    pub fn is_shutdown(&self) -> bool {
        *self.rx.borrow()
    }

    /// Resolves once shutdown has begun (or the instance was dropped).
    pub async fn wait(&self) {
        let mut rx = self.rx.clone();
        // An error means the sender is gone, which also means shutdown.
        let _ = rx.wait_for(|stop| *stop).await;
    }
}
