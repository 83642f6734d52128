//! Authentication and authorisation: bearer tokens from configuration, stored as SHA-256 hashes, each with
//! roles; one table of which role may call which RPC; and the tower layer that enforces it on every request.
//!
//! Roles: `admin` may do everything; `reader` may query and ask for decisions; `subscriber` may subscribe;
//! `connector:<id>` may ingest, heartbeat and read its checkpoint for that connector only (the handlers check
//! the connector id in each request against the principal, see [`Principal::may_act_for`]); `gateway` may
//! ask Envoy's external-authorization `Check` (docs/gateway.md) and nothing else.
//! Health checks stay open. Failures are logged with the method and the reason, never the token.

use std::{collections::HashMap, sync::Arc};

use sha2::{Digest, Sha256};

use riskgate_policy::domain::{Clock, ConnectorId, Timestamp};

use crate::{
    error::CoreError,
    middleware::{Answer, Middleware},
};

/// A role a token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Role {
    /// Everything.
    Admin,
    /// Queries and decisions.
    Reader,
    /// Subscribe.
    Subscriber,
    /// Ingest, heartbeat and checkpoint for one connector.
    Connector(ConnectorId),
    /// Envoy's external-authorization `Check`, for a gateway in front of apps.
    Gateway,
}

impl std::fmt::Display for Role {
    /// The configured spelling, which [`Role::parse`] reads back.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Admin => f.write_str("admin"),
            Self::Reader => f.write_str("reader"),
            Self::Subscriber => f.write_str("subscriber"),
            Self::Gateway => f.write_str("gateway"),
            Self::Connector(id) => write!(f, "connector:{id}"),
        }
    }
}

impl Role {
    /// Parses `admin`, `reader`, `subscriber`, `gateway` or `connector:<id>`.
    pub(crate) fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "admin" => Ok(Self::Admin),
            "reader" => Ok(Self::Reader),
            "subscriber" => Ok(Self::Subscriber),
            "gateway" => Ok(Self::Gateway),
            _ => match raw.strip_prefix("connector:") {
                Some(id) => ConnectorId::parse(id)
                    .map(Self::Connector)
                    .map_err(|reason| format!("connector id {id:?}: {reason}")),
                None => Err(format!(
                    "{raw:?} is not a role (admin, reader, subscriber, gateway, connector:<id>)"
                )),
            },
        }
    }
}

/// A configured token, known only by its hash.
#[derive(Debug, Clone)]
pub(crate) struct TokenEntry {
    /// A name for logs (never the token itself).
    pub(crate) name: String,
    /// What it may do.
    pub(crate) roles: Vec<Role>,
    /// When it stops working, if ever.
    pub(crate) expires_at: Option<Timestamp>,
}

/// Who is calling: put in the request's extensions by [`AuthCheck`].
#[derive(Debug, Clone)]
pub(crate) struct Principal {
    /// The token's name.
    pub(crate) name: String,
    /// Its roles.
    pub(crate) roles: Vec<Role>,
    /// When the token stops working, if ever.
    pub(crate) expires_at: Option<Timestamp>,
}

impl Principal {
    fn has(&self, role: &Role) -> bool {
        self.roles.contains(role)
    }

    fn is_admin(&self) -> bool {
        self.has(&Role::Admin)
    }

    fn is_connector(&self) -> bool {
        self.roles
            .iter()
            .any(|role| matches!(role, Role::Connector(_)))
    }

    /// Whether this principal may write or read for `connector_id`: an admin, or that connector's own token.
    pub(crate) fn may_act_for(&self, connector_id: &ConnectorId) -> bool {
        self.is_admin() || self.has(&Role::Connector(connector_id.clone()))
    }
}

/// What an RPC requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Permission {
    /// Nothing: health checks.
    Open,
    /// Any valid token: server reflection, WhoAmI.
    Authenticated,
    /// reader or admin.
    Read,
    /// subscriber or admin.
    Subscribe,
    /// A connector token (checked per connector id by the handler) or admin. Covers the connector's
    /// checkpoint too: it is the vendor's cursor into its own API, not fleet data a reader needs.
    Connector,
    /// gateway or admin: Envoy's external-authorization `Check`.
    Gateway,
    /// admin only.
    Admin,
}

