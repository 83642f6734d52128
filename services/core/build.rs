//! Generates the server side of Envoy's `envoy.service.auth.v3.Authorization` service over the message
//! types of `envoy-types`, with riskgate's strict codec.
//!
//! `envoy-types` ships a generated server too, but it decodes with tonic-prost's codec, which answers a
//! request that does not decode with `INTERNAL`; every riskgate listener answers `INVALID_ARGUMENT`
//! naming the message and field instead (`riskgate_proto::codec`). The service has one unary method,
//! so it is described here in Rust (tonic-build's manual builder) rather than compiled from Envoy's
//! .proto files.

fn main() {
    let check = tonic_prost_build::manual::Method::builder()
        .name("check")
        .route_name("Check")
        .input_type("::envoy_types::pb::envoy::service::auth::v3::CheckRequest")
        .output_type("::envoy_types::pb::envoy::service::auth::v3::CheckResponse")
        .codec_path("::riskgate_proto::codec::StrictCodec")
        .build();
    let authorization = tonic_prost_build::manual::Service::builder()
        .name("Authorization")
        .package("envoy.service.auth.v3")
        .comment("Envoy's external authorization service (ext_authz, API v3).")
        .method(check)
        .build();
    tonic_prost_build::manual::Builder::new()
        .build_client(false)
        .compile(&[authorization]);
    println!("cargo:rerun-if-changed=build.rs");
}
