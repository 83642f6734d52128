//! The HTTP side: the push endpoint (signature, mapping, validation, then wait until the core
//! acknowledged the batch holding the push), `/metrics` with the counters, and `/healthz`.

use std::{
    fmt,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::SystemTime,
};

use axum::{
    body::Bytes,
    extract::{rejection::BytesRejection, DefaultBodyLimit, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Router,
};
use riskgate_sdk::{pb, validate};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

use crate::{
    config::WebhookConfig,
    mapping::EventContext,
    signature::{self, Verifier},
};

/// Accepted reports on their way to the batcher, with the channel that tells the push's handler
/// whether the core acknowledged them.
#[derive(Debug)]
pub(crate) struct Push {
    pub(crate) reports: Vec<pb::DeviceReport>,
    pub(crate) done: oneshot::Sender<bool>,
}

/// Counters, exposed on `/metrics` and named in log lines.
#[derive(Debug, Default)]
pub struct Counters {
    /// Pushes answered 202.
    pub accepted_pushes: AtomicU64,
    /// Reports in those pushes.
    pub accepted_reports: AtomicU64,
    /// 401: no signature or timestamp header.
    pub rejected_unsigned: AtomicU64,
    /// 401: a malformed signature or timestamp header.
    pub rejected_malformed_signature: AtomicU64,
    /// 401: the HMAC does not match.
    pub rejected_bad_signature: AtomicU64,
    /// 401: the timestamp is beyond the tolerance.
    pub rejected_stale: AtomicU64,
    /// 400: not JSON, not mappable, or an invalid report.
    pub rejected_malformed: AtomicU64,
    /// 413: the body or the number of events is too large.
    pub rejected_too_large: AtomicU64,
    /// 503: the core did not acknowledge in time, or the connector is stopping.
    pub unavailable: AtomicU64,
}

impl Counters {
    fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn render(&self) -> String {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let mut out = String::new();
        let mut line = |name: &str, help: &str, samples: &[(&str, u64)]| {
            out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} counter\n"));
            for (labels, value) in samples {
                out.push_str(&format!("{name}{labels} {value}\n"));
            }
        };
        line(
            "riskgate_webhook_pushes_accepted_total",
            "Pushes answered 202 after the core acknowledged them.",
            &[("", get(&self.accepted_pushes))],
        );
        line(
            "riskgate_webhook_reports_accepted_total",
            "Device reports in accepted pushes.",
            &[("", get(&self.accepted_reports))],
        );
        line(
            "riskgate_webhook_pushes_rejected_total",
            "Pushes refused, by reason.",
            &[
                ("{reason=\"unsigned\"}", get(&self.rejected_unsigned)),
                (
                    "{reason=\"malformed_signature\"}",
                    get(&self.rejected_malformed_signature),
                ),
                (
                    "{reason=\"bad_signature\"}",
                    get(&self.rejected_bad_signature),
                ),
                ("{reason=\"stale\"}", get(&self.rejected_stale)),
                ("{reason=\"malformed\"}", get(&self.rejected_malformed)),
                ("{reason=\"too_large\"}", get(&self.rejected_too_large)),
                ("{reason=\"unavailable\"}", get(&self.unavailable)),
            ],
        );
        out
    }
}

/// What the handlers share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: WebhookConfig,
    pub(crate) counters: Arc<Counters>,
    pub(crate) pushes: mpsc::Sender<Push>,
}

/// The router: `POST <path>`, `GET /metrics`, `GET /healthz`.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let limit = shared.config.max_body_bytes;
    Router::new()
        .route(&shared.config.path, post(push))
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(shared)
}

/// A log line on stderr, which the connector host keeps as its log.
pub(crate) fn log(level: &str, message: fmt::Arguments<'_>) {
    eprintln!(
        "{} {level} riskgate-webhook: {message}",
        riskgate_sdk::toolkit::format_rfc3339_millis(SystemTime::now())
    );
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        shared.counters.render(),
    )
        .into_response()
}

fn answer(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn refuse(counter: &AtomicU64, status: StatusCode, reason: &str, detail: &str) -> Response {
    Counters::bump(counter);
    log(
        "WARN",
        format_args!("refused a push ({status}, {reason}): {detail}"),
    );
    answer(status, json!({"error": reason, "detail": detail}))
}

/// `POST {path}`: a signed push of vendor events, answered once the core acknowledged its reports.
async fn push(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    // Each check answers the push itself when it refuses it.
    let checked = (|| {
        let body = whole_body(&shared, body)?;
        let now = SystemTime::now();
        check_signature(&shared, &headers, &body, now)?;
        push_reports(&shared, &body, now)
    })();
    match checked {
        Err(refused) => *refused,
        Ok(reports) if reports.is_empty() => {
            Counters::bump(&shared.counters.accepted_pushes);
            answer(StatusCode::ACCEPTED, json!({"accepted": 0}))
        }
        Ok(reports) => hand_over(&shared, reports).await,
    }
}

/// A push refused, with the answer it gets.
type Refused = Box<Response>;

/// The body, or the refusal of one too large or cut short.
fn whole_body(shared: &Shared, body: Result<Bytes, BytesRejection>) -> Result<Bytes, Refused> {
    let counters = &shared.counters;
    match body {
        Ok(body) => Ok(body),
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Err(Box::new(refuse(
                &counters.rejected_too_large,
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                &format!("the body exceeds {} bytes", shared.config.max_body_bytes),
            )))
        }
        Err(rejection) => Err(Box::new(refuse(
            &counters.rejected_malformed,
            StatusCode::BAD_REQUEST,
            "malformed",
            &rejection.body_text(),
        ))),
    }
}

