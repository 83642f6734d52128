//! The standard gRPC services: health checking (`grpc.health.v1.Health`) and server reflection
//! (`grpc.reflection.v1.ServerReflection`).

use prost::Message as _;
use riskgate_tests::CoreProcess;
use tempfile::tempdir;
use tonic::Code;
use tonic_health::pb::{
    health_check_response::ServingStatus, health_client::HealthClient, HealthCheckRequest,
};
use tonic_reflection::pb::v1::{
    server_reflection_client::ServerReflectionClient, server_reflection_request::MessageRequest,
    server_reflection_response::MessageResponse, ServerReflectionRequest, ServerReflectionResponse,
};

const RISKGATE_SERVICES: [&str; 2] = ["riskgate.v1.IngestService", "riskgate.v1.DeviceService"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_check_reports_serving_overall_and_for_each_service() -> anyhow::Result<()> {
    let dir = tempdir()?;
    let core = CoreProcess::start(dir.path(), &[]).await;
    let mut health = HealthClient::new(core.channel().await?);
    for service in ["", RISKGATE_SERVICES[0], RISKGATE_SERVICES[1]] {
        let response = health
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .map_err(|status| anyhow::anyhow!("health check of {service:?}: {status:?}"))?
            .into_inner();
        assert_eq!(
            response.status,
            ServingStatus::Serving as i32,
            "health of {service:?}: {:?}",
            ServingStatus::try_from(response.status)
        );
    }
    let unknown = health
        .check(HealthCheckRequest {
            service: "no.such.Service".to_owned(),
        })
        .await
        .expect_err("an unknown service is not reported");
    assert_eq!(unknown.code(), Code::NotFound, "{unknown:?}");
    Ok(())
}

async fn reflect(core: &CoreProcess, request: MessageRequest) -> anyhow::Result<MessageResponse> {
    let mut client = ServerReflectionClient::new(core.channel().await?);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(request),
    };
    let mut responses = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await?
        .into_inner();
    let response: ServerReflectionResponse = responses
        .message()
        .await?
        .ok_or_else(|| anyhow::anyhow!("reflection stream ended without a response"))?;
    response
        .message_response
        .ok_or_else(|| anyhow::anyhow!("empty reflection response"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_lists_both_riskgate_services() -> anyhow::Result<()> {
    let dir = tempdir()?;
    let core = CoreProcess::start(dir.path(), &[]).await;
    let response = reflect(&core, MessageRequest::ListServices(String::new())).await?;
    let MessageResponse::ListServicesResponse(list) = response else {
        anyhow::bail!("expected a ListServicesResponse, got {response:?}");
    };
    let names: Vec<&str> = list.service.iter().map(|s| s.name.as_str()).collect();
    for service in RISKGATE_SERVICES {
        assert!(names.contains(&service), "{service} missing from {names:?}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_describes_the_device_service() -> anyhow::Result<()> {
    let dir = tempdir()?;
    let core = CoreProcess::start(dir.path(), &[]).await;
    let response = reflect(
        &core,
        MessageRequest::FileContainingSymbol("riskgate.v1.DeviceService".to_owned()),
    )
    .await?;
    let MessageResponse::FileDescriptorResponse(files) = response else {
        anyhow::bail!("expected a FileDescriptorResponse, got {response:?}");
    };
    let files = files
        .file_descriptor_proto
        .iter()
        .map(|bytes| prost_types::FileDescriptorProto::decode(bytes.as_slice()))
        .collect::<Result<Vec<_>, _>>()?;
    let devices = files
        .iter()
        .find(|f| f.name() == "riskgate/v1/devices.proto")
        .ok_or_else(|| {
            anyhow::anyhow!(
                "devices.proto not among {:?}",
                files.iter().map(|f| f.name()).collect::<Vec<_>>()
            )
        })?;
    let methods: Vec<&str> = devices
        .service
        .iter()
        .filter(|s| s.name() == "DeviceService")
        .flat_map(|s| s.method.iter().map(|m| m.name()))
        .collect();
    assert_eq!(
        methods,
        ["GetDevice", "ListDevices", "DeviceHistory", "GetStoreInfo"]
    );
    Ok(())
}
