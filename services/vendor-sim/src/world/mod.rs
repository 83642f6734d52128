//! The simulated vendor clouds' state: one fleet of devices seen by both vendors, Lookout and
//! Zimperium threats, Lookout's event log (the SSE batches), issued tokens, armed faults and counters.
//!
//! Everything is behind one mutex in [`crate::Sim`]; handlers lock it briefly and never across an
//! await. Every change bumps a watch counter so open event streams wake up.
//!
//! - `model`: the fleet model, the state itself and the ids it hands out;
//! - `fleet`: adding devices and changing their states; `threats`: opening and resolving threats;
//! - `lookout_wire`, `zimperium_wire`: each vendor's rendering of that state;
//! - `faults`: armed failures and injected bad data; `tokens`: issued access tokens.

mod faults;
mod fleet;
mod lookout_wire;
mod model;
mod threats;
mod tokens;
mod zimperium_wire;

pub use lookout_wire::ENTERPRISE_GUID;
pub use model::{
    ArmedFault, Counters, Device, LookoutThreat, Settings, SseBatch, StreamControl, Token, World,
    ZimperiumThreat,
};
pub use zimperium_wire::zimperium_severity_number;
