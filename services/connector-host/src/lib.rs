//! riskgate's connector host: runs exactly one vendor connector plugin (a `cdylib` built with
//! `riskgate-sdk`) per process and streams its device reports into the core.
//!
//! - [`loader`] verifies the plugin file against its pinned SHA-256, loads it (never unloads it) and
//!   calls it through the ABI v1 function table. It is the only module with `unsafe` code.
//! - [`plugin_log`] writes the plugin's log records (ABI minor 1) into the host's log.
//! - [`driver`] is the plugin thread, the only thread that calls the plugin instance.
//! - [`host`] is the `run` mode: heartbeats, checkpoint, the ingest stream, acknowledgements, stop.
//! - [`conformance`] is the plugin conformance suite (`riskgate-conformance`), which drives a built
//!   plugin through this same host, one scenario per host process (the `probe` mode).
//!
//! The exit codes the supervisor reads are in `riskgate-host-protocol` (`HostExit`).
//!
//! A plugin failure ends this process only; the core is a separate process.

pub mod config;
pub mod conformance;
pub mod driver;
pub mod host;
pub mod loader;
pub mod plugin_log;
pub mod probe;
