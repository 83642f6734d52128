//! The transmitter's own small store: one JSON file per stream under `<data_dir>/streams/`, holding its
//! configuration, status, subjects and delivery position. SETs themselves are never stored: they are
//! rebuilt from the core's log, which is why the position is enough.
//!
//! A stream's progress (its delivery position and poll acknowledgements) changes with every SET a
//! receiver accepts, so it is also saved apart, in `<id>.progress`, written and renamed but not
//! `fsync`ed: that survives `kill -9` (the page cache outlives the process), and a power loss can only
//! take it back to an older position, which means SETs delivered again with the same `jti`, never lost.
//! At open the newer of the two positions counts (never for a disabled stream, which holds nothing).
//!
//! Records are readable by the owner only (a push stream's record holds the receiver's
//! `authorization_header`). Every save writes a temporary file, `fsync`s it, renames it over the old one and `fsync`s the
//! directory, so an acknowledged change survives `kill -9` and power loss, and a crash leaves either the
//! old record or the new one, never half of one. The records are few (one per receiver stream) and
//! small, so a file each is simpler than an embedded database and as safe.

use std::{
    fs::{self, File},
    io::Write as _,
    path::{Path, PathBuf},
};

use riskgate_caep::{StreamStatus, Subject};
use serde::{Deserialize, Serialize};

/// A failure of the stream store.
#[derive(Debug, thiserror::Error)]
#[error("stream store {path}: {reason}")]
pub struct StoreError {
    path: PathBuf,
    reason: String,
}

impl StoreError {
    fn new(path: &Path, reason: impl std::fmt::Display) -> StoreError {
        StoreError {
            path: path.to_owned(),
            reason: reason.to_string(),
        }
    }
}

/// How the stream's SETs travel, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum StoredDelivery {
    /// POSTed to the receiver.
    Push {
        /// Its URL.
        endpoint_url: String,
        /// Its `Authorization` header, if it gave one.
        authorization_header: Option<String>,
    },
    /// Polled by the receiver.
    Poll,
}

/// How far a stream's receiver has accepted the core's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// The log position every SET up to which the receiver accepted.
    pub position: u64,
    /// The core's cursor for it: the stream resumes after it.
    pub cursor: String,
}

/// One stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamRecord {
    /// Its id.
    pub stream_id: String,
    /// The token name that created it.
    pub owner: String,
    /// The `aud` of its SETs.
    pub audience: String,
    /// What the receiver asked for.
    pub events_requested: Vec<String>,
    /// How SETs travel.
    pub delivery: StoredDelivery,
    /// The receiver's description.
    pub description: Option<String>,
    /// enabled, paused or disabled.
    pub status: StreamStatus,
    /// Why the status is what it is, if said.
    pub status_reason: Option<String>,
    /// Subjects added (with `default_subjects` NONE, the only ones delivered).
    pub subjects_added: Vec<Subject>,
    /// Subjects removed (with `default_subjects` ALL, the ones not delivered).
    pub subjects_removed: Vec<Subject>,
    /// How far the receiver accepted; `None` until the stream has read the core once, and after a disable.
    pub delivered: Option<Position>,
    /// For poll: the `jti`s acknowledged above `delivered` (not sent again after a restart).
    pub acked: Vec<String>,
    /// When verification was last requested, Unix seconds.
    pub last_verification: Option<u64>,
}

/// What `<id>.progress` holds.
#[derive(Debug, Serialize, Deserialize)]
struct Progress {
    delivered: Option<Position>,
    acked: Vec<String>,
}

/// Takes the progress file's position when it is newer than the record's; an unreadable progress file
/// (a power loss during its write) is ignored: the record's older position only means redelivery.
fn apply_progress(record: &mut StreamRecord, path: &Path) {
    let Some(progress) = fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Progress>(&bytes).ok())
    else {
        return;
    };
    let Some(delivered) = progress.delivered else {
        return;
    };
    let newer = record
        .delivered
        .as_ref()
        .is_none_or(|saved| saved.position <= delivered.position);
    if record.status != StreamStatus::Disabled && newer {
        record.delivered = Some(delivered);
        record.acked = progress.acked;
    }
}

/// The records on disk.
#[derive(Debug)]
pub struct StreamStore {
    dir: PathBuf,
}

impl StreamStore {
    /// Opens (creating) `dir` and reads every record in it.
    pub fn open(dir: &Path) -> Result<(StreamStore, Vec<StreamRecord>), StoreError> {
        fs::create_dir_all(dir).map_err(|err| StoreError::new(dir, err))?;
        let mut records = Vec::new();
        for entry in fs::read_dir(dir).map_err(|err| StoreError::new(dir, err))? {
            let path = entry.map_err(|err| StoreError::new(dir, err))?.path();
            if path.extension().is_some_and(|ext| ext == "json") {
                let bytes = fs::read(&path).map_err(|err| StoreError::new(&path, err))?;
                let mut record: StreamRecord = serde_json::from_slice(&bytes)
                    .map_err(|err| StoreError::new(&path, format!("corrupt record: {err}")))?;
                apply_progress(&mut record, &path.with_extension("progress"));
                records.push(record);
            }
        }
        records.sort_by(|a: &StreamRecord, b| a.stream_id.cmp(&b.stream_id));
        Ok((
            StreamStore {
                dir: dir.to_owned(),
            },
            records,
        ))
    }

    /// Writes `record` durably (see the module's note).
    pub fn save(&self, record: &StreamRecord) -> Result<(), StoreError> {
        let path = self.path(&record.stream_id);
        let staged = path.with_extension("json.tmp");
        let bytes = serde_json::to_vec_pretty(record).map_err(|err| StoreError::new(&path, err))?;
        let write = || -> std::io::Result<()> {
            let mut file = crate::keys::private_file(&staged)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            fs::rename(&staged, &path)?;
            File::open(&self.dir)?.sync_all()
        };
        write().map_err(|err| StoreError::new(&path, err))
    }

    /// Writes `record`'s progress (see the module's note: renamed, not `fsync`ed).
    pub fn save_progress(&self, record: &StreamRecord) -> Result<(), StoreError> {
        let path = self.path(&record.stream_id).with_extension("progress");
        let staged = path.with_extension("progress.tmp");
        let progress = Progress {
            delivered: record.delivered.clone(),
            acked: record.acked.clone(),
        };
        let bytes = serde_json::to_vec(&progress).map_err(|err| StoreError::new(&path, err))?;
        let write = || -> std::io::Result<()> {
            crate::keys::private_file(&staged)?.write_all(&bytes)?;
            fs::rename(&staged, &path)
        };
        write().map_err(|err| StoreError::new(&path, err))
    }

    /// Removes the record of `stream_id` durably.
    pub fn delete(&self, stream_id: &str) -> Result<(), StoreError> {
        let path = self.path(stream_id);
        let remove = || -> std::io::Result<()> {
            for file in [path.with_extension("progress"), path.clone()] {
                match fs::remove_file(&file) {
                    Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err),
                    _ => {}
                }
            }
            File::open(&self.dir)?.sync_all()
        };
        remove().map_err(|err| StoreError::new(&path, err))
    }

    fn path(&self, stream_id: &str) -> PathBuf {
        self.dir.join(format!("{stream_id}.json"))
    }
}

#[cfg(test)]
mod tests;
