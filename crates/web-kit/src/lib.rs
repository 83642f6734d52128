//! What riskgate's HTTP services (the SSF transmitter, the console) share, so that they serve, configure
//! TLS and reach the core one way:
//! - [`serve`]: axum over HTTPS with rustls (ring), or plain HTTP, until SIGTERM or Ctrl-C, then a
//!   graceful drain; one `READY http=ADDR` line once listening;
//! - [`config`]: the `[tls]` and `[core]` sections and duration values of their TOML files;
//! - [`core`]: a lazily connecting gRPC channel to the core with the service's bearer token.

pub mod config;
pub mod core;
pub mod serve;
