//! The `[gateway]` table: the listener that serves Envoy's external authorization (`Authorization/Check`)
//! and the rules that say which device, user and resource a request asks about (`crate::gateway`).
//! Off unless `gateway.listen` is set. Flags and environment variables override the table's scalar keys
//! (`--gateway-listen`, `RISKGATE_GATEWAY_LISTEN`, ...); host and path rules come only from the file.

use std::net::SocketAddr;

use serde::Deserialize;

use riskgate_policy::domain::ConnectorId;

use super::{parse_addr, pick_opt, ConfigError};
use crate::gateway::{
    DeviceSource, Mapping, PrincipalPattern, Route, UserSource, DEFAULT_RESOURCE_KEY,
    RESERVED_HEADER_PREFIX,
};

/// The validated gateway settings.
#[derive(Debug, Clone)]
pub(crate) struct GatewayConfig {
    /// Where `Authorization/Check` is served, with the main listener's TLS and tokens. Key `gateway.listen`.
    pub(crate) listen: SocketAddr,
    /// Who is asking, and for what.
    pub(crate) mapping: Mapping,
}

/// The gateway's flags; each also reads an environment variable.
#[derive(Debug, Default, clap::Args)]
pub(crate) struct GatewayArgs {
    /// Serve Envoy's ext_authz Check on this address [default: off].
    #[arg(long, env = "RISKGATE_GATEWAY_LISTEN")]
    pub(crate) gateway_listen: Option<String>,
    /// Device id from the client certificate principal, such as "spiffe://example.org/device/{id}".
    #[arg(long, env = "RISKGATE_GATEWAY_DEVICE_PRINCIPAL")]
    pub(crate) gateway_device_principal: Option<String>,
    /// Device id from this request header, set by a trusted proxy [default: off].
    #[arg(long, env = "RISKGATE_GATEWAY_DEVICE_HEADER")]
    pub(crate) gateway_device_header: Option<String>,
    /// User id from this request header [default: off].
    #[arg(long, env = "RISKGATE_GATEWAY_USER_HEADER")]
    pub(crate) gateway_user_header: Option<String>,
    /// User id from this claim of a JWT Envoy verified, as "<payload_in_metadata>.<claim>" [default: off].
    #[arg(long, env = "RISKGATE_GATEWAY_USER_CLAIM")]
    pub(crate) gateway_user_claim: Option<String>,
    /// The route's context_extensions key naming the resource [default: riskgate_resource].
    #[arg(long, env = "RISKGATE_GATEWAY_RESOURCE_KEY")]
    pub(crate) gateway_resource_key: Option<String>,
}

/// The `[gateway]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct GatewayFileConfig {
    listen: Option<String>,
    device_principal: Option<String>,
    device_header: Option<String>,
    user_header: Option<String>,
    user_claim: Option<String>,
    resource_key: Option<String>,
    #[serde(default)]
    routes: Vec<RouteFileConfig>,
}

/// One `[[gateway.routes]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteFileConfig {
    host: Option<String>,
    path_prefix: Option<String>,
    resource: String,
}

