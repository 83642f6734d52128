//! The transmitter's HTTP API so far: the configuration metadata at `/.well-known/ssf-configuration`
//! (SSF 1.0 §7.1) and the signing keys at its `jwks_uri`.

use std::{
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

use axum::{extract::State, routing::get, Json, Router};
use riskgate_caep::metadata::{metadata, DefaultSubjects};
use serde_json::Value;

use crate::keys::KeyRing;

/// What the handlers share.
#[derive(Debug)]
pub struct Transmitter {
    /// The `iss` of every SET, and the metadata's `issuer`.
    pub issuer: String,
    /// Where the endpoints are, as receivers reach them (no trailing slash).
    pub base_url: String,
    /// The signing keys.
    pub keys: parking_lot::RwLock<KeyRing>,
    /// How long a retired key stays in the JWKS, seconds.
    pub key_overlap_secs: u64,
}

/// The routes.
pub fn router(transmitter: Arc<Transmitter>) -> Router {
    Router::new()
        .route("/.well-known/ssf-configuration", get(configuration))
        .route("/ssf/jwks.json", get(jwks))
        .with_state(transmitter)
}

async fn configuration(State(transmitter): State<Arc<Transmitter>>) -> Json<Value> {
    Json(metadata(
        &transmitter.issuer,
        &transmitter.base_url,
        DefaultSubjects::All,
    ))
}

async fn jwks(State(transmitter): State<Arc<Transmitter>>) -> Json<Value> {
    let now = unix_now();
    Json(
        transmitter
            .keys
            .read()
            .jwks(transmitter.key_overlap_secs, now),
    )
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}
