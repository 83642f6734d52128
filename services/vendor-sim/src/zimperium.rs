//! Zimperium zConsole public API (as used by Zimperium's Cortex XSOAR integration): `POST /api/auth/v1/api_keys/login` and
//! `/access` (refresh), `GET /api/threats/public/v1/threats` (a Spring page, page-number paging, an
//! `after`/`before` window) and `GET /api/devices/public/v2/devices/start-scroll` and `/{id}`.
//!
//! The window is `after <= lastModified < before` (a mitigation bumps `lastModified`, so a poller
//! whose cursor is the last `lastModified` sees it); `sort` is `timestamp` or `lastModified`, `asc`
//! (default) or `desc`. Access tokens are JWTs whose `exp` claim is the expiry.

// Handler helpers return ready-made axum responses as errors, on cold paths: boxing buys nothing.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;

use axum::{
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{
    actions::Vendor,
    bearer,
    query::{page_size, Params, Reply},
    time::parse_time_ms,
    Sim,
};

/// The Zimperium routes.
pub fn routes() -> Router<Sim> {
    Router::new()
        .route("/api/auth/v1/api_keys/login", post(login))
        .route("/api/auth/v1/api_keys/access", post(refresh))
        .route("/api/threats/public/v1/threats", get(threats))
        .route("/api/devices/public/v2/devices/start-scroll", get(devices))
        .route("/api/devices/public/v2/devices/{id}", get(device))
}

fn error(status: StatusCode, detail: &str) -> Response {
    (status, Json(json!({"detail": detail}))).into_response()
}

fn authorize(sim: &Sim, headers: &HeaderMap) -> Result<(), Response> {
    sim.world()
        .check_token(Vendor::Zimperium, bearer(headers))
        .map(|_| ())
        .map_err(|why| error(StatusCode::UNAUTHORIZED, why))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LoginBody {
    client_id: String,
    secret: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefreshBody {
    refresh_token: String,
}

fn issue(sim: &Sim) -> Response {
    let mut world = sim.world();
    let ttl = world.settings.zimperium_token_ttl_secs;
    let (access, _) = world.issue_token(Vendor::Zimperium, ttl);
    let refresh = world.secret("zr-");
    world.refresh_tokens.insert(refresh.clone(), ());
    Json(json!({"accessToken": access, "refreshToken": refresh})).into_response()
}

async fn login(State(sim): State<Sim>, body: Option<Json<LoginBody>>) -> Response {
    let Some(Json(body)) = body else {
        return error(
            StatusCode::BAD_REQUEST,
            "body must be {\"clientId\",\"secret\"}",
        );
    };
    let ok = {
        let world = sim.world();
        body.client_id == world.settings.zimperium_client_id
            && body.secret == world.settings.zimperium_secret
    };
    if !ok {
        return error(StatusCode::UNAUTHORIZED, "Invalid API key credentials");
    }
    issue(&sim)
}

async fn refresh(State(sim): State<Sim>, body: Option<Json<RefreshBody>>) -> Response {
    let Some(Json(body)) = body else {
        return error(StatusCode::BAD_REQUEST, "body must be {\"refreshToken\"}");
    };
    {
        let mut world = sim.world();
        if world.refresh_tokens.remove(&body.refresh_token).is_none() {
            return error(StatusCode::UNAUTHORIZED, "Invalid refresh token");
        }
        world.counters.token_refreshes += 1;
    }
    issue(&sim)
}

fn page_params(params: &HashMap<String, String>) -> Result<(usize, usize), Response> {
    let page = match params.get("page") {
        None => 0,
        Some(raw) => raw
            .parse()
            .map_err(|_| error(StatusCode::BAD_REQUEST, "page must be a number from 0"))?,
    };
    let size = page_size(params, "size", 1000).map_err(|e| error(StatusCode::BAD_REQUEST, &e))?;
    Ok((page, size))
}

async fn threats(State(sim): State<Sim>, headers: HeaderMap, Query(params): Params) -> Reply {
    authorize(&sim, &headers)?;
    let (page, size) = page_params(&params)?;
    let mut window = [None, None];
    for (slot, key) in window.iter_mut().zip(["after", "before"]) {
        if let Some(raw) = params.get(key) {
            match parse_time_ms(raw) {
                Some(ms) => *slot = Some(ms),
                None => {
                    return Err(error(
                        StatusCode::BAD_REQUEST,
                        &format!("{key}: not a date"),
                    ))
                }
            }
        }
    }
    let [after, before] = window;
    let sort = params.get("sort").map_or("timestamp,asc", String::as_str);
    let (field, descending) = match sort.split_once(',') {
        Some((field, dir)) => (field, dir.eq_ignore_ascii_case("desc")),
        None => (sort, false),
    };
    let world = sim.world();
    let mut matching: Vec<(u64, u64, Value)> = world
        .zimperium_threats
        .iter()
        .filter(|t| after.is_none_or(|a| t.last_modified >= a))
        .filter(|t| before.is_none_or(|b| t.last_modified < b))
        .map(|t| {
            let key = if field == "lastModified" {
                t.last_modified
            } else {
                t.timestamp
            };
            (key, t.last_modified, world.zimperium_threat_item(t))
        })
        .filter(|(_, _, item)| {
            params.get("os").is_none_or(|os| {
                item["os"]
                    .as_str()
                    .is_some_and(|v| v.eq_ignore_ascii_case(os))
            }) && params
                .get("severityName")
                .is_none_or(|s| item["severityName"].as_str() == Some(s))
        })
        .collect();
    // A stable sort keeps insertion order for equal keys, so duplicates stay next to their original.
    matching.sort_by_key(|(key, modified, _)| (*key, *modified));
    if descending {
        matching.reverse();
    }
    let total = matching.len();
    let content: Vec<Value> = matching
        .into_iter()
        .skip(page.saturating_mul(size))
        .take(size)
        .map(|(_, _, item)| item)
        .collect();
    let total_pages = total.div_ceil(size);
    let count = content.len();
    Ok(Json(json!({
        "content": content,
        "pageable": {"pageNumber": page, "pageSize": size, "sort": {"unsorted": false, "sorted": true, "empty": false},
                     "offset": page * size, "unpaged": false, "paged": true},
        "totalPages": total_pages,
        "totalElements": total,
        "last": page + 1 >= total_pages,
        "numberOfElements": count,
        "first": page == 0,
        "sort": {"unsorted": false, "sorted": true, "empty": false},
        "number": page,
        "size": size,
        "empty": count == 0,
    }))
    .into_response())
}

async fn devices(State(sim): State<Sim>, headers: HeaderMap, Query(params): Params) -> Reply {
    authorize(&sim, &headers)?;
    let (page, size) = page_params(&params)?;
    let world = sim.world();
    let content: Vec<Value> = world
        .devices
        .iter()
        .skip(page.saturating_mul(size))
        .take(size)
        .map(|d| world.zimperium_device_item(d))
        .collect();
    let empty = content.is_empty();
    Ok(Json(json!({
        "totalHits": world.devices.len(),
        "totalHitsRelation": "EQUAL_TO",
        "maxScore": "NaN",
        "scrollId": format!("sim-scroll-{page}"),
        "searchHits": [],
        "aggregations": null,
        "content": content,
        "empty": empty,
    }))
    .into_response())
}

async fn device(State(sim): State<Sim>, headers: HeaderMap, Path(id): Path<String>) -> Reply {
    authorize(&sim, &headers)?;
    let world = sim.world();
    match world
        .devices
        .iter()
        .find(|d| d.zimperium_id == id || d.key == id)
    {
        Some(d) => Ok(Json(world.zimperium_device_item(d)).into_response()),
        None => Err(error(StatusCode::NOT_FOUND, "device not found")),
    }
}
