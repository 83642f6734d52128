//! riskgate's core risk service: it keeps every device's risk as reported by every connector in a durable
//! sled store and serves it over gRPC.
//!
//! Module map (see ARCHITECTURE.md):
//! - [`domain`]: devices, reports, threats, events; no I/O.
//! - [`store`]: the storage-engine trait, the sled adapter and the single-writer risk store.
//! - [`grpc`]: the only module that sees proto types.
//! - [`gateway`]: which device, user and resource a gateway's HTTP request asks about.
//! - [`config`], [`metrics`], [`server`]: configuration, Prometheus metrics, and the wiring.

#![forbid(unsafe_code)]

pub mod auth;
pub mod config;

pub mod error;
pub mod gateway;
pub mod grpc;
pub mod metrics;

pub mod server;

pub mod stream;
