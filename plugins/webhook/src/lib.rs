//! # riskgate-webhook
//!
//! A riskgate connector plugin for vendors nobody wrote a plugin for: it runs an HTTP server that
//! receives **signed** JSON pushes, maps each event to a `DeviceReport` with a configurable field
//! mapping, and streams them into the core in batches.
//!
//! - [`signature`]: HMAC-SHA256 over `"<timestamp>.<raw body>"` in `X-Riskgate-Signature`, with a
//!   timestamp tolerance against replays. Unsigned, badly signed or stale pushes get 401.
//! - [`mapping`]: selectors (JSON pointers, dotted paths, `=literals`) and value maps.
//! - [`server`]: the push endpoint; [`server::reports_of`] turns a verified body into checked reports.
//! - A push is answered **202 only once the core acknowledged the batch holding it** (durable);
//!   a sender that gets anything else retries, and the core drops vendor event ids it already
//!   applied, so delivery is at least once with no visible duplicates.
//! - The checkpoint is the number of batches sent so far, as decimal text; it only orders batches,
//!   since pushes cannot be re-read from the sender.
//!
//! Configuration and mapping reference: the crate's `README.md`.

pub mod config;
pub mod mapping;
pub mod server;
pub mod signature;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use riskgate_sdk::{
    tokio, Batch, BatchSink, Connector, ConnectorError, Manifest, Shutdown, StartContext,
};
use tokio::sync::mpsc;

pub use crate::server::Counters;
use crate::{
    config::WebhookConfig,
    server::{log, Push, Shared},
};

/// How many verified pushes may wait for the batcher.
const PUSH_QUEUE: usize = 256;

/// The connector: its configuration and the batch sequence to continue from.
#[derive(Debug)]
pub struct WebhookConnector {
    config: WebhookConfig,
    /// Batches sent so far, across restarts (the checkpoint).
    sequence: u64,
}

impl Connector for WebhookConnector {
    fn manifest() -> Manifest {
        Manifest {
            name: "webhook".to_owned(),
            vendor: "riskgate (generic signed JSON push)".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }

    fn create(start: &StartContext) -> Result<Self, ConnectorError> {
        let config = WebhookConfig::parse(&start.config, |var| std::env::var(var).ok())
            .map_err(|e| ConnectorError::Config(e.0))?;
        let sequence = match &start.checkpoint {
            None => 0,
            Some(raw) => std::str::from_utf8(raw)
                .ok()
                .and_then(|text| text.parse().ok())
                .ok_or_else(|| ConnectorError::Fatal(format!("unreadable checkpoint {raw:?}")))?,
        };
        Ok(WebhookConnector { config, sequence })
    }

    async fn run(self, sink: BatchSink, shutdown: Shutdown) -> Result<(), ConnectorError> {
        let listener = tokio::net::TcpListener::bind(self.config.listen)
            .await
            .map_err(|e| {
                ConnectorError::Transient(format!("cannot listen on {}: {e}", self.config.listen))
            })?;
        let address = listener
            .local_addr()
            .map_err(|e| ConnectorError::Transient(format!("no local address: {e}")))?;
        log(
            "INFO",
            format_args!(
                "listening on {address} (POST {}), resuming after batch {}",
                self.config.path, self.sequence
            ),
        );
        // A push-only feed: listening is all the connector can do to reach its vendor; each push the
        // core acknowledges is the vendor's word (`synced`).
        sink.feed().connected();
        if let Some(path) = &self.config.address_file {
            // Written whole under a temporary name, then renamed, so a reader never sees half of it.
            let partial = path.with_extension("partial");
            std::fs::write(&partial, address.to_string())
                .and_then(|()| std::fs::rename(&partial, path))
                .map_err(|e| {
                    ConnectorError::Config(format!(
                        "address_file: cannot write {}: {e}",
                        path.display()
                    ))
                })?;
        }
        let (pushes_tx, pushes_rx) = mpsc::channel(PUSH_QUEUE);
        let batching = Batching {
            max_reports: self.config.max_batch_reports,
            linger: self.config.linger,
            sequence: self.sequence,
        };
        let shared = Arc::new(Shared {
            config: self.config,
            counters: Arc::new(Counters::default()),
            pushes: pushes_tx,
        });
        let app = server::router(shared);
        let server_shutdown = shutdown.clone();
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move { server_shutdown.wait().await })
                .await
        });
        batching.run(pushes_rx, &sink, &shutdown).await;
        match server.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(ConnectorError::Transient(format!(
                "HTTP server failed: {e}"
            ))),
            Err(e) => Err(ConnectorError::Fatal(format!(
                "HTTP server task failed: {e}"
            ))),
        }
    }
}

/// Groups pushes into batches: up to `max_reports` reports, waiting at most `linger` for more.
#[derive(Debug)]
struct Batching {
    max_reports: usize,
    linger: Duration,
    sequence: u64,
}

impl Batching {
    async fn run(
        mut self,
        mut pushes: mpsc::Receiver<Push>,
        sink: &BatchSink,
        shutdown: &Shutdown,
    ) {
        let mut carried: Option<Push> = None;
        loop {
            let first = match carried.take() {
                Some(push) => push,
                None => tokio::select! {
                    () = shutdown.wait() => return,
                    push = pushes.recv() => match push {
                        Some(push) => push,
                        None => return,
                    },
                },
            };
            let mut count = first.reports.len();
            let mut group = vec![first];
            let deadline = Instant::now() + self.linger;
            while count < self.max_reports {
                let next = tokio::select! {
                    () = tokio::time::sleep_until(deadline.into()) => None,
                    push = pushes.recv() => push,
                };
                let Some(push) = next else { break };
                if count + push.reports.len() > self.max_reports {
                    carried = Some(push);
                    break;
                }
                count += push.reports.len();
                group.push(push);
            }
            self.sequence += 1;
            let mut reports = Vec::with_capacity(count);
            let mut dones = Vec::with_capacity(group.len());
            for push in group {
                reports.extend(push.reports);
                dones.push(push.done);
            }
            let batch = Batch {
                checkpoint: self.sequence.to_string().into_bytes(),
                reports,
            };
            let Ok(id) = sink.send(batch).await else {
                // Shutting down: the handlers answer 503 and the senders retry later.
                return;
            };
            let sink = sink.clone();
            tokio::spawn(async move {
                let acked = sink.wait_acknowledged(id).await.is_ok();
                if acked {
                    sink.feed().synced();
                }
                for done in dones {
                    let _ = done.send(acked);
                }
            });
        }
    }
}

riskgate_sdk::export_connector!(WebhookConnector);
