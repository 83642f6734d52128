//! One task per stream: it reads the core's log after the stream's delivery position, turns each entry
//! into the stream's SETs and hands them on in log order, one position at a time.
//!
//! - Push: each SET is POSTed until the receiver accepts it; then the position moves (and is saved).
//! - Poll: SETs wait in the stream's poll queue; the position moves when the receiver acknowledges.
//!   When `max_outstanding` SETs wait, the task stops reading the core.
//!
//! A paused stream's task stops reading the core: its events wait in the core's log, which keeps them for
//! its retention (the bounded buffer, docs/ssf.md), and are delivered in order once enabled. A disabled
//! stream holds nothing: enabling it starts again at the core's head. After a restart each task resumes
//! after its saved position, and SETs rebuilt from the log carry the same `jti`.
//!
//! Past the core's retention (`OUT_OF_RANGE`) the task says so with a `stream-updated` event and the
//! reason in the stream's status, then sends each device's current state from a snapshot and carries on.

use std::{sync::Arc, time::Duration};

use riskgate_caep::{translate, StreamStatus, Subject};
use tonic::Code;

use crate::{
    poll::Batch,
    push,
    source::{self, DeviceState, Entry, Item},
    store::{Position, StoredDelivery, StreamRecord},
    streams::StreamHandle,
    transmitter::{Shared, Transmitter},
};

mod recovery;

/// Why the task stopped following the core for now.
#[derive(Debug)]
enum Stop {
    /// The status is no longer enabled (or the delivery changed): wait, then resume.
    StatusChanged,
    /// The core's stream failed; try again after a pause.
    Failed(String),
    /// The position is past the core's retention.
    OutOfRange,
}

/// Starts the task of `handle`'s stream.
pub fn spawn(transmitter: Shared, handle: Arc<StreamHandle>) {
    let task = tokio::spawn(run(transmitter, Arc::clone(&handle)));
    handle.set_worker(task.abort_handle());
}