/// The one table from RPC path to permission. Unknown paths need admin.
pub(crate) fn permission_for(path: &str) -> Permission {
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    let (service, method) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let is_read = method.starts_with("Get") || method.starts_with("List");
    match service {
        "grpc.health.v1.Health" => Permission::Open,
        "grpc.reflection.v1.ServerReflection" | "grpc.reflection.v1alpha.ServerReflection" => {
            Permission::Authenticated
        }
        "riskgate.v1.IngestService" => Permission::Connector,
        "riskgate.v1.ConnectorService"
            if matches!(method, "Heartbeat" | "Control" | "CompleteControl") =>
        {
            Permission::Connector
        }
        "riskgate.v1.ConnectorService" | "riskgate.v1.PolicyService" if is_read => Permission::Read,
        "riskgate.v1.DeviceService" if method == "ClearKnownRisk" => Permission::Admin,
        "riskgate.v1.DeviceService" | "riskgate.v1.DecisionService" => Permission::Read,
        "riskgate.v1.RiskStream" => Permission::Subscribe,
        "riskgate.v1.EventLogService" => Permission::Read,
        "riskgate.v1.AuthService" => Permission::Authenticated,
        "envoy.service.auth.v3.Authorization" => Permission::Gateway,
        _ => Permission::Admin,
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No valid token: UNAUTHENTICATED.
    Unauthenticated(&'static str),
    /// A valid token without the role: PERMISSION_DENIED.
    PermissionDenied(String),
}

/// The configured tokens.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tokens {
    by_hash: HashMap<[u8; 32], TokenEntry>,
}

impl Tokens {
    /// Tokens from (SHA-256 hash, entry) pairs.
    pub(crate) fn new(entries: impl IntoIterator<Item = ([u8; 32], TokenEntry)>) -> Self {
        Self {
            by_hash: entries.into_iter().collect(),
        }
    }

    /// The SHA-256 of a token, as stored in configuration.
    pub(crate) fn hash(token: &str) -> [u8; 32] {
        Sha256::digest(token.as_bytes()).into()
    }

    /// Checks the `authorization` header value against the permission `path` needs.
    pub(crate) fn authorize(
        &self,
        authorization: Option<&str>,
        path: &str,
        now: Timestamp,
    ) -> Result<Option<Principal>, Refusal> {
        let permission = permission_for(path);
        if permission == Permission::Open {
            return Ok(None);
        }
        let token = authorization
            .ok_or(Refusal::Unauthenticated("missing bearer token"))?
            .strip_prefix("Bearer ")
            .ok_or(Refusal::Unauthenticated(
                "the authorization header must be \"Bearer <token>\"",
            ))?;
        let entry = self
            .by_hash
            .get(&Self::hash(token.trim()))
            .ok_or(Refusal::Unauthenticated("unknown token"))?;
        if entry.expires_at.is_some_and(|expires_at| now >= expires_at) {
            return Err(Refusal::Unauthenticated("expired token"));
        }
        let principal = Principal {
            name: entry.name.clone(),
            roles: entry.roles.clone(),
            expires_at: entry.expires_at,
        };
        let allowed = principal.is_admin()
            || match permission {
                Permission::Open | Permission::Authenticated => true,
                Permission::Read => principal.has(&Role::Reader),
                Permission::Subscribe => principal.has(&Role::Subscriber),
                Permission::Connector => principal.is_connector(),
                Permission::Gateway => principal.has(&Role::Gateway),
                Permission::Admin => false,
            };
        if !allowed {
            return Err(Refusal::PermissionDenied(format!(
                "token {:?} may not call {path}",
                principal.name
            )));
        }
        Ok(Some(principal))
    }
}

/// The middleware that authenticates and authorises every request. `None` tokens disable it (allowed only
/// on loopback; see `config`).
#[derive(Debug, Clone)]
pub(crate) struct AuthCheck {
    tokens: Option<Arc<Tokens>>,
    clock: Arc<dyn Clock>,
}

impl AuthCheck {
    /// Enforces `tokens` (or nothing, with `None`).
    pub(crate) fn new(tokens: Option<Arc<Tokens>>, clock: Arc<dyn Clock>) -> Self {
        Self { tokens, clock }
    }
}

impl<S, B> Middleware<S, B> for AuthCheck
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
{
    fn call(&self, inner: &mut S, mut request: http::Request<B>) -> Answer<S::Response, S::Error> {
        if let Some(tokens) = &self.tokens {
            let path = request.uri().path().to_owned();
            let header = request
                .headers()
                .get(http::header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok());
            match tokens.authorize(header, &path, self.clock.now()) {
                Ok(Some(principal)) => {
                    request.extensions_mut().insert(principal);
                }
                Ok(None) => {}
                Err(refusal) => {
                    let status = refusal_status(refusal, &path);
                    return Box::pin(async move { Ok(status.into_http()) });
                }
            }
        }
        Box::pin(inner.call(request))
    }
}

/// Logs a refusal with the method and the reason (never the token) and makes it the call's status.
fn refusal_status(refusal: Refusal, path: &str) -> tonic::Status {
    match refusal {
        Refusal::Unauthenticated(reason) => {
            tracing::warn!(method = %path, reason, "refused: unauthenticated");
            CoreError::Unauthenticated(reason.to_string()).into()
        }
        Refusal::PermissionDenied(reason) => {
            tracing::warn!(method = %path, %reason, "refused: permission denied");
            CoreError::PermissionDenied(reason).into()
        }
    }
}

#[cfg(test)]
mod tests;
