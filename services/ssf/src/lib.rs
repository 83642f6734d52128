//! `riskgate-ssf`, riskgate's OpenID Shared Signals (SSF 1.0) transmitter of CAEP 1.0 events. It follows
//! the core through the public `RiskStream.Subscribe` and tells identity providers, as signed Security
//! Event Tokens, when a device's compliance, risk level or access changes.
//!
//! - [`config`], [`auth`]: the configuration file and the receivers' tokens;
//! - [`http`], [`api`]: discovery, stream management, polling and admin calls;
//! - [`transmitter`], [`streams`], [`store`]: the shared state, the live streams and their saved records;
//! - [`worker`], [`source`], [`core_client`]: one task per stream following the core's log;
//! - [`push`], [`poll`]: the two delivery methods;
//! - [`keys`], [`jws`]: RS256 signing keys and the compact JWS of each SET.
//!
//! The documents themselves (events, subjects, SET claims, metadata) come from `riskgate-caep`.

#![forbid(unsafe_code)]

pub mod api;
pub mod auth;
pub mod config;
pub mod core_client;
pub mod error;
pub mod http;
pub mod jws;
pub mod keys;
pub mod poll;
pub mod push;
pub mod source;
pub mod store;
pub mod streams;
pub mod transmitter;
pub mod worker;
