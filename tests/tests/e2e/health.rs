//! Health checking (`grpc.health.v1.Health`); server reflection is in `reflection.rs`.

use riskgate_tests::CoreProcess;
use tempfile::tempdir;
use tonic::Code;
use tonic_health::pb::{
    health_check_response::ServingStatus, health_client::HealthClient, HealthCheckRequest,
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
