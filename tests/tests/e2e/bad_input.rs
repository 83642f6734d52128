//! Bad input: malformed batches end the Ingest stream with INVALID_ARGUMENT naming the field path,
//! apply nothing of the batch and leave the server serving; malformed unary requests are refused the
//! same way; values exactly at the documented limits are accepted.

use riskgate_tests::{
    admin,
    api::{
        Connector, ConnectorState, CreateConnectorRequest, DeviceHistoryRequest,
        GetCheckpointRequest, GetDeviceRequest, HealthState, ListDevicesRequest, Platform,
        ReportBatch, Threat, ThreatCategory, ThreatLevel, ThreatStatus, UpdateConnectorRequest,
    },
    batch, expect_status, ingest, ingest_outcome, register_connector, register_connector_with,
    report,
    rpc::{get_checkpoint, get_device, store_info},
    threat, ts, unix_now, CoreProcess,
};
use tempfile::tempdir;
use tonic::Code;

use crate::support::{check_applied, valid_report};

/// One malformed batch: `make(connector_id, valid_device_id)` builds a batch that also holds a
/// valid report for `valid_device_id`, and the error must name `field`.
struct BatchCase {
    name: &'static str,
    field: &'static str,
    make: fn(&str, &str) -> ReportBatch,
}

/// A batch of `[valid report for device, bad]`, so the bad report is `reports[1]`.
fn second_report_bad(
    connector: &str,
    device: &str,
    change: fn(&mut riskgate_tests::api::DeviceReport),
) -> ReportBatch {
    let mut bad = valid_report(&format!("{device}-bad"));
    change(&mut bad);
    batch(connector, 1, b"bad", vec![valid_report(device), bad])
}

/// A batch of `[report with a bad threat, valid report for device]`: the bad threat is
/// `reports[0].threats[0]` (after a valid `threats[0]` when `index` is 1).
fn bad_threat(connector: &str, device: &str, index: usize, change: fn(&mut Threat)) -> ReportBatch {
    let mut carrier = valid_report(&format!("{device}-bad"));
    let mut bad = threat("bad-threat", ThreatCategory::Application, ThreatLevel::High);
    change(&mut bad);
    if index == 1 {
        carrier.threats.push(threat(
            "good-threat",
            ThreatCategory::Network,
            ThreatLevel::Low,
        ));
    }
    carrier.threats.push(bad);
    batch(connector, 1, b"bad", vec![carrier, valid_report(device)])
}

