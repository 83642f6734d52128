//! Who is asking, and for what: the rules that take the device, the user and the resource out of an HTTP
//! request a gateway (Envoy's ext_authz) holds, and the request headers a client could forge. Pure: no
//! proto types and no I/O, so the rules are unit-tested here and configured in `config` (docs/gateway.md).
//!
//! Everything that is missing is an [`Missing`]: the gateway denies it, it never allows by default.

use std::collections::HashMap;

/// Request headers with this prefix are riskgate's to set: a client's are ignored and removed upstream.
pub(crate) const RESERVED_HEADER_PREFIX: &str = "x-riskgate-";
/// The header an allowed request carries upstream: `allow`.
pub(crate) const DECISION_HEADER: &str = "x-riskgate-decision";
/// The header an allowed request carries upstream: the log position the decision reflects.
pub(crate) const POSITION_HEADER: &str = "x-riskgate-position";
/// The `context_extensions` key that names the resource unless configured otherwise.
pub(crate) const DEFAULT_RESOURCE_KEY: &str = "riskgate_resource";
/// The placeholder of the device id in a principal pattern.
const ID_PLACEHOLDER: &str = "{id}";

/// A pattern such as `spiffe://example.org/device/{id}` that the peer certificate's principal must match;
/// the `{id}` part is the device id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PrincipalPattern {
    prefix: String,
    suffix: String,
}

impl PrincipalPattern {
    /// Parses a pattern holding `{id}` exactly once.
    pub(crate) fn parse(raw: &str) -> Result<Self, String> {
        let (prefix, suffix) = raw
            .split_once(ID_PLACEHOLDER)
            .ok_or_else(|| format!("{raw:?} does not hold {ID_PLACEHOLDER}"))?;
        if suffix.contains(ID_PLACEHOLDER) {
            return Err(format!("{raw:?} holds {ID_PLACEHOLDER} more than once"));
        }
        if prefix.is_empty() && suffix.is_empty() {
            return Err(format!(
                "{raw:?} is only {ID_PLACEHOLDER}: any principal would be a device"
            ));
        }
        Ok(Self {
            prefix: prefix.to_owned(),
            suffix: suffix.to_owned(),
        })
    }

    /// The device id in `principal`, if it matches (a non-empty `{id}` part).
    pub(crate) fn device_id<'a>(&self, principal: &'a str) -> Option<&'a str> {
        principal
            .strip_prefix(self.prefix.as_str())?
            .strip_suffix(self.suffix.as_str())
            .filter(|id| !id.is_empty())
    }
}

/// Where the device id comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DeviceSource {
    /// The peer certificate's principal (Envoy's `source.principal`), through a pattern.
    Principal(PrincipalPattern),
    /// A request header (lower case) that a trusted proxy in front of the gateway sets.
    Header(String),
}

/// Where the user comes from, when the gateway names one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UserSource {
    /// A request header (lower case).
    Header(String),
    /// A claim of a JWT the gateway verified: Envoy's `jwt_authn` filter with `payload_in_metadata`
    /// puts the verified payload in the request's metadata, under `payload`; only verified tokens get
    /// there, so a client cannot forge it as it can a header.
    JwtClaim {
        /// The `payload_in_metadata` name.
        payload: String,
        /// The claim, such as `email` or `sub`.
        claim: String,
    },
}

/// A host and path rule that names a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    /// The host (lower case, no port) the rule applies to; `None` for any host.
    pub(crate) host: Option<String>,
    /// The path prefix the rule applies to (`/` for every path).
    pub(crate) path_prefix: String,
    /// The resource it names.
    pub(crate) resource: String,
}

/// The configured rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mapping {
    /// Where the device id comes from.
    pub(crate) device: DeviceSource,
    /// Where the user comes from, if the gateway names one.
    pub(crate) user: Option<UserSource>,
    /// The `context_extensions` key that names the resource; it wins over `routes`.
    pub(crate) resource_key: String,
    /// Host and path rules, the first match wins.
    pub(crate) routes: Vec<Route>,
}

/// What the gateway knows of one HTTP request; header names are lower case, as Envoy sends them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestFacts<'a> {
    /// The peer certificate's URI SAN (or subject), empty without one.
    pub(crate) principal: &'a str,
    /// The request headers.
    pub(crate) headers: &'a HashMap<String, String>,
    /// The route's `context_extensions`.
    pub(crate) context_extensions: &'a HashMap<String, String>,
    /// The request's host (`:authority`), possibly with a port.
    pub(crate) host: &'a str,
    /// The request's path, possibly with a query.
    pub(crate) path: &'a str,
    /// The string claims of the JWT payloads Envoy's `jwt_authn` filter verified, by
    /// `(payload_in_metadata name, claim)`.
    pub(crate) jwt_claims: &'a HashMap<(String, String), String>,
}

