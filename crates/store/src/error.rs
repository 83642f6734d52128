//! Why a write request failed: the domain refused it, or the store failed.

use riskgate_policy::error::DomainError;

use crate::engine::StoreError;

/// A write request's failure.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The domain refused the request (unknown connector, version conflict, malformed command).
    #[error(transparent)]
    Refused(#[from] DomainError),
    /// The store failed or is shutting down.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Result of a write request.
pub type WriteResult<T> = Result<T, WriteError>;
