//! Live updates: one subscription to the core's `RiskStream` with the console's own token, fanned out to
//! every open page over server-sent events.
//!
//! The hub remembers the most recent changes, each with its log position. A page is rendered with the
//! hub's position at that moment and follows from it; the SSE `id` of every message is its position, so
//! a browser that reconnects sends `Last-Event-ID` and resumes where it was. A page that fell further
//! behind than the hub remembers is told to reload, and so is every page when the hub itself had to
//! start again from the core's head (after a gap in the core's retention).

use std::{collections::VecDeque, sync::Arc, time::Duration};

use parking_lot::Mutex;
use riskgate_proto::v1::{
    risk_stream_client::RiskStreamClient, subscribe_response::Message, EventKind, SubscribeRequest,
    SubscriptionFilter,
};
use riskgate_web_kit::core::CoreLink;
use tokio::sync::broadcast;
use tonic::{Code, Status};

/// Changes remembered for pages that reconnect.
const RECENT: usize = 4096;
/// Changes queued per open page before it is told to reload.
const FAN_OUT: usize = 1024;
/// The longest wait between two attempts to reach the core.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The kinds of event that change what a page shows.
const KINDS: [EventKind; 6] = [
    EventKind::DeviceReported,
    EventKind::DeviceComplianceChange,
    EventKind::AccessDecisionChange,
    EventKind::AppProtectionChange,
    EventKind::ConnectorStateChange,
    EventKind::KnownRiskCleared,
];

/// Something pages may need to show anew.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// An event of the core's log, about `device_id` (none: a connector).
    Event {
        /// Its log position.
        position: u64,
        /// The device it is about.
        device_id: Option<String>,
    },
    /// The hub started again at the core's head: anything may have changed.
    Reset {
        /// The head it started at.
        position: u64,
    },
}

impl Change {
    /// The log position the change brings a page to.
    pub fn position(&self) -> u64 {
        match self {
            Change::Event { position, .. } | Change::Reset { position } => *position,
        }
    }
}

/// What a page that follows from a position gets.
#[derive(Debug)]
pub enum Follow {
    /// The changes it missed, then every new one.
    Resume(Vec<Change>, broadcast::Receiver<Change>),
    /// It missed more than the hub remembers: reload.
    Reload,
}

#[derive(Debug, Default)]
struct HubState {
    recent: VecDeque<Change>,
    head: u64,
    connected: bool,
}

/// The fan-out of the console's one subscription.
#[derive(Debug)]
pub struct Hub {
    state: Mutex<HubState>,
    sender: broadcast::Sender<Change>,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            state: Mutex::default(),
            sender: broadcast::channel(FAN_OUT).0,
        }
    }
}

impl Hub {
    /// The position pages rendered now follow from.
    pub fn head(&self) -> u64 {
        self.state.lock().head
    }

    /// Whether the hub's subscription is up.
    pub fn connected(&self) -> bool {
        self.state.lock().connected
    }

    /// Follows from `after`: the remembered changes past it, then new ones. Subscribing under the lock
    /// that [`Hub::publish`] takes means no change falls between the replay and the receiver.
    pub fn follow(&self, after: u64) -> Follow {
        let state = self.state.lock();
        let receiver = self.sender.subscribe();
        if after >= state.head {
            return Follow::Resume(Vec::new(), receiver);
        }
        let covered = state
            .recent
            .front()
            .is_some_and(|oldest| oldest.position() <= after.saturating_add(1));
        if !covered {
            return Follow::Reload;
        }
        let missed = state
            .recent
            .iter()
            .filter(|change| change.position() > after)
            .cloned()
            .collect();
        Follow::Resume(missed, receiver)
    }

    fn publish(&self, change: Change) {
        let mut state = self.state.lock();
        state.head = state.head.max(change.position());
        state.connected = true;
        if state.recent.len() == RECENT {
            state.recent.pop_front();
        }
        state.recent.push_back(change.clone());
        // No page open is not an error.
        let _ = self.sender.send(change);
    }

    fn advance(&self, position: u64) {
        let mut state = self.state.lock();
        state.head = state.head.max(position);
        state.connected = true;
    }

    fn disconnected(&self) {
        self.state.lock().connected = false;
    }
}

/// Follows the core for as long as the console runs, reconnecting from the last cursor; past the core's
/// retention it starts again at the head and tells every page.
pub async fn run(hub: Arc<Hub>, link: CoreLink) {
    let mut cursor: Option<String> = None;
    let mut backoff = Duration::from_millis(100);
    loop {
        let outcome = match cursor.clone() {
            None => link.head().await.map(|(position, head_cursor)| {
                hub.publish(Change::Reset { position });
                cursor = Some(head_cursor);
            }),
            Some(from) => follow_core(&hub, &link, from, &mut cursor).await,
        };
        match outcome {
            Ok(()) => backoff = Duration::from_millis(100),
            Err(status) => {
                hub.disconnected();
                if status.code() == Code::OutOfRange {
                    tracing::warn!(%status, "the core's retention passed the console's cursor; starting at the head");
                    cursor = None;
                } else {
                    tracing::warn!(%status, "live updates: the core subscription failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }
}

/// Reads one subscription from `from` until it ends, publishing changes and keeping `cursor` current.
async fn follow_core(
    hub: &Hub,
    link: &CoreLink,
    from: String,
    cursor: &mut Option<String>,
) -> Result<(), Status> {
    let request = SubscribeRequest {
        filter: Some(SubscriptionFilter {
            kinds: KINDS.iter().map(|kind| *kind as i32).collect(),
            ..SubscriptionFilter::default()
        }),
        cursor: from,
        progress_interval_ms: 1000,
    };
    let mut stream = RiskStreamClient::new(link.authed())
        .subscribe(request)
        .await?
        .into_inner();
    while let Some(message) = stream.message().await? {
        match message.message {
            Some(Message::Event(event)) => {
                if let Some(inner) = &event.event {
                    hub.publish(Change::Event {
                        position: inner.position,
                        device_id: Some(inner.device_id.clone()).filter(|id| !id.is_empty()),
                    });
                }
                *cursor = Some(event.cursor);
            }
            Some(Message::Progress(progress)) => {
                hub.advance(progress.position);
                *cursor = Some(progress.cursor);
            }
            Some(Message::SnapshotEnd(end)) => {
                hub.advance(end.position);
                *cursor = Some(end.cursor);
            }
            Some(Message::Snapshot(_)) | None => {}
        }
    }
    Err(Status::unavailable("the core ended the subscription"))
}

#[cfg(test)]
mod tests;
