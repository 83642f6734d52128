//! Security Event Tokens (RFC 8417) as SSF 1.0 profiles them: `iss` (the transmitter's issuer), `jti`,
//! `iat`, `aud`, `txn`, `sub_id` and an `events` claim with exactly one event (the interop profile's
//! rule); never `sub` or `exp`. The JOSE header says `typ: secevent+jwt`, `alg: RS256` and the key id.

use serde_json::{json, Value};

use crate::{event::Event, subject::Subject};

/// The JOSE header of a SET.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoseHeader {
    /// The id of the signing key in the transmitter's JWKS.
    pub kid: String,
}

impl JoseHeader {
    /// `{"alg":"RS256","typ":"secevent+jwt","kid":…}`.
    pub fn to_json(&self) -> Value {
        json!({ "alg": "RS256", "typ": "secevent+jwt", "kid": self.kid })
    }
}

/// The claims of one SET.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityEventToken {
    /// The transmitter's issuer, equal to its metadata's `issuer`.
    pub iss: String,
    /// Unique per SET, and the same when the same SET is delivered again ([`jti`]).
    pub jti: String,
    /// When the SET was made, Unix seconds.
    pub iat: u64,
    /// The stream's audience.
    pub aud: Vec<String>,
    /// The position in riskgate's event log of the change behind the event.
    pub txn: Option<u64>,
    /// Who the event is about.
    pub sub_id: Subject,
    /// The event.
    pub event: Event,
}

impl SecurityEventToken {
    /// The claims as JSON: `aud` is a string when there is one audience, else an array.
    pub fn claims(&self) -> Value {
        let aud = match self.aud.as_slice() {
            [one] => json!(one),
            many => json!(many),
        };
        let mut claims = json!({
            "iss": self.iss,
            "jti": self.jti,
            "iat": self.iat,
            "aud": aud,
            "sub_id": self.sub_id,
            "events": { self.event.uri(): self.event.body() },
        });
        if let Some(txn) = self.txn {
            claims["txn"] = json!(txn.to_string());
        }
        claims
    }
}

/// The `jti` of the `index`-th SET a stream sends for the change at log `position`: derived, not random,
/// so a SET delivered again after a restart carries the same `jti` and a receiver's de-duplication works.
pub fn jti(stream_id: &str, position: u64, index: usize) -> String {
    format!("{stream_id}.{position}.{index}")
}

#[cfg(test)]
mod tests;
