//! End-to-end test harness for riskgate: builds the real `riskgate-core` binary, starts it on
//! `127.0.0.1` port 0 with a throw-away data dir, and talks to it over real gRPC and HTTP.
//!
//! The integration tests live in `tests/tests/`; this library holds what they share:
//!
//! - [`binary::artifacts`] builds the workspace's binaries and plugins once per test process;
//! - [`CoreProcess`] starts, stops, kills and connects to one server process, and [`run_core_to_exit`]
//!   runs one that is expected to exit on its own (configuration errors);
//! - [`builders`] makes valid reports, threats and batches, and timestamps;
//! - [`rpc`] wraps the ingest stream and the paged queries, and snapshots a store's visible state;
//! - [`wait_until`] polls a condition against a deadline (the only way these tests wait);
//! - [`metrics`] scrapes the Prometheus endpoint with a plain HTTP/1.0 request;
//! - [`admin`] registers connectors (required before they may ingest), manages policies, asks for
//!   decisions and moves the manual clock;
//! - [`events`] picks events of one kind out of a device's history;
//! - [`child`], [`connector_host`] and [`vendor_sim`] run the other binaries (connector hosts, the
//!   vendor-cloud simulator) with captured output, for the plugin and host test suites;
//! - [`enforcement`] starts the whole enforcement path (simulator, core, Lookout host, Envoy);
//! - [`envoy`] runs a real Envoy in front of sample apps, asking a core's gateway listener;
//! - [`browser`] provisions and drives a real headless Chromium (Debian's) over WebDriver;
//! - [`ssf`] runs the SSF transmitter and an independent Python receiver;
//! - [`auth`] writes `[[tokens]]` entries and puts bearer tokens on requests.

// test code: the harness fails loudly where a test cannot go on.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod admin;
pub mod auth;
pub mod binary;
pub mod browser;
pub mod builders;
pub mod child;
pub mod connector_host;
pub mod console;
pub mod enforcement;
pub mod envoy;
pub mod events;
pub mod metrics;
pub mod process;
pub mod raw;
pub mod rpc;
pub mod ssf;
pub mod vendor_sim;
pub mod wait;

pub use admin::{register_connector, register_connector_with};
pub use binary::ensure_built;
pub use builders::{batch, now, report, threat, ts, unix_now};
pub use process::{run_core_to_exit, CoreProcess, ExitOutput};
pub use rpc::{
    expect_status, ingest, ingest_outcome, DeviceClient, IngestClient, IngestOutcome, IngestSession,
};
pub use wait::wait_until;

/// The generated riskgate API types, re-exported so tests need only this crate.
pub use riskgate_proto::v1 as api;
