//! Envoy's admin interface (<https://www.envoyproxy.io/docs/envoy/v1.40.0/operations/admin>): when it is
//! ready, where its listeners are bound, and its counters.

use std::{net::SocketAddr, path::Path, time::Duration};

use serde_json::Value;
use tokio::time::Instant;

use crate::EnvoyError;

/// How often [`Admin::wait_ready`] looks again.
const POLL: Duration = Duration::from_millis(25);

/// A client for one Envoy's admin interface.
#[derive(Debug, Clone)]
pub struct Admin {
    base: String,
    http: reqwest::Client,
}

impl Admin {
    /// Waits, for at most `within`, until Envoy has written its admin address to `address_path` and
    /// answers `GET /ready` with 200 (its listeners are up).
    pub async fn wait_ready(address_path: &Path, within: Duration) -> Result<Admin, EnvoyError> {
        let deadline = Instant::now() + within;
        let http = reqwest::Client::new();
        loop {
            if let Some(admin) = Self::ready(address_path, &http).await {
                return Ok(admin);
            }
            if Instant::now() >= deadline {
                return Err(EnvoyError::Admin(format!(
                    "not ready within {within:?} (admin address file {})",
                    address_path.display()
                )));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn ready(address_path: &Path, http: &reqwest::Client) -> Option<Admin> {
        let address = tokio::fs::read_to_string(address_path).await.ok()?;
        let base = format!("http://{}", address.trim());
        let response = http.get(format!("{base}/ready")).send().await.ok()?;
        response.status().is_success().then(|| Admin {
            base,
            http: http.clone(),
        })
    }

    /// The address listener `name` is bound to (its port when it was configured with port 0).
    pub async fn listener_addr(&self, name: &str) -> Result<SocketAddr, EnvoyError> {
        let listeners = self.get_json("/listeners?format=json").await?;
        let address = listeners["listener_statuses"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|listener| listener["name"] == name)
            .map(|listener| &listener["local_address"]["socket_address"])
            .ok_or_else(|| EnvoyError::Admin(format!("no listener {name:?}: {listeners}")))?;
        let ip = address["address"].as_str().unwrap_or_default();
        let port = address["port_value"].as_u64().unwrap_or_default();
        format!("{ip}:{port}")
            .parse()
            .map_err(|_| EnvoyError::Admin(format!("listener {name:?} has no address: {address}")))
    }

    /// The counter `name` (such as `http.gateway.ext_authz.denied`), 0 when Envoy has not counted it yet.
    pub async fn counter(&self, name: &str) -> Result<u64, EnvoyError> {
        let stats = self
            .get_json(&format!("/stats?format=json&filter=^{name}$"))
            .await?;
        Ok(stats["stats"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|stat| stat["name"] == name)
            .and_then(|stat| stat["value"].as_u64())
            .unwrap_or(0))
    }

    async fn get_json(&self, path: &str) -> Result<Value, EnvoyError> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .map_err(|err| EnvoyError::Admin(format!("GET {path}: {err}")))?;
        response
            .json()
            .await
            .map_err(|err| EnvoyError::Admin(format!("GET {path}: {err}")))
    }
}