/// Refuses a push that is unsigned, wrongly signed or stale (401), counting why.
fn check_signature(
    shared: &Shared,
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
) -> Result<(), Refused> {
    let config = &shared.config;
    let counters = &shared.counters;
    let header_text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let verifier = Verifier {
        secret: &config.secret,
        signature_header: &config.signature_header,
        timestamp_header: &config.timestamp_header,
        tolerance: config.tolerance,
    };
    signature::verify(
        &verifier,
        header_text(&config.signature_header),
        header_text(&config.timestamp_header),
        body,
        now,
    )
    .map_err(|err| {
        let counter = match err {
            signature::SignatureError::Missing(_) => &counters.rejected_unsigned,
            signature::SignatureError::Malformed { .. } => &counters.rejected_malformed_signature,
            signature::SignatureError::Mismatch => &counters.rejected_bad_signature,
            signature::SignatureError::Stale { .. } => &counters.rejected_stale,
        };
        Box::new(refuse(
            counter,
            StatusCode::UNAUTHORIZED,
            err.kind(),
            &err.to_string(),
        ))
    })
}

/// The push's reports, or the refusal of too many events (413) or malformed ones (400).
fn push_reports(
    shared: &Shared,
    body: &[u8],
    now: SystemTime,
) -> Result<Vec<pb::DeviceReport>, Refused> {
    let counters = &shared.counters;
    reports_of(&shared.config, body, now).map_err(|refusal| {
        Box::new(match refusal {
            Refusal::TooMany(count) => refuse(
                &counters.rejected_too_large,
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                &format!(
                    "{count} events exceed the limit of {} per push",
                    shared.config.max_batch_reports
                ),
            ),
            Refusal::Malformed(detail) => refuse(
                &counters.rejected_malformed,
                StatusCode::BAD_REQUEST,
                "malformed",
                &detail,
            ),
        })
    })
}

/// Hands the reports to the batcher and waits for the core's acknowledgement: 202, or 503 with
/// `Retry-After` when the connector stops or the acknowledgement is late.
async fn hand_over(shared: &Shared, reports: Vec<pb::DeviceReport>) -> Response {
    let counters = &shared.counters;
    let count = reports.len();
    let (done, acked) = oneshot::channel();
    if shared.pushes.send(Push { reports, done }).await.is_err() {
        return refuse(
            &counters.unavailable,
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the connector is stopping",
        );
    }
    match tokio::time::timeout(shared.config.ack_timeout, acked).await {
        Ok(Ok(true)) => {
            Counters::bump(&counters.accepted_pushes);
            counters
                .accepted_reports
                .fetch_add(u64::try_from(count).unwrap_or(u64::MAX), Ordering::Relaxed);
            answer(StatusCode::ACCEPTED, json!({"accepted": count}))
        }
        _ => {
            let mut response = refuse(
                &counters.unavailable,
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the core did not acknowledge the push in time; retry it",
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
            response
        }
    }
}

/// Why a verified push body is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// More events than `max_batch_reports` (answered 413); holds the number of events.
    TooMany(usize),
    /// Not JSON, not mappable, or an invalid report (answered 400); holds the detail, naming the field.
    Malformed(String),
}

/// Maps a verified body to reports, all or nothing, and checks them as the core would. Public so the
/// fuzz targets (`fuzz/targets`) can drive the push handling without an HTTP server.
pub fn reports_of(
    config: &WebhookConfig,
    body: &[u8],
    now: SystemTime,
) -> Result<Vec<pb::DeviceReport>, Refusal> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| Refusal::Malformed(format!("body: not valid JSON: {e}")))?;
    let events = config
        .mapping
        .events(&value)
        .map_err(|e| Refusal::Malformed(e.to_string()))?;
    if events.len() > config.max_batch_reports {
        return Err(Refusal::TooMany(events.len()));
    }
    let body_digest = signature::hex(&Sha256::digest(body));
    let reports = events
        .iter()
        .enumerate()
        .map(|(index, event)| {
            let ctx = EventContext {
                received_at: now,
                fallback_event_id: format!("webhook-{}-{index}", &body_digest[..32]),
            };
            config
                .mapping
                .report(event, &ctx)
                .map_err(|e| Refusal::Malformed(format!("events[{index}] {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let check = pb::PluginBatch {
        batch_id: 1,
        checkpoint: Vec::new(),
        reports,
    };
    validate::batch(&check, &validate::Limits::default(), now).map_err(|e| {
        Refusal::Malformed(format!(
            "{}: {}",
            e.field.replacen("reports", "events", 1),
            e.reason
        ))
    })?;
    Ok(check.reports)
}
