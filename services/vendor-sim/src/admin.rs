//! The admin API under `/_admin/` (JSON in, JSON out), documented in the crate's README: drive the
//! simulated clouds from tests, scenarios and demos.

use axum::{
    extract::State,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde_json::{json, Value};

use crate::{
    actions::{
        Action, DeviceSpec, ExpireSpec, FaultSpec, FleetSpec, InfectSpec, InjectSpec,
        RemediateSpec, StateSpec,
    },
    scenario::Scenario,
    world::Settings,
    Sim, SimError,
};

/// The admin routes.
pub fn routes() -> Router<Sim> {
    Router::new()
        .route(
            "/_admin/health",
            get(|| async { Json(json!({"ok": true})) }),
        )
        .route("/_admin/state", get(state))
        .route("/_admin/counters", get(counters))
        .route("/_admin/settings", get(get_settings).post(post_settings))
        .route("/_admin/action", post(action))
        .route("/_admin/scenario", post(scenario))
        .route("/_admin/devices", post(add_devices))
        .route("/_admin/fleet", post(fleet))
        .route("/_admin/infect", post(infect))
        .route("/_admin/remediate", post(remediate))
        .route("/_admin/device-state", post(device_state))
        .route("/_admin/faults", post(fault).delete(clear_faults))
        .route("/_admin/inject", post(inject))
        .route("/_admin/expire-tokens", post(expire_tokens))
}

fn reply(result: Result<Value, SimError>) -> Response {
    match result {
        Ok(value) => Json(value).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn state(State(sim): State<Sim>) -> Json<Value> {
    let world = sim.world();
    let devices: Vec<Value> = world
        .devices
        .iter()
        .map(|d| {
            let mut v = json!(d);
            v["security_status"] = json!(world.security_status(d));
            v
        })
        .collect();
    Json(json!({
        "devices": devices,
        "lookout_threats": world.lookout_threats,
        "zimperium_threats": world.zimperium_threats,
        "stream_log_len": world.stream_log.len(),
        "last_stream_id": world.stream_log.last().map(|b| b.id.clone()),
        "armed_faults": world.faults,
        "armed_stream_drops": world.stream_drop_after,
    }))
}

async fn counters(State(sim): State<Sim>) -> Json<Value> {
    Json(json!(sim.world().counters))
}

async fn get_settings(State(sim): State<Sim>) -> Json<Value> {
    Json(json!(sim.world().settings))
}

async fn post_settings(State(sim): State<Sim>, Json(patch): Json<Value>) -> Response {
    let merged = {
        let world = sim.world();
        let mut current = json!(world.settings);
        let (Some(target), Some(patch)) = (current.as_object_mut(), patch.as_object()) else {
            return SimError::BadRequest("body must be a JSON object".to_owned()).into_response();
        };
        for (k, v) in patch {
            target.insert(k.clone(), v.clone());
        }
        current
    };
    match serde_json::from_value::<Settings>(merged) {
        Ok(settings) => {
            sim.world().settings = settings.clone();
            sim.changed();
            Json(json!(settings)).into_response()
        }
        Err(e) => SimError::BadRequest(e.to_string()).into_response(),
    }
}

async fn action(State(sim): State<Sim>, Json(action): Json<Action>) -> Response {
    reply(sim.apply(&action))
}

async fn scenario(State(sim): State<Sim>, body: String) -> Response {
    let loaded = Scenario::parse(&body).and_then(|s| sim.load_scenario(&s));
    reply(loaded.map(|()| json!({"loaded": true})))
}

#[derive(Debug, serde::Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    Many { devices: Vec<DeviceSpec> },
    One(DeviceSpec),
}

async fn add_devices(State(sim): State<Sim>, Json(body): Json<OneOrMany>) -> Response {
    let specs = match body {
        OneOrMany::Many { devices } => devices,
        OneOrMany::One(spec) => vec![spec],
    };
    let mut added = Vec::new();
    for spec in specs {
        match sim.apply(&Action::AddDevice(spec)) {
            Ok(v) => added.push(v["device"].clone()),
            Err(e) => return e.into_response(),
        }
    }
    Json(json!({"devices": added})).into_response()
}

async fn fleet(State(sim): State<Sim>, Json(spec): Json<FleetSpec>) -> Response {
    reply(sim.apply(&Action::Fleet(spec)))
}

async fn infect(State(sim): State<Sim>, Json(spec): Json<InfectSpec>) -> Response {
    reply(sim.apply(&Action::Infect(spec)))
}

async fn remediate(State(sim): State<Sim>, Json(spec): Json<RemediateSpec>) -> Response {
    reply(sim.apply(&Action::Remediate(spec)))
}

async fn device_state(State(sim): State<Sim>, Json(spec): Json<StateSpec>) -> Response {
    reply(sim.apply(&Action::SetState(spec)))
}

async fn fault(State(sim): State<Sim>, Json(spec): Json<FaultSpec>) -> Response {
    reply(sim.apply(&Action::Fault(spec)))
}

async fn clear_faults(State(sim): State<Sim>) -> Json<Value> {
    let mut world = sim.world();
    world.faults.clear();
    world.stream_drop_after.clear();
    Json(json!({}))
}

async fn inject(State(sim): State<Sim>, Json(spec): Json<InjectSpec>) -> Response {
    reply(sim.apply(&Action::Inject(spec)))
}

async fn expire_tokens(State(sim): State<Sim>, body: Option<Json<ExpireSpec>>) -> Response {
    let spec = body.map(|Json(s)| s).unwrap_or_default();
    reply(sim.apply(&Action::ExpireTokens(spec)))
}
