//! Push delivery (RFC 8935): one SET per POST, `Content-Type: application/secevent+jwt`, retried until
//! the receiver accepts it.
//!
//! - 202 (or any 2xx): accepted; the stream's last error is cleared.
//! - 400: the receiver refused this SET for good (`{"err", "description"}`, RFC 8935 §2.3). It is logged,
//!   shown in the stream's status, and not sent again: retrying cannot change the answer.
//! - 429 or 503 with `Retry-After`: waits as long as asked (at most an hour), then retries.
//! - Anything else (no connection, timeout, 401, 5xx): retries with exponential backoff from
//!   `initial_backoff` to `max_backoff`, the error shown in the stream's status.
//!
//! A retry wait ends early when the stream is paused, disabled or deleted; the SET then stays
//! undelivered, and the position does not move.

use std::time::Duration;

use reqwest::{header, StatusCode};
use riskgate_caep::StreamStatus;

use crate::{
    streams::{Signed, StreamHandle},
    transmitter::Transmitter,
};

/// The stream stopped being enabled before the SET was accepted.
#[derive(Debug)]
pub struct Interrupted;

/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// What one attempt came to.
enum Attempt {
    Accepted,
    Refused(String),
    RetryAfter(Duration, String),
    Failed(String),
}

/// POSTs `set` to `endpoint_url` until the receiver accepts or refuses it.
pub async fn deliver(
    transmitter: &Transmitter,
    handle: &StreamHandle,
    endpoint_url: &str,
    authorization: Option<&str>,
    set: &Signed,
) -> Result<(), Interrupted> {
    let mut backoff = transmitter.delivery.initial_backoff;
    loop {
        let wait = match attempt(transmitter, endpoint_url, authorization, set).await {
            Attempt::Accepted => {
                handle.set_last_error(None);
                return Ok(());
            }
            Attempt::Refused(reason) => {
                tracing::warn!(jti = %set.jti, %reason, "the receiver refused a SET");
                handle.set_last_error(Some(format!(
                    "the receiver refused SET {}: {reason}",
                    set.jti
                )));
                return Ok(());
            }
            Attempt::RetryAfter(wait, reason) => {
                handle.set_last_error(Some(reason));
                wait.min(MAX_RETRY_AFTER)
            }
            Attempt::Failed(reason) => {
                tracing::debug!(jti = %set.jti, %reason, "push failed; retrying");
                handle.set_last_error(Some(reason));
                let wait = backoff;
                backoff = (backoff * 2).min(transmitter.delivery.max_backoff);
                wait
            }
        };
        wait_while_enabled(handle, wait).await?;
    }
}

async fn attempt(
    transmitter: &Transmitter,
    endpoint_url: &str,
    authorization: Option<&str>,
    set: &Signed,
) -> Attempt {
    let mut request = transmitter
        .http
        .post(endpoint_url)
        .timeout(transmitter.delivery.push_timeout)
        .header(header::CONTENT_TYPE, "application/secevent+jwt")
        .header(header::ACCEPT, "application/json")
        .body(set.jwt.clone());
    if let Some(authorization) = authorization {
        request = request.header(header::AUTHORIZATION, authorization);
    }
    let response = match request.send().await {
        Ok(response) => response,
        Err(err) => return Attempt::Failed(format!("POST {endpoint_url}: {err}")),
    };
    let status = response.status();
    if status.is_success() {
        return Attempt::Accepted;
    }
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(parse_retry_after);
    let body = response.text().await.unwrap_or_default();
    let reason = format!("POST {endpoint_url}: {status} {}", body.trim());
    match (status, retry_after) {
        (StatusCode::BAD_REQUEST, _) => Attempt::Refused(body.trim().to_owned()),
        (StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE, Some(wait)) => {
            Attempt::RetryAfter(wait, reason)
        }
        _ => Attempt::Failed(reason),
    }
}

/// `Retry-After` as seconds or an HTTP date (RFC 9110 §10.2.3).
fn parse_retry_after(value: &str) -> Option<Duration> {
    if let Ok(seconds) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// Sleeps `wait`, ending early (with [`Interrupted`]) when the stream stops being enabled.
async fn wait_while_enabled(handle: &StreamHandle, wait: Duration) -> Result<(), Interrupted> {
    let mut status = handle.status();
    if *status.borrow_and_update() != StreamStatus::Enabled {
        return Err(Interrupted);
    }
    let sleep = tokio::time::sleep(wait);
    tokio::pin!(sleep);
    loop {
        tokio::select! {
            () = &mut sleep => return Ok(()),
            changed = status.changed() => {
                if changed.is_err() || *status.borrow() != StreamStatus::Enabled {
                    return Err(Interrupted);
                }
            }
        }
    }
}
