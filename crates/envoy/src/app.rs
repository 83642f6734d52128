//! A sample app behind Envoy ("exchange", "sharepoint"): it answers every request with 200 and a JSON
//! body naming itself, the path, and the `x-riskgate-*` headers that reached it, so a test sees what
//! Envoy let through and what riskgate added.

use std::{collections::BTreeMap, io};

use axum::{
    extract::Request,
    http::header::CONTENT_TYPE,
    response::{IntoResponse, Response},
    Router,
};
use serde_json::json;
use tokio::net::TcpListener;

/// The header prefix riskgate owns; the app echoes every such header it receives.
pub const RISKGATE_HEADER_PREFIX: &str = "x-riskgate-";

/// Serves the app named `name` on `listener` until the task is dropped.
pub async fn serve(name: String, listener: TcpListener) -> io::Result<()> {
    let app = Router::new().fallback(move |request: Request| {
        let name = name.clone();
        async move { answer(&name, &request) }
    });
    axum::serve(listener, app).await
}

fn answer(name: &str, request: &Request) -> Response {
    let riskgate: BTreeMap<&str, &str> = request
        .headers()
        .iter()
        .filter(|(header, _)| header.as_str().starts_with(RISKGATE_HEADER_PREFIX))
        .map(|(header, value)| (header.as_str(), value.to_str().unwrap_or("<not ascii>")))
        .collect();
    let body = json!({
        "app": name,
        "path": request.uri().path(),
        "riskgate_headers": riskgate,
    });
    ([(CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}