/// The gateway settings from `args` over `file`; `None` when `gateway.listen` is unset. Off loopback the
/// listener needs tokens or TLS, as the main one does.
pub(super) fn resolve(
    args: GatewayArgs,
    file: Option<GatewayFileConfig>,
    authenticated: bool,
) -> Result<Option<GatewayConfig>, ConfigError> {
    let file = file.unwrap_or_default();
    let device_principal = pick_opt(args.gateway_device_principal, file.device_principal);
    let device_header = pick_opt(args.gateway_device_header, file.device_header);
    let user_header = pick_opt(args.gateway_user_header, file.user_header);
    let user_claim = pick_opt(args.gateway_user_claim, file.user_claim);
    let resource_key = pick_opt(args.gateway_resource_key, file.resource_key);
    let Some(listen) = pick_opt(args.gateway_listen, file.listen) else {
        let configured = device_principal.is_some()
            || device_header.is_some()
            || user_header.is_some()
            || user_claim.is_some()
            || resource_key.is_some()
            || !file.routes.is_empty();
        if configured {
            return Err(ConfigError::new(
                "gateway.listen",
                "the gateway is off: set gateway.listen, or drop the other gateway keys",
            ));
        }
        return Ok(None);
    };
    let listen = parse_addr("gateway.listen", &listen)?;
    if !authenticated && !listen.ip().is_loopback() {
        return Err(ConfigError::new(
            "gateway.listen",
            format!("{listen} is not a loopback address: serving without [[tokens]] and [tls] is allowed only on loopback"),
        ));
    }
    let device = match (device_principal, device_header) {
        (Some(pattern), None) => DeviceSource::Principal(
            PrincipalPattern::parse(&pattern)
                .map_err(|reason| ConfigError::new("gateway.device_principal", reason))?,
        ),
        (None, Some(name)) => DeviceSource::Header(header_name("gateway.device_header", &name)?),
        (Some(_), Some(_)) => {
            return Err(ConfigError::new(
                "gateway.device_header",
                "set one of gateway.device_principal and gateway.device_header, not both",
            ))
        }
        (None, None) => {
            return Err(ConfigError::new(
                "gateway.device_principal",
                "the gateway needs a device identity: set gateway.device_principal (such as \"spiffe://example.org/device/{id}\") or gateway.device_header",
            ))
        }
    };
    let resource_key = resource_key.unwrap_or_else(|| DEFAULT_RESOURCE_KEY.to_owned());
    if resource_key.is_empty() {
        return Err(ConfigError::new(
            "gateway.resource_key",
            "must not be empty",
        ));
    }
    let mapping = Mapping {
        device,
        user: user_source(user_header, user_claim)?,
        resource_key,
        routes: routes(file.routes)?,
    };
    Ok(Some(GatewayConfig { listen, mapping }))
}

/// Where the user comes from: a header, a verified JWT claim, or neither (not both).
fn user_source(
    header: Option<String>,
    claim: Option<String>,
) -> Result<Option<UserSource>, ConfigError> {
    match (header, claim) {
        (None, None) => Ok(None),
        (Some(name), None) => Ok(Some(UserSource::Header(header_name(
            "gateway.user_header",
            &name,
        )?))),
        (None, Some(path)) => {
            let (payload, claim) = path
                .split_once('.')
                .filter(|(payload, claim)| !payload.is_empty() && !claim.is_empty())
                .ok_or_else(|| {
                    ConfigError::new(
                        "gateway.user_claim",
                        format!("{path:?} is not \"<payload_in_metadata>.<claim>\", such as \"jwt_payload.email\""),
                    )
                })?;
            Ok(Some(UserSource::JwtClaim {
                payload: payload.to_owned(),
                claim: claim.to_owned(),
            }))
        }
        (Some(_), Some(_)) => Err(ConfigError::new(
            "gateway.user_claim",
            "set one of gateway.user_header and gateway.user_claim, not both",
        )),
    }
}

/// A request header name, in lower case as Envoy sends them; riskgate's own prefix is refused, since the
/// gateway removes those headers as forged.
fn header_name(key: &str, raw: &str) -> Result<String, ConfigError> {
    let name = raw.trim().to_ascii_lowercase();
    if name.is_empty() || http::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err(ConfigError::new(
            key,
            format!("{raw:?} is not an HTTP header name"),
        ));
    }
    if name.starts_with(RESERVED_HEADER_PREFIX) {
        return Err(ConfigError::new(
            key,
            format!("{raw:?}: headers starting with {RESERVED_HEADER_PREFIX} are riskgate's own, removed from requests as forged"),
        ));
    }
    Ok(name)
}

fn routes(entries: Vec<RouteFileConfig>) -> Result<Vec<Route>, ConfigError> {
    entries
        .into_iter()
        .enumerate()
        .map(|(index, entry)| {
            let key = |field: &str| format!("gateway.routes[{index}].{field}");
            let path_prefix = entry.path_prefix.unwrap_or_else(|| "/".to_owned());
            if !path_prefix.starts_with('/') {
                return Err(ConfigError::new(
                    &key("path_prefix"),
                    format!("{path_prefix:?} must start with /"),
                ));
            }
            let host = entry.host.map(|host| host.trim().to_ascii_lowercase());
            if host.as_ref().is_some_and(|host| host.is_empty()) {
                return Err(ConfigError::new(
                    &key("host"),
                    "must not be empty (leave it out for any host)",
                ));
            }
            // Resource names follow the API's rule for object ids.
            ConnectorId::parse(&entry.resource)
                .map_err(|reason| ConfigError::new(&key("resource"), reason))?;
            Ok(Route {
                host,
                path_prefix,
                resource: entry.resource,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
