//! Lookout Mobile Risk API v2 (Lookout's MRA v2 documentation): `POST /oauth2/token`, `GET /mra/api/v2/devices`,
//! `/device`, `/threats`, `/threat`, and the `GET /mra/stream/v2/events` server-sent-events stream.
//!
//! The stream replays the log after the id given as `id`, `last_id` or the `Last-Event-ID` header
//! (ids sort in time order, so an id the log never held resumes after the ids before it), or from
//! `start_time` (at most 10 days back), or starts live; `types`/`type` filter by event type. It sends
//! `event:heartbeat` every `heartbeat_ms`, and lives as long as its token.

// Handler helpers return ready-made axum responses as errors, on cold paths: boxing buys nothing.
#![allow(clippy::result_large_err)]

use std::{collections::HashMap, time::Duration};

use axum::{
    body::{Body, Bytes},
    extract::{Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Form, Json, Router,
};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::{
    actions::Vendor,
    bearer,
    query::{page_size, Params, Reply},
    time::{now_ms, parse_time_ms},
    world::StreamControl,
    Sim,
};

/// How far back `start_time` may go.
const MAX_LOOKBACK_MS: u64 = 10 * 24 * 3600 * 1000;

/// The Lookout routes.
pub fn routes() -> Router<Sim> {
    Router::new()
        .route("/oauth2/token", post(token))
        .route("/mra/api/v2/devices", get(devices))
        .route("/mra/api/v2/device", get(device))
        .route("/mra/api/v2/threats", get(threats))
        .route("/mra/api/v2/threat", get(threat))
        .route("/mra/stream/v2/events", get(stream))
}

fn unauthorized(error: &str, description: &str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

fn bad_request(description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": "invalid_request", "error_description": description})),
    )
        .into_response()
}

fn authorize(sim: &Sim, headers: &HeaderMap) -> Result<u64, Response> {
    sim.world()
        .check_token(Vendor::Lookout, bearer(headers))
        .map_err(|why| unauthorized("invalid_token", why))
}

async fn token(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut world = sim.world();
    if bearer(&headers) != Some(world.settings.lookout_app_key.as_str()) {
        return unauthorized("invalid_client", "unknown application key");
    }
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "unsupported_grant_type", "error_description": "grant_type must be client_credentials"})),
        )
            .into_response();
    }
    let ttl = world.settings.lookout_token_ttl_secs;
    let (access_token, expires_ms) = world.issue_token(Vendor::Lookout, ttl);
    Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_at": expires_ms,
        "expires_in": ttl,
        "scope": form.get("scope").cloned().unwrap_or_default(),
    }))
    .into_response()
}

fn after_oid(params: &HashMap<String, String>) -> Result<u64, Response> {
    match params.get("oid") {
        None => Ok(0),
        Some(raw) => raw
            .parse()
            .map_err(|_| bad_request("oid must be the oid of the last item of the previous page")),
    }
}

/// The `limit` and the `oid` to list after, of a devices or threats page.
fn page(params: &HashMap<String, String>, max_limit: usize) -> Result<(usize, u64), Response> {
    let limit = page_size(params, "limit", max_limit).map_err(|e| bad_request(&e))?;
    Ok((limit, after_oid(params)?))
}

/// Whether `item` has, for each of `keys` given as a query parameter, the value the query asks for.
fn matches_query(item: &Value, params: &HashMap<String, String>, keys: &[&str]) -> bool {
    keys.iter().all(|key| {
        params
            .get(*key)
            .is_none_or(|want| item[*key].as_str() == Some(want))
    })
}

/// The `guid` query parameter (empty when absent, which matches nothing).
fn guid_param(params: &HashMap<String, String>) -> &str {
    params.get("guid").map(String::as_str).unwrap_or_default()
}

/// `item` as JSON, or 404 `not_found`.
fn found(item: Option<Value>) -> Response {
    match item {
        Some(item) => Json(item).into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({"error": "not_found"}))).into_response(),
    }
}

