//! End-to-end tests of `RiskStream.Subscribe` against the real binary: snapshot then live events,
//! resumable cursors across disconnects and restarts, retention, backpressure, fan-out and filters.

mod support;

mod cursors;
mod delivery;
mod filters;
mod resume_property;
