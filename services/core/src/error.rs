//! The service's typed errors. The gRPC edge maps them to status codes in one table (`grpc/error.rs`).

use riskgate_policy::error::DomainError;

use riskgate_store::{StoreError, WriteError};

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The request is malformed. `field` is the path of the offending field, such as `reports[2].device_id`.
    #[error("{field}: {reason}")]
    InvalidArgument {
        /// Path of the field.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The thing asked for does not exist.
    #[error("{what} {id:?} not found")]
    NotFound {
        /// Kind of thing, such as "device".
        what: &'static str,
        /// Its id.
        id: String,
    },
    /// The thing to create exists already.
    #[error("{what} {id:?} already exists")]
    AlreadyExists {
        /// Kind of thing.
        what: &'static str,
        /// Its id.
        id: String,
    },
    /// The system is not in a state that allows the request, such as a report from a connector that is not set up.
    #[error("{0}")]
    FailedPrecondition(String),
    /// The caller's token may not do this (for example write another connector's data).
    #[error("{0}")]
    PermissionDenied(String),
    /// A limit was reached (streams per client, subscriptions).
    #[error("{0}")]
    ResourceExhausted(String),
    /// An optimistic-concurrency check failed: the object changed since the caller read it.
    #[error("{0}")]
    Aborted(String),
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

impl From<DomainError> for CoreError {
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::InvalidArgument { field, reason } => {
                Self::InvalidArgument { field, reason }
            }
            DomainError::NotFound { what, id } => Self::NotFound { what, id },
            DomainError::AlreadyExists { what, id } => Self::AlreadyExists { what, id },
            DomainError::FailedPrecondition(reason) => Self::FailedPrecondition(reason),
            DomainError::Aborted(reason) => Self::Aborted(reason),
        }
    }
}

impl From<WriteError> for CoreError {
    fn from(err: WriteError) -> Self {
        match err {
            WriteError::Refused(refusal) => refusal.into(),
            WriteError::Store(failure) => Self::Store(failure),
        }
    }
}

impl CoreError {
    /// A malformed field.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidArgument {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Result of a service operation.
pub type CoreResult<T> = Result<T, CoreError>;
