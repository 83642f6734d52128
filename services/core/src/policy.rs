//! The policy engine: Intune-parity evaluation of compliance, conditional access and app protection
//! (`evaluate`, pure functions), and the in-memory view every check is answered from (`view`).

pub mod admin;
pub mod evaluate;
pub mod view;
