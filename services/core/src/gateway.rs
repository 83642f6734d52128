//! Who is asking, and for what: the rules that take the device, the user and the resource out of an HTTP
//! request a gateway (Envoy's ext_authz) holds, and the request headers a client could forge. Pure: no
//! proto types and no I/O, so the rules are unit-tested here and configured in `config` (docs/gateway.md).
//!
//! Everything that is missing is an [`Unanswerable`]: the gateway denies it, it never allows by default.

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
    /// The request header (lower case) that names the user, if any.
    pub(crate) user_header: Option<String>,
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
}

/// The question a request asks, as raw text: the decision code parses and checks it like CheckAccess's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Question<'a> {
    /// The device id.
    pub(crate) device_id: &'a str,
    /// The user, if the mapping names a header and the request carries it.
    pub(crate) user_id: Option<&'a str>,
    /// The resource name.
    pub(crate) resource: &'a str,
}

/// Why a request asks no answerable question; the gateway denies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unanswerable {
    /// The request does not say which device it comes from.
    NoDeviceIdentity(&'static str),
    /// The request names no resource.
    NoResource,
}

impl Unanswerable {
    /// The reason code a deny quotes.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            Self::NoDeviceIdentity(_) => "no_device_identity",
            Self::NoResource => "no_resource",
        }
    }

    /// What is missing, for the client.
    pub(crate) fn detail(&self) -> &'static str {
        match self {
            Self::NoDeviceIdentity(detail) => detail,
            Self::NoResource => "no context extension and no host and path rule names a resource",
        }
    }
}

impl Mapping {
    /// The device, user and resource `facts` ask about.
    pub(crate) fn question<'a>(
        &'a self,
        facts: &RequestFacts<'a>,
    ) -> Result<Question<'a>, Unanswerable> {
        let device_id = match &self.device {
            DeviceSource::Principal(_) if facts.principal.is_empty() => {
                return Err(Unanswerable::NoDeviceIdentity(
                    "no client certificate principal",
                ));
            }
            DeviceSource::Principal(pattern) => {
                pattern
                    .device_id(facts.principal)
                    .ok_or(Unanswerable::NoDeviceIdentity(
                        "the client certificate principal does not match the device pattern",
                    ))?
            }
            DeviceSource::Header(name) => facts
                .headers
                .get(name)
                .map(String::as_str)
                .ok_or(Unanswerable::NoDeviceIdentity("no device header"))?,
        };
        let user_id = self
            .user_header
            .as_ref()
            .and_then(|name| facts.headers.get(name))
            .map(String::as_str)
            .filter(|user| !user.is_empty());
        let resource = self.resource(facts).ok_or(Unanswerable::NoResource)?;
        Ok(Question {
            device_id,
            user_id,
            resource,
        })
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
