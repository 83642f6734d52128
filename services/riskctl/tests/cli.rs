//! End-to-end tests of the real `riskctl` binary against the real `riskgate-core`, over real gRPC:
//! table and JSON output of every command group, applying the sample policy and watching the decision
//! flip, the documented exit codes for each kind of failure, the three token sources, TLS, and `watch`
//! resuming from its cursor file.

// test code
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "cli/support.rs"]
mod support;

#[path = "cli/auth.rs"]
mod auth;
#[path = "cli/connectors.rs"]
mod connectors;
#[path = "cli/devices.rs"]
mod devices;
#[path = "cli/errors.rs"]
mod errors;
#[path = "cli/policies.rs"]
mod policies;
#[path = "cli/watch.rs"]
mod watch;
