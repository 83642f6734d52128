//! riskgate's domain model and policy engine, free of I/O: no runtime, no store, no wire format.
//!
//! - [`domain`]: devices, partner reports, threats, events, ids and time.
//! - [`evaluate`]: Intune-parity evaluation of compliance, conditional access and app protection (pure functions).
//! - [`admin`]: admin commands as pure changes to the configuration.
//! - [`view`]: the in-memory view every check is answered from, and `reevaluate`, which turns a device's new
//!   evaluation into events.
//! - [`error`]: why a request is refused.
//!
//! The core's store persists these types and its gRPC edge parses and renders them; the benchmarks and fuzz
//! targets use them directly.

#![forbid(unsafe_code)]

pub mod admin;
pub mod domain;
pub mod error;
pub mod evaluate;
pub mod view;
