//! End-to-end tests of the Lookout plugin: the real `riskgate-vendor-sim`, `riskgate-core` and
//! `riskgate-connector-host` processes and the plugin `.so`, all built by the tests themselves.

// test code
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod dead_feed;
mod faults;
mod known_risk;
mod mapping;
mod recheck;
mod resume;
mod support;
