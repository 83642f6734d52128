//! The CLI's failures, each with its own exit code, printed as one line on stderr.
//!
//! The codes are part of the CLI's interface (scripts branch on them) and are listed in `--help`
//! ([`EXIT_CODES_HELP`]); change both together.

use std::path::Path;

use tonic::{Code, Status};

/// The exit-code table shown at the end of `riskctl --help`.
pub(crate) const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  any other error (the server failed, a conflict, ...)
  2  bad command line (usage)
  3  cannot reach riskgate (connection refused, TLS failure, server unavailable)
  4  authentication refused (UNAUTHENTICATED: missing, wrong or expired token; PERMISSION_DENIED: role)
  5  not found (device, connector, policy or resource)
  6  invalid argument: the server refused a value; its message names the field
  7  invalid file: a policy, connector, token, certificate or cursor file is unreadable or malformed
  8  watch: the saved cursor is out of range (compacted away, or from another store)";

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// The server could not be reached at all, or is unavailable.
    #[error("cannot reach riskgate at {url}: {detail}")]
    Unreachable { url: String, detail: String },
    /// The server refused the credentials (UNAUTHENTICATED) or the role (PERMISSION_DENIED).
    #[error("authentication refused ({code}): {message}")]
    Auth { code: &'static str, message: String },
    /// NOT_FOUND.
    #[error("not found: {0}")]
    NotFound(String),
    /// INVALID_ARGUMENT: the server's message names the field.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A local file is unreadable or malformed; `location` is `path` or `path:line:col`.
    #[error("invalid file {location}: {reason}")]
    InvalidFile { location: String, reason: String },
    /// The saved cursor can no longer be resumed from.
    #[error("{0}")]
    CursorOutOfRange(String),
    /// Anything else, already phrased for the user.
    #[error("{0}")]
    Other(String),
}

impl CliError {
    /// The process exit code for this error (see [`EXIT_CODES_HELP`]).
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            CliError::Other(_) => 1,
            CliError::Unreachable { .. } => 3,
            CliError::Auth { .. } => 4,
            CliError::NotFound(_) => 5,
            CliError::InvalidArgument(_) => 6,
            CliError::InvalidFile { .. } => 7,
            CliError::CursorOutOfRange(_) => 8,
        }
    }

    /// A file error without a position (unreadable, wrong extension, ...).
    pub(crate) fn file(path: &Path, reason: impl std::fmt::Display) -> Self {
        CliError::InvalidFile {
            location: path.display().to_string(),
            reason: reason.to_string(),
        }
    }

    /// A file error at a 1-based line and column.
    pub(crate) fn file_at(path: &Path, line: usize, column: usize, reason: &str) -> Self {
        CliError::InvalidFile {
            location: format!("{}:{line}:{column}", path.display()),
            reason: reason.to_owned(),
        }
    }

    /// Maps a failed RPC to the error the user sees; `url` names the server for UNAVAILABLE.
    pub(crate) fn from_status(status: &Status, url: &str) -> Self {
        let message = one_line(status.message());
        // A status that carries a source was made on this side from a failed connection (tonic gives
        // it UNKNOWN or CANCELLED, for example on a TLS alert when mutual TLS refuses the client);
        // riskctl never cancels a call itself.
        let local_failure = std::error::Error::source(status).map(error_chain);
        match (status.code(), local_failure) {
            (Code::Unknown | Code::Cancelled | Code::Unavailable, Some(cause)) => {
                CliError::Unreachable {
                    url: url.to_owned(),
                    detail: format!("{message}: {cause}"),
                }
            }
            (Code::Unavailable, None) if message.is_empty() => CliError::Unreachable {
                url: url.to_owned(),
                detail: "the server is unavailable".to_owned(),
            },
            // riskgate itself answered: a part it needs for this request is not there (a connector's
            // host for a re-check), which says nothing about reaching riskgate.
            (Code::Unavailable, None) => {
                CliError::Other(format!("riskgate cannot do this now: {message}"))
            }
            (code, _) => Self::from_code(code, message),
        }
    }

    fn from_code(code: Code, message: String) -> Self {
        match code {
            Code::Unauthenticated => CliError::Auth {
                code: "UNAUTHENTICATED",
                message,
            },
            Code::PermissionDenied => CliError::Auth {
                code: "PERMISSION_DENIED",
                message,
            },
            Code::NotFound => CliError::NotFound(message),
            Code::InvalidArgument => CliError::InvalidArgument(message),
            code => CliError::Other(format!(
                "riskgate refused the request ({code:?}): {message}"
            )),
        }
    }
}

/// Joins a multi-line message into one line, so every error is exactly one line on stderr.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A transport error with its whole cause chain (tonic's top level says only "transport error").
pub(crate) fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    one_line(&parts.join(": "))
}

/// The result of every command.
pub(crate) type CliResult<T> = Result<T, CliError>;
