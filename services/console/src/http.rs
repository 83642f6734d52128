//! The console's routes, the signed-in extractor, and the headers every response carries.

mod actions;
mod live;
mod pages;
mod signin;

use std::sync::Arc;

use axum::{
    extract::{FromRequestParts, Request},
    http::{header, request::Parts, HeaderValue},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
    Router,
};

use crate::{
    app::App,
    error::ConsoleError,
    session::{Session, COOKIE},
};

/// Every route of the console.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(pages::overview))
        .route("/devices", get(pages::devices))
        .route("/devices/{id}", get(pages::device))
        .route("/devices/{id}/recheck", post(actions::recheck))
        .route("/connectors", get(pages::connectors))
        .route("/connectors/{id}/toggles", post(actions::toggles))
        .route("/policies", get(pages::policies))
        .route("/resources", get(pages::resources))
        .route("/signin", get(signin::form).post(signin::sign_in))
        .route("/signin/once/{code}", get(signin::once))
        .route("/signout", post(signin::sign_out))
        .route("/live", get(live::events))
        .route("/healthz", get(health))
        .route("/static/console.css", get(stylesheet))
        .route("/static/live.js", get(script))
        .layer(middleware::from_fn(security_headers))
        .with_state(app)
}

/// The signed-in user of a request: the session its cookie names. Without one, pages redirect to the
/// sign-in form.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The session's id (the cookie's value).
    pub id: String,
    /// The session.
    pub session: Session,
}

impl FromRequestParts<Arc<App>> for SignedIn {
    type Rejection = ConsoleError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        let id = cookie(&parts.headers, COOKIE).ok_or(ConsoleError::NotSignedIn)?;
        let session = app.sessions.get(&id).ok_or(ConsoleError::NotSignedIn)?;
        Ok(SignedIn { id, session })
    }
}

impl SignedIn {
    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, presented: Option<&str>) -> Result<(), ConsoleError> {
        match presented {
            Some(token) if self.session.csrf_matches(token) => Ok(()),
            _ => Err(ConsoleError::Csrf),
        }
    }
}

/// The value of the cookie `name`, if the request has one.
fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(candidate, _)| *candidate == name)
        .map(|(_, value)| value.to_owned())
}

/// No framing, no sniffing, no referrer, scripts and styles only from the console itself, and no caching
/// of pages that show a fleet's state.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// 200 while the console can serve live pages; 503 while its subscription to the core is down (with live
/// updates on), since pages then show only what was true when they were loaded.
async fn health(axum::extract::State(app): axum::extract::State<Arc<App>>) -> Response {
    if !app.live || app.hub.connected() {
        "ok".into_response()
    } else {
        (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "live updates: not subscribed to the core",
        )
            .into_response()
    }
}

async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../static/console.css"),
    )
}

async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../static/live.js"),
    )
}
