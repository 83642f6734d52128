//! Prometheus metrics: the registry, what the store and the RPCs record, the tower layer that times every
//! RPC, and the HTTP endpoint that serves `/metrics`.

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
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
    registry::Registry,
};

use crate::store::{BatchOutcome, BatchResult};

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

fn latency_histogram() -> Histogram {
    // 25 µs to about 0.8 s: a loopback RPC takes ~100 µs, a durable flush ~0.2-5 ms.
    Histogram::new(exponential_buckets(0.000_025, 2.0, 16))
}

/// Every metric the core exports.
#[derive(Debug)]
pub struct Metrics {
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
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every metric registered at zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("riskgate");
        let batches = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "ingest_batches",
            "Ingest batches by outcome: applied, duplicate (already acknowledged) or rejected (malformed)",
            batches.clone(),
        );
        let reports = Family::<ResultLabel, Counter>::default();
        registry.register(
            "ingest_reports",
            "Device reports by result: applied, stale (older than the stored one), duplicate (vendor event id seen) or rejected (in a malformed batch)",
            reports.clone(),
        );
        let flush_seconds = latency_histogram();
        registry.register(
            "store_flush_seconds",
            "Time to make one commit group durable",
            flush_seconds.clone(),
        );
        let head_position = Gauge::default();
        registry.register(
            "store_head_position",
            "Position of the newest durable event",
            head_position.clone(),
        );
        let rpc_seconds = Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register(
            "grpc_request_duration_seconds",
            "Time from request to response headers, per RPC method",
            rpc_seconds.clone(),
        );
        let subscriptions = Gauge::default();
        registry.register(
            "subscriptions",
            "Open Subscribe streams",
            subscriptions.clone(),
        );
        let stream_deliveries = Counter::default();
        registry.register(
            "stream_deliveries",
            "Events sent to subscribers",
            stream_deliveries.clone(),
        );
        let stream_catchups = Counter::default();
        registry.register(
            "stream_catchups",
            "Times a subscriber lagged behind the live broadcast and caught up from the log",
            stream_catchups.clone(),
        );
        let stream_expired = Counter::default();
        registry.register(
            "stream_expired",
            "Subscriptions ended with OUT_OF_RANGE because they fell behind retention",
            stream_expired.clone(),
        );
        Self {
            registry,
            subscriptions,
            stream_deliveries,
            stream_catchups,
            stream_expired,
            batches,
            reports,
            flush_seconds,
            head_position,
            rpc_seconds,
        }
    }

    /// Counts one acknowledged batch and its reports.
    pub fn record_batch(&self, result: &BatchResult) {
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
    pub fn record_rejected(&self, reports: usize) {
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
    pub fn observe_flush(&self, elapsed: Duration) {
        self.flush_seconds.observe(elapsed.as_secs_f64());
    }

    /// Publishes the durable head position.
    pub fn set_head(&self, head: u64) {
        self.head_position
            .set(i64::try_from(head).unwrap_or(i64::MAX));
    }

    /// A subscription opened.
    pub fn subscription_opened(&self) {
        self.subscriptions.inc();
    }

    /// A subscription closed.
    pub fn subscription_closed(&self) {
        self.subscriptions.dec();
    }

    /// An event was sent to a subscriber.
    pub fn stream_delivery(&self) {
        self.stream_deliveries.inc();
    }

    /// A lagging subscriber went back to the log.
    pub fn subscription_caught_up(&self) {
        self.stream_catchups.inc();
    }

    /// A subscriber fell behind retention.
    pub fn subscription_expired(&self) {
        self.stream_expired.inc();
    }

    /// Records the latency of one RPC.
    pub fn observe_rpc(&self, method: &str, elapsed: Duration) {
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

    /// The metrics in the OpenMetrics text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        encode(&mut text, &self.registry).expect("encoding metrics into a String");
        text
    }
}

/// Serves `GET /metrics` until `shutdown` resolves.
pub async fn serve(
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

/// A tower layer that times every request and records it per RPC method.
#[derive(Debug, Clone)]
pub struct RpcMetricsLayer {
    metrics: Arc<Metrics>,
}

impl RpcMetricsLayer {
    /// Records into `metrics`.
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self { metrics }
    }
}

impl<S> tower::Layer<S> for RpcMetricsLayer {
    type Service = RpcMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RpcMetrics {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

/// The service made by [`RpcMetricsLayer`].
#[derive(Debug, Clone)]
pub struct RpcMetrics<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S, B> tower::Service<http::Request<B>> for RpcMetrics<S>
where
    S: tower::Service<http::Request<B>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let method = request.uri().path().to_owned();
        let metrics = self.metrics.clone();
        let started = Instant::now();
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await;
            metrics.observe_rpc(&method, started.elapsed());
            response
        })
    }
}
