//! The management API's errors and the one table from error to HTTP status. Bodies are
//! `{"error": <code>, "description": <text>}`, the description naming the field when a request is bad.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use riskgate_caep::stream::FieldError;
use serde_json::json;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A field is missing or wrong: 400 naming it.
    #[error("{0}")]
    BadRequest(#[from] FieldError),
    /// No valid token: 401.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// A valid token without the role: 403.
    #[error("this token may not {0}")]
    Forbidden(&'static str),
    /// No such stream, or not the caller's: 404.
    #[error("no stream {0:?}")]
    NoStream(String),
    /// Asked again before the interval passed: 429 with `Retry-After`.
    #[error(
        "verification was requested less than {interval_secs} s ago; retry in {retry_after_secs} s"
    )]
    TooSoon {
        /// The stream's `min_verification_interval`.
        interval_secs: u64,
        /// Seconds until the next request is accepted.
        retry_after_secs: u64,
    },
    /// The request cannot apply to the transmitter as configured: 409.
    #[error("{0}")]
    Conflict(String),
    /// The core cannot be reached, so the change cannot be made safely: 503.
    #[error("{0}")]
    Unavailable(String),
    /// The transmitter's own fault (store, signing): 500.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A 400 naming `field`.
    pub fn field(field: &str, reason: impl Into<String>) -> ApiError {
        ApiError::BadRequest(FieldError {
            field: field.to_owned(),
            reason: reason.into(),
        })
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
            ApiError::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "invalid_token"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "insufficient_scope"),
            ApiError::NoStream(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::TooSoon { .. } => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Unavailable(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable")
            }
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if matches!(self, ApiError::Internal(_)) {
            tracing::error!(error = %self, "management request failed");
        }
        let mut response = (
            status,
            Json(json!({ "error": code, "description": self.to_string() })),
        )
            .into_response();
        let headers = response.headers_mut();
        match &self {
            ApiError::Unauthenticated(_) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::TooSoon {
                retry_after_secs, ..
            } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            _ => {}
        }
        response
    }
}
