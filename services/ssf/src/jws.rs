//! Compact JWS serialization (RFC 7515 §7.1): `base64url(header).base64url(payload).base64url(signature)`,
//! the form a SET travels in (RFC 8417).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use serde_json::Value;

use crate::keys::{KeyError, SigningKey};

/// `header` and `claims`, signed RS256 with `key`.
pub fn sign(header: &Value, claims: &Value, key: &SigningKey) -> Result<String, KeyError> {
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = key.sign(signing_input.as_bytes())?;
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature)
    ))
}

#[cfg(test)]
mod tests;
