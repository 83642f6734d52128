//! A test identity provider: JWTs signed ES256 (ECDSA P-256 with SHA-256, RFC 7518 §3.4) and the JWKS
//! (RFC 7517) Envoy's `jwt_authn` filter verifies them with. With it, a test shows the user riskgate
//! reads from a verified token's claim (`gateway.user_claim`) going through a real Envoy.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use ring::{
    rand::SystemRandom,
    signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING},
};
use serde_json::{json, Value};

use crate::EnvoyError;

/// The key id in the JWKS and in every token's header.
const KEY_ID: &str = "riskgate-test-key";

/// How long a token is valid.
const LIFETIME_SECS: u64 = 3600;

/// An issuer with one fresh P-256 key.
#[derive(Debug)]
pub struct JwtIssuer {
    issuer: String,
    key: EcdsaKeyPair,
    rng: SystemRandom,
}

impl JwtIssuer {
    /// A new key for the issuer named `issuer` (the tokens' `iss`).
    pub fn generate(issuer: &str) -> Result<JwtIssuer, EnvoyError> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| EnvoyError::Jwt("cannot generate a P-256 key".to_owned()))?;
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .map_err(|err| EnvoyError::Jwt(format!("the generated key: {err}")))?;
        Ok(JwtIssuer {
            issuer: issuer.to_owned(),
            key,
            rng,
        })
    }

    /// The issuer's name.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The public key as a JWKS document: the point's coordinates from its uncompressed form
    /// (`0x04 || x || y`, 32 bytes each).
    pub fn jwks(&self) -> String {
        let point = self.key.public_key().as_ref();
        let (x, y) = point[1..].split_at(32);
        json!({ "keys": [{
            "kty": "EC",
            "crv": "P-256",
            "alg": "ES256",
            "use": "sig",
            "kid": KEY_ID,
            "x": URL_SAFE_NO_PAD.encode(x),
            "y": URL_SAFE_NO_PAD.encode(y),
        }] })
        .to_string()
    }

    /// A signed token with `claims` plus `iss`, `iat` and `exp` (an hour from now).
    pub fn token(&self, claims: &Value) -> Result<String, EnvoyError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let mut claims = claims.clone();
        claims["iss"] = json!(self.issuer);
        claims["iat"] = json!(now);
        claims["exp"] = json!(now + LIFETIME_SECS);
        let header = json!({ "alg": "ES256", "typ": "JWT", "kid": KEY_ID });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .key
            .sign(&self.rng, signing_input.as_bytes())
            .map_err(|_| EnvoyError::Jwt("cannot sign".to_owned()))?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        ))
    }
}

#[cfg(test)]
mod tests;
