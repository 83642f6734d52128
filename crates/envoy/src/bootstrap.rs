//! Envoy's bootstrap for riskgate enforcement, as JSON (Envoy reads a `.json` bootstrap as it reads
//! YAML): an mTLS listener that requires a client certificate, whose SAN becomes the `source.principal`
//! riskgate reads the device id from; the `envoy.filters.http.ext_authz` filter calling riskgate's
//! gateway listener over gRPC with a bearer token, failing closed; and one route per app whose
//! `context_extensions` name the riskgate resource. Field names are Envoy's v3 API
//! (<https://www.envoyproxy.io/docs/envoy/v1.40.0/api-v3/extensions/filters/http/ext_authz/v3/ext_authz.proto>).

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use serde_json::{json, Value};

/// The listener's name in the bootstrap, for [`crate::Admin::listener_addr`].
pub const LISTENER: &str = "gateway";

/// The HTTP status Envoy answers when riskgate cannot answer (down, too slow, or an error status):
/// the request is refused either way (`failure_mode_allow: false`); 503 rather than Envoy's default
/// 403 lets clients and dashboards tell an outage from a deny.
pub const STATUS_ON_ERROR: u16 = 503;

/// The context extension that names the riskgate resource of a route (riskgate's default
/// `gateway.resource_key`).
pub const RESOURCE_KEY: &str = "riskgate_resource";

/// An Envoy in front of `apps`, asking `authz` about every request that reaches `tls`'s listener.
#[derive(Debug, Clone)]
pub struct Gateway {
    /// The listener's certificate and the CA its clients' certificates must chain to.
    pub tls: ListenerTls,
    /// riskgate's gateway listener.
    pub authz: AuthzService,
    /// The apps, each at `/<name>` and each its own riskgate resource.
    pub apps: Vec<App>,
    /// The listener's address; port 0 picks a free one ([`crate::Admin::listener_addr`] reads it).
    pub listen: SocketAddr,
    /// Verify bearer JWTs before asking riskgate, and pass their payload on (for `gateway.user_claim`).
    pub jwt: Option<JwtAuthn>,
}

/// An identity provider whose tokens Envoy's `jwt_authn` filter verifies. A request without a token
/// goes on to riskgate (which denies it `no_user` when it names users); one with a bad token is refused
/// by Envoy with 401.
#[derive(Debug, Clone)]
pub struct JwtAuthn {
    /// The tokens' `iss`.
    pub issuer: String,
    /// The provider's public keys, a JWKS document.
    pub jwks: String,
}

/// Where `jwt_authn` puts a verified token's payload (`payload_in_metadata`): riskgate's
/// `gateway.user_claim` is `jwt_payload.<claim>`.
pub const JWT_PAYLOAD: &str = "jwt_payload";

/// The metadata namespace of Envoy's JWT filter, which ext_authz passes on to riskgate.
const JWT_AUTHN: &str = "envoy.filters.http.jwt_authn";

/// The listener's TLS files (PEM).
#[derive(Debug, Clone)]
pub struct ListenerTls {
    /// The listener's certificate chain.
    pub certificate: PathBuf,
    /// Its private key.
    pub private_key: PathBuf,
    /// The CA that device certificates must chain to.
    pub client_ca: PathBuf,
}

/// Where riskgate's `Authorization/Check` is served and how Envoy authenticates to it.
#[derive(Debug, Clone)]
pub struct AuthzService {
    /// The gateway listener (plain HTTP/2 on loopback here; TLS is configured the same way as for any
    /// Envoy gRPC cluster).
    pub addr: SocketAddr,
    /// A token with riskgate's `gateway` role, sent as `authorization: Bearer …` in the gRPC
    /// service's `initial_metadata`.
    pub bearer_token: String,
    /// How long Envoy waits for an answer before refusing the request.
    pub timeout: Duration,
}

/// A sample app behind Envoy: requests to `/<name>…` go to `addr`, and riskgate is asked about
/// resource `<name>`.
#[derive(Debug, Clone)]
pub struct App {
    /// The path prefix, the cluster name and the riskgate resource.
    pub name: String,
    /// The app's HTTP/1.1 address.
    pub addr: SocketAddr,
}

impl Gateway {
    /// The bootstrap document. Envoy's admin interface listens on loopback port 0; start Envoy with
    /// `--admin-address-path` to learn where (see [`crate::launch`]).
    pub fn bootstrap(&self) -> Value {
        let mut clusters = vec![cluster("riskgate", self.authz.addr, true)];
        clusters.extend(
            self.apps
                .iter()
                .map(|app| cluster(&app.name, app.addr, false)),
        );
        json!({
            "admin": { "address": socket_address("127.0.0.1".parse().ok(), 0) },
            "static_resources": {
                "listeners": [self.listener()],
                "clusters": clusters,
            },
        })
    }

