//! A sample app behind Envoy ("exchange", "sharepoint"): it answers every request with 200 and a JSON
//! body naming itself, the path, and the `x-riskgate-*` headers that reached it, so a test sees what
//! Envoy let through and what riskgate added.

use std::{collections::BTreeMap, io};

use tokio::task::JoinHandle;

use axum::{
    extract::Request,
    http::header::CONTENT_TYPE,
    response::{IntoResponse, Response},
    Router,
};
use serde_json::json;
use tokio::net::TcpListener;

use crate::{bootstrap::App, EnvoyError};

/// The header prefix riskgate owns; the app echoes every such header it receives.
pub const RISKGATE_HEADER_PREFIX: &str = "x-riskgate-";

/// Sample apps on loopback, one per name, each on a free port; they stop when this is dropped.
#[derive(Debug)]
pub struct SampleApps {
    /// The apps, for [`crate::Gateway::apps`].
    pub apps: Vec<App>,
    tasks: Vec<JoinHandle<io::Result<()>>>,
}

impl SampleApps {
    /// Starts one app per name on `127.0.0.1` port 0, on the current tokio runtime.
    pub async fn start(names: &[&str]) -> Result<SampleApps, EnvoyError> {
        let mut apps = Vec::new();
        let mut tasks = Vec::new();
        for name in names {
            let listener = TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(EnvoyError::io(format!("binding sample app {name}")))?;
            let addr = listener
                .local_addr()
                .map_err(EnvoyError::io(format!("sample app {name}'s address")))?;
            apps.push(App {
                name: (*name).to_owned(),
                addr,
            });
            tasks.push(tokio::spawn(serve((*name).to_owned(), listener)));
        }
        Ok(SampleApps { apps, tasks })
    }
}

impl Drop for SampleApps {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

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
