//! `GET /live`: the server-sent events a page follows. It resumes after `Last-Event-ID` (what the
//! browser sends on reconnecting) or the `after` the page was rendered with; each event's `id` is its
//! log position. `change` names the device (or `null`: anything may have changed); `reload` asks the page
//! to load again, when it missed more than the console remembers.

use std::{convert::Infallible, sync::Arc, time::Duration};

use axum::{
    extract::{Query, State},
    http::HeaderMap,
    response::{
        sse::{Event, KeepAlive, Sse},
        IntoResponse, Response,
    },
};
use futures::{stream, Stream, StreamExt as _};
use tokio_stream::wrappers::BroadcastStream;

use super::SignedIn;
use crate::{
    app::App,
    error::{ConsoleError, ConsoleResult},
    live::{Change, Follow},
};

/// The `after` query parameter.
#[derive(Debug, serde::Deserialize)]
pub(super) struct LiveQuery {
    after: Option<u64>,
}

pub(super) async fn events(
    State(app): State<Arc<App>>,
    _signed_in: SignedIn,
    headers: HeaderMap,
    Query(query): Query<LiveQuery>,
) -> ConsoleResult<Response> {
    if !app.live {
        return Err(ConsoleError::NotFound(
            "live updates are turned off (live = false)".into(),
        ));
    }
    let resume_from = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok())
        .or(query.after)
        .unwrap_or_else(|| app.hub.head());
    let events: std::pin::Pin<Box<dyn Stream<Item = Result<Event, Infallible>> + Send>> =
        match app.hub.follow(resume_from) {
            Follow::Reload => Box::pin(stream::once(async { Ok(reload()) })),
            Follow::Resume(missed, receiver) => {
                let live = BroadcastStream::new(receiver)
                    // A page that fell behind the fan-out reloads rather than miss changes.
                    .map(|received| received.map_or_else(|_| reload(), |change| message(&change)));
                Box::pin(
                    stream::iter(missed.iter().map(message).collect::<Vec<_>>())
                        .chain(live)
                        .map(Ok),
                )
            }
        };
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

fn message(change: &Change) -> Event {
    let device = match change {
        Change::Event { device_id, .. } => device_id.clone(),
        Change::Reset { .. } => None,
    };
    Event::default()
        .id(change.position().to_string())
        .event("change")
        .data(serde_json::json!({ "device": device }).to_string())
}

fn reload() -> Event {
    Event::default().event("reload").data("{}")
}
