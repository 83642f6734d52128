//! Prometheus metrics: the registry, what the store and the RPCs record, the middleware that times every
//! RPC, and the HTTP endpoint that serves `/metrics`.

use std::{
    future::Future,
    sync::{atomic::AtomicU64, Arc, OnceLock},
    time::{Duration, Instant},
};

use prometheus_client::{
    encoding::{text::encode, EncodeLabelSet},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{exponential_buckets, Histogram},
    },
    registry::{Metric, Registry, Unit},
};

use riskgate_store::{BatchOutcome, BatchResult};

use crate::middleware::{Answer, Middleware};

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabel {
    method: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabel {
    kind: &'static str,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabel {
    code: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConnectorLabel {
    connector: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConnectorStateLabel {
    connector: String,
    state: &'static str,
}

/// A gauge of seconds.
type Seconds = Gauge<f64, AtomicU64>;

/// The gRPC status code names (grpc/doc/statuscodes.md), indexed by code.
const CODE_NAMES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

/// What a scrape shows of one connector, read from the view when `/metrics` is fetched.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ConnectorGauges {
    /// The connector id.
    pub(crate) connector_id: String,
    /// Its state's API name (`ENABLED`, `UNRESPONSIVE`, ...).
    pub(crate) state: &'static str,
    /// Its vendor feed's state (`CONNECTED`, `DEGRADED`, `DISCONNECTED`, `UNSPECIFIED`).
    pub(crate) feed_state: &'static str,
    /// Seconds since its last healthy heartbeat, if it ever sent one.
    pub(crate) heartbeat_age: Option<f64>,
    /// Seconds since the core last acknowledged a batch of its reports, if ever.
    pub(crate) report_age: Option<f64>,
    /// Seconds since its plugin's last successful sync with the vendor, if it reported one.
    pub(crate) vendor_sync_age: Option<f64>,
}

/// Reads what a scrape shows that is not counted as it happens: connectors and the store.
pub(crate) type ScrapeSource = Box<dyn Fn() -> Scrape + Send + Sync>;

/// One scrape's reading of the view and the store.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Scrape {
    /// Every registered connector.
    pub(crate) connectors: Vec<ConnectorGauges>,
    /// Devices known.
    pub(crate) devices: u64,
    /// Bytes the store takes on disk.
    pub(crate) store_bytes: u64,
}

fn latency_histogram() -> Histogram {
    // 25 µs to about 0.8 s: a loopback RPC takes ~100 µs, a durable flush ~0.2-5 ms.
    Histogram::new(exponential_buckets(0.000_025, 2.0, 16))
}

/// Every metric the core exports.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    batches: Family<OutcomeLabel, Counter>,
    reports: Family<ResultLabel, Counter>,
    flush_seconds: Histogram,
    head_position: Gauge,
    rpc_seconds: Family<MethodLabel, Histogram, fn() -> Histogram>,
    subscriptions: Gauge,
    stream_deliveries: Counter,
    stream_catchups: Counter,
    stream_expired: Counter,
    decisions: Family<DecisionLabel, Counter>,
    refusals: Family<CodeLabel, Counter>,
    connector_state: Family<ConnectorStateLabel, Gauge>,
    connector_feed_state: Family<ConnectorStateLabel, Gauge>,
    connector_heartbeat_age: Family<ConnectorLabel, Seconds>,
    connector_report_age: Family<ConnectorLabel, Seconds>,
    connector_vendor_sync_age: Family<ConnectorLabel, Seconds>,
    devices: Gauge,
    store_bytes: Gauge,
    scrape_source: OnceLock<ScrapeHook>,
}

/// The scrape source, which has no useful `Debug`.
struct ScrapeHook(ScrapeSource);

