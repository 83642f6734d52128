//! The cursor target: a subscription cursor through the core's signed cursor
//! codec (crates/store/src/cursor.rs).

use riskgate_store::cursor::{CursorCodec, CursorError};

use crate::{fixtures, Verdict};

/// Decodes the input as a cursor, then round-trips a position taken from the input.
///
/// Asserts: a cursor that decodes re-encodes to exactly the same text (so no two texts name the
/// same position: the MAC and the canonical base64 bind it); every encoded position decodes to
/// itself; another store's codec sees `OtherStore`, and a codec with another key refuses it.
pub fn stream_cursor(data: &[u8]) -> Verdict {
    let codec = CursorCodec::new(fixtures::CURSOR_EPOCH, fixtures::CURSOR_KEY);
    let text = String::from_utf8_lossy(data);
    let decoded = codec.decode(&text);
    if let Ok(position) = decoded {
        assert_eq!(codec.encode(position), text, "a cursor with two spellings");
    }
    let mut raw = [0u8; 8];
    for (slot, byte) in raw.iter_mut().zip(data) {
        *slot = *byte;
    }
    let position = u64::from_le_bytes(raw);
    let cursor = codec.encode(position);
    assert_eq!(codec.decode(&cursor), Ok(position));
    let other_store = CursorCodec::new(fixtures::CURSOR_EPOCH ^ 1, fixtures::CURSOR_KEY);
    assert_eq!(
        other_store.decode(&cursor),
        Err(CursorError::OtherStore(fixtures::CURSOR_EPOCH))
    );
    let mut other_key = fixtures::CURSOR_KEY;
    other_key[0] ^= 1;
    let forger = CursorCodec::new(fixtures::CURSOR_EPOCH, other_key);
    assert_eq!(forger.decode(&cursor), Err(CursorError::Malformed));
    Verdict::from_accepted(decoded.is_ok())
}
