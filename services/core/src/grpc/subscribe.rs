//! `RiskStream.Subscribe`: snapshot, then catch-up from the log, then live events, with progress messages
//! on idle streams (as etcd's watch progress notifications do).
//!
//! The subscriber subscribes to the writer's broadcast before it reads the head, so every event after the
//! head it read reaches it either from the broadcast or, if it lags, from the log. Catch-up checks that the
//! positions it reads are contiguous: if compaction removed some first, the stream ends with OUT_OF_RANGE
//! rather than skipping them. The writer never waits for a subscriber.

use std::{sync::Arc, time::Duration};

use riskgate_proto::v1::{self as pb, risk_stream_server::RiskStream};
use tokio::sync::{broadcast::error::RecvError, mpsc, OwnedSemaphorePermit, Semaphore};
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Code, Request, Response, Status};

use super::{
    limits::{client_key, StreamLimiter, StreamSlot},
    parse, parse_policy, render, render_policy,
};
use crate::{
    error::{CoreError, CoreResult},
    metrics::Metrics,
    stream::filter::Filter,
};
use riskgate_policy::{
    domain::{policy::ComplianceStatus, DeviceId, Event},
    evaluate::effective_level,
};
use riskgate_store::{cursor::CursorError, RiskStore};

const DEFAULT_PROGRESS: Duration = Duration::from_millis(5000);
const MIN_PROGRESS_MS: u32 = 100;
const MAX_PROGRESS_MS: u32 = 60_000;
/// Messages buffered per subscriber before the subscriber task waits (HTTP/2 flow control pushes back here).
const STREAM_BUFFER: usize = 256;
/// Events read from the log per catch-up step, and devices per snapshot page.
const PAGE: usize = 512;

/// The streaming API.
#[derive(Debug, Clone)]
pub(crate) struct StreamApi {
    store: RiskStore,
    streams: Arc<Semaphore>,
    max_streams: usize,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
    per_client: Arc<StreamLimiter>,
}

impl StreamApi {
    /// Serves subscriptions on `store`, at most `max_streams` at once and `per_client`'s limit per client.
    pub(crate) fn new(
        store: RiskStore,
        max_streams: usize,
        metrics: Arc<Metrics>,
        shutdown: CancellationToken,
        per_client: Arc<StreamLimiter>,
    ) -> Self {
        Self {
            store,
            streams: Arc::new(Semaphore::new(max_streams)),
            max_streams,
            metrics,
            shutdown,
            per_client,
        }
    }
}

/// OUT_OF_RANGE naming the oldest retained position in the message and in a trailer.
fn out_of_range(reason: String, oldest: u64) -> Status {
    CoreError::OutOfRange { reason, oldest }.into()
}

fn parse_filter(msg: Option<pb::SubscriptionFilter>) -> CoreResult<Filter> {
    let msg = msg.unwrap_or_default();
    let device_ids = msg
        .device_ids
        .iter()
        .enumerate()
        .map(|(index, id)| parse::device_id(&format!("filter.device_ids[{index}]"), id))
        .collect::<CoreResult<Vec<_>>>()?;
    let platforms = msg
        .platforms
        .iter()
        .enumerate()
        .map(|(index, raw)| parse::platform(&format!("filter.platforms[{index}]"), *raw))
        .collect::<CoreResult<Vec<_>>>()?;
    let kinds = msg
        .kinds
        .iter()
        .enumerate()
        .map(|(index, raw)| parse::event_class(&format!("filter.kinds[{index}]"), *raw))
        .collect::<CoreResult<Vec<_>>>()?;
    let min_level = if msg.min_level == pb::ThreatLevel::Unspecified as i32 {
        None
    } else {
        Some(parse::threat_level("filter.min_level", msg.min_level)?)
    };
    let resources = msg
        .resources
        .iter()
        .enumerate()
        .map(|(index, name)| parse_policy::object_id(&format!("filter.resources[{index}]"), name))
        .collect::<CoreResult<Vec<_>>>()?;
    for (field, values) in [
        ("filter.user_ids", &msg.user_ids),
        ("filter.groups", &msg.groups),
    ] {
        if let Some(index) = values
            .iter()
            .position(|value| value.is_empty() || value.len() > 256)
        {
            return Err(CoreError::invalid(
                format!("{field}[{index}]"),
                "must be 1 to 256 bytes",
            ));
        }
    }
    Ok(Filter {
        device_ids,
        user_ids: msg.user_ids,
        groups: msg.groups,
        platforms,
        kinds,
        min_level,
        resources,
    })
}

