//! Bearer tokens for a core started with `[[tokens]]`: the config entries and the request metadata.

use sha2::{Digest as _, Sha256};
use tonic::metadata::MetadataValue;

/// A `[[tokens]]` entry named `name` for the secret `token`, with `roles` (`admin`, `reader`,
/// `gateway`, `connector:<id>`, …); the core stores only the SHA-256.
pub fn token_entry(name: &str, token: &str, roles: &[&str]) -> String {
    let hash: String = Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let roles: Vec<String> = roles.iter().map(|role| format!("{role:?}")).collect();
    format!(
        "[[tokens]]\nname = \"{name}\"\nsha256 = \"{hash}\"\nroles = [{}]\n\n",
        roles.join(", ")
    )
}

/// `message` with `authorization: Bearer <token>`.
pub fn with_token<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let value: MetadataValue<_> = format!("Bearer {token}").parse().expect("ascii token");
    request.metadata_mut().insert("authorization", value);
    request
}
