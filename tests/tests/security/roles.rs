//! Tokens and roles: missing, wrong and expired tokens; each role against each RPC family; a connector
//! writing for another; health stays open.

use riskgate_proto::v1::{
    auth_service_client::AuthServiceClient, connector_service_client::ConnectorServiceClient,
    decision_service_client::DecisionServiceClient, device_service_client::DeviceServiceClient,
    event_log_service_client::EventLogServiceClient, policy_service_client::PolicyServiceClient,
    risk_stream_client::RiskStreamClient, CheckAccessRequest, GetCheckpointRequest,
    GetFleetSummaryRequest, GetStoreInfoRequest, HealthState, HeartbeatRequest,
    ListConnectorsRequest, ListEventsRequest, Platform, Resource, SubscribeRequest, WhoAmIRequest,
};
use riskgate_tests::{batch, now, report, rpc::IngestClient};
use tonic::Code;
use tonic_health::pb::{health_client::HealthClient, HealthCheckRequest};

use crate::support::{
    register_as_admin, start_with_config, tokens_toml, with_token, ADMIN, EXPIRED, LOOKOUT, READER,
    SUBSCRIBER,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_wrong_and_expired_tokens_are_unauthenticated_and_health_stays_open(
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let core = start_with_config(dir.path(), &tokens_toml(), &[]).await?;
    let mut devices = DeviceServiceClient::new(core.channel().await?);
    let missing = devices
        .get_store_info(GetStoreInfoRequest {})
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::Unauthenticated, "{missing:?}");
    for token in ["not-a-token", EXPIRED] {
        let status = devices
            .get_store_info(with_token(GetStoreInfoRequest {}, token))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{token}: {status:?}");
    }
    devices
        .get_store_info(with_token(GetStoreInfoRequest {}, READER))
        .await?;
    let health = HealthClient::new(core.channel().await?)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await?;
    assert_eq!(health.into_inner().status, 1, "SERVING without a token");
    // Failures are logged without the secret.
    assert!(
        !core.stderr_text().contains("not-a-token"),
        "a presented token leaked into the log"
    );
    Ok(())
}

