//! The service's typed errors. The gRPC edge maps them to status codes in one table (`grpc/error.rs`).

use riskgate_policy::error::DomainError;

use riskgate_store::{StoreError, WriteError};

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The domain refuses the request: a malformed field, a missing or existing object, a state that does not
    /// allow it, or a concurrent change.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The caller's token may not do this (for example write another connector's data).
    #[error("{0}")]
    PermissionDenied(String),
    /// A limit was reached (streams per client, subscriptions).
    #[error("{0}")]
    ResourceExhausted(String),
    /// A part the request needs is not reachable now (a connector's host holds no control stream).
    #[error("{0}")]
    Unavailable(String),
    /// A part the request waited on did not answer in time.
    #[error("{0}")]
    DeadlineExceeded(String),
    /// The caller did not prove who it is (no, malformed, unknown or expired token).
    #[error("{0}")]
    Unauthenticated(String),
    /// A subscription asked for log positions that are gone (compacted, or another store's cursor).
    #[error("{reason}; the oldest retained position is {oldest}: drop your cache and subscribe again without a cursor")]
    OutOfRange {
        /// Why the position cannot be served.
        reason: String,
        /// The oldest position still in the log, also sent in the `riskgate-oldest-position` trailer.
        oldest: u64,
    },
    /// A fault of ours that is not the store's: an invariant did not hold. Details go to the log only.
    #[error("{0}")]
    Internal(String),
    /// The store failed or is shutting down.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<WriteError> for CoreError {
    fn from(err: WriteError) -> Self {
        match err {
            WriteError::Refused(refusal) => Self::Domain(refusal),
            WriteError::Store(failure) => Self::Store(failure),
        }
    }
}

impl CoreError {
    /// A malformed field.
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Domain(DomainError::invalid(field, reason))
    }

    /// A missing object: `what` is its kind, such as "device".
    pub(crate) fn not_found(what: &'static str, id: impl Into<String>) -> Self {
        Self::Domain(DomainError::NotFound {
            what,
            id: id.into(),
        })
    }
}

/// Result of a service operation.
pub(crate) type CoreResult<T> = Result<T, CoreError>;
