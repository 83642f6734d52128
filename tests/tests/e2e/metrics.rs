//! The Prometheus endpoint: `GET /metrics` on the metrics address exposes the ingest counters.

use std::time::Duration;

use riskgate_tests::{
    batch, ingest,
    metrics::{http_get, metric_sum},
    register_connector, wait_until, CoreProcess,
};
use tempfile::tempdir;

use crate::support::{check_applied, valid_report};

const REPORTS_TOTAL: &str = "riskgate_ingest_reports_total";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_expose_ingest_reports_total_after_an_ingest() -> anyhow::Result<()> {
    let dir = tempdir()?;
    let core = CoreProcess::start(dir.path(), &[]).await;
    let before = http_get(core.metrics_addr(), "/metrics").await?;
    assert_eq!(before.status, 200, "GET /metrics: {before:?}");
    let before_total = metric_sum(&before.body, REPORTS_TOTAL).unwrap_or(0.0);

    register_connector(&core, "vendor-a").await?;
    let mut ingest_client = core.ingest_client().await?;
    let reports = (0..3).map(|i| valid_report(&format!("dev-{i}"))).collect();
    let acks = ingest(&mut ingest_client, vec![batch("vendor-a", 1, b"", reports)]).await?;
    check_applied(&acks[0], 1, 3)?;

    // The counter may be updated just after the acknowledgement is sent: poll with a deadline.
    let addr = core.metrics_addr();
    let last_body = std::sync::Mutex::new(String::new());
    let last = &last_body;
    let counted = wait_until(
        Duration::from_secs(10),
        "riskgate_ingest_reports_total counts 3 more reports",
        || async move {
            match http_get(addr, "/metrics").await {
                Ok(response) if response.status == 200 => {
                    let total = metric_sum(&response.body, REPORTS_TOTAL);
                    *last.lock().expect("not poisoned") = response.body;
                    total.is_some_and(|total| total >= before_total + 3.0)
                }
                _ => false,
            }
        },
    )
    .await;
    let last_body = last_body.into_inner().expect("not poisoned");
    assert!(
        counted.is_ok(),
        "{counted:?}; last /metrics body:\n{last_body}"
    );
    assert!(last_body.contains(REPORTS_TOTAL));
    Ok(())
}

/// The metric families of issue 15, each with the sample a scenario must have produced: decisions by
/// outcome, refusals by code, and per connector its state, feed state and the ages of its last
/// heartbeat and last report.
const FRESHNESS_SAMPLES: [&str; 9] = [
    r#"riskgate_decisions_total{kind="access",outcome="allow"}"#,
    r#"riskgate_decisions_total{kind="access",outcome="deny"}"#,
    r#"riskgate_grpc_refusals_total{code="NOT_FOUND"}"#,
    r#"riskgate_connector_state{connector="vendor-a",state="AVAILABLE"}"#,
    r#"riskgate_connector_feed_state{connector="vendor-a",state="UNSPECIFIED"}"#,
    r#"riskgate_connector_heartbeat_age_seconds{connector="vendor-a"}"#,
    r#"riskgate_connector_report_age_seconds{connector="vendor-a"}"#,
    "riskgate_devices ",
    "riskgate_store_size_bytes ",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_freshness_and_decision_metric_is_exposed_after_a_scenario() -> anyhow::Result<()> {
    use riskgate_tests::{admin::compliant_only_resource, api::CheckAccessRequest};
    let dir = tempdir()?;
    let core = CoreProcess::start(dir.path(), &[]).await;
    register_connector(&core, "vendor-a").await?;
    let mut ingest_client = core.ingest_client().await?;
    let acks = ingest(
        &mut ingest_client,
        vec![batch("vendor-a", 1, b"", vec![valid_report("dev-1")])],
    )
    .await?;
    check_applied(&acks[0], 1, 1)?;
    core.policy_client()
        .await?
        .put_resource(compliant_only_resource("exchange"))
        .await?;
    let mut decisions = core.decision_client().await?;
    for device in ["dev-1", "never-seen"] {
        decisions
            .check_access(CheckAccessRequest {
                device_id: device.to_owned(),
                user_id: String::new(),
                resource: "exchange".to_owned(),
            })
            .await?;
    }
    let refused = decisions
        .check_access(CheckAccessRequest {
            device_id: "dev-1".to_owned(),
            user_id: String::new(),
            resource: "no-such-resource".to_owned(),
        })
        .await
        .expect_err("an unknown resource");
    assert_eq!(refused.code(), tonic::Code::NotFound);

    let body = http_get(core.metrics_addr(), "/metrics").await?.body;
    for sample in FRESHNESS_SAMPLES {
        assert!(
            body.lines().any(|line| line.starts_with(sample)),
            "{sample} missing from /metrics:\n{body}"
        );
    }
    Ok(())
}
