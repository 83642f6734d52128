//! End-to-end tests of the plugin system (issue 5): real `riskgate-core`, real
//! `riskgate-connector-host` and `riskgate-supervisor` processes, and real plugin `.so` files built
//! by the tests themselves.

// test code
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod bad_plugins;
mod conformance;
mod fail_safe;
mod logging;
mod orphans;
mod sdk_outside;
mod streaming;
mod supervisor;
mod support;
mod third_party;
