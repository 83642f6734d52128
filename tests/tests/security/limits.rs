//! Limits: oversized messages, streams per client, and the loopback-only rule for plain TCP without auth.

use riskgate_proto::v1::{
    decision_service_client::DecisionServiceClient, device_service_client::DeviceServiceClient,
    risk_stream_client::RiskStreamClient, CheckAccessRequest, GetStoreInfoRequest, HealthState,
    Platform, SubscribeRequest,
};
use riskgate_tests::{batch, now, report, rpc::IngestClient, run_core_to_exit};
use tonic::Code;

use crate::support::{
    register_as_admin, start_with_config, tokens_toml, with_token, ADMIN, READER, SUBSCRIBER,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_message_is_resource_exhausted_and_the_server_keeps_serving(
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let core =
        start_with_config(dir.path(), &tokens_toml(), &["--max-message-bytes", "4096"]).await?;
    register_as_admin(&core, "lookout").await?;
    let channel = core.channel().await?;
    let huge = CheckAccessRequest {
        device_id: "d".into(),
        user_id: "u".repeat(8192),
        resource: "exchange".into(),
    };
    let status = DecisionServiceClient::new(channel.clone())
        .check_access(with_token(huge, READER))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    // A streamed batch over the limit ends its stream the same way.
    let mut big = report("dev", Platform::Ios, HealthState::Secured, now());
    big.model = "m".repeat(200);
    big.groups = (0..40)
        .map(|i| format!("{i}-{}", "g".repeat(200)))
        .collect();
    let outbound = tokio_stream::iter(vec![batch("lookout", 1, b"cp", vec![big])]);
    let mut ingest = IngestClient::new(channel.clone());
    let result = async {
        let mut acks = ingest
            .ingest(with_token(outbound, ADMIN))
            .await?
            .into_inner();
        acks.message().await
    }
    .await;
    assert_eq!(result.unwrap_err().code(), Code::ResourceExhausted);
    // Everyone else is still served.
    DeviceServiceClient::new(channel)
        .get_store_info(with_token(GetStoreInfoRequest {}, READER))
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_per_client_are_limited_per_token() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let core = start_with_config(
        dir.path(),
        &tokens_toml(),
        &["--max-streams-per-client", "2"],
    )
    .await?;
    let channel = core.channel().await?;
    let mut client = RiskStreamClient::new(channel);
    let first = client
        .subscribe(with_token(SubscribeRequest::default(), SUBSCRIBER))
        .await?;
    let second = client
        .subscribe(with_token(SubscribeRequest::default(), SUBSCRIBER))
        .await?;
    let status = client
        .subscribe(with_token(SubscribeRequest::default(), SUBSCRIBER))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    // Another client is not affected.
    client
        .subscribe(with_token(SubscribeRequest::default(), ADMIN))
        .await?;
    drop((first, second));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_tcp_without_auth_is_refused_off_loopback() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().to_string_lossy().into_owned();
    let output = run_core_to_exit(
        &[
            "--data-dir",
            &data,
            "--listen",
            "0.0.0.0:0",
            "--metrics-listen",
            "127.0.0.1:0",
        ],
        &[],
    )
    .await?;
    assert_eq!(output.status.code(), Some(64), "{}", output.stderr);
    assert!(
        output.stderr.contains("listen") && output.stderr.contains("loopback"),
        "{}",
        output.stderr
    );
    Ok(())
}
