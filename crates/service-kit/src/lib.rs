//! What every riskgate binary sets up the same way, so each `main` says only what is its own:
//! - [`logging`]: the tracing subscriber on stderr, as text or JSON, filtered by `RUST_LOG`;
//! - [`signals`]: waiting for SIGINT or SIGTERM;
//! - [`args`]: command-line parsing that exits with `EX_USAGE` (64) on a usage error.
//!
//! A small shared crate, so that no service depends on another for these.

#![forbid(unsafe_code)]

pub mod args;
pub mod logging;
pub mod signals;