/// The question a request asks, as raw text: the decision code parses and checks it like CheckAccess's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Question<'a> {
    /// The device id.
    pub(crate) device_id: &'a str,
    /// The user, if the mapping names a source and the request carries it.
    pub(crate) user_id: Option<&'a str>,
    /// The resource name.
    pub(crate) resource: &'a str,
}

/// What a request leaves out, so that it asks no answerable question; the gateway denies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Missing {
    /// The request does not say which device it comes from.
    DeviceIdentity(&'static str),
    /// The gateway names users, and the request carries none.
    User,
    /// The request names no resource.
    Resource,
}

impl Missing {
    /// The reason code a deny quotes.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            Self::DeviceIdentity(_) => "no_device_identity",
            Self::User => "no_user",
            Self::Resource => "no_resource",
        }
    }

    /// What is missing, for the client.
    pub(crate) fn detail(&self) -> &'static str {
        match self {
            Self::DeviceIdentity(detail) => detail,
            Self::User => "the gateway names the user, and the request names none",
            Self::Resource => "no context extension and no host and path rule names a resource",
        }
    }
}

impl Mapping {
    /// The device, user and resource `facts` ask about.
    pub(crate) fn question<'a>(
        &'a self,
        facts: &RequestFacts<'a>,
    ) -> Result<Question<'a>, Missing> {
        let device_id = match &self.device {
            DeviceSource::Principal(_) if facts.principal.is_empty() => {
                return Err(Missing::DeviceIdentity("no client certificate principal"));
            }
            DeviceSource::Principal(pattern) => {
                pattern
                    .device_id(facts.principal)
                    .ok_or(Missing::DeviceIdentity(
                        "the client certificate principal does not match the device pattern",
                    ))?
            }
            DeviceSource::Header(name) => facts
                .headers
                .get(name)
                .map(String::as_str)
                .ok_or(Missing::DeviceIdentity("no device header"))?,
        };
        let user_id = self.user_id(facts)?;
        let resource = self.resource(facts).ok_or(Missing::Resource)?;
        Ok(Question {
            device_id,
            user_id,
            resource,
        })
    }

    /// The user the configured source names; `None` when no source is configured. With a source, a
    /// request that carries no user (no header, no verified token with the claim) is unanswerable: a
    /// missing user never skips the owner check.
    fn user_id<'a>(&self, facts: &RequestFacts<'a>) -> Result<Option<&'a str>, Missing> {
        let Some(source) = self.user.as_ref() else {
            return Ok(None);
        };
        let user = match source {
            UserSource::Header(name) => facts.headers.get(name),
            UserSource::JwtClaim { payload, claim } => {
                facts.jwt_claims.get(&(payload.clone(), claim.clone()))
            }
        };
        user.map(String::as_str)
            .filter(|user| !user.is_empty())
            .map(Some)
            .ok_or(Missing::User)
    }

    /// The resource the route's context extension names, else the first host and path rule that matches.
    fn resource<'a>(&'a self, facts: &RequestFacts<'a>) -> Option<&'a str> {
        if let Some(resource) = facts.context_extensions.get(&self.resource_key) {
            return Some(resource.as_str());
        }
        let host = host_without_port(facts.host).to_ascii_lowercase();
        let path = facts.path.split(['?', '#']).next().unwrap_or_default();
        self.routes
            .iter()
            .find(|route| {
                route.host.as_ref().is_none_or(|want| *want == host)
                    && path.starts_with(route.path_prefix.as_str())
            })
            .map(|route| route.resource.as_str())
    }

    /// The request headers a client could forge, to be removed before the request goes upstream: every
    /// `x-riskgate-*` header except the two an allow sets, which it overwrites instead (removing them
    /// could drop riskgate's own values, depending on the order the proxy applies the two lists).
    /// The device id is never read from them: a device header must be configured, and `config` refuses one
    /// with this prefix.
    pub(crate) fn forged_headers(headers: &HashMap<String, String>) -> Vec<String> {
        let mut forged: Vec<String> = headers
            .keys()
            .filter(|name| {
                name.starts_with(RESERVED_HEADER_PREFIX)
                    && name.as_str() != DECISION_HEADER
                    && name.as_str() != POSITION_HEADER
            })
            .cloned()
            .collect();
        forged.sort();
        forged
    }
}

/// `host` without a trailing `:port` (IPv6 literals keep their brackets).
fn host_without_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            if name.starts_with('[') && !name.ends_with(']') {
                host
            } else {
                name
            }
        }
        _ => host,
    }
}

#[cfg(test)]
mod tests;
