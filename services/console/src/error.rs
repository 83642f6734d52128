//! The console's one error-to-response table. The core's statuses map to the HTTP status that says the
//! same; a core that cannot be reached is 503, and a core status with no HTTP counterpart (the core's
//! own INTERNAL among them) is 502, the gateway's answer for an upstream that failed.

use axum::{
    http::{header, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use maud::html;
use tonic::Code;

use crate::view::layout::{page, Frame};

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// The core refused or failed the call.
    #[error("{}", core_message(.0))]
    Core(tonic::Status),
    /// No session: sign in first.
    #[error("sign in first")]
    NotSignedIn,
    /// The form did not carry the session's CSRF token.
    #[error("the form's CSRF token is missing or wrong; reload the page and try again")]
    Csrf,
    /// The user's role does not allow it.
    #[error("{0}")]
    Forbidden(String),
    /// A parameter is malformed; the message names it.
    #[error("{0}")]
    BadRequest(String),
    /// Nothing here.
    #[error("{0}")]
    NotFound(String),
    /// A resource of the console is exhausted.
    #[error("{0}")]
    Unavailable(String),
}

impl From<tonic::Status> for ConsoleError {
    fn from(status: tonic::Status) -> Self {
        ConsoleError::Core(status)
    }
}

/// Shorthand for handlers' results.
pub type ConsoleResult<T> = Result<T, ConsoleError>;

impl ConsoleError {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            ConsoleError::Core(status) => match status.code() {
                Code::Unauthenticated => StatusCode::UNAUTHORIZED,
                Code::PermissionDenied => StatusCode::FORBIDDEN,
                Code::NotFound => StatusCode::NOT_FOUND,
                Code::InvalidArgument | Code::OutOfRange => StatusCode::BAD_REQUEST,
                Code::FailedPrecondition | Code::Aborted | Code::AlreadyExists => {
                    StatusCode::CONFLICT
                }
                Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
                Code::Unavailable | Code::DeadlineExceeded => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::BAD_GATEWAY,
            },
            ConsoleError::NotSignedIn => StatusCode::SEE_OTHER,
            ConsoleError::Csrf | ConsoleError::Forbidden(_) => StatusCode::FORBIDDEN,
            ConsoleError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ConsoleError::NotFound(_) => StatusCode::NOT_FOUND,
            ConsoleError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

fn core_message(status: &tonic::Status) -> String {
    match status.code() {
        Code::Unauthenticated => {
            "the core no longer accepts your token (expired or removed); sign in again".to_owned()
        }
        Code::Unavailable => format!("the core is unreachable: {}", status.message()),
        _ => status.message().to_owned(),
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        if matches!(self, ConsoleError::NotSignedIn) {
            return Redirect::to("/signin").into_response();
        }
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!(error = %self, "request failed");
        }
        let title = status.canonical_reason().unwrap_or("Error");
        let frame = Frame {
            title,
            section: None,
            session: None,
            live_after: None,
            device: None,
            flash: None,
        };
        let body = page(
            &frame,
            html! {
                main {
                    h1 { (status.as_u16()) " " (title) }
                    p class="error" id="error" { (self.to_string()) }
                    p { a href="/" { "Back to the overview" } }
                }
            },
        );
        (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body.into_string(),
        )
            .into_response()
    }
}
