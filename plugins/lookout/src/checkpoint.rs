//! The vendor cursor the core stores with each acknowledged batch: whether the initial device sync
//! was delivered, the last SSE batch id processed, and where the stream starts when there is none.

use serde::{Deserialize, Serialize};

/// The checkpoint, as JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Format version (1).
    pub v: u32,
    /// Whether every device of the initial sync was delivered.
    pub synced: bool,
    /// The SSE `id` of the last stream batch processed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_id: Option<String>,
    /// Epoch ms the stream starts at (`start_time`) while there is no `last_id`.
    pub since_ms: u64,
}

impl Checkpoint {
    /// Encodes it.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Decodes a stored checkpoint; `None` if it is not one of ours.
    pub fn decode(raw: &[u8]) -> Option<Checkpoint> {
        serde_json::from_slice::<Checkpoint>(raw)
            .ok()
            .filter(|c| c.v == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_foreign_bytes() {
        let cp = Checkpoint {
            v: 1,
            synced: true,
            last_id: Some("0190ec04-a5f0-731e".into()),
            since_ms: 5,
        };
        assert_eq!(Checkpoint::decode(&cp.encode()), Some(cp));
        assert_eq!(Checkpoint::decode(b"42"), None);
        assert_eq!(
            Checkpoint::decode(br#"{"v":2,"synced":true,"since_ms":1}"#),
            None
        );
    }
}
