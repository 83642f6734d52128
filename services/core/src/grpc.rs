//! The gRPC edge. Only this module sees proto types: requests are parsed into domain types on the way in
//! (`parse`), domain types are rendered on the way out (`render`), and errors become statuses in one table
//! (`error`).

mod admin;
mod authz;
mod clock;
mod control;
mod decisions;
mod devices;
mod error;
mod event_log;
mod fleet;
mod ingest;
pub mod ingest_contract;
mod lease;
mod limits;
pub(crate) mod parse;
mod parse_policy;
mod reflection;
mod render;
mod render_policy;
mod render_scalar;
mod subscribe;
mod whoami;

pub(crate) use admin::AdminApi;
pub(crate) use authz::{AuthorizationServer, GatewayApi};
pub(crate) use clock::ClockApi;
pub(crate) use decisions::DecisionApi;
pub(crate) use devices::DeviceApi;
pub(crate) use event_log::EventLogApi;
pub(crate) use ingest::{IngestApi, IngestSetup};
pub(crate) use limits::{MessageSizeStatus, StreamLimiter};
pub(crate) use parse::Limits;
pub use reflection::ReflectionError;
pub(crate) use reflection::{served_services, ReflectionApi};
pub(crate) use subscribe::StreamApi;
pub(crate) use whoami::AuthApi;

/// The generated server types, re-exported for the server wiring.
pub(crate) use riskgate_proto::v1::{
    auth_service_server::AuthServiceServer, clock_service_server::ClockServiceServer,
    connector_service_server::ConnectorServiceServer,
    decision_service_server::DecisionServiceServer, device_service_server::DeviceServiceServer,
    event_log_service_server::EventLogServiceServer, ingest_service_server::IngestServiceServer,
    policy_service_server::PolicyServiceServer, risk_stream_server::RiskStreamServer,
};
