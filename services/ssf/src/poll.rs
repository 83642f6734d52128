//! Poll delivery (RFC 8936): the SETs of a poll stream wait here, grouped by the log position they came
//! from, until the receiver acknowledges them (`ack`) or reports them as failed (`setErrs`, which also
//! ends their delivery). A poll returns the oldest unacknowledged SETs, so one not acknowledged comes
//! again. Once every SET of the oldest positions is acknowledged, those positions leave the queue and the
//! stream's delivery position moves to the last of them.

use std::collections::{HashSet, VecDeque};

use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::{store::Position, streams::Signed};

/// The SETs of one log position (or, without a position, SETs the transmitter made itself).
#[derive(Debug, Clone)]
pub struct Batch {
    /// The position they came from; `None` for verification, stream-updated and test events.
    pub position: Option<Position>,
    /// The SETs.
    pub sets: Vec<Signed>,
}

#[derive(Debug, Default)]
struct Queue {
    batches: VecDeque<(Batch, Vec<bool>)>,
    unacked: usize,
}

/// A poll stream's waiting SETs.
#[derive(Debug, Default)]
pub struct PollQueue {
    queue: Mutex<Queue>,
    changed: Notify,
}

/// What an acknowledgement did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Acked {
    /// The new delivery position, if it moved.
    pub position: Option<Position>,
    /// The acknowledged `jti`s still in the queue (above the new position).
    pub still_queued: Vec<String>,
}

impl PollQueue {
    /// Appends a batch.
    pub fn push(&self, batch: Batch) {
        let mut queue = self.queue.lock();
        queue.unacked += batch.sets.len();
        let acked = vec![false; batch.sets.len()];
        queue.batches.push_back((batch, acked));
        drop(queue);
        self.changed.notify_waiters();
    }

    /// Drops the SETs made from the log (the stream reads the core again from its delivery position
    /// and makes them again); SETs the transmitter made itself stay, having no log to come from.
    pub fn restart(&self) {
        let mut queue = self.queue.lock();
        queue.batches.retain(|(batch, _)| batch.position.is_none());
        queue.unacked = queue
            .batches
            .iter()
            .flat_map(|(_, acked)| acked.iter())
            .filter(|done| !**done)
            .count();
        drop(queue);
        self.changed.notify_waiters();
    }

    /// Empties the queue (a disabled stream holds nothing).
    pub fn clear(&self) {
        *self.queue.lock() = Queue::default();
        self.changed.notify_waiters();
    }

    /// How many SETs wait for an acknowledgement.
    pub fn unacked(&self) -> usize {
        self.queue.lock().unacked
    }

    /// Marks `jtis` acknowledged (unknown ones are ignored: already acknowledged, or from before a
    /// restart) and lets fully acknowledged positions go.
    pub fn acknowledge(&self, jtis: &HashSet<String>) -> Acked {
        let mut queue = self.queue.lock();
        let mut newly = 0;
        for (batch, acked) in &mut queue.batches {
            for (set, done) in batch.sets.iter().zip(acked.iter_mut()) {
                if !*done && jtis.contains(&set.jti) {
                    *done = true;
                    newly += 1;
                }
            }
        }
        queue.unacked -= newly;
        let mut result = Acked::default();
        while queue
            .batches
            .front()
            .is_some_and(|(_, acked)| acked.iter().all(|done| *done))
        {
            if let Some((batch, _)) = queue.batches.pop_front() {
                result.position = batch.position.or(result.position);
            }
        }
        result.still_queued = queue
            .batches
            .iter()
            .flat_map(|(batch, acked)| batch.sets.iter().zip(acked))
            .filter(|(_, done)| **done)
            .map(|(set, _)| set.jti.clone())
            .collect();
        drop(queue);
        if newly > 0 {
            self.changed.notify_waiters();
        }
        result
    }

    /// Up to `max` unacknowledged SETs, oldest first, and whether more wait.
    pub fn take(&self, max: usize) -> (Vec<Signed>, bool) {
        let queue = self.queue.lock();
        let mut pending = queue
            .batches
            .iter()
            .flat_map(|(batch, acked)| batch.sets.iter().zip(acked))
            .filter(|(_, done)| !**done)
            .map(|(set, _)| set.clone());
        let sets: Vec<Signed> = pending.by_ref().take(max).collect();
        let more = pending.next().is_some();
        (sets, more)
    }

    /// Waits until the queue changes.
    pub async fn changed(&self) {
        self.changed.notified().await;
    }

    /// A future that completes at the queue's next change, registered now so no change is missed
    /// between a check and the wait.
    pub fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.changed.notified()
    }
}

#[cfg(test)]
mod tests;
