//! `riskgate-ssf`, riskgate's OpenID Shared Signals (SSF 1.0) transmitter of CAEP 1.0 events. It follows
//! the core through the public `RiskStream.Subscribe` and tells identity providers, as signed Security
//! Event Tokens, when a device's compliance, risk level or access changes.
//!
//! So far: [`keys`], the RS256 signing keys (made at first start, rotated, published as a JWKS);
//! [`jws`], the compact JWS that carries each SET; [`http`], the metadata and JWKS endpoints. The
//! documents themselves come from `riskgate-caep`.

#![forbid(unsafe_code)]

pub mod http;
pub mod jws;
pub mod keys;