fn progress_interval(raw: u32) -> CoreResult<Duration> {
    match raw {
        0 => Ok(DEFAULT_PROGRESS),
        MIN_PROGRESS_MS..=MAX_PROGRESS_MS => Ok(Duration::from_millis(u64::from(raw))),
        _ => Err(CoreError::invalid(
            "progress_interval_ms",
            format!("{raw} is outside {MIN_PROGRESS_MS}..={MAX_PROGRESS_MS}"),
        )),
    }
}

#[tonic::async_trait]
impl RiskStream for StreamApi {
    type SubscribeStream = ReceiverStream<Result<pb::SubscribeResponse, Status>>;

    async fn subscribe(
        &self,
        request: Request<pb::SubscribeRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        let permit = self.streams.clone().try_acquire_owned().map_err(|_| {
            Status::from(CoreError::ResourceExhausted(format!(
                "too many concurrent subscriptions (the limit is {}); retry later",
                self.max_streams
            )))
        })?;
        let slot = self.per_client.acquire(client_key(&request))?;
        let request = request.into_inner();
        let filter = parse_filter(request.filter)?;
        let interval = progress_interval(request.progress_interval_ms)?;
        // Subscribe before reading the head: nothing committed after it can be missed.
        let live = self.store.subscribe();
        let head = self.store.info().head_position;
        let start = match request.cursor.as_str() {
            "" => None,
            raw => {
                let position = self.store.cursors().decode(raw).map_err(|err| match err {
                    CursorError::Malformed => {
                        Status::from(CoreError::invalid("cursor", err.to_string()))
                    }
                    CursorError::OtherStore(_) => {
                        out_of_range(err.to_string(), self.store.first_retained())
                    }
                })?;
                let oldest = self.store.first_retained();
                if position.saturating_add(1) < oldest {
                    return Err(out_of_range(
                        format!("cursor position {position} is past retention"),
                        oldest,
                    ));
                }
                if position > head {
                    return Err(out_of_range(
                        format!("cursor position {position} is ahead of this store's head {head} (was the store restored?)"),
                        oldest,
                    ));
                }
                Some(position)
            }
        };
        let (sender, receiver) = mpsc::channel(STREAM_BUFFER);
        let subscription = Subscription {
            store: self.store.clone(),
            filter,
            interval,
            sender,
            metrics: self.metrics.clone(),
            _permit: permit,
            _slot: slot,
        };
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move { subscription.run(start, live, shutdown).await });
        Ok(Response::new(ReceiverStream::new(receiver)))
    }
}

/// One subscriber's task.
struct Subscription {
    store: RiskStore,
    filter: Filter,
    interval: Duration,
    sender: mpsc::Sender<Result<pb::SubscribeResponse, Status>>,
    metrics: Arc<Metrics>,
    /// Held for the stream's lifetime: the concurrent-stream limit.
    _permit: OwnedSemaphorePermit,
    /// Held for the stream's lifetime: the per-client stream limit.
    _slot: StreamSlot,
}

/// Why a subscription stopped early.
enum Stop {
    /// The client went away.
    Gone,
    /// End the stream with this status.
    Fail(Status),
}

type Step = Result<(), Stop>;

fn message(message: pb::subscribe_response::Message) -> Result<pb::SubscribeResponse, Status> {
    Ok(pb::SubscribeResponse {
        message: Some(message),
    })
}

impl Subscription {
    async fn run(
        self,
        start: Option<u64>,
        mut live: tokio::sync::broadcast::Receiver<Arc<[Event]>>,
        shutdown: CancellationToken,
    ) {
        self.metrics.subscription_opened();
        let result: Result<(), Stop> = async {
            let mut last = match start {
                Some(position) => position,
                None => self.snapshot().await?,
            };
            loop {
                self.catch_up(&mut last).await?;
                // Live: events arrive in commit order; anything out of sequence sends us back to the log.
                let mut idle = tokio::time::interval_at(tokio::time::Instant::now() + self.interval, self.interval);
                loop {
                    tokio::select! {
                        () = shutdown.cancelled() => {
                            return Err(Stop::Fail(CoreError::Unavailable("server is shutting down; resume with your last cursor".into()).into()));
                        }
                        () = self.sender.closed() => return Err(Stop::Gone),
                        _ = idle.tick() => {
                            self.send_progress(last).await?;
                        }
                        received = live.recv() => match received {
                            Ok(events) => {
                                if events.first().is_some_and(|event| event.position > last + 1) {
                                    break; // A gap between what we sent and this commit: read it from the log.
                                }
                                for event in events.iter() {
                                    if event.position <= last {
                                        continue;
                                    }
                                    self.send_event(event).await?;
                                    last = event.position;
                                    idle.reset();
                                }
                            }
                            Err(RecvError::Lagged(_)) => {
                                self.metrics.subscription_caught_up();
                                break;
                            }
                            Err(RecvError::Closed) => {
                                return Err(Stop::Fail(CoreError::Store(riskgate_store::StoreError::Closed).into()));
                            }
                        },
                    }
                }
            }
        }
        .await;
        if let Err(Stop::Fail(status)) = result {
            if status.code() == Code::OutOfRange {
                self.metrics.subscription_expired();
            }
            let _ = self.sender.send(Err(status)).await;
        }
        self.metrics.subscription_closed();
    }

