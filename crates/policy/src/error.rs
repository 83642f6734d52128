//! Why the domain refuses a request: a malformed field, a missing or existing object, a state that does not
//! allow it, or a concurrent change. The core maps each to its gRPC code in its one error table.

/// A request the domain refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
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
    /// An optimistic-concurrency check failed: the object changed since the caller read it.
    #[error("{0}")]
    Aborted(String),
}

impl DomainError {
    /// A malformed field.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidArgument {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Result of a domain operation.
pub type DomainResult<T> = Result<T, DomainError>;
