//! # riskgate-fuzz-targets
//!
//! One pure function per fuzz target. Each feeds arbitrary bytes to a real riskgate parser or
//! validator, exactly as the running code would, and asserts what must hold for every input: no
//! panic, and where it is cheap a round trip or "an accepted input yields a valid value".
//!
//! - [`lookout_event`]: a Lookout SSE `data` payload (`{"events":[...]}`) through `Fleet::apply_event`
//!   and the report mapping.
//! - [`lookout_device`]: Lookout REST device and threat items (`{"devices":[...]}`, `{"threats":[...]}`
//!   or one device) through `Fleet::apply_rest_device`/`apply_rest_threat` and the report mapping.
//! - [`zimperium_threat`]: Zimperium threat items (`{"content":[...]}`) through `mapping::threat`,
//!   `mapping::device` and the fleet's reports.
//! - [`ingest_validation`]: a protobuf `ReportBatch` through the core's Ingest parse.
//! - [`stream_cursor`]: a subscription cursor through the core's signed cursor codec.
//! - [`webhook_payload`]: a push (headers and body) through the webhook's signature check and mapping.
//! - [`rpc_decode`]: raw bytes as the request of every RPC, through the codec the services decode
//!   with; a refusal is always INVALID_ARGUMENT.
//!
//! libFuzzer drives these from the cargo-fuzz crate in `fuzz/` (outside the workspace, nightly only);
//! `tests/corpus_replay.rs` replays the committed corpora on stable. See `docs/fuzzing.md`.

// Fuzz targets are test code: a broken invariant is reported by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![forbid(unsafe_code)]

mod check;
pub mod fixtures;
mod ingest;
mod lookout;
mod rpc_decode;
mod stream_cursor;
mod webhook;
mod zimperium;

pub use ingest::ingest_validation;
pub use lookout::{lookout_device, lookout_event};
pub use rpc_decode::{rpc_decode, RPCS};
pub use stream_cursor::stream_cursor;
pub use webhook::webhook_payload;
pub use zimperium::zimperium_threat;

/// What a target made of one input: whether the parser accepted (part of) it. Used by the corpus
/// replay to make sure each corpus reaches past the first rejection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The parser accepted the input, or at least one item of it.
    Accepted,
    /// The parser refused all of it, with an error.
    Rejected,
}

impl Verdict {
    fn from_accepted(accepted: bool) -> Verdict {
        if accepted {
            Verdict::Accepted
        } else {
            Verdict::Rejected
        }
    }
}

/// A fuzz target: bytes in, the parser's verdict out (it panics when an invariant breaks).
pub type Target = fn(&[u8]) -> Verdict;

/// Every target by name, for the corpus replay.
pub const TARGETS: &[(&str, Target)] = &[
    ("lookout_event", lookout_event),
    ("lookout_device", lookout_device),
    ("zimperium_threat", zimperium_threat),
    ("ingest_validation", ingest_validation),
    ("stream_cursor", stream_cursor),
    ("webhook_payload", webhook_payload),
    ("rpc_decode", rpc_decode),
];
