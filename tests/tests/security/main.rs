//! End-to-end tests of the security baseline against the real binary: bearer tokens and roles on every
//! RPC, connectors confined to their own data, message and stream limits, TLS and mutual TLS, and the
//! loopback-only rule for unauthenticated plain TCP.

mod support;

mod limits;
mod production_sample;
mod roles;
mod tls;
