//! The push signature: HMAC-SHA256 with a shared secret over `"<timestamp>.<raw body>"`, sent as
//! `X-Riskgate-Signature: sha256=<lowercase hex>` next to `X-Riskgate-Timestamp: <unix seconds>`.
//!
//! The timestamp is inside the signed message so that a captured push cannot be replayed later
//! with a fresh timestamp; a push whose timestamp is further than the tolerance from the receiver's
//! clock (either way) is refused as stale. Within the tolerance a replay is harmless: the core drops
//! a vendor event id it has already applied.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The prefix of the signature header's value.
pub const SCHEME: &str = "sha256=";

/// Why a push's signature is refused. Every variant is answered with HTTP 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The signature or timestamp header is missing: the push is unsigned.
    #[error("unsigned: missing header {0}")]
    Missing(String),
    /// The header is not `sha256=<hex>`, or the timestamp is not a number of seconds.
    #[error("malformed header {header}: {reason}")]
    Malformed {
        /// The header's name.
        header: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The HMAC does not match the body and timestamp.
    #[error("bad signature")]
    Mismatch,
    /// The timestamp is further from the receiver's clock than the tolerance.
    #[error("stale: timestamp {timestamp} is {skew_secs}s from now, beyond the tolerance of {tolerance_secs}s")]
    Stale {
        /// The push's timestamp, in unix seconds.
        timestamp: i64,
        /// How far it is from now, in seconds.
        skew_secs: u64,
        /// The configured tolerance, in seconds.
        tolerance_secs: u64,
    },
}

impl SignatureError {
    /// A short, stable name for counters and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            SignatureError::Missing(_) => "unsigned",
            SignatureError::Malformed { .. } => "malformed_signature",
            SignatureError::Mismatch => "bad_signature",
            SignatureError::Stale { .. } => "stale",
        }
    }
}

/// The signature header value a sender puts on `body` sent at `timestamp` (unix seconds).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = new_mac(secret);
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("{SCHEME}{}", hex(&mac.finalize().into_bytes()))
}

/// What [`verify`] needs besides the push itself.
#[derive(Debug, Clone, Copy)]
pub struct Verifier<'a> {
    /// The shared secret.
    pub secret: &'a [u8],
    /// The signature header's name, for error messages.
    pub signature_header: &'a str,
    /// The timestamp header's name, for error messages.
    pub timestamp_header: &'a str,
    /// How far the timestamp may be from `now`, either way.
    pub tolerance: Duration,
}

/// Checks the headers' values against `body` at `now`. The comparison is constant-time.
pub fn verify(
    verifier: &Verifier<'_>,
    signature: Option<&str>,
    timestamp: Option<&str>,
    body: &[u8],
    now: SystemTime,
) -> Result<(), SignatureError> {
    let signature =
        signature.ok_or_else(|| SignatureError::Missing(verifier.signature_header.to_owned()))?;
    let timestamp_text =
        timestamp.ok_or_else(|| SignatureError::Missing(verifier.timestamp_header.to_owned()))?;
    let timestamp: i64 = timestamp_text
        .trim()
        .parse()
        .map_err(|_| SignatureError::Malformed {
            header: verifier.timestamp_header.to_owned(),
            reason: "must be an integer number of unix seconds".to_owned(),
        })?;
    let digest = signature
        .trim()
        .strip_prefix(SCHEME)
        .and_then(unhex)
        .ok_or_else(|| SignatureError::Malformed {
            header: verifier.signature_header.to_owned(),
            reason: format!("must be {SCHEME}<64 hex digits>"),
        })?;
    let mut mac = new_mac(verifier.secret);
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&digest)
        .map_err(|_| SignatureError::Mismatch)?;
    // Checked after the HMAC, so an unauthenticated sender learns nothing about the clock.
    let now_secs = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let skew_secs = now_secs.abs_diff(timestamp);
    if skew_secs > verifier.tolerance.as_secs() {
        return Err(SignatureError::Stale {
            timestamp,
            skew_secs,
            tolerance_secs: verifier.tolerance.as_secs(),
        });
    }
    Ok(())
}

fn new_mac(secret: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this never fails.
    <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!())
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// The 32 bytes of a SHA-256 written as 64 hex digits.
fn unhex(text: &str) -> Option<Vec<u8>> {
    (text.len() == 64).then(|| hex::decode(text).ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"s3cret";
    const NOW: i64 = 1_750_000_000;

    fn verifier() -> Verifier<'static> {
        Verifier {
            secret: SECRET,
            signature_header: "X-Riskgate-Signature",
            timestamp_header: "X-Riskgate-Timestamp",
            tolerance: Duration::from_secs(300),
        }
    }

    fn at(secs: i64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap())
    }

    fn check(
        signature: Option<&str>,
        timestamp: Option<&str>,
        body: &[u8],
    ) -> Result<(), SignatureError> {
        verify(&verifier(), signature, timestamp, body, at(NOW))
    }

    #[test]
    fn signature_matches_the_documented_hmac_of_timestamp_dot_body() {
        let signature = sign(SECRET, NOW, br#"{"a":1}"#);
        // Computed independently with Python's hmac module over b'1750000000.{"a":1}'.
        assert_eq!(
            signature,
            "sha256=c6394530acc38b94214a61e56466b7b6c4da9688efda988d3f9b09e24f32d7e3"
        );
        assert_eq!(signature.len(), SCHEME.len() + 64);
        assert_eq!(
            check(Some(&signature), Some(&NOW.to_string()), br#"{"a":1}"#),
            Ok(())
        );
    }

    #[test]
    fn a_changed_body_timestamp_or_secret_is_a_bad_signature() {
        let signature = sign(SECRET, NOW, b"body");
        assert_eq!(
            check(Some(&signature), Some(&NOW.to_string()), b"bodY"),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            check(Some(&signature), Some(&(NOW + 1).to_string()), b"body"),
            Err(SignatureError::Mismatch)
        );
        let other = sign(b"other secret", NOW, b"body");
        assert_eq!(
            check(Some(&other), Some(&NOW.to_string()), b"body"),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn missing_headers_are_unsigned_and_garbage_is_malformed() {
        let signature = sign(SECRET, NOW, b"body");
        let missing = check(None, Some(&NOW.to_string()), b"body").unwrap_err();
        assert_eq!(missing.kind(), "unsigned");
        assert_eq!(
            check(Some(&signature), None, b"body").unwrap_err().kind(),
            "unsigned"
        );
        for bad in [
            "sha1=abcd",
            "sha256=xyz",
            "sha256=",
            &signature[..signature.len() - 1],
        ] {
            assert_eq!(
                check(Some(bad), Some(&NOW.to_string()), b"body")
                    .unwrap_err()
                    .kind(),
                "malformed_signature",
                "{bad}"
            );
        }
        assert_eq!(
            check(Some(&signature), Some("yesterday"), b"body")
                .unwrap_err()
                .kind(),
            "malformed_signature"
        );
    }

    #[test]
    fn a_timestamp_beyond_the_tolerance_either_way_is_stale() {
        for timestamp in [NOW - 301, NOW + 301] {
            let signature = sign(SECRET, timestamp, b"body");
            assert!(matches!(
                check(Some(&signature), Some(&timestamp.to_string()), b"body"),
                Err(SignatureError::Stale { skew_secs: 301, .. })
            ));
        }
        for timestamp in [NOW - 300, NOW + 300] {
            let signature = sign(SECRET, timestamp, b"body");
            assert_eq!(
                check(Some(&signature), Some(&timestamp.to_string()), b"body"),
                Ok(())
            );
        }
    }
}
