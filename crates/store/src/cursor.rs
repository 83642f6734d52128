//! Cursors: opaque to clients, bound to one store by its epoch, and signed so they cannot be forged
//! (`base64(ver, store_epoch, seq, hmac)`).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{digest::KeyInit, Hmac, Mac};
use sha2::Sha256;

const VERSION: u8 = 1;
const MAC_LEN: usize = 16;
const BODY_LEN: usize = 1 + 16 + 8;

/// Why a cursor was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    /// Not a cursor this server produced: wrong encoding, length, version or signature.
    #[error("not a cursor issued by this server")]
    Malformed,
    /// A valid cursor of another store (the data dir was recreated or restored from elsewhere).
    #[error("the cursor belongs to another store (epoch {0:032x})")]
    OtherStore(u128),
}

/// Issues and checks cursors for one store.
#[derive(Clone)]
pub struct CursorCodec {
    epoch: u128,
    key: [u8; 32],
}

impl std::fmt::Debug for CursorCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is a secret: never print it.
        f.debug_struct("CursorCodec")
            .field("epoch", &format_args!("{:032x}", self.epoch))
            .finish()
    }
}

impl CursorCodec {
    /// A codec for the store with this epoch and signing key.
    pub fn new(epoch: u128, key: [u8; 32]) -> Self {
        Self { epoch, key }
    }

    /// HMAC-SHA256 keyed with the store's key. A key shorter than the hash's 64-byte block is padded with
    /// zeros (RFC 2104, section 2), so keying with the padded block is the same MAC, without a fallible call.
    fn keyed(&self) -> Hmac<Sha256> {
        let mut block = [0u8; 64];
        block[..self.key.len()].copy_from_slice(&self.key);
        <Hmac<Sha256> as KeyInit>::new(&block.into())
    }

    fn mac(&self, body: &[u8]) -> [u8; MAC_LEN] {
        let mut mac = self.keyed();
        mac.update(body);
        let full = mac.finalize().into_bytes();
        let mut out = [0; MAC_LEN];
        out.copy_from_slice(&full[..MAC_LEN]);
        out
    }

    /// The cursor for "everything up to and including `position`".
    pub fn encode(&self, position: u64) -> String {
        let mut bytes = Vec::with_capacity(BODY_LEN + MAC_LEN);
        bytes.push(VERSION);
        bytes.extend_from_slice(&self.epoch.to_be_bytes());
        bytes.extend_from_slice(&position.to_be_bytes());
        let mac = self.mac(&bytes);
        bytes.extend_from_slice(&mac);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The position a cursor stands for.
    pub fn decode(&self, cursor: &str) -> Result<u64, CursorError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(cursor)
            .map_err(|_| CursorError::Malformed)?;
        if bytes.len() != BODY_LEN + MAC_LEN || bytes[0] != VERSION {
            return Err(CursorError::Malformed);
        }
        let (body, mac) = bytes.split_at(BODY_LEN);
        let field = |range: std::ops::Range<usize>| body.get(range).ok_or(CursorError::Malformed);
        let epoch = u128::from_be_bytes(
            field(1..17)?
                .try_into()
                .map_err(|_| CursorError::Malformed)?,
        );
        let position = u64::from_be_bytes(
            field(17..25)?
                .try_into()
                .map_err(|_| CursorError::Malformed)?,
        );
        if epoch != self.epoch {
            // Another store's key signed it, so its MAC cannot be checked here; the epoch is what matters.
            return Err(CursorError::OtherStore(epoch));
        }
        // Constant-time comparison through the hmac crate.
        let mut check = self.keyed();
        check.update(body);
        check
            .verify_truncated_left(mac)
            .map_err(|_| CursorError::Malformed)?;
        Ok(position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_padded_key_block_signs_as_the_key_itself_does() {
        let codec = CursorCodec::new(7, [0xA5; 32]);
        let mut by_slice = <Hmac<Sha256> as Mac>::new_from_slice(&[0xA5; 32]).unwrap();
        by_slice.update(b"body");
        let mut by_block = codec.keyed();
        by_block.update(b"body");
        assert_eq!(
            by_slice.finalize().into_bytes(),
            by_block.finalize().into_bytes()
        );
    }

    #[test]
    fn cursors_round_trip_and_refuse_tampering_and_other_stores() {
        let codec = CursorCodec::new(7, [1; 32]);
        let cursor = codec.encode(42);
        assert_eq!(codec.decode(&cursor), Ok(42));
        // Change the position inside the cursor: the signature no longer matches.
        let mut bytes = URL_SAFE_NO_PAD.decode(&cursor).unwrap();
        bytes[24] ^= 1;
        assert_eq!(
            codec.decode(&URL_SAFE_NO_PAD.encode(&bytes)),
            Err(CursorError::Malformed)
        );
        assert_eq!(codec.decode("not a cursor!"), Err(CursorError::Malformed));
        assert_eq!(codec.decode(""), Err(CursorError::Malformed));
        let other = CursorCodec::new(8, [1; 32]);
        assert_eq!(other.decode(&cursor), Err(CursorError::OtherStore(7)));
        let other_key = CursorCodec::new(7, [2; 32]);
        assert_eq!(
            other_key.decode(&cursor),
            Err(CursorError::Malformed),
            "a forged signature"
        );
    }
}
