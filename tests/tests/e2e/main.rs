//! End-to-end tests of `riskgate-core`: every test starts the real binary on `127.0.0.1` port 0
//! with its own temporary data dir and talks to it over real gRPC (and HTTP for metrics).
//!
//! One test binary with one module per theme, so the binary is linked once and the workspace is
//! built once per run (see `riskgate_tests::ensure_built`).

mod bad_input;
mod browser;
mod config;
mod console;
mod crash;
mod envoy;
mod fail_safe;
mod fleet;
mod gateway;
mod health;
mod lease;
mod lifecycle;
mod metrics;
mod policy_access;
mod policy_admin;
mod policy_apps;
mod policy_support;
mod policy_time;
mod query;
mod reflection;
mod replay;
mod ssf;
mod support;
mod wire;
