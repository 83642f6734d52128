//! Access tokens: Lookout's opaque bearer tokens and Zimperium's JWTs, issued, checked and expired.

use serde_json::json;

use super::model::{Token, World};
use crate::{actions::Vendor, time::now_ms};

impl World {
    /// Expires every token of `vendor` now.
    pub fn expire_tokens(&mut self, vendor: Vendor) -> usize {
        let now = now_ms();
        let mut n = 0;
        for token in self.tokens.values_mut() {
            if vendor.includes(token.vendor) && token.expires_ms > now {
                token.expires_ms = now;
                n += 1;
            }
        }
        n
    }

    /// Issues an access token.
    pub fn issue_token(&mut self, vendor: Vendor, ttl_secs: u64) -> (String, u64) {
        let token = match vendor {
            Vendor::Zimperium => self.zimperium_jwt(ttl_secs),
            _ => self.secret("lk-"),
        };
        let expires_ms = now_ms() + ttl_secs * 1000;
        self.tokens
            .insert(token.clone(), Token { vendor, expires_ms });
        *self
            .counters
            .tokens_issued
            .entry(vendor.name().to_owned())
            .or_default() += 1;
        (token, expires_ms)
    }

    fn zimperium_jwt(&mut self, ttl_secs: u64) -> String {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let now = now_ms() / 1000;
        let jti = self.uuid();
        let header = b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let claims = json!({"sub": self.settings.zimperium_client_id, "iat": now, "exp": now + ttl_secs, "jti": jti});
        let payload = b64.encode(claims.to_string());
        let signature = b64.encode(self.secret("sig").as_bytes());
        format!("{header}.{payload}.{signature}")
    }

    /// Checks a bearer token for `vendor`: `Ok` or why not.
    pub fn check_token(&self, vendor: Vendor, token: Option<&str>) -> Result<u64, &'static str> {
        let token = token.ok_or("missing bearer token")?;
        let entry = self.tokens.get(token).ok_or("unknown token")?;
        if entry.vendor != vendor {
            return Err("token for another API");
        }
        if entry.expires_ms <= now_ms() {
            return Err("token expired");
        }
        Ok(entry.expires_ms)
    }
}