impl std::fmt::Debug for ScrapeHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ScrapeHook")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every metric registered at zero.
    pub(crate) fn new() -> Self {
        let mut registry = Registry::with_prefix("riskgate");
        let r = &mut registry;
        Self {
            batches: registered_in(r, "ingest_batches", "Ingest batches by outcome: applied, duplicate (already acknowledged) or rejected (malformed)", None, Family::<OutcomeLabel, Counter>::default()),
            reports: registered_in(r, "ingest_reports", "Device reports by result: applied, stale (older than the stored one), duplicate (vendor event id seen) or rejected (in a malformed batch)", None, Family::<ResultLabel, Counter>::default()),
            flush_seconds: registered_in(r, "store_flush_seconds", "Time to make one commit group durable", None, latency_histogram()),
            head_position: registered_in(r, "store_head_position", "Position of the newest durable event", None, Gauge::default()),
            rpc_seconds: registered_in(r, "grpc_request_duration_seconds", "Time from request to response headers, per RPC method", None, Family::new_with_constructor(latency_histogram as fn() -> Histogram)),
            subscriptions: registered_in(r, "subscriptions", "Open Subscribe streams", None, Gauge::default()),
            stream_deliveries: registered_in(r, "stream_deliveries", "Events sent to subscribers", None, Counter::default()),
            stream_catchups: registered_in(r, "stream_catchups", "Times a subscriber lagged behind the live broadcast and caught up from the log", None, Counter::default()),
            stream_expired: registered_in(r, "stream_expired", "Subscriptions ended with OUT_OF_RANGE because they fell behind retention", None, Counter::default()),
            decisions: registered_in(r, "decisions", "Decisions answered, by kind (access, app_launch) and outcome (allow, deny, block, wipe)", None, Family::<DecisionLabel, Counter>::default()),
            refusals: registered_in(r, "grpc_refusals", "Requests answered with a gRPC error status before any message, by code", None, Family::<CodeLabel, Counter>::default()),
            connector_state: registered_in(r, "connector_state", "1 for each connector's current state", None, Family::<ConnectorStateLabel, Gauge>::default()),
            connector_feed_state: registered_in(r, "connector_feed_state", "1 for each connector's vendor-feed state, as its plugin reports it", None, Family::<ConnectorStateLabel, Gauge>::default()),
            connector_heartbeat_age: registered_in(r, "connector_heartbeat_age", "Time since the connector's last healthy heartbeat", Some(Unit::Seconds), Family::<ConnectorLabel, Seconds>::default()),
            connector_report_age: registered_in(r, "connector_report_age", "Time since the core last acknowledged a batch of the connector's reports", Some(Unit::Seconds), Family::<ConnectorLabel, Seconds>::default()),
            connector_vendor_sync_age: registered_in(r, "connector_vendor_sync_age", "Time since the connector's plugin last synced with its vendor, as it reports it", Some(Unit::Seconds), Family::<ConnectorLabel, Seconds>::default()),
            devices: registered_in(r, "devices", "Devices known", None, Gauge::default()),
            store_bytes: registered_in(r, "store_size", "Bytes the store takes on disk", Some(Unit::Bytes), Gauge::default()),
            scrape_source: OnceLock::new(),
            registry,
        }
    }

    /// Counts one acknowledged batch and its reports.
    pub(crate) fn record_batch(&self, result: &BatchResult) {
        let outcome = match result.outcome {
            BatchOutcome::Applied => "applied",
            BatchOutcome::Duplicate => "duplicate",
        };
        self.batches.get_or_create(&OutcomeLabel { outcome }).inc();
        for (result, count) in [
            ("applied", result.applied),
            ("stale", result.stale),
            ("duplicate", result.duplicates),
        ] {
            self.reports
                .get_or_create(&ResultLabel { result })
                .inc_by(u64::from(count));
        }
    }

    /// Counts a malformed batch of `reports` reports.
    pub(crate) fn record_rejected(&self, reports: usize) {
        self.batches
            .get_or_create(&OutcomeLabel {
                outcome: "rejected",
            })
            .inc();
        self.reports
            .get_or_create(&ResultLabel { result: "rejected" })
            .inc_by(reports as u64);
    }

    /// Records the duration of one durable flush.
    pub(crate) fn observe_flush(&self, elapsed: Duration) {
        self.flush_seconds.observe(elapsed.as_secs_f64());
    }

    /// Publishes the durable head position.
    pub(crate) fn set_head(&self, head: u64) {
        self.head_position
            .set(i64::try_from(head).unwrap_or(i64::MAX));
    }

    /// A subscription opened.
    pub(crate) fn subscription_opened(&self) {
        self.subscriptions.inc();
    }

    /// A subscription closed.
    pub(crate) fn subscription_closed(&self) {
        self.subscriptions.dec();
    }

    /// An event was sent to a subscriber.
    pub(crate) fn stream_delivery(&self) {
        self.stream_deliveries.inc();
    }

    /// A lagging subscriber went back to the log.
    pub(crate) fn subscription_caught_up(&self) {
        self.stream_catchups.inc();
    }

    /// A subscriber fell behind retention.
    pub(crate) fn subscription_expired(&self) {
        self.stream_expired.inc();
    }

    /// Records the latency of one RPC.
    pub(crate) fn observe_rpc(&self, method: &str, elapsed: Duration) {
        // Only known services get their own label, so arbitrary paths cannot grow the label set.
        let method = if method.starts_with("/riskgate.") || method.starts_with("/grpc.") {
            method.to_owned()
        } else {
            "other".to_owned()
        };
        self.rpc_seconds
            .get_or_create(&MethodLabel { method })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts one decision of `kind` (`access`, `app_launch`) with `outcome` (`allow`, `deny`, ...).
    pub(crate) fn record_decision(&self, kind: &'static str, outcome: &'static str) {
        self.decisions
            .get_or_create(&DecisionLabel { kind, outcome })
            .inc();
    }

    /// Counts a request refused with gRPC status `code`.
    pub(crate) fn record_refusal(&self, code: i32) {
        let code = usize::try_from(code)
            .ok()
            .and_then(|code| CODE_NAMES.get(code))
            .copied()
            .unwrap_or("UNKNOWN");
        self.refusals.get_or_create(&CodeLabel { code }).inc();
    }

    /// Sets where each scrape reads connectors and the store from (once; later calls are ignored).
    pub(crate) fn set_scrape_source(&self, source: ScrapeSource) {
        let _ = self.scrape_source.set(ScrapeHook(source));
    }

    /// Sets the gauges a scrape reads.
    fn apply_scrape(&self, scrape: &Scrape) {
        for family in [&self.connector_state, &self.connector_feed_state] {
            family.clear();
        }
        for family in [
            &self.connector_heartbeat_age,
            &self.connector_report_age,
            &self.connector_vendor_sync_age,
        ] {
            family.clear();
        }
        for connector in &scrape.connectors {
            let label = |state| ConnectorStateLabel {
                connector: connector.connector_id.clone(),
                state,
            };
            self.connector_state
                .get_or_create(&label(connector.state))
                .set(1);
            self.connector_feed_state
                .get_or_create(&label(connector.feed_state))
                .set(1);
            let by_id = ConnectorLabel {
                connector: connector.connector_id.clone(),
            };
            for (family, age) in [
                (&self.connector_heartbeat_age, connector.heartbeat_age),
                (&self.connector_report_age, connector.report_age),
                (&self.connector_vendor_sync_age, connector.vendor_sync_age),
            ] {
                if let Some(age) = age {
                    family.get_or_create(&by_id).set(age);
                }
            }
        }
        self.devices
            .set(i64::try_from(scrape.devices).unwrap_or(i64::MAX));
        self.store_bytes
            .set(i64::try_from(scrape.store_bytes).unwrap_or(i64::MAX));
    }

    /// The metrics in the OpenMetrics text format.
    pub(crate) fn render(&self) -> String {
        if let Some(ScrapeHook(source)) = self.scrape_source.get() {
            self.apply_scrape(&source());
        }
        let mut text = String::new();
        // Writing into a String does not fail; if the encoder ever did, the scrape shows what it wrote.
        if let Err(err) = encode(&mut text, &self.registry) {
            tracing::error!(error = %err, "encoding the metrics failed");
        }
        text
    }
}

