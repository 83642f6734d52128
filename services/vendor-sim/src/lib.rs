//! # riskgate-vendor-sim
//!
//! A vendor-cloud simulator for riskgate's connector plugins and demos: the Lookout Mobile Risk API
//! v2 (OAuth2 client-credentials tokens, `/mra/api/v2/devices` and `/threats` paged by `oid`, the
//! `/mra/stream/v2/events` server-sent-events stream) and the Zimperium zConsole API (login and
//! refresh, threats paged by page number in an after/before window, devices), over plain HTTP on
//! localhost, faithful to the vendors' published formats.
//!
//! Tests and demos drive it through the JSON admin API under `/_admin/` ([`admin`]): add devices,
//! infect and remediate them, change their state, arm faults (401, 429 with `Retry-After`, 5xx,
//! streams cut mid-batch), inject malformed, unknown-field and duplicate data, expire tokens and read
//! counters. Scenario files ([`scenario`]) do the same on a timeline.

pub mod actions;
pub mod admin;
pub mod lookout;
mod query;
pub mod scenario;
pub mod time;
pub mod world;
pub mod zimperium;

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex, MutexGuard},
};

use axum::{
    extract::{MatchedPath, Request, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    Json, Router,
};
use serde_json::json;
use tokio::{net::TcpListener, sync::watch};

use crate::{
    actions::{Action, Vendor},
    scenario::Scenario,
    world::{Settings, World},
};

/// An error of the admin API or of loading a scenario.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A device, threat or route that does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// Something that already exists.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A bad request body or scenario.
    #[error("bad request: {0}")]
    BadRequest(String),
}

impl IntoResponse for SimError {
    fn into_response(self) -> Response {
        let status = match &self {
            SimError::NotFound(_) => StatusCode::NOT_FOUND,
            SimError::Conflict(_) => StatusCode::CONFLICT,
            SimError::BadRequest(_) => StatusCode::BAD_REQUEST,
        };
        (status, Json(json!({"error": self.to_string()}))).into_response()
    }
}

/// The simulator: the world behind a mutex and a change counter that wakes open streams.
#[derive(Debug, Clone)]
pub struct Sim {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    world: Mutex<World>,
    changes: watch::Sender<u64>,
}

impl Sim {
    /// A simulator with `settings` whose generated ids come from `seed`.
    pub fn new(settings: Settings, seed: u64) -> Sim {
        let (changes, _) = watch::channel(0);
        Sim {
            inner: Arc::new(Inner {
                world: Mutex::new(World::new(settings, seed)),
                changes,
            }),
        }
    }

    /// Locks the world (never held across an await).
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.inner.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes every open stream after a change.
    pub fn changed(&self) {
        self.inner.changes.send_modify(|n| *n += 1);
    }

    /// A receiver that sees every change.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.inner.changes.subscribe()
    }

    /// Applies one admin action and returns its JSON result.
    pub fn apply(&self, action: &Action) -> Result<serde_json::Value, SimError> {
        let result = {
            let mut world = self.world();
            match action {
                Action::AddDevice(spec) => world.add_device(spec).map(|key| json!({"device": key})),
                Action::Fleet(spec) => world.add_fleet(spec).map(|keys| json!({"devices": keys})),
                Action::Infect(spec) => world.infect(spec),
                Action::Remediate(spec) => world.remediate(spec),
                Action::SetState(spec) => world.set_state(spec).map(|()| json!({})),
                Action::Fault(spec) => world.arm_fault(spec.clone()).map(|()| json!({})),
                Action::Inject(spec) => world.inject(spec),
                Action::ExpireTokens(spec) => {
                    Ok(json!({"expired": world.expire_tokens(spec.vendor)}))
                }
            }
        };
        self.changed();
        result
    }

    /// Loads a scenario: settings, fleet and devices now, and the timeline on background tasks (which
    /// need a tokio runtime).
    pub fn load_scenario(&self, scenario: &Scenario) -> Result<(), SimError> {
        if let Some(settings) = &scenario.settings {
            self.world().settings = settings.clone();
        }
        if let Some(fleet) = &scenario.fleet {
            let mut fleet = fleet.clone();
            fleet.seed = fleet.seed.or(scenario.seed);
            self.apply(&Action::Fleet(fleet))?;
        }
        for device in &scenario.devices {
            self.apply(&Action::AddDevice(device.clone()))?;
        }
        for entry in &scenario.timeline {
            let offset = entry
                .offset()
                .map_err(|e| SimError::BadRequest(format!("timeline at {:?}: {e}", entry.at)))?;
            let sim = self.clone();
            let action = entry.action.clone();
            tokio::spawn(async move {
                tokio::time::sleep(offset).await;
                match sim.apply(&action) {
                    Ok(result) => tracing::info!(?action, %result, "timeline action"),
                    Err(e) => tracing::warn!(?action, error = %e, "timeline action failed"),
                }
            });
        }
        Ok(())
    }

    /// The HTTP router: both vendor APIs and the admin API.
    pub fn router(&self) -> Router {
        let vendor_routes = lookout::routes()
            .merge(zimperium::routes())
            .route_layer(middleware::from_fn_with_state(self.clone(), vendor_layer));
        vendor_routes
            .merge(admin::routes())
            .with_state(self.clone())
    }

    /// Serves on `listener` until the future `shutdown` resolves.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }

    /// Binds `addr` and serves in the background; returns the bound address (for tests).
    pub async fn spawn(self, addr: SocketAddr) -> std::io::Result<SocketAddr> {
        let listener = TcpListener::bind(addr).await?;
        let bound = listener.local_addr()?;
        tokio::spawn(async move {
            if let Err(e) = self.serve(listener, std::future::pending()).await {
                tracing::error!(error = %e, "simulator server failed");
            }
        });
        Ok(bound)
    }
}

/// The bearer token of a request, if any.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// Which vendor a path belongs to.
fn vendor_of(path: &str) -> Vendor {
    if path.starts_with("/api/") {
        Vendor::Zimperium
    } else {
        Vendor::Lookout
    }
}

/// Counts every vendor request and answers it with an armed fault instead, if one matches.
async fn vendor_layer(State(sim): State<Sim>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| path.clone(), |m| m.as_str().to_owned());
    let key = format!("{} {route}", request.method());
    let vendor = vendor_of(&path);
    let fault = {
        let mut world = sim.world();
        *world.counters.requests.entry(key).or_default() += 1;
        let fault = world.take_fault(vendor, &path);
        if let Some(fault) = &fault {
            let status = fault.status.unwrap_or(500);
            *world
                .counters
                .faults_served
                .entry(status.to_string())
                .or_default() += 1;
            if status == 401 {
                world.counters.unauthorized += 1;
            }
        }
        fault
    };
    let Some(fault) = fault else {
        let response = next.run(request).await;
        if response.status() == StatusCode::UNAUTHORIZED {
            sim.world().counters.unauthorized += 1;
        }
        return response;
    };
    let status = StatusCode::from_u16(fault.status.unwrap_or(500))
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = match (vendor, status) {
        (Vendor::Zimperium, _) => json!({"detail": format!("simulated {status}")}),
        (_, StatusCode::UNAUTHORIZED) => {
            json!({"error": "invalid_token", "error_description": "simulated 401"})
        }
        _ => json!({"error": format!("simulated {status}")}),
    };
    let mut response = (status, Json(body)).into_response();
    if let Some(secs) = fault.retry_after {
        if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    response
}
