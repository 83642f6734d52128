//! The bearer token riskgate's own gRPC clients (riskctl, the SSF transmitter) send on every call: a
//! tonic interceptor that adds `authorization: Bearer <token>`, or nothing without a token.

use tonic::{
    metadata::{errors::InvalidMetadataValue, Ascii, MetadataValue},
    service::{interceptor::InterceptedService, Interceptor},
    transport::Channel,
    Request, Status,
};

/// Adds `authorization: Bearer <token>` to every request, if there is a token.
#[derive(Debug, Clone, Default)]
pub struct BearerToken(Option<MetadataValue<Ascii>>);

impl BearerToken {
    /// A token (surrounding whitespace removed); an error when it is not printable ASCII.
    pub fn new(token: &str) -> Result<BearerToken, InvalidMetadataValue> {
        format!("Bearer {}", token.trim())
            .parse()
            .map(|value| BearerToken(Some(value)))
    }

    /// No token.
    pub fn none() -> BearerToken {
        BearerToken(None)
    }
}

impl Interceptor for BearerToken {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// A channel whose calls carry the token.
pub type Authed = InterceptedService<Channel, BearerToken>;
