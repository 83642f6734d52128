//! What a connector says about its vendor feed and the re-checks it is asked for (ABI minor 2).
//!
//! [`Feed`] records whether the connector reaches its vendor and when it last synced; the host reads it
//! about once a second (`feed_health`) and forwards it with its heartbeats, so the core can tell a dead
//! vendor feed from a live host. [`Recheck`] is an admin's "re-check now", queued by the host's `recheck`
//! call; a connector that opts in ([`crate::Connector::takes_rechecks`]) takes them with
//! [`crate::BatchSink::recheck_requested`].

use std::{
    sync::{Arc, Mutex},
    time::SystemTime,
};

use crate::pb;

/// The connector's word on its vendor feed. Cheap to clone; every clone records into the same state.
#[derive(Debug, Clone, Default)]
pub struct Feed {
    health: Arc<Mutex<Option<pb::FeedHealth>>>,
}

fn now() -> prost_types::Timestamp {
    prost_types::Timestamp::from(SystemTime::now())
}

impl Feed {
    /// The connector reaches its vendor (a stream opened, a poll answered).
    pub fn connected(&self) {
        self.enter(pb::FeedState::Connected, String::new());
    }

    /// The connector reaches its vendor only partly, for `reason` (retrying after errors, slow answers).
    pub fn degraded(&self, reason: impl Into<String>) {
        self.enter(pb::FeedState::Degraded, reason.into());
    }

    /// The connector cannot reach its vendor, for `reason` (stream dropped, polls failing, credentials
    /// refused). The time of the first such call is kept as `since` until the state changes.
    pub fn disconnected(&self, reason: impl Into<String>) {
        self.enter(pb::FeedState::Disconnected, reason.into());
    }

    /// The connector just synced with its vendor successfully (a poll answered, a stream event or stream
    /// heartbeat received). Also marks the feed connected.
    pub fn synced(&self) {
        self.enter(pb::FeedState::Connected, String::new());
        let mut health = self.health.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(health) = health.as_mut() {
            health.last_vendor_sync = Some(now());
        }
    }

    /// What the connector said last; `None` before its first word.
    pub fn health(&self) -> Option<pb::FeedHealth> {
        self.health
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Moves to `state`; `since` changes only when the state does, so a repeated failure keeps the time
    /// it began.
    fn enter(&self, state: pb::FeedState, reason: String) {
        let mut health = self.health.lock().unwrap_or_else(|e| e.into_inner());
        let health = health.get_or_insert_with(pb::FeedHealth::default);
        if health.state != state as i32 || health.since.is_none() {
            health.state = state as i32;
            health.since = Some(now());
        }
        health.reason = reason;
    }
}

/// An admin's request to fetch fresh state from the vendor and report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recheck {
    /// The devices to fetch, by the ids the connector reports them under. Empty: every device.
    pub device_ids: Vec<String>,
}