    async fn send(&self, item: Result<pb::SubscribeResponse, Status>) -> Step {
        self.sender.send(item).await.map_err(|_| Stop::Gone)
    }

    /// Sends every matching device's state and the snapshot end; returns the position it reflects.
    async fn snapshot(&self) -> Result<u64, Stop> {
        let head = self.store.info().head_position;
        let mut after: Option<DeviceId> = None;
        loop {
            let page = self
                .store
                .list_devices(after.as_ref(), PAGE, |_| true)
                .map_err(|err| Stop::Fail(CoreError::from(err).into()))?;
            let Some(last) = page.last() else { break };
            after = Some(last.device_id.clone());
            let snapshots: Vec<pb::DeviceSnapshot> = {
                let view = self.store.view();
                page.iter()
                    .filter_map(|record| {
                        let device = view.devices.get(&record.device_id);
                        let level = device
                            .and_then(|d| effective_level(&view.config, &view.states, &d.summary));
                        self.filter
                            .matches_device(&record.device_id, device.map(|d| &d.summary), level)
                            .then(|| pb::DeviceSnapshot {
                                device: Some(render::device(
                                    record,
                                    &view.config,
                                    device
                                        .map_or(ComplianceStatus::Unknown, |d| d.compliance.status),
                                )),
                                compliance: device.map_or(0, |d| {
                                    render_policy::compliance_status(d.compliance.status)
                                }),
                                access: device
                                    .map(|d| {
                                        d.access
                                            .iter()
                                            .map(|(resource, allow)| pb::ResourceDecision {
                                                resource: resource.to_owned(),
                                                decision: render_policy::decision(allow),
                                            })
                                            .collect()
                                    })
                                    .unwrap_or_default(),
                            })
                    })
                    .collect()
            };
            for snapshot in snapshots {
                self.send(message(pb::subscribe_response::Message::Snapshot(snapshot)))
                    .await?;
            }
            if page.len() < PAGE {
                break;
            }
        }
        let end = pb::SnapshotEnd {
            cursor: self.store.cursors().encode(head),
            position: head,
        };
        self.send(message(pb::subscribe_response::Message::SnapshotEnd(end)))
            .await?;
        Ok(head)
    }

    /// Reads and sends the log from `last` up to the durable head. Ends the stream with OUT_OF_RANGE if
    /// compaction removed events the subscriber has not seen.
    async fn catch_up(&self, last: &mut u64) -> Step {
        while *last < self.store.info().head_position {
            let events = self
                .store
                .events_after(*last, PAGE)
                .map_err(|err| Stop::Fail(CoreError::from(err).into()))?;
            let Some(events) = events else {
                return Err(Stop::Fail(out_of_range(
                    format!("this subscriber fell behind retention at position {last}"),
                    self.store.first_retained(),
                )));
            };
            for event in &events {
                self.send_event(event).await?;
                *last = event.position;
            }
        }
        Ok(())
    }

    async fn send_event(&self, event: &Event) -> Step {
        if !self.matches(event) {
            return Ok(());
        }
        self.metrics.stream_delivery();
        let item = pb::StreamEvent {
            event: Some(render::event(event)),
            cursor: self.store.cursors().encode(event.position),
        };
        self.send(message(pb::subscribe_response::Message::Event(item)))
            .await
    }

    fn matches(&self, event: &Event) -> bool {
        let needs_device = !self.filter.user_ids.is_empty()
            || !self.filter.groups.is_empty()
            || !self.filter.platforms.is_empty()
            || self.filter.min_level.is_some();
        match (&event.device_id, needs_device) {
            (Some(device_id), true) => {
                let view = self.store.view();
                let device = view.devices.get(device_id);
                let level =
                    device.and_then(|d| effective_level(&view.config, &view.states, &d.summary));
                self.filter
                    .matches_event(event, device.map(|d| &d.summary), level)
            }
            _ => self.filter.matches_event(event, None, None),
        }
    }

    async fn send_progress(&self, last: u64) -> Step {
        let progress = pb::Progress {
            cursor: self.store.cursors().encode(last),
            position: last,
        };
        self.send(message(pb::subscribe_response::Message::Progress(progress)))
            .await
    }
}
