//! The one table from the service's typed errors to gRPC statuses.

use riskgate_policy::error::DomainError;
use riskgate_store::StoreError;
use tonic::{metadata::MetadataMap, Code, Status};

use crate::error::CoreError;

/// The trailer of an OUT_OF_RANGE subscription refusal that names the oldest retained position.
const OLDEST_POSITION_TRAILER: &str = "riskgate-oldest-position";

impl From<CoreError> for Status {
    fn from(err: CoreError) -> Self {
        let code = match &err {
            CoreError::Domain(DomainError::InvalidArgument { .. }) => Code::InvalidArgument,
            CoreError::Domain(DomainError::NotFound { .. }) => Code::NotFound,
            CoreError::Domain(DomainError::AlreadyExists { .. }) => Code::AlreadyExists,
            CoreError::Domain(DomainError::FailedPrecondition(_)) => Code::FailedPrecondition,
            CoreError::Domain(DomainError::Aborted(_)) => Code::Aborted,
            CoreError::Unavailable(_) => Code::Unavailable,
            CoreError::DeadlineExceeded(_) => Code::DeadlineExceeded,
            CoreError::PermissionDenied(_) => Code::PermissionDenied,
            CoreError::ResourceExhausted(_) => Code::ResourceExhausted,
            CoreError::Unauthenticated(_) => Code::Unauthenticated,
            CoreError::OutOfRange { .. } => Code::OutOfRange,
            CoreError::Internal(_) => Code::Internal,
            CoreError::Store(StoreError::Closed) => Code::Unavailable,
            CoreError::Store(_) => Code::Internal,
        };
        if code == Code::Internal {
            // Internal details go to the log, not to the client.
            tracing::error!(error = %err, "internal error");
            let message = match err {
                CoreError::Store(_) => "internal storage error; see the server log",
                _ => "internal error; see the server log",
            };
            return Status::new(code, message);
        }
        if let CoreError::OutOfRange { oldest, .. } = err {
            let mut trailers = MetadataMap::new();
            if let Ok(value) = oldest.to_string().parse() {
                trailers.insert(OLDEST_POSITION_TRAILER, value);
            }
            return Status::with_metadata(code, err.to_string(), trailers);
        }
        Status::new(code, err.to_string())
    }
}