async fn devices(State(sim): State<Sim>, headers: HeaderMap, Query(params): Params) -> Reply {
    authorize(&sim, &headers)?;
    let world = sim.world();
    let (limit, after) = page(&params, world.settings.lookout_max_limit)?;
    let updated_since = params.get("updated_since").and_then(|t| parse_time_ms(t));
    let filters = ["platform", "email", "security_status", "protection_status"];
    let items: Vec<Value> = world
        .devices
        .iter()
        .filter(|d| d.oid > after)
        .filter(|d| updated_since.is_none_or(|t| d.checkin_ms >= t))
        .map(|d| world.lookout_device_item(d))
        .filter(|item| matches_query(item, &params, &filters))
        .take(limit)
        .collect();
    Ok(Json(json!({"count": items.len(), "devices": items})).into_response())
}

async fn device(State(sim): State<Sim>, headers: HeaderMap, Query(params): Params) -> Reply {
    authorize(&sim, &headers)?;
    let world = sim.world();
    let guid = guid_param(&params);
    let device = world.devices.iter().find(|d| d.lookout_guid == guid);
    Ok(found(device.map(|d| world.lookout_device_item(d))))
}

async fn threats(State(sim): State<Sim>, headers: HeaderMap, Query(params): Params) -> Reply {
    authorize(&sim, &headers)?;
    let world = sim.world();
    let (limit, after) = page(&params, world.settings.lookout_max_limit)?;
    let filters = [
        "device_guid",
        "status",
        "risk",
        "threat_type",
        "classification",
    ];
    let items: Vec<Value> = world
        .lookout_threats
        .iter()
        .filter(|t| t.oid > after)
        .map(|t| world.lookout_threat_item(t))
        .filter(|item| matches_query(item, &params, &filters))
        .take(limit)
        .collect();
    Ok(Json(json!({"count": items.len(), "threats": items})).into_response())
}

async fn threat(State(sim): State<Sim>, headers: HeaderMap, Query(params): Params) -> Reply {
    authorize(&sim, &headers)?;
    let world = sim.world();
    let guid = guid_param(&params);
    let threat = world.lookout_threats.iter().find(|t| t.guid == guid);
    Ok(found(threat.map(|t| world.lookout_threat_item(t))))
}

type Chunk = Result<Bytes, std::io::Error>;

async fn stream(State(sim): State<Sim>, headers: HeaderMap, Query(params): Params) -> Reply {
    let token = bearer(&headers).map(str::to_owned);
    authorize(&sim, &headers)?;
    let resume_id = params
        .get("id")
        .or_else(|| params.get("last_id"))
        .cloned()
        .or_else(|| {
            headers
                .get("last-event-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .filter(|id| !id.is_empty());
    let types: Option<Vec<String>> =
        params
            .get("types")
            .or_else(|| params.get("type"))
            .map(|csv| {
                csv.split(',')
                    .map(|t| t.trim().to_ascii_uppercase())
                    .collect()
            });
    let (cursor, drop_after, controls_seen, heartbeat) = {
        let mut world = sim.world();
        let cursor = if let Some(id) = &resume_id {
            world
                .stream_log
                .partition_point(|b| b.id.as_str() <= id.as_str())
        } else if let Some(raw) = params.get("start_time") {
            let Some(start) = parse_time_ms(raw) else {
                return Err(bad_request("start_time must be an ISO 8601 timestamp"));
            };
            if start + MAX_LOOKBACK_MS < now_ms() {
                return Err(bad_request("start_time is more than 10 days ago"));
            }
            world.stream_log.partition_point(|b| b.time_ms < start)
        } else {
            world.stream_log.len()
        };
        let drop_after = if world.stream_drop_after.is_empty() {
            None
        } else {
            Some(world.stream_drop_after.remove(0))
        };
        world.counters.stream_connections += 1;
        (
            cursor,
            drop_after,
            world.stream_controls.len(),
            Duration::from_millis(world.settings.heartbeat_ms.max(10)),
        )
    };
    let (tx, rx) = mpsc::channel::<Chunk>(16);
    let task = StreamTask {
        sim,
        token,
        types,
        cursor,
        drop_after,
        controls_seen,
        heartbeat,
        tx,
    };
    tokio::spawn(task.run());
    let body = Body::from_stream(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    }));
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .header("x-accel-buffering", "no")
        .body(body)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()))
}

