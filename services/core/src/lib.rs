//! riskgate's core risk service: it keeps every device's risk as reported by every connector in a durable
//! sled store (`riskgate-store`, with the domain of `riskgate-policy`) and serves it over gRPC.
//!
//! The library exists for the `riskgate-core` binary; everything else in it is private. Its public surface:
//! - [`serve`], with [`Config`] (from [`Args`]), [`BoundAddrs`] and the errors it stops with: what `main.rs`
//!   runs;
//! - [`CoreError`]: everything a request can fail with;
//! - [`ingest_contract`]: the Ingest RPC's batch parse, for the checks that hold it to the plugin SDK's batch
//!   contract from outside (`tests/batch_contract.rs`, the ingest fuzz target).
//!
//! Module map (see ARCHITECTURE.md): `grpc` is the only module that sees proto types (`ingest_contract` is
//! part of it); `auth`, `config`, `metrics`, `middleware`, `stream` and `error` serve it; `gateway` reads
//! which device, user and resource a gateway's HTTP request asks about; `server` wires them to the store.

#![forbid(unsafe_code)]

mod auth;
mod config;
mod error;
mod gateway;
mod grpc;
mod metrics;
mod middleware;
mod server;
mod stream;

pub use config::{Args, Config, ConfigError, LogFormat};
pub use error::CoreError;
pub use grpc::{ingest_contract, ReflectionError};
pub use server::{serve, BoundAddrs, ServeError};
