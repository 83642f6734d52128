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
mod ingest;
mod lease;
mod limits;
pub mod parse;
mod parse_policy;
mod reflection;
mod render;
mod render_policy;
mod render_scalar;
mod subscribe;

pub use admin::AdminApi;
pub use authz::{AuthorizationServer, GatewayApi};
pub use clock::ClockApi;
pub use decisions::DecisionApi;
pub use devices::DeviceApi;
pub use error::OLDEST_POSITION_TRAILER;
pub use ingest::IngestApi;
pub use limits::{MessageSizeStatusLayer, StreamLimiter};
pub use parse::Limits;
pub use reflection::{
    served_services, ReflectionApi, ReflectionError, ReflectionV1, ReflectionV1Alpha,
};
pub use subscribe::StreamApi;

/// The generated server types, re-exported for the server wiring.
pub use riskgate_proto::v1::{
    clock_service_server::ClockServiceServer, connector_service_server::ConnectorServiceServer,
    decision_service_server::DecisionServiceServer, device_service_server::DeviceServiceServer,
    ingest_service_server::IngestServiceServer, policy_service_server::PolicyServiceServer,
    risk_stream_server::RiskStreamServer,
};