async fn run(transmitter: Shared, handle: Arc<StreamHandle>) {
    let mut status = handle.status();
    let mut recovering = false;
    loop {
        if status
            .wait_for(|status| *status == StreamStatus::Enabled)
            .await
            .is_err()
        {
            return;
        }
        handle.poll.restart();
        let stop = follow(&transmitter, &handle, recovering).await;
        recovering = false;
        match stop {
            Stop::StatusChanged => {}
            Stop::Failed(reason) => {
                let stream = handle.record().stream_id;
                tracing::warn!(%stream, %reason, "following the core failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Stop::OutOfRange => {
                recovery::out_of_range(&transmitter, &handle);
                recovering = true;
            }
        }
    }
}

/// Reads the core after the delivery position (or, recovering, from a snapshot) until something stops it.
async fn follow(transmitter: &Transmitter, handle: &StreamHandle, recovering: bool) -> Stop {
    let mut stream = match subscribe(transmitter, handle, recovering).await {
        Ok(stream) => stream,
        Err(stop) => return stop,
    };
    let mut status = handle.status();
    let mut snapshot = Vec::new();
    let mut injected = handle.injected().lock().await;
    loop {
        // The status may have changed before this receiver was made; `changed` only sees later changes.
        if *status.borrow_and_update() != StreamStatus::Enabled {
            return Stop::StatusChanged;
        }
        let message = tokio::select! {
            biased;
            changed = status.changed() => {
                if changed.is_err() || *status.borrow() != StreamStatus::Enabled {
                    return Stop::StatusChanged;
                }
                continue;
            }
            Some(own) = injected.recv() => {
                let own = Batch { position: None, sets: vec![own] };
                if let Err(stop) = hand_on(transmitter, handle, own).await {
                    return stop;
                }
                continue;
            }
            message = stream.message() => message,
        };
        let item = match message {
            Ok(Some(message)) => source::parse(message),
            Ok(None) => return Stop::Failed("the core ended the stream".to_owned()),
            Err(status) if status.code() == Code::OutOfRange => return Stop::OutOfRange,
            Err(status) => return Stop::Failed(status.to_string()),
        };
        let handed = match batch_of(transmitter, handle, item, &mut snapshot).await {
            Ok(Some(batch)) => hand_on(transmitter, handle, batch).await,
            Ok(None) => Ok(()),
            Err(stop) => Err(stop),
        };
        if let Err(stop) = handed {
            return stop;
        }
    }
}

/// Opens the core's stream after the saved position, at the head for a stream without one, or without a
/// cursor (snapshot first) when recovering.
async fn subscribe(
    transmitter: &Transmitter,
    handle: &StreamHandle,
    recovering: bool,
) -> Result<tonic::Streaming<riskgate_proto::v1::SubscribeResponse>, Stop> {
    let cursor = match (recovering, handle.record().delivered) {
        (true, _) => None,
        (false, Some(delivered)) => Some(delivered.cursor),
        (false, None) => Some(start_at_head(transmitter, handle).await?),
    };
    match transmitter.core.subscribe(cursor.as_deref()).await {
        Ok(stream) => Ok(stream),
        Err(status) if status.code() == Code::OutOfRange => Err(Stop::OutOfRange),
        Err(status) => Err(Stop::Failed(status.to_string())),
    }
}

/// The batch one message of the core makes: an entry's SETs, the current state once a snapshot ends
/// (snapshot messages are gathered in `snapshot` until then), or just a position for progress.
async fn batch_of(
    transmitter: &Transmitter,
    handle: &StreamHandle,
    item: Option<Item>,
    snapshot: &mut Vec<DeviceState>,
) -> Result<Option<Batch>, Stop> {
    let batch = match item {
        None => return Ok(None),
        Some(Item::Snapshot(state)) => {
            snapshot.push(state);
            return Ok(None);
        }
        Some(Item::SnapshotEnd { position, cursor }) => {
            let devices = std::mem::take(snapshot);
            recovery::state_batch(transmitter, handle, devices, Position { position, cursor })?
        }
        Some(Item::Progress { position, cursor }) => Batch {
            position: Some(Position { position, cursor }),
            sets: Vec::new(),
        },
        Some(Item::Entry(entry)) => entry_batch(transmitter, handle, entry).await?,
    };
    Ok(Some(batch))
}

/// A stream with no position (new, or enabled after being disabled) starts at the core's head; the
/// position is saved first, so nothing committed after it is missed.
async fn start_at_head(transmitter: &Transmitter, handle: &StreamHandle) -> Result<String, Stop> {
    let (position, cursor) = transmitter
        .core
        .head()
        .await
        .map_err(|status| Stop::Failed(status.to_string()))?;
    commit(
        transmitter,
        handle,
        Position {
            position,
            cursor: cursor.clone(),
        },
        Vec::new(),
    )?;
    Ok(cursor)
}

/// The stream's SETs for one log entry (none when CAEP has no word for it, the stream did not ask for
/// the event, the subject is not the stream's, or a poll receiver already acknowledged it).
async fn entry_batch(
    transmitter: &Transmitter,
    handle: &StreamHandle,
    entry: Entry,
) -> Result<Batch, Stop> {
    let position = Position {
        position: entry.position,
        cursor: entry.cursor.clone(),
    };
    let Some(event) = entry
        .change
        .as_ref()
        .and_then(|change| translate::event(change, entry.time))
    else {
        return Ok(Batch {
            position: Some(position),
            sets: Vec::new(),
        });
    };
    let record = handle.record();
    if !Transmitter::delivers(&record, &event.uri()) {
        return Ok(Batch {
            position: Some(position),
            sets: Vec::new(),
        });
    }
    let as_of = if entry.is_report { entry.position } else { 0 };
    let owner = transmitter
        .core
        .owner(&entry.device_id, as_of)
        .await
        .map_err(|status| {
            Stop::Failed(format!(
                "looking up the owner of {}: {status}",
                entry.device_id
            ))
        })?;
    let subject = Subject::device(
        &entry.device_id,
        owner.as_deref(),
        transmitter.tenant.as_deref(),
    );
    let jti = Transmitter::log_jti(&record, entry.position, 0);
    if !handle.wants(&subject, transmitter.default_subjects) || record.acked.contains(&jti) {
        return Ok(Batch {
            position: Some(position),
            sets: Vec::new(),
        });
    }
    let set = transmitter
        .sign(&record, jti, Some(entry.position), subject, event)
        .map_err(|err| Stop::Failed(err.to_string()))?;
    Ok(Batch {
        position: Some(position),
        sets: vec![set],
    })
}

/// Delivers (push) or queues (poll) one batch, then moves the position as far as the receiver accepted.
async fn hand_on(
    transmitter: &Transmitter,
    handle: &StreamHandle,
    batch: Batch,
) -> Result<(), Stop> {
    match handle.record().delivery {
        StoredDelivery::Push {
            endpoint_url,
            authorization_header,
        } => {
            for set in &batch.sets {
                push::deliver(
                    transmitter,
                    handle,
                    &endpoint_url,
                    authorization_header.as_deref(),
                    set,
                )
                .await
                .map_err(|_| Stop::StatusChanged)?;
            }
            match batch.position {
                Some(position) => commit(transmitter, handle, position, Vec::new()),
                None => Ok(()),
            }
        }
        StoredDelivery::Poll => queue_for_poll(transmitter, handle, batch).await,
    }
}

async fn queue_for_poll(
    transmitter: &Transmitter,
    handle: &StreamHandle,
    batch: Batch,
) -> Result<(), Stop> {
    if batch.sets.is_empty() && handle.poll.unacked() == 0 {
        // Nothing waits before it: the position moves now (kept acknowledgements stay above it).
        if let Some(position) = batch.position {
            let acked = handle.record().acked;
            commit(transmitter, handle, position, acked)?;
        }
        return Ok(());
    }
    if batch.sets.is_empty() {
        return Ok(());
    }
    let mut status = handle.status();
    loop {
        let notified = handle.poll.notified();
        if *status.borrow_and_update() != StreamStatus::Enabled {
            return Err(Stop::StatusChanged);
        }
        if handle.poll.unacked() < transmitter.delivery.max_outstanding {
            break;
        }
        tokio::select! {
            () = notified => {}
            changed = status.changed() => {
                if changed.is_err() || *status.borrow() != StreamStatus::Enabled {
                    return Err(Stop::StatusChanged);
                }
            }
        }
    }
    handle.poll.push(batch);
    Ok(())
}

/// Saves the delivery position.
fn commit(
    transmitter: &Transmitter,
    handle: &StreamHandle,
    position: Position,
    acked: Vec<String>,
) -> Result<(), Stop> {
    handle
        .update_progress(&transmitter.store, |record: &mut StreamRecord| {
            advance(record, Some(position), acked);
        })
        .map_err(|err| Stop::Failed(err.to_string()))
}

/// Moves the delivery position forward (never back), unless the stream was disabled meanwhile: a
/// disabled stream holds nothing, and a position saved after the disable would make it resume there.
fn advance(record: &mut StreamRecord, position: Option<Position>, acked: Vec<String>) {
    if record.status == StreamStatus::Disabled {
        return;
    }
    if let Some(position) = position {
        if record
            .delivered
            .as_ref()
            .is_none_or(|old| old.position <= position.position)
        {
            record.delivered = Some(position);
        }
    }
    record.acked = acked;
}

/// The SETs of `handle` a receiver has acknowledged move its position; saved before the poll answers.
pub fn acknowledge_poll(
    transmitter: &Transmitter,
    handle: &StreamHandle,
    acked: crate::poll::Acked,
) -> Result<(), String> {
    handle
        .update_progress(&transmitter.store, |record| {
            advance(record, acked.position, acked.still_queued);
        })
        .map_err(|err| err.to_string())
}