/// Registers `metric` under `name` (with `unit`, if any) and returns it, so the caller keeps a handle.
fn registered_in<M: Metric + Clone>(
    registry: &mut Registry,
    name: &str,
    help: &str,
    unit: Option<Unit>,
    metric: M,
) -> M {
    match unit {
        Some(unit) => registry.register_with_unit(name, help, unit, metric.clone()),
        None => registry.register(name, help, metric.clone()),
    }
    metric
}

/// Serves `GET /metrics` until `shutdown` resolves.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let metrics = metrics.clone();
            async move {
                (
                    [(
                        http::header::CONTENT_TYPE,
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    metrics.render(),
                )
            }
        }),
    );
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// The store's writer reports each commit, flush and head move here.
impl riskgate_store::WriterObserver for Metrics {
    fn batch_committed(&self, result: &BatchResult) {
        self.record_batch(result);
    }

    fn flushed(&self, elapsed: Duration) {
        self.observe_flush(elapsed);
    }

    fn head_moved(&self, head: u64) {
        self.set_head(head);
    }
}

/// The middleware that times every request and records it per RPC method, with refusals by gRPC code.
#[derive(Debug, Clone)]
pub(crate) struct RpcRecorder {
    metrics: Arc<Metrics>,
}

impl RpcRecorder {
    /// Records into `metrics`.
    pub(crate) fn new(metrics: Arc<Metrics>) -> Self {
        Self { metrics }
    }
}

impl<S, B, RB> Middleware<S, B> for RpcRecorder
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>>,
    S::Future: Send + 'static,
{
    fn call(&self, inner: &mut S, request: http::Request<B>) -> Answer<S::Response, S::Error> {
        let method = request.uri().path().to_owned();
        let metrics = self.metrics.clone();
        let started = Instant::now();
        let response = inner.call(request);
        Box::pin(async move {
            let response = response.await;
            metrics.observe_rpc(&method, started.elapsed());
            // A refusal is answered "trailers-only": the status is in the response headers. A status
            // that ends a stream after messages travels in the trailers and is not counted here.
            if let Ok(response) = &response {
                let code = response
                    .headers()
                    .get("grpc-status")
                    .and_then(|value| value.to_str().ok()?.parse::<i32>().ok());
                if let Some(code) = code.filter(|code| *code != 0) {
                    metrics.record_refusal(code);
                }
            }
            response
        })
    }
}