/// One open stream: writes the log after its cursor, then live batches, heartbeats and controls.
struct StreamTask {
    sim: Sim,
    token: Option<String>,
    types: Option<Vec<String>>,
    cursor: usize,
    drop_after: Option<u32>,
    controls_seen: usize,
    heartbeat: Duration,
    tx: mpsc::Sender<Chunk>,
}

enum Step {
    Frame(String),
    Cut(String),
    Close,
}

impl StreamTask {
    async fn run(mut self) {
        let mut changes = self.sim.subscribe();
        let mut heartbeat = tokio::time::interval(self.heartbeat);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut sent: u32 = 0;
        loop {
            for step in self.pending(&mut sent) {
                let (frame, end) = match step {
                    Step::Frame(frame) => (Some(frame), None),
                    Step::Cut(partial) => (Some(partial), Some(true)),
                    Step::Close => (None, Some(false)),
                };
                if let Some(frame) = frame {
                    if self.tx.send(Ok(Bytes::from(frame))).await.is_err() {
                        return;
                    }
                }
                match end {
                    // Ending the body with an error makes hyper abort the connection mid-response.
                    Some(true) => {
                        // Let hyper flush what was written, so the client really sees half a batch.
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        let _ = self.tx.send(Err(std::io::Error::other("dropped"))).await;
                        return;
                    }
                    Some(false) => return,
                    None => {}
                }
            }
            tokio::select! {
                changed = changes.changed() => if changed.is_err() { return },
                _ = heartbeat.tick() => {
                    self.sim.world().counters.stream_heartbeats_sent += 1;
                    if self.tx.send(Ok(Bytes::from_static(b"event:heartbeat\ndata:{}\n\n"))).await.is_err() {
                        return;
                    }
                }
                () = self.tx.closed() => return,
            }
        }
    }

    /// What to write now: batches after the cursor, then any new control message.
    fn pending(&mut self, sent: &mut u32) -> Vec<Step> {
        let mut world = self.sim.world();
        let mut steps = Vec::new();
        if world
            .check_token(Vendor::Lookout, self.token.as_deref())
            .is_err()
        {
            steps.push(Step::Frame(
                "event:end\ndata:{\"reason\":\"token expired\"}\n\n".to_owned(),
            ));
            steps.push(Step::Close);
            return steps;
        }
        while self.cursor < world.stream_log.len() {
            let batch = &world.stream_log[self.cursor];
            self.cursor += 1;
            let wanted = batch.types.is_empty()
                || self
                    .types
                    .as_ref()
                    .is_none_or(|types| batch.types.iter().any(|t| types.contains(t)));
            if !wanted {
                continue;
            }
            let frame = format!("id:{}\nevent:events\ndata:{}\n\n", batch.id, batch.data);
            if self.drop_after == Some(*sent) {
                let half = frame.len() / 2;
                let cut = (0..=half)
                    .rev()
                    .find(|i| frame.is_char_boundary(*i))
                    .unwrap_or(0);
                steps.push(Step::Cut(frame[..cut].to_owned()));
                world.counters.stream_drops += 1;
                return steps;
            }
            *sent += 1;
            world.counters.stream_batches_sent += 1;
            steps.push(Step::Frame(frame));
        }
        if let Some(control) = world.stream_controls.get(self.controls_seen).copied() {
            self.controls_seen = world.stream_controls.len();
            match control {
                StreamControl::Reconnect(retry) => {
                    steps.push(Step::Frame(format!(
                        "event:reconnect\nretry:{retry}\ndata:{{}}\n\n"
                    )));
                    steps.push(Step::Close);
                }
                StreamControl::End => {
                    steps.push(Step::Frame("event:end\ndata:{}\n\n".to_owned()));
                    steps.push(Step::Close);
                }
                StreamControl::Drop => {
                    steps.push(Step::Cut(String::new()));
                }
            }
        }
        steps
    }
}
