//! riskgate's web console (`riskgate-console`): the fleet's risk at a glance, live, in server-rendered
//! HTML. It is a client of the core's public gRPC API only, as riskctl is: pages are read with the
//! signed-in user's own token, and live updates come from one `RiskStream` subscription with the
//! console's own (subscriber) token, fanned out to open pages over server-sent events.
//!
//! Modules: [`config`] (the TOML file), [`session`] (sign-in sessions, CSRF and one-time links),
//! [`live`] (the subscription hub), [`reads`] (multi-call reads), [`chart`] (the SVG chart, pure),
//! [`view`] (the pages' HTML), [`http`] (routes and handlers), [`error`] (the error-to-response table).

pub mod app;
pub mod chart;
pub mod config;
pub mod error;
pub mod http;
pub mod live;
pub mod reads;
pub mod session;
pub mod view;
