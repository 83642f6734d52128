//! `EventLogService.ListEvents`: the retained log across devices, oldest or newest first, filtered by kind
//! and time. Each call examines a bounded number of events, so a sparse filter over a long log costs many
//! short calls rather than one long one that holds a handler.

use riskgate_proto::v1::{self as pb, event_log_service_server::EventLogService};
use tonic::{Request, Response, Status};

use super::{parse, render};
use crate::{
    error::{CoreError, CoreResult},
    stream::filter::EventClass,
};
use riskgate_policy::domain::{Event, Timestamp};
use riskgate_store::RiskStore;

/// Most events one call examines.
const SCAN_BUDGET: u64 = 10_000;
/// Events read from the store at a time.
const CHUNK: u64 = 1000;

/// The log-reading API.
#[derive(Debug, Clone)]
pub(crate) struct EventLogApi {
    store: RiskStore,
}

impl EventLogApi {
    /// Reads the log of `store`.
    pub(crate) fn new(store: RiskStore) -> Self {
        Self { store }
    }
}

/// A parsed `ListEventsRequest`.
struct Query {
    page_size: usize,
    kinds: Vec<EventClass>,
    newest_first: bool,
    since: Option<Timestamp>,
    /// The position the read continues from (exclusive): after it going forwards, before it going back.
    from: Option<u64>,
}

impl Query {
    fn parse(request: &pb::ListEventsRequest) -> CoreResult<Self> {
        let kinds = request
            .kinds
            .iter()
            .enumerate()
            .map(|(index, raw)| parse::event_class(&format!("kinds[{index}]"), *raw))
            .collect::<CoreResult<Vec<_>>>()?;
        let from = match request.page_token.as_str() {
            "" => None,
            token => Some(token.parse::<u64>().map_err(|_| {
                CoreError::invalid("page_token", "not a token returned by this API")
            })?),
        };
        Ok(Self {
            page_size: parse::page_size(request.page_size)?,
            kinds,
            newest_first: request.newest_first,
            since: parse::optional_timestamp("since", request.since)?,
            from,
        })
    }

    fn selects(&self, event: &Event) -> bool {
        self.kinds.is_empty() || self.kinds.contains(&EventClass::of(&event.kind))
    }

    fn too_old(&self, event: &Event) -> bool {
        self.since.is_some_and(|since| event.time < since)
    }
}

/// One page and where the next begins (`None`: the read is complete).
struct Page {
    events: Vec<Event>,
    next: Option<u64>,
}

/// Reads forwards from after `query.from` (or the oldest retained event).
fn forwards(store: &RiskStore, query: &Query) -> CoreResult<Page> {
    let head = store.info().head_position;
    let oldest = store.first_retained();
    // A token older than retention continues at the oldest retained event: oldest_position shows the gap.
    let mut after = query.from.unwrap_or(0).max(oldest.saturating_sub(1));
    let mut events = Vec::new();
    let budget_end = after.saturating_add(SCAN_BUDGET).min(head);
    while after < budget_end && events.len() < query.page_size {
        let chunk = read(store, after, CHUNK.min(budget_end - after))?;
        let Some(last) = chunk.last() else { break };
        after = last.position;
        for event in chunk {
            if query.selects(&event) && !query.too_old(&event) {
                events.push(event);
                if events.len() == query.page_size {
                    after = events.last().map_or(after, |event| event.position);
                    break;
                }
            }
        }
    }
    Ok(Page {
        events,
        next: (after < head).then_some(after),
    })
}

/// Reads backwards from before `query.from` (or from the head), stopping at the first event older than
/// `query.since`.
fn backwards(store: &RiskStore, query: &Query) -> CoreResult<Page> {
    let head = store.info().head_position;
    let oldest = store.first_retained().max(1);
    let mut before = query
        .from
        .unwrap_or(head.saturating_add(1))
        .min(head.saturating_add(1));
    let budget_end = before.saturating_sub(SCAN_BUDGET).max(oldest);
    let mut events = Vec::new();
    while before > budget_end && events.len() < query.page_size {
        let start = before.saturating_sub(CHUNK).max(budget_end);
        let chunk = read(store, start - 1, before - start)?;
        if chunk.is_empty() {
            break;
        }
        for event in chunk.into_iter().rev() {
            before = event.position;
            if query.too_old(&event) {
                return Ok(Page { events, next: None });
            }
            if query.selects(&event) {
                events.push(event);
                if events.len() == query.page_size {
                    break;
                }
            }
        }
    }
    Ok(Page {
        events,
        next: (before > oldest).then_some(before),
    })
}

/// Up to `limit` events after `after`. Compaction racing the read ends it early rather than failing it.
fn read(store: &RiskStore, after: u64, limit: u64) -> CoreResult<Vec<Event>> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    Ok(store
        .events_after(after, limit)
        .map_err(CoreError::from)?
        .unwrap_or_default())
}

#[tonic::async_trait]
impl EventLogService for EventLogApi {
    async fn list_events(
        &self,
        request: Request<pb::ListEventsRequest>,
    ) -> Result<Response<pb::ListEventsResponse>, Status> {
        let query = Query::parse(request.get_ref())?;
        let page = if query.newest_first {
            backwards(&self.store, &query)?
        } else {
            forwards(&self.store, &query)?
        };
        Ok(Response::new(pb::ListEventsResponse {
            events: page.events.iter().map(render::event).collect(),
            next_page_token: page.next.map(|next| next.to_string()).unwrap_or_default(),
            oldest_position: self.store.first_retained(),
        }))
    }
}
