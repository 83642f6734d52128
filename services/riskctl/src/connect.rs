//! Connecting to the core: the channel (plain or TLS, optionally mutual), the bearer token, and a
//! client of each service that sends it.
//!
//! The token comes from --token, else --token-file, else `RISKCTL_TOKEN` (see `--help`).

use std::{path::Path, time::Duration};

use riskgate_proto::{
    bearer::{Authed, BearerToken},
    v1::{
        connector_service_client::ConnectorServiceClient,
        decision_service_client::DecisionServiceClient, device_service_client::DeviceServiceClient,
        policy_service_client::PolicyServiceClient, risk_stream_client::RiskStreamClient,
    },
};
use tonic::{
    service::interceptor::InterceptedService,
    transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity},
    Status,
};

use crate::{
    cli::{GlobalArgs, TOKEN_ENV},
    error::{error_chain, CliError, CliResult},
};

/// How long connecting may take before the server counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection to one core, with a client constructor per service.
#[derive(Debug, Clone)]
pub(crate) struct Connection {
    channel: Channel,
    token: BearerToken,
    url: String,
}

impl Connection {
    /// Connects to `--server` with the token and TLS options of `global`.
    pub(crate) async fn open(global: &GlobalArgs) -> CliResult<Self> {
        let token = resolve_token(global)?.map_or_else(BearerToken::none, |(token, _)| token);
        let url = global.server.clone();
        let unreachable = |detail: String| CliError::Unreachable {
            url: url.clone(),
            detail,
        };
        let mut endpoint = Endpoint::from_shared(url.clone())
            .map_err(|err| CliError::Other(format!("--server {url:?} is not a URL: {err}")))?
            .connect_timeout(CONNECT_TIMEOUT);
        if url.starts_with("https://") {
            endpoint = endpoint
                .tls_config(tls_config(global)?)
                .map_err(|err| unreachable(error_chain(&err)))?;
        } else if global.ca_cert.is_some() || global.client_cert.is_some() {
            return Err(CliError::Other(format!(
                "--ca-cert and --client-cert need an https:// --server, not {url}"
            )));
        }
        let channel = endpoint
            .connect()
            .await
            .map_err(|err| unreachable(error_chain(&err)))?;
        Ok(Self {
            channel,
            token,
            url,
        })
    }

    /// The server URL, for messages.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Maps a failed call to the user's error.
    pub(crate) fn status(&self, status: &Status) -> CliError {
        CliError::from_status(status, &self.url)
    }

    fn authed(&self) -> Authed {
        InterceptedService::new(self.channel.clone(), self.token.clone())
    }

    /// A `DeviceService` client.
    pub(crate) fn devices(&self) -> DeviceServiceClient<Authed> {
        DeviceServiceClient::new(self.authed())
    }

    /// A `ConnectorService` client.
    pub(crate) fn connectors(&self) -> ConnectorServiceClient<Authed> {
        ConnectorServiceClient::new(self.authed())
    }

    /// A `PolicyService` client.
    pub(crate) fn policies(&self) -> PolicyServiceClient<Authed> {
        PolicyServiceClient::new(self.authed())
    }

    /// A `DecisionService` client.
    pub(crate) fn decisions(&self) -> DecisionServiceClient<Authed> {
        DecisionServiceClient::new(self.authed())
    }

    /// A `RiskStream` client.
    pub(crate) fn stream(&self) -> RiskStreamClient<Authed> {
        RiskStreamClient::new(self.authed())
    }
}

/// The `Authorization` header value for HTTP APIs (the SSF transmitter), from the same token options.
pub(crate) fn bearer_header(global: &GlobalArgs) -> CliResult<Option<String>> {
    Ok(resolve_token(global)?.map(|(_, header)| header))
}

/// The CA of --ca-cert, PEM, checked to be one.
pub(crate) fn ca_pem(global: &GlobalArgs) -> CliResult<Option<Vec<u8>>> {
    global.ca_cert.as_deref().map(read_pem).transpose()
}

/// The token: --token, else --token-file, else `RISKCTL_TOKEN`, else none; as the gRPC interceptor and
/// as the HTTP `Authorization` value.
fn resolve_token(global: &GlobalArgs) -> CliResult<Option<(BearerToken, String)>> {
    let (token, source) = if let Some(token) = &global.token {
        (token.clone(), "--token".to_owned())
    } else if let Some(path) = &global.token_file {
        let text = std::fs::read_to_string(path).map_err(|err| CliError::file(path, err))?;
        (text, format!("--token-file {}", path.display()))
    } else {
        match std::env::var(TOKEN_ENV) {
            Ok(token) => (token, TOKEN_ENV.to_owned()),
            Err(_) => return Ok(None),
        }
    };
    // A token file usually ends with a newline; no token contains whitespace.
    let token = token.trim();
    if token.is_empty() {
        return Err(match &global.token_file {
            Some(path) if global.token.is_none() => CliError::file(path, "the token file is empty"),
            _ => CliError::Other(format!("the token from {source} is empty")),
        });
    }
    let interceptor = BearerToken::new(token)
        .map_err(|_| CliError::Other(format!("the token from {source} is not printable ASCII")))?;
    Ok(Some((interceptor, format!("Bearer {token}"))))
}

/// The TLS settings: the CA from --ca-cert, and the client identity for mutual TLS.
fn tls_config(global: &GlobalArgs) -> CliResult<ClientTlsConfig> {
    let Some(ca) = &global.ca_cert else {
        return Err(CliError::Other(format!(
            "{} is https: pass --ca-cert FILE with the CA that signed the server's certificate",
            global.server
        )));
    };
    let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read_pem(ca)?));
    if let (Some(cert), Some(key)) = (&global.client_cert, &global.client_key) {
        tls = tls.identity(Identity::from_pem(read_pem(cert)?, read_pem(key)?));
    }
    Ok(tls)
}

fn read_pem(path: &Path) -> CliResult<Vec<u8>> {
    let bytes = std::fs::read(path).map_err(|err| CliError::file(path, err))?;
    if !bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        return Err(CliError::file(path, "not a PEM file (no -----BEGIN line)"));
    }
    Ok(bytes)
}
