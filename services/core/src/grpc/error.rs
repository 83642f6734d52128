//! The one table from the service's typed errors to gRPC statuses.

use riskgate_store::StoreError;
use tonic::{Code, Status};

use crate::error::CoreError;

impl From<CoreError> for Status {
    fn from(err: CoreError) -> Self {
        let code = match &err {
            CoreError::InvalidArgument { .. } => Code::InvalidArgument,
            CoreError::NotFound { .. } => Code::NotFound,
            CoreError::AlreadyExists { .. } => Code::AlreadyExists,
            CoreError::FailedPrecondition(_) => Code::FailedPrecondition,
            CoreError::Aborted(_) => Code::Aborted,
            CoreError::Unavailable(_) => Code::Unavailable,
            CoreError::DeadlineExceeded(_) => Code::DeadlineExceeded,
            CoreError::PermissionDenied(_) => Code::PermissionDenied,
            CoreError::ResourceExhausted(_) => Code::ResourceExhausted,
            CoreError::Store(StoreError::Closed) => Code::Unavailable,
            CoreError::Store(_) => Code::Internal,
        };
        if code == Code::Internal {
            // Internal details go to the log, not to the client.
            tracing::error!(error = %err, "internal error");
            return Status::new(code, "internal storage error; see the server log");
        }
        Status::new(code, err.to_string())
    }
}