    fn listener(&self) -> Value {
        json!({
            "name": LISTENER,
            "address": socket_address(Some(self.listen.ip()), self.listen.port()),
            "filter_chains": [{
                "transport_socket": self.downstream_tls(),
                "filters": [{
                    "name": "envoy.filters.network.http_connection_manager",
                    "typed_config": {
                        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                        "stat_prefix": LISTENER,
                        "route_config": self.routes(),
                        "http_filters": self.http_filters(),
                    },
                }],
            }],
        })
    }

    /// The JWT filter (when configured), ext_authz, then the router.
    fn http_filters(&self) -> Vec<Value> {
        let jwt = self.jwt.as_ref().map(|jwt| {
            json!({
                "name": JWT_AUTHN,
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
                    "providers": { "idp": {
                        "issuer": jwt.issuer,
                        "local_jwks": { "inline_string": jwt.jwks },
                        "payload_in_metadata": JWT_PAYLOAD,
                    } },
                    "rules": [{
                        "match": { "prefix": "/" },
                        "requires": { "requires_any": { "requirements": [
                            { "provider_name": "idp" },
                            { "allow_missing": {} },
                        ] } },
                    }],
                },
            })
        });
        jwt.into_iter()
            .chain([self.ext_authz(), router()])
            .collect()
    }

    /// TLS that requires a client certificate from the device CA: without one the handshake fails.
    fn downstream_tls(&self) -> Value {
        json!({
            "name": "envoy.transport_sockets.tls",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
                "require_client_certificate": true,
                "common_tls_context": {
                    "tls_certificates": [{
                        "certificate_chain": { "filename": self.tls.certificate },
                        "private_key": { "filename": self.tls.private_key },
                    }],
                    "validation_context": { "trusted_ca": { "filename": self.tls.client_ca } },
                },
            },
        })
    }

    /// The ext_authz filter: every request waits for riskgate's answer; `failure_mode_allow: false`
    /// refuses requests when riskgate cannot answer.
    fn ext_authz(&self) -> Value {
        json!({
            "name": "envoy.filters.http.ext_authz",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz",
                "transport_api_version": "V3",
                "failure_mode_allow": false,
                "status_on_error": { "code": STATUS_ON_ERROR },
                "metadata_context_namespaces": [JWT_AUTHN],
                "grpc_service": {
                    "envoy_grpc": { "cluster_name": "riskgate" },
                    "timeout": duration(self.authz.timeout),
                    "initial_metadata": [{
                        "key": "authorization",
                        "value": format!("Bearer {}", self.authz.bearer_token),
                    }],
                },
            },
        })
    }

    /// One route per app, by path prefix, naming its resource in the route's context extensions.
    fn routes(&self) -> Value {
        let routes: Vec<Value> = self
            .apps
            .iter()
            .map(|app| {
                json!({
                    "match": { "prefix": format!("/{}", app.name) },
                    "route": { "cluster": app.name },
                    "typed_per_filter_config": {
                        "envoy.filters.http.ext_authz": {
                            "@type": "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute",
                            "check_settings": { "context_extensions": { RESOURCE_KEY: app.name } },
                        },
                    },
                })
            })
            .collect();
        json!({
            "name": "apps",
            "virtual_hosts": [{ "name": "apps", "domains": ["*"], "routes": routes }],
        })
    }
}

fn router() -> Value {
    json!({
        "name": "envoy.filters.http.router",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
        },
    })
}

/// A static cluster of one endpoint; `http2` for gRPC (riskgate), HTTP/1.1 for the apps.
fn cluster(name: &str, addr: SocketAddr, http2: bool) -> Value {
    let mut cluster = json!({
        "name": name,
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [{ "lb_endpoints": [{
                "endpoint": { "address": socket_address(Some(addr.ip()), addr.port()) },
            }] }],
        },
    });
    if http2 {
        cluster["typed_extension_protocol_options"] = json!({
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                "explicit_http_config": { "http2_protocol_options": {} },
            },
        });
    }
    cluster
}

fn socket_address(ip: Option<std::net::IpAddr>, port: u16) -> Value {
    let ip = ip.map_or_else(|| "127.0.0.1".to_owned(), |ip| ip.to_string());
    json!({ "socket_address": { "address": ip, "port_value": port } })
}

/// A protobuf JSON duration (`"0.250s"`).
fn duration(value: Duration) -> String {
    format!("{}.{:03}s", value.as_secs(), value.subsec_millis())
}

#[cfg(test)]
mod tests;