/// Whether `result` shows the call got past authorisation.
fn allowed<T>(result: &Result<T, tonic::Status>) -> bool {
    !matches!(result, Err(status) if matches!(status.code(), Code::PermissionDenied | Code::Unauthenticated))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_against_each_rpc_family() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let core = start_with_config(dir.path(), &tokens_toml(), &[]).await?;
    register_as_admin(&core, "lookout").await?;
    let channel = core.channel().await?;
    // (token, may read, may administer, may subscribe, may heartbeat and ingest as lookout)
    let table = [
        (ADMIN, true, true, true, true),
        (READER, true, false, false, false),
        (SUBSCRIBER, false, false, true, false),
        (LOOKOUT, false, false, false, true),
    ];
    for (index, (token, read, administer, subscribe, connector)) in table.into_iter().enumerate() {
        let mut devices = DeviceServiceClient::new(channel.clone());
        let mut decisions = DecisionServiceClient::new(channel.clone());
        let mut connectors = ConnectorServiceClient::new(channel.clone());
        let mut policies = PolicyServiceClient::new(channel.clone());
        let mut streams = RiskStreamClient::new(channel.clone());
        let mut ingest = IngestClient::new(channel.clone());
        let mut log = EventLogServiceClient::new(channel.clone());
        let results = [
            (
                "GetFleetSummary",
                allowed(
                    &devices
                        .get_fleet_summary(with_token(GetFleetSummaryRequest {}, token))
                        .await,
                ),
                read,
            ),
            (
                "ListEvents",
                allowed(
                    &log.list_events(with_token(ListEventsRequest::default(), token))
                        .await,
                ),
                read,
            ),
            (
                "GetStoreInfo",
                allowed(
                    &devices
                        .get_store_info(with_token(GetStoreInfoRequest {}, token))
                        .await,
                ),
                read,
            ),
            (
                "CheckAccess",
                allowed(
                    &decisions
                        .check_access(with_token(
                            CheckAccessRequest {
                                device_id: "d".into(),
                                user_id: String::new(),
                                resource: "exchange".into(),
                            },
                            token,
                        ))
                        .await,
                ),
                read,
            ),
            (
                "ListConnectors",
                allowed(
                    &connectors
                        .list_connectors(with_token(ListConnectorsRequest {}, token))
                        .await,
                ),
                read,
            ),
            (
                "PutResource",
                allowed(
                    &policies
                        .put_resource(with_token(
                            Resource {
                                name: format!("r{index}"),
                                rules: vec![],
                                ..Default::default()
                            },
                            token,
                        ))
                        .await,
                ),
                administer,
            ),
            (
                "Subscribe",
                allowed(
                    &streams
                        .subscribe(with_token(SubscribeRequest::default(), token))
                        .await,
                ),
                subscribe,
            ),
            (
                "Heartbeat",
                allowed(
                    &connectors
                        .heartbeat(with_token(
                            HeartbeatRequest {
                                connector_id: "lookout".into(),
                                error_message: String::new(),
                                feed: None,
                            },
                            token,
                        ))
                        .await,
                ),
                connector,
            ),
            (
                "GetCheckpoint",
                allowed(
                    &ingest
                        .get_checkpoint(with_token(
                            GetCheckpointRequest {
                                connector_id: "lookout".into(),
                            },
                            token,
                        ))
                        .await,
                ),
                // A checkpoint is the vendor's cursor: the connector's own, not every reader's.
                connector,
            ),
        ];
        for (method, got, want) in results {
            assert_eq!(got, want, "token {token} on {method}");
        }
        let outcome = ingest_as(&mut ingest, token, "lookout", index as u64 + 1).await;
        assert_eq!(
            allowed(&outcome),
            connector,
            "token {token} on Ingest: {outcome:?}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_am_i_tells_every_valid_token_its_name_and_roles() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let core = start_with_config(dir.path(), &tokens_toml(), &[]).await?;
    let mut auth = AuthServiceClient::new(core.channel().await?);
    for (token, name, role) in [
        (ADMIN, "ops", "admin"),
        (READER, "dashboard", "reader"),
        (SUBSCRIBER, "gateway", "subscriber"),
        (LOOKOUT, "lookout-host", "connector:lookout"),
    ] {
        let me = auth
            .who_am_i(with_token(WhoAmIRequest {}, token))
            .await?
            .into_inner();
        assert_eq!(
            (me.name.as_str(), me.roles.clone()),
            (name, vec![role.to_owned()])
        );
        assert!(me.expires_at.is_none(), "{name} does not expire");
    }
    for token in [EXPIRED, "no-such-token"] {
        let status = auth
            .who_am_i(with_token(WhoAmIRequest {}, token))
            .await
            .expect_err(token);
        assert_eq!(status.code(), Code::Unauthenticated, "{token}: {status:?}");
    }
    Ok(())
}

/// One Ingest stream with one batch for `connector`, sent with `token`.
async fn ingest_as(
    client: &mut IngestClient,
    token: &str,
    connector: &str,
    batch_seq: u64,
) -> Result<Vec<riskgate_proto::v1::BatchAck>, tonic::Status> {
    let reports = vec![report(
        &format!("dev-{batch_seq}"),
        Platform::Android,
        HealthState::Secured,
        now(),
    )];
    let outbound = tokio_stream::iter(vec![batch(connector, batch_seq, b"cp", reports)]);
    let mut acks = client
        .ingest(with_token(outbound, token))
        .await?
        .into_inner();
    let mut received = Vec::new();
    while let Some(ack) = acks.message().await? {
        received.push(ack);
    }
    Ok(received)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connector_token_can_never_write_another_partners_data() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let core = start_with_config(dir.path(), &tokens_toml(), &[]).await?;
    register_as_admin(&core, "lookout").await?;
    register_as_admin(&core, "zimperium").await?;
    let channel = core.channel().await?;
    let mut ingest = IngestClient::new(channel.clone());
    let status = ingest_as(&mut ingest, LOOKOUT, "zimperium", 1)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert!(status.message().contains("zimperium"), "{status:?}");
    let status = ConnectorServiceClient::new(channel.clone())
        .heartbeat(with_token(
            HeartbeatRequest {
                connector_id: "zimperium".into(),
                error_message: "fake".into(),
                feed: None,
            },
            LOOKOUT,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let status = ingest
        .get_checkpoint(with_token(
            GetCheckpointRequest {
                connector_id: "zimperium".into(),
            },
            LOOKOUT,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    // Nothing was written for zimperium; lookout still writes its own data.
    let checkpoint = ingest
        .get_checkpoint(with_token(
            GetCheckpointRequest {
                connector_id: "zimperium".into(),
            },
            ADMIN,
        ))
        .await;
    assert_eq!(checkpoint.unwrap_err().code(), Code::NotFound);
    assert_eq!(
        ingest_as(&mut ingest, LOOKOUT, "lookout", 1).await?.len(),
        1
    );
    Ok(())
}
