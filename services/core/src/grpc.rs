//! The gRPC edge. Only this module sees proto types: requests are parsed into domain types on the way in
//! (`parse`), domain types are rendered on the way out (`render`), and errors become statuses in one table
//! (`error`).

mod devices;
mod error;
mod ingest;
mod parse;
mod render;

pub use devices::DeviceApi;
pub use ingest::IngestApi;
pub use parse::Limits;

/// The generated server types, re-exported for the server wiring.
pub use riskgate_proto::v1::{
    device_service_server::DeviceServiceServer, ingest_service_server::IngestServiceServer,
};