fn batch_cases() -> Vec<BatchCase> {
    vec![
        BatchCase {
            name: "empty connector_id",
            field: "connector_id",
            make: |_, d| batch("", 1, b"", vec![valid_report(d)]),
        },
        BatchCase {
            name: "connector_id with a space",
            field: "connector_id",
            make: |_, d| batch("bad connector", 1, b"", vec![valid_report(d)]),
        },
        BatchCase {
            name: "connector_id with a slash",
            field: "connector_id",
            make: |_, d| batch("vendor/a", 1, b"", vec![valid_report(d)]),
        },
        BatchCase {
            name: "connector_id of 129 bytes",
            field: "connector_id",
            make: |_, d| batch(&"c".repeat(129), 1, b"", vec![valid_report(d)]),
        },
        BatchCase {
            name: "batch_seq 0",
            field: "batch_seq",
            make: |c, d| batch(c, 0, b"", vec![valid_report(d)]),
        },
        BatchCase {
            name: "checkpoint of 64 KiB + 1",
            field: "checkpoint",
            make: |c, d| batch(c, 1, &vec![1u8; 64 * 1024 + 1], vec![valid_report(d)]),
        },
        BatchCase {
            name: "1001 reports (default limit 1000)",
            field: "reports",
            make: |c, d| {
                let mut reports = vec![valid_report(d)];
                reports.extend((1..1001).map(|i| valid_report(&format!("{d}-{i}"))));
                batch(c, 1, b"", reports)
            },
        },
        BatchCase {
            name: "empty device_id in the third report",
            field: "reports[2].device_id",
            make: |c, d| {
                batch(
                    c,
                    1,
                    b"",
                    vec![
                        valid_report(d),
                        valid_report(&format!("{d}-2")),
                        valid_report(""),
                    ],
                )
            },
        },
        BatchCase {
            name: "device_id with a control character",
            field: "reports[1].device_id",
            make: |c, d| second_report_bad(c, d, |r| r.device_id = "dev\u{7}ice".to_owned()),
        },
        BatchCase {
            name: "device_id of 257 bytes",
            field: "reports[1].device_id",
            make: |c, d| second_report_bad(c, d, |r| r.device_id = "d".repeat(257)),
        },
        BatchCase {
            name: "platform unspecified",
            field: "reports[1].platform",
            make: |c, d| second_report_bad(c, d, |r| r.platform = Platform::Unspecified as i32),
        },
        BatchCase {
            name: "unknown platform 99",
            field: "reports[1].platform",
            make: |c, d| second_report_bad(c, d, |r| r.platform = 99),
        },
        BatchCase {
            name: "health_state unspecified",
            field: "reports[1].health_state",
            make: |c, d| {
                second_report_bad(c, d, |r| r.health_state = HealthState::Unspecified as i32)
            },
        },
        BatchCase {
            name: "unknown health_state 42",
            field: "reports[1].health_state",
            make: |c, d| second_report_bad(c, d, |r| r.health_state = 42),
        },
        BatchCase {
            name: "missing observed_at",
            field: "reports[1].observed_at",
            make: |c, d| second_report_bad(c, d, |r| r.observed_at = None),
        },
        BatchCase {
            name: "observed_at an hour in the future (skew 5m)",
            field: "reports[1].observed_at",
            make: |c, d| second_report_bad(c, d, |r| r.observed_at = Some(ts(unix_now() + 3600))),
        },
        BatchCase {
            name: "observed_at in the future in the first report",
            field: "reports[0].observed_at",
            make: |c, d| {
                let mut bad = valid_report(&format!("{d}-bad"));
                bad.observed_at = Some(ts(unix_now() + 3600));
                batch(c, 1, b"", vec![bad, valid_report(d)])
            },
        },
        BatchCase {
            name: "empty vendor_event_id",
            field: "reports[1].vendor_event_id",
            make: |c, d| second_report_bad(c, d, |r| r.vendor_event_id = String::new()),
        },
        BatchCase {
            name: "vendor_event_id of 257 bytes",
            field: "reports[1].vendor_event_id",
            make: |c, d| second_report_bad(c, d, |r| r.vendor_event_id = "e".repeat(257)),
        },
        BatchCase {
            name: "os_version of 65 bytes",
            field: "reports[1].os_version",
            make: |c, d| second_report_bad(c, d, |r| r.os_version = "1".repeat(65)),
        },
        BatchCase {
            name: "model of 257 bytes",
            field: "reports[1].model",
            make: |c, d| second_report_bad(c, d, |r| r.model = "m".repeat(257)),
        },
        BatchCase {
            name: "owner_user_id of 257 bytes",
            field: "reports[1].owner_user_id",
            make: |c, d| second_report_bad(c, d, |r| r.owner_user_id = "o".repeat(257)),
        },
        BatchCase {
            name: "65 groups",
            field: "reports[1].groups",
            make: |c, d| {
                second_report_bad(c, d, |r| {
                    r.groups = (0..65).map(|i| format!("g{i}")).collect()
                })
            },
        },
        BatchCase {
            name: "group of 257 bytes",
            field: "reports[1].groups[3]",
            make: |c, d| {
                second_report_bad(c, d, |r| {
                    r.groups = vec!["a".into(), "b".into(), "c".into(), "g".repeat(257)];
                })
            },
        },
        BatchCase {
            name: "257 threats",
            field: "reports[1].threats",
            make: |c, d| {
                second_report_bad(c, d, |r| {
                    r.threats = (0..257)
                        .map(|i| {
                            threat(
                                &format!("t{i}"),
                                ThreatCategory::Application,
                                ThreatLevel::Low,
                            )
                        })
                        .collect();
                })
            },
        },
        BatchCase {
            name: "threat severity unspecified",
            field: "reports[0].threats[1].severity",
            make: |c, d| bad_threat(c, d, 1, |t| t.severity = ThreatLevel::Unspecified as i32),
        },
        BatchCase {
            name: "unknown threat severity 77",
            field: "reports[0].threats[1].severity",
            make: |c, d| bad_threat(c, d, 1, |t| t.severity = 77),
        },
        BatchCase {
            name: "threat category unspecified",
            field: "reports[0].threats[0].category",
            make: |c, d| bad_threat(c, d, 0, |t| t.category = ThreatCategory::Unspecified as i32),
        },
        BatchCase {
            name: "unknown threat category 50",
            field: "reports[0].threats[0].category",
            make: |c, d| bad_threat(c, d, 0, |t| t.category = 50),
        },
        BatchCase {
            name: "threat status unspecified",
            field: "reports[0].threats[0].status",
            make: |c, d| bad_threat(c, d, 0, |t| t.status = ThreatStatus::Unspecified as i32),
        },
        BatchCase {
            name: "empty vendor_threat_id",
            field: "reports[0].threats[0].vendor_threat_id",
            make: |c, d| bad_threat(c, d, 0, |t| t.vendor_threat_id = String::new()),
        },
        BatchCase {
            name: "vendor_threat_id of 257 bytes",
            field: "reports[0].threats[0].vendor_threat_id",
            make: |c, d| bad_threat(c, d, 0, |t| t.vendor_threat_id = "t".repeat(257)),
        },
        BatchCase {
            name: "classification of 257 bytes",
            field: "reports[0].threats[0].classification",
            make: |c, d| bad_threat(c, d, 0, |t| t.classification = "c".repeat(257)),
        },
        BatchCase {
            name: "description of 4097 bytes",
            field: "reports[0].threats[0].description",
            make: |c, d| bad_threat(c, d, 0, |t| t.description = "x".repeat(4097)),
        },
        BatchCase {
            name: "missing detected_at",
            field: "reports[0].threats[0].detected_at",
            make: |c, d| bad_threat(c, d, 0, |t| t.detected_at = None),
        },
        BatchCase {
            name: "detected_at an hour in the future",
            field: "reports[0].threats[0].detected_at",
            make: |c, d| bad_threat(c, d, 0, |t| t.detected_at = Some(ts(unix_now() + 3600))),
        },
        BatchCase {
            name: "resolved_at before detected_at",
            field: "reports[0].threats[0].resolved_at",
            make: |c, d| {
                bad_threat(c, d, 0, |t| {
                    t.status = ThreatStatus::Resolved as i32;
                    t.resolved_at = Some(ts(unix_now() - 3600));
                })
            },
        },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_batches_are_rejected_naming_the_field_and_apply_nothing() -> anyhow::Result<()> {
    let dir = tempdir()?;
    let core = CoreProcess::start(dir.path(), &[]).await;
    let mut ingest_client = core.ingest_client().await?;
    let mut devices = core.device_client().await?;

    let cases = batch_cases();
    assert!(cases.len() >= 15);
    // Every case's connector is registered and alive, so only the malformation can refuse a batch.
    for i in 0..cases.len() {
        register_connector(&core, &format!("bad-{i}")).await?;
    }
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let connector = format!("bad-{i}");
        let device = format!("valid-{i}");
        let bad = (case.make)(&connector, &device);
        let name = case.name;

        let result = ingest(&mut ingest_client, vec![bad]).await;
        if let Err(e) = expect_status(result, Code::InvalidArgument, case.field) {
            failures.push(format!("[{name}] {e:#}"));
        }
        // Nothing of the batch was applied, and the checkpoint did not move.
        if get_device(&mut devices, &device).await?.is_some() {
            failures.push(format!(
                "[{name}] the valid report for {device} in the bad batch was applied"
            ));
        }
        if let Some(checkpoint) = get_checkpoint(&mut ingest_client, &connector).await? {
            failures.push(format!(
                "[{name}] the bad batch moved the checkpoint: {checkpoint:?}"
            ));
        }
        // The server keeps serving: the same connector's batch 1, made valid, is applied.
        match ingest(
            &mut ingest_client,
            vec![batch(&connector, 1, b"ok", vec![valid_report(&device)])],
        )
        .await
        {
            Ok(acks) if acks.len() == 1 && check_applied(&acks[0], 1, 1).is_ok() => {}
            other => failures.push(format!(
                "[{name}] a valid batch afterwards was not applied: {other:?}"
            )),
        }
        if get_device(&mut devices, &device).await?.is_none() {
            failures.push(format!("[{name}] {device} missing after the valid batch"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} malformed-batch checks failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_batch_after_good_batch_keeps_the_earlier_ack() -> anyhow::Result<()> {
    let dir = tempdir()?;
    let core = CoreProcess::start(dir.path(), &[]).await;
    let mut ingest_client = core.ingest_client().await?;
    let mut devices = core.device_client().await?;
    register_connector(&core, "vendor-a").await?;

    let good = batch("vendor-a", 1, b"good", vec![valid_report("dev-good")]);
    let mut bad_report = valid_report("dev-in-bad-batch-2");
    bad_report.platform = 99;
    let bad = batch(
        "vendor-a",
        2,
        b"bad",
        vec![valid_report("dev-in-bad-batch"), bad_report],
    );
    let never_read = batch("vendor-a", 3, b"after", vec![valid_report("dev-after")]);

    let outcome = ingest_outcome(&mut ingest_client, vec![good, bad, never_read]).await;
    assert_eq!(
        outcome.acks.len(),
        1,
        "only the good batch is acknowledged: {:?}",
        outcome.acks
    );
    check_applied(&outcome.acks[0], 1, 1)?;
    expect_status(
        outcome.error.map_or(Ok(()), Err),
        Code::InvalidArgument,
        "reports[1].platform",
    )?;

    assert!(
        get_device(&mut devices, "dev-good").await?.is_some(),
        "the acknowledged batch stays applied"
    );
    assert!(get_device(&mut devices, "dev-in-bad-batch")
        .await?
        .is_none());
    assert!(
        get_device(&mut devices, "dev-after").await?.is_none(),
        "the stream ended at the bad batch"
    );
    let checkpoint = get_checkpoint(&mut ingest_client, "vendor-a")
        .await?
        .expect("checkpoint");
    assert_eq!(
        (checkpoint.batch_seq, checkpoint.checkpoint.as_slice()),
        (1, &b"good"[..])
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_unary_requests_are_rejected_naming_the_field() -> anyhow::Result<()> {
    let dir = tempdir()?;
    let core = CoreProcess::start(dir.path(), &[]).await;
    let mut ingest_client = core.ingest_client().await?;
    let mut devices = core.device_client().await?;
    register_connector(&core, "vendor-a").await?;
    let acks = ingest(
        &mut ingest_client,
        vec![batch("vendor-a", 1, b"", vec![valid_report("dev-1")])],
    )
    .await?;
    check_applied(&acks[0], 1, 1)?;

    enum Call {
        GetDevice(GetDeviceRequest),
        ListDevices(ListDevicesRequest),
        DeviceHistory(DeviceHistoryRequest),
        GetCheckpoint(GetCheckpointRequest),
    }
    let get_device_req = |id: &str| {
        Call::GetDevice(GetDeviceRequest {
            device_id: id.to_owned(),
        })
    };
    let history = |id: &str, page_size: u32, token: &str| {
        Call::DeviceHistory(DeviceHistoryRequest {
            device_id: id.to_owned(),
            page_size,
            page_token: token.to_owned(),
        })
    };
    let checkpoint = |id: &str| {
        Call::GetCheckpoint(GetCheckpointRequest {
            connector_id: id.to_owned(),
        })
    };
    let cases: Vec<(&str, Call, Code, &str)> = vec![
        (
            "GetDevice empty device_id",
            get_device_req(""),
            Code::InvalidArgument,
            "device_id",
        ),
        (
            "GetDevice unknown device",
            get_device_req("no-such-device"),
            Code::NotFound,
            "",
        ),
        (
            "ListDevices page_size 1001",
            Call::ListDevices(ListDevicesRequest {
                page_size: 1001,
                ..Default::default()
            }),
            Code::InvalidArgument,
            "page_size",
        ),
        (
            "ListDevices garbage page_token",
            Call::ListDevices(ListDevicesRequest {
                page_token: "garbage!!".to_owned(),
                ..Default::default()
            }),
            Code::InvalidArgument,
            "page_token",
        ),
        (
            "ListDevices unknown platform",
            Call::ListDevices(ListDevicesRequest {
                platforms: vec![99],
                ..Default::default()
            }),
            Code::InvalidArgument,
            "platforms[0]",
        ),
        (
            "ListDevices unknown second platform",
            Call::ListDevices(ListDevicesRequest {
                platforms: vec![Platform::Android as i32, 99],
                ..Default::default()
            }),
            Code::InvalidArgument,
            "platforms[1]",
        ),
        (
            "ListDevices unknown level",
            Call::ListDevices(ListDevicesRequest {
                levels: vec![42],
                ..Default::default()
            }),
            Code::InvalidArgument,
            "levels[0]",
        ),
        (
            "DeviceHistory empty device_id",
            history("", 0, ""),
            Code::InvalidArgument,
            "device_id",
        ),
        (
            "DeviceHistory unknown device",
            history("no-such-device", 0, ""),
            Code::NotFound,
            "",
        ),
        (
            "DeviceHistory page_size 1001",
            history("dev-1", 1001, ""),
            Code::InvalidArgument,
            "page_size",
        ),
        (
            "DeviceHistory garbage page_token",
            history("dev-1", 0, "garbage!!"),
            Code::InvalidArgument,
            "page_token",
        ),
        (
            "GetCheckpoint empty connector_id",
            checkpoint(""),
            Code::InvalidArgument,
            "connector_id",
        ),
        (
            "GetCheckpoint unknown connector",
            checkpoint("vendor-none"),
            Code::NotFound,
            "",
        ),
    ];
    let mut failures = Vec::new();
    for (name, call, code, field) in cases {
        let result: Result<String, tonic::Status> = match call {
            Call::GetDevice(r) => devices
                .get_device(r)
                .await
                .map(|r| format!("{:?}", r.into_inner())),
            Call::ListDevices(r) => devices
                .list_devices(r)
                .await
                .map(|r| format!("{:?}", r.into_inner())),
            Call::DeviceHistory(r) => devices
                .device_history(r)
                .await
                .map(|r| format!("{:?}", r.into_inner())),
            Call::GetCheckpoint(r) => ingest_client
                .get_checkpoint(r)
                .await
                .map(|r| format!("{:?}", r.into_inner())),
        };
        if let Err(e) = expect_status(result, code, field) {
            failures.push(format!("[{name}] {e:#}"));
        }
    }
    assert!(
        failures.is_empty(),
        "unary checks failed:\n{}",
        failures.join("\n")
    );

    // Still serving.
    assert!(get_device(&mut devices, "dev-1").await?.is_some());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_at_the_documented_limits_are_accepted() -> anyhow::Result<()> {
    let dir = tempdir()?;
    let core = CoreProcess::start(dir.path(), &[]).await;
    let mut ingest_client = core.ingest_client().await?;
    let mut devices = core.device_client().await?;

    let connector = format!("Az09._-{}", "c".repeat(121)); // 128 bytes of every allowed kind
    assert_eq!(connector.len(), 128);
    register_connector(&core, &connector).await?;
    let device_id = format!("dev:é/ü {}", "d".repeat(256 - "dev:é/ü ".len()));
    assert_eq!(device_id.len(), 256);

    let mut full = report(
        &device_id,
        Platform::Macos,
        HealthState::HighSeverity,
        ts(unix_now() + 60),
    );
    full.os_version = "1".repeat(64);
    full.model = "m".repeat(256);
    full.owner_user_id = "o".repeat(256);
    full.groups = (0..64).map(|i| format!("{i:0>256}")).collect();
    full.vendor_event_id = "e".repeat(256);
    full.threats = (0..256)
        .map(|i| Threat {
            vendor_threat_id: format!("{i:0>256}"),
            classification: "c".repeat(256),
            ..threat("", ThreatCategory::Os, ThreatLevel::High)
        })
        .collect();
    full.threats[0].description = "x".repeat(4096);
    let mut reports = vec![full.clone()];
    reports.extend((1..1000).map(|i| valid_report(&format!("filler-{i:04}"))));
    let big_checkpoint = vec![0xAB; 64 * 1024];

    let acks = ingest(
        &mut ingest_client,
        vec![batch(&connector, 1, &big_checkpoint, reports)],
    )
    .await?;
    check_applied(&acks[0], 1, 1000)?;

    let device = get_device(&mut devices, &device_id)
        .await?
        .expect("device at the limits is stored");
    assert_eq!(device.groups, full.groups);
    assert_eq!(device.reports[0].threats, full.threats);
    assert_eq!(
        device.reports[0].observed_at, full.observed_at,
        "a minute ahead is within the 5 minute skew"
    );
    let checkpoint = get_checkpoint(&mut ingest_client, &connector)
        .await?
        .expect("checkpoint");
    assert_eq!(checkpoint.checkpoint, big_checkpoint);
    assert_eq!(checkpoint.batch_seq, 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_from_unregistered_not_set_up_or_unavailable_connector_is_refused_and_stores_nothing(
) -> anyhow::Result<()> {
    let dir = tempdir()?;
    let core = CoreProcess::start(dir.path(), &[]).await;
    let mut ingest_client = core.ingest_client().await?;
    let mut devices = core.device_client().await?;
    let mut connectors = core.connector_client().await?;

    // vendor-new is registered but has sent no heartbeat: NOT_SET_UP.
    let created = connectors
        .create_connector(CreateConnectorRequest {
            connector: Some(admin::connector("vendor-new")),
        })
        .await?
        .into_inner();
    assert_eq!(
        created.state,
        ConnectorState::NotSetUp as i32,
        "no heartbeat yet: {created:?}"
    );
    // vendor-gone is alive but deprovisioned: UNAVAILABLE.
    let gone = register_connector_with(
        &core,
        Connector {
            provisioned: Some(true),
            ..admin::connector("vendor-gone")
        },
    )
    .await?;
    let gone = connectors
        .update_connector(UpdateConnectorRequest {
            connector: Some(Connector {
                provisioned: Some(false),
                ..gone
            }),
            expected_version: 0,
        })
        .await?
        .into_inner();
    assert_eq!(
        gone.state,
        ConnectorState::Unavailable as i32,
        "provisioned=false: {gone:?}"
    );

    let head = store_info(&mut devices).await?.head_position;
    for (connector, why) in [
        ("vendor-unknown", "unregistered"),
        ("vendor-new", "NOT_SET_UP"),
        ("vendor-gone", "UNAVAILABLE"),
    ] {
        let device = format!("dev-of-{connector}");
        let outcome = ingest_outcome(
            &mut ingest_client,
            vec![batch(connector, 1, b"c1", vec![valid_report(&device)])],
        )
        .await;
        assert!(
            outcome.acks.is_empty(),
            "{why} connector {connector}: nothing is acknowledged: {:?}",
            outcome.acks
        );
        expect_status(
            outcome.error.map_or(Ok(()), Err),
            Code::FailedPrecondition,
            connector,
        )
        .map_err(|e| e.context(format!("{why} connector {connector}")))?;
        assert_eq!(
            get_device(&mut devices, &device).await?,
            None,
            "{why} connector {connector}: its report is not stored"
        );
        assert_eq!(
            get_checkpoint(&mut ingest_client, connector).await?,
            None,
            "{why} connector {connector}: no checkpoint"
        );
        assert_eq!(
            store_info(&mut devices).await?.head_position,
            head,
            "{why} connector {connector}: nothing is written to the log"
        );
    }

    // Once vendor-new's first heartbeat arrives, the same batch is applied.
    let alive = admin::heartbeat(&mut connectors, "vendor-new").await?;
    assert_eq!(alive.state, ConnectorState::Available as i32, "{alive:?}");
    let acks = ingest(
        &mut ingest_client,
        vec![batch(
            "vendor-new",
            1,
            b"c1",
            vec![valid_report("dev-of-vendor-new")],
        )],
    )
    .await?;
    check_applied(&acks[0], 1, 1)?;
    assert!(get_device(&mut devices, "dev-of-vendor-new")
        .await?
        .is_some());
    Ok(())
}
