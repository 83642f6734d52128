//! Request limits at the edge: concurrent streams per client, the connector identity a token may act for,
//! and the status for oversized messages.

use std::{collections::HashMap, sync::Arc};

use crate::{
    auth::Principal,
    error::CoreError,
    middleware::{Answer, Middleware},
};
use tonic::{Code, Request, Status};

use riskgate_policy::domain::ConnectorId;

/// The authenticated caller of `request`, as the auth layer recorded it (`None` with auth disabled).
pub(crate) fn caller<T>(request: &Request<T>) -> Option<Principal> {
    request.extensions().get::<Principal>().cloned()
}

/// The connector a connector host's request names in its `connector_id` field (read by `field`),
/// refused unless the caller's token may act for it.
pub(crate) fn acting_for<T>(
    request: &Request<T>,
    field: impl FnOnce(&T) -> &str,
) -> Result<ConnectorId, CoreError> {
    let connector_id = super::parse::connector_id("connector_id", field(request.get_ref()))?;
    check_connector(caller(request).as_ref(), &connector_id)?;
    Ok(connector_id)
}

/// Refuses a request whose token may not act for `connector_id` (auth disabled: everything is allowed).
pub(crate) fn check_connector(
    principal: Option<&Principal>,
    connector_id: &ConnectorId,
) -> Result<(), CoreError> {
    match principal {
        Some(principal) if !principal.may_act_for(connector_id) => {
            tracing::warn!(token = %principal.name, connector = %connector_id, "refused: token acts for another connector");
            Err(CoreError::PermissionDenied(format!(
                "token {:?} may not act for connector {connector_id}",
                principal.name
            )))
        }
        _ => Ok(()),
    }
}

/// Who counts as one client for stream limits: the token's name, or the peer address without auth.
pub(crate) fn client_key<T>(request: &Request<T>) -> String {
    match request.extensions().get::<Principal>() {
        Some(principal) => format!("token:{}", principal.name),
        None => request.remote_addr().map_or_else(
            || "unknown".to_owned(),
            |addr| format!("peer:{}", addr.ip()),
        ),
    }
}

/// Counts open streams per client.
#[derive(Debug)]
pub(crate) struct StreamLimiter {
    max_per_client: usize,
    open: parking_lot::Mutex<HashMap<String, usize>>,
}

/// One open stream; dropping it frees the slot.
#[derive(Debug)]
pub(crate) struct StreamSlot {
    limiter: Arc<StreamLimiter>,
    client: String,
}

impl StreamLimiter {
    /// At most `max_per_client` streams per client.
    pub(crate) fn new(max_per_client: usize) -> Arc<Self> {
        Arc::new(Self {
            max_per_client,
            open: parking_lot::Mutex::new(HashMap::new()),
        })
    }

    /// A slot for `client`, or RESOURCE_EXHAUSTED past the limit.
    pub(crate) fn acquire(self: &Arc<Self>, client: String) -> Result<StreamSlot, CoreError> {
        let mut open = self.open.lock();
        let count = open.entry(client.clone()).or_default();
        if *count >= self.max_per_client {
            return Err(CoreError::ResourceExhausted(format!(
                "{client} already has {} open streams, the limit per client",
                self.max_per_client
            )));
        }
        *count += 1;
        Ok(StreamSlot {
            limiter: self.clone(),
            client,
        })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.limiter.open.lock();
        if let Some(count) = open.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.client);
            }
        }
    }
}

/// tonic reports a message over the size limit as OUT_OF_RANGE; gRPC's convention (and ours) is
/// RESOURCE_EXHAUSTED. Other statuses pass unchanged.
pub(crate) fn message_size_status(status: Status) -> Status {
    if status.code() == Code::OutOfRange && status.message().contains("message length too large") {
        CoreError::ResourceExhausted(format!("request message too large: {}", status.message()))
            .into()
    } else {
        status
    }
}

/// The middleware that applies [`message_size_status`] to trailers-only error responses (unary calls).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct MessageSizeStatus;

impl<S, B> Middleware<S, B> for MessageSizeStatus
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
{
    fn call(&self, inner: &mut S, request: http::Request<B>) -> Answer<S::Response, S::Error> {
        let response = inner.call(request);
        Box::pin(async move {
            let response = response.await?;
            match Status::from_header_map(response.headers()) {
                Some(status) if status.code() == Code::OutOfRange => {
                    let rewritten = message_size_status(status);
                    if rewritten.code() == Code::OutOfRange {
                        return Ok(response);
                    }
                    Ok(rewritten.into_http())
                }
                _ => Ok(response),
            }
        })
    }
}
