//! The transmitter's configuration metadata, served at `/.well-known/ssf-configuration` (SSF 1.0 §7.1),
//! with every member the CAEP interoperability profile requires: `spec_version`, `issuer`, `jwks_uri`,
//! `delivery_methods_supported`, the configuration, status, add-subject, remove-subject and verification
//! endpoints, `authorization_schemes` (OAuth 2.0, RFC 6749) and `default_subjects`.

use serde_json::{json, Value};

use crate::stream::{POLL, PUSH};

/// The SSF version riskgate implements.
pub const SPEC_VERSION: &str = "1_0";

/// Which subjects a new stream carries before the receiver adds any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultSubjects {
    /// Every subject (the interop profile's receivers assume this).
    All,
    /// None until added.
    None,
}

/// The metadata of a transmitter whose endpoints are under `base_url` (no trailing slash) and whose SETs
/// carry `issuer`.
pub fn metadata(issuer: &str, base_url: &str, default_subjects: DefaultSubjects) -> Value {
    let endpoint = |path: &str| format!("{base_url}{path}");
    json!({
        "spec_version": SPEC_VERSION,
        "issuer": issuer,
        "jwks_uri": endpoint("/ssf/jwks.json"),
        "delivery_methods_supported": [PUSH, POLL],
        "configuration_endpoint": endpoint("/ssf/streams"),
        "status_endpoint": endpoint("/ssf/status"),
        "add_subject_endpoint": endpoint("/ssf/subjects:add"),
        "remove_subject_endpoint": endpoint("/ssf/subjects:remove"),
        "verification_endpoint": endpoint("/ssf/verify"),
        "critical_subject_members": ["device"],
        "authorization_schemes": [{ "spec_urn": "urn:ietf:rfc:6749" }],
        "default_subjects": match default_subjects {
            DefaultSubjects::All => "ALL",
            DefaultSubjects::None => "NONE",
        },
    })
}

#[cfg(test)]
mod tests;
