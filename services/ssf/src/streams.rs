//! The live streams: each stream's record (as stored), its status as a watch the worker follows, the
//! SETs the transmitter itself adds (verification, stream-updated, test events), the poll queue, and the
//! last error a receiver reported. Every change to a record is saved before it is acknowledged.

use std::{collections::HashMap, sync::Arc};

use parking_lot::{Mutex, RwLock};
use riskgate_caep::{metadata::DefaultSubjects, StreamStatus, Subject};
use tokio::sync::{mpsc, watch};

use crate::{
    auth::Caller,
    error::ApiError,
    poll::PollQueue,
    store::{StoreError, StreamRecord, StreamStore},
};

/// A signed SET ready to travel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// Its `jti`.
    pub jti: String,
    /// The compact JWS.
    pub jwt: String,
}

/// One stream at run time.
#[derive(Debug)]
pub struct StreamHandle {
    record: Mutex<StreamRecord>,
    status: watch::Sender<StreamStatus>,
    injected_tx: mpsc::UnboundedSender<Signed>,
    injected_rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<Signed>>,
    /// The SETs a poll receiver has not acknowledged yet.
    pub poll: PollQueue,
    last_error: Mutex<Option<String>>,
    worker: Mutex<Option<tokio::task::AbortHandle>>,
}

impl StreamHandle {
    fn new(record: StreamRecord) -> StreamHandle {
        let (injected_tx, injected_rx) = mpsc::unbounded_channel();
        StreamHandle {
            status: watch::Sender::new(record.status),
            record: Mutex::new(record),
            injected_tx,
            injected_rx: tokio::sync::Mutex::new(injected_rx),
            poll: PollQueue::default(),
            last_error: Mutex::new(None),
            worker: Mutex::new(None),
        }
    }

    /// A copy of the record.
    pub fn record(&self) -> StreamRecord {
        self.record.lock().clone()
    }

    /// Changes the record with `change` and saves it durably; the change stays only if the save succeeded.
    pub fn update<T>(
        &self,
        store: &StreamStore,
        change: impl FnOnce(&mut StreamRecord) -> T,
    ) -> Result<T, StoreError> {
        self.change(change, |record| store.save(record))
    }

    /// Changes the stream's progress (delivery position, acknowledgements) with `change` and saves it as
    /// progress ([`StreamStore::save_progress`]).
    pub fn update_progress(
        &self,
        store: &StreamStore,
        change: impl FnOnce(&mut StreamRecord),
    ) -> Result<(), StoreError> {
        self.change(change, |record| store.save_progress(record))
    }

    fn change<T>(
        &self,
        change: impl FnOnce(&mut StreamRecord) -> T,
        save: impl FnOnce(&StreamRecord) -> Result<(), StoreError>,
    ) -> Result<T, StoreError> {
        let mut record = self.record.lock();
        let mut changed = record.clone();
        let result = change(&mut changed);
        save(&changed)?;
        let status = changed.status;
        *record = changed;
        drop(record);
        self.status.send_if_modified(|current| {
            let modified = *current != status;
            *current = status;
            modified
        });
        Ok(result)
    }

    /// Follows the status.
    pub fn status(&self) -> watch::Receiver<StreamStatus> {
        self.status.subscribe()
    }

    /// Queues a SET the transmitter made itself; it travels in order with the stream's others.
    pub fn inject(&self, set: Signed) {
        // The receiver half lives as long as the handle, so sending cannot fail.
        let _sent = self.injected_tx.send(set);
    }

    /// The queue of injected SETs, for the worker.
    pub fn injected(&self) -> &tokio::sync::Mutex<mpsc::UnboundedReceiver<Signed>> {
        &self.injected_rx
    }

    /// Records what a receiver said when it refused a SET.
    pub fn set_last_error(&self, error: Option<String>) {
        *self.last_error.lock() = error;
    }

    /// The last refusal, if any.
    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().clone()
    }

    /// Remembers the worker task, stopping any earlier one.
    pub fn set_worker(&self, worker: tokio::task::AbortHandle) {
        if let Some(earlier) = self.worker.lock().replace(worker) {
            earlier.abort();
        }
    }

    /// Stops the worker.
    pub fn stop(&self) {
        if let Some(worker) = self.worker.lock().take() {
            worker.abort();
        }
    }

    /// Whether an event about `subject` goes to this stream: not removed, and with `default_subjects`
    /// NONE, added.
    pub fn wants(&self, subject: &Subject, default_subjects: DefaultSubjects) -> bool {
        let record = self.record.lock();
        !record
            .subjects_removed
            .iter()
            .any(|removed| subject.matches(removed))
            && (default_subjects == DefaultSubjects::All
                || record
                    .subjects_added
                    .iter()
                    .any(|added| subject.matches(added)))
    }
}

/// Every stream, by id.
#[derive(Debug, Default)]
pub struct Streams {
    by_id: RwLock<HashMap<String, Arc<StreamHandle>>>,
}

impl Streams {
    /// Adds a stream (loaded or created).
    pub fn insert(&self, record: StreamRecord) -> Arc<StreamHandle> {
        let handle = Arc::new(StreamHandle::new(record));
        let id = handle.record.lock().stream_id.clone();
        self.by_id.write().insert(id, Arc::clone(&handle));
        handle
    }

    /// Removes a stream, stopping its worker.
    pub fn remove(&self, stream_id: &str) {
        if let Some(handle) = self.by_id.write().remove(stream_id) {
            handle.stop();
        }
    }

    /// The stream `stream_id` if `caller` may see it; another receiver's stream is reported missing.
    pub fn get_for(&self, caller: &Caller, stream_id: &str) -> Result<Arc<StreamHandle>, ApiError> {
        self.by_id
            .read()
            .get(stream_id)
            .filter(|handle| caller.owns(&handle.record.lock().owner))
            .cloned()
            .ok_or_else(|| ApiError::NoStream(stream_id.to_owned()))
    }

    /// The streams `caller` may see, in order of id.
    pub fn list_for(&self, caller: &Caller) -> Vec<Arc<StreamHandle>> {
        let mut streams: Vec<_> = self
            .by_id
            .read()
            .values()
            .filter(|handle| caller.owns(&handle.record.lock().owner))
            .cloned()
            .collect();
        streams.sort_by_key(|handle| handle.record.lock().stream_id.clone());
        streams
    }

    /// Every stream.
    pub fn all(&self) -> Vec<Arc<StreamHandle>> {
        self.by_id.read().values().cloned().collect()
    }
}
