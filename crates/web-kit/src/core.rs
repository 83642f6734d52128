//! The gRPC channel from an HTTP service to the core, and the service's own bearer token.

use std::time::Duration;

use riskgate_proto::{
    bearer::{Authed, BearerToken},
    v1::{
        risk_stream_client::RiskStreamClient, subscribe_response::Message, SubscribeRequest,
        SubscriptionFilter,
    },
};
use tonic::{
    service::interceptor::InterceptedService,
    transport::{Certificate, Channel, ClientTlsConfig, Endpoint},
    Status,
};

use crate::config::CoreConfig;

/// A device id no device has: a subscription filtered to it has an empty snapshot however large the
/// fleet, and its end carries the head.
const HEAD_PROBE_DEVICE: &str = "riskgate.head-probe.no-such-device";

/// Why the core cannot be reached as configured; each names the `[core]` key.
#[derive(Debug, thiserror::Error)]
pub enum CoreSetupError {
    /// A file named in `[core]` could not be read.
    #[error("core.{key} {path}: {source}")]
    Read {
        /// The key.
        key: &'static str,
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A value in `[core]` is not usable.
    #[error("core.{key}: {reason}")]
    Invalid {
        /// The key.
        key: &'static str,
        /// Why.
        reason: String,
    },
}

/// A lazily connecting channel to the core and the service's token for it.
#[derive(Debug, Clone)]
pub struct CoreLink {
    /// The channel; it connects at the first call and reconnects by itself.
    pub channel: Channel,
    /// The service's own token (none: the core runs without authentication, loopback only).
    pub token: BearerToken,
}

impl CoreLink {
    /// Reads `[core]`'s files and makes the channel.
    pub fn from_config(config: &CoreConfig) -> Result<Self, CoreSetupError> {
        let read = |key: &'static str, path: &std::path::Path| {
            std::fs::read(path).map_err(|source| CoreSetupError::Read {
                key,
                path: path.display().to_string(),
                source,
            })
        };
        let ca = config
            .ca_file
            .as_deref()
            .map(|path| read("ca_file", path))
            .transpose()?;
        let token = match config.token_file.as_deref() {
            Some(path) => {
                let text = String::from_utf8(read("token_file", path)?).map_err(|_| {
                    CoreSetupError::Invalid {
                        key: "token_file",
                        reason: "the token is not UTF-8".into(),
                    }
                })?;
                Some(text)
            }
            None => None,
        };
        Self::new(&config.url, token.as_deref(), ca)
    }

    /// A channel to `url` sending `token`, trusting `ca_pem` for https.
    pub fn new(
        url: &str,
        token: Option<&str>,
        ca_pem: Option<Vec<u8>>,
    ) -> Result<Self, CoreSetupError> {
        let invalid = |key: &'static str, reason: String| CoreSetupError::Invalid { key, reason };
        let mut endpoint = Endpoint::from_shared(url.to_owned())
            .map_err(|err| invalid("url", format!("{url:?}: {err}")))?
            .connect_timeout(Duration::from_secs(5))
            .http2_keep_alive_interval(Duration::from_secs(30));
        if let Some(ca_pem) = ca_pem {
            endpoint = endpoint
                .tls_config(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca_pem)))
                .map_err(|err| invalid("ca_file", err.to_string()))?;
        }
        let token = match token {
            Some(token) => BearerToken::new(token)
                .map_err(|_| invalid("token_file", "the token is not printable ASCII".into()))?,
            None => BearerToken::none(),
        };
        Ok(Self {
            channel: endpoint.connect_lazy(),
            token,
        })
    }

    /// The channel with the service's token on every call.
    pub fn authed(&self) -> Authed {
        InterceptedService::new(self.channel.clone(), self.token.clone())
    }

    /// The core's head position and a cursor at it, read as the end of a subscription whose snapshot
    /// matches no device (the token needs the `subscriber` role).
    pub async fn head(&self) -> Result<(u64, String), Status> {
        let request = SubscribeRequest {
            filter: Some(SubscriptionFilter {
                device_ids: vec![HEAD_PROBE_DEVICE.to_owned()],
                ..SubscriptionFilter::default()
            }),
            cursor: String::new(),
            progress_interval_ms: 0,
        };
        let mut stream = RiskStreamClient::new(self.authed())
            .subscribe(request)
            .await?
            .into_inner();
        while let Some(message) = stream.message().await? {
            if let Some(Message::SnapshotEnd(end)) = message.message {
                return Ok((end.position, end.cursor));
            }
        }
        Err(Status::unavailable(
            "the core ended the stream before its snapshot's end",
        ))
    }
}
