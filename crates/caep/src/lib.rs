//! OpenID Shared Signals Framework 1.0 and CAEP 1.0 (with the CAEP interoperability profile) in
//! riskgate's terms, without I/O: what a transmitter says and to whom.
//!
//! - [`subject`]: subject identifiers (RFC 9493 simple formats and SSF §3.3 complex subjects) and the
//!   SSF subject-matching rule;
//! - [`event`]: the events riskgate emits (`device-compliance-change`, `risk-level-change`,
//!   `session-revoked`) and the framework's own (`verification`, `stream-updated`), and how riskgate's
//!   threat levels map onto CAEP's;
//! - [`metadata`]: the transmitter's `/.well-known/ssf-configuration` document;
//! - [`set`]: the Security Event Token claims (RFC 8417 as SSF profiles it) and its JOSE header;
//! - [`stream`]: a receiver's stream configuration request, checked field by field;
//! - [`translate`]: which changes in riskgate's log become which events.
//!
//! Signing, keys, HTTP and storage belong to the transmitter service; this crate only builds and checks
//! the documents, so every rule of the specifications is unit-tested here.

#![forbid(unsafe_code)]

pub mod event;
pub mod metadata;
pub mod set;
pub mod stream;
pub mod subject;
pub mod translate;

pub use event::{CaepLevel, ComplianceStatus, Event, RiskLevel, StreamStatus, SUPPORTED_EVENTS};
pub use set::{JoseHeader, SecurityEventToken};
pub use subject::{ComplexSubject, Subject};
