//! Ingest, then query: GetDevice fields and worst-of levels, the health-state mapping, ListDevices
//! paging and filters, DeviceHistory order and paging, GetCheckpoint and GetStoreInfo.

use std::collections::BTreeMap;

use riskgate_tests::{
    api::{
        DeviceHistoryRequest, GetCheckpointRequest, HealthState, ListDevicesRequest, Platform,
        Threat, ThreatCategory, ThreatLevel, ThreatStatus,
    },
    batch,
    events::{reports_of, strictly_increasing},
    ingest, register_connector, report,
    rpc::{full_history, get_checkpoint, get_device, list_all_devices, store_info},
    threat, ts, unix_now, CoreProcess,
};
use tempfile::tempdir;

use crate::support::{check_applied, level_of, worst};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_device_returns_reported_fields_and_worst_level_across_connectors() -> anyhow::Result<()>
{
    let dir = tempdir()?;
    let core = CoreProcess::start(dir.path(), &[]).await;
    let mut ingest_client = core.ingest_client().await?;
    let mut devices = core.device_client().await?;
    register_connector(&core, "vendor-a").await?;
    register_connector(&core, "vendor-b").await?;
    let t0 = unix_now() - 3600;

    let mut from_a = report("device-1", Platform::Ios, HealthState::LowSeverity, ts(t0));
    from_a.os_version = "17.4.1".to_owned();
    from_a.model = "iPhone 15".to_owned();
    from_a.owner_user_id = "alice@example.com".to_owned();
    from_a.groups = vec!["sales".to_owned(), "emea".to_owned()];
    from_a.threats = vec![threat("a-1", ThreatCategory::Application, ThreatLevel::Low)];

    let mut from_b = report(
        "device-1",
        Platform::Ios,
        HealthState::HighSeverity,
        ts(t0 + 60),
    );
    from_b.os_version = "17.5".to_owned();
    from_b.model = "iPhone 15 Pro".to_owned();
    from_b.owner_user_id = "alice@example.com".to_owned();
    from_b.groups = vec!["sales".to_owned(), "emea".to_owned(), "vip".to_owned()];
    from_b.threats = vec![
        threat("b-1", ThreatCategory::Network, ThreatLevel::High),
        Threat {
            status: ThreatStatus::Resolved as i32,
            resolved_at: Some(ts(unix_now() - 30)),
            classification: String::new(),
            ..threat("b-2", ThreatCategory::Os, ThreatLevel::Medium)
        },
    ];

    let ack_a = ingest(
        &mut ingest_client,
        vec![batch("vendor-a", 1, b"a-1", vec![from_a.clone()])],
    )
    .await?;
    check_applied(&ack_a[0], 1, 1)?;
    let ack_b = ingest(
        &mut ingest_client,
        vec![batch("vendor-b", 1, b"b-1", vec![from_b.clone()])],
    )
    .await?;
    check_applied(&ack_b[0], 1, 1)?;

    let device = get_device(&mut devices, "device-1")
        .await?
        .expect("device-1 exists");
    assert_eq!(device.device_id, "device-1");
    assert_eq!(device.platform, Platform::Ios as i32);
    assert_eq!(device.os_version, "17.5", "os_version as last reported");
    assert_eq!(device.model, "iPhone 15 Pro", "model as last reported");
    assert_eq!(device.owner_user_id, "alice@example.com");
    assert_eq!(device.groups, from_b.groups, "groups as last reported");
    assert_eq!(
        device.level,
        ThreatLevel::High as i32,
        "worst of LOW (vendor-a) and HIGH (vendor-b)"
    );
    assert_eq!(
        device.position, ack_b[0].position,
        "position of the device's latest event"
    );
    let (first_seen, last_seen) = (
        device.first_seen.expect("first_seen"),
        device.last_seen.expect("last_seen"),
    );
    assert!(
        (first_seen.seconds, first_seen.nanos) <= (last_seen.seconds, last_seen.nanos),
        "first_seen {first_seen:?} after last_seen {last_seen:?}"
    );

    let connectors: Vec<&str> = device
        .reports
        .iter()
        .map(|r| r.connector_id.as_str())
        .collect();
    assert_eq!(
        connectors,
        ["vendor-a", "vendor-b"],
        "one report per connector, in connector order"
    );
    let (history, _) = full_history(&mut devices, "device-1", 1000).await?;
    let reported_at = |vendor_event_id: &str| {
        reports_of(&history)
            .into_iter()
            .find(|(_, r)| r.vendor_event_id == vendor_event_id)
            .map(|(position, _)| position)
    };
    for (got, sent, ack, level) in [
        (&device.reports[0], &from_a, &ack_a[0], ThreatLevel::Low),
        (&device.reports[1], &from_b, &ack_b[0], ThreatLevel::High),
    ] {
        assert_eq!(
            Some(got.position),
            reported_at(&sent.vendor_event_id),
            "{}: the position of its device_reported event",
            got.connector_id
        );
        assert!(
            got.position <= ack.position,
            "{}: applied by the acknowledged batch",
            got.connector_id
        );
        assert_eq!(got.health_state, sent.health_state, "{}", got.connector_id);
        assert_eq!(got.level, level as i32, "{}", got.connector_id);
        assert_eq!(
            got.threats, sent.threats,
            "{}: threats round-trip",
            got.connector_id
        );
        assert_eq!(got.observed_at, sent.observed_at, "{}", got.connector_id);
        assert_eq!(
            got.vendor_event_id, sent.vendor_event_id,
            "{}",
            got.connector_id
        );
        assert!(
            got.received_at.is_some(),
            "{}: received_at is set",
            got.connector_id
        );
    }

    // The level follows the reports: each step replaces one connector's report. A report without a level
    // keeps the risk that connector knew before (LOW or worse) until it reports a level again.
    let steps = [
        ("vendor-b", 2, HealthState::Secured, ThreatLevel::Low), // a=LOW, b=SECURED
        ("vendor-a", 2, HealthState::Unresponsive, ThreatLevel::Low), // a lost sight: LOW holds
        ("vendor-a", 3, HealthState::Deactivated, ThreatLevel::Low), // still
        ("vendor-b", 3, HealthState::Compromised, ThreatLevel::High), // b=HIGH
        ("vendor-b", 4, HealthState::Secured, ThreatLevel::Low), // b secured; a's known LOW
        ("vendor-a", 4, HealthState::Secured, ThreatLevel::Secured), // a secured: nothing held
        (
            "vendor-a",
            5,
            HealthState::Misconfigured,
            ThreatLevel::Secured,
        ), // a missing, nothing held; b=SECURED
        (
            "vendor-b",
            5,
            HealthState::Unknown,
            ThreatLevel::Unspecified,
        ), // no level at all
    ];
    for (i, (connector, seq, state, expected)) in steps.into_iter().enumerate() {
        let observed = ts(t0 + 120 + i64::try_from(i)? * 60);
        let sent = report("device-1", Platform::Ios, state, observed);
        let acks = ingest(
            &mut ingest_client,
            vec![batch(connector, seq, b"step", vec![sent])],
        )
        .await?;
        check_applied(&acks[0], seq, 1)?;
        let device = get_device(&mut devices, "device-1")
            .await?
            .expect("device-1 exists");
        assert_eq!(
            device.level,
            expected as i32,
            "after {connector} reported {state:?}: reports {:?}",
            device
                .reports
                .iter()
                .map(|r| (&r.connector_id, r.health_state))
                .collect::<Vec<_>>()
        );
        let report = device
            .reports
            .iter()
            .find(|r| r.connector_id == connector)
            .expect("report");
        assert_eq!(report.health_state, state as i32);
        assert_eq!(report.level, level_of(state) as i32);
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_states_map_to_documented_levels() -> anyhow::Result<()> {
    let dir = tempdir()?;
    let core = CoreProcess::start(dir.path(), &[]).await;
    let mut ingest_client = core.ingest_client().await?;
    let mut devices = core.device_client().await?;
    register_connector(&core, "vendor-a").await?;
    let expected = [
        (HealthState::Unknown, ThreatLevel::Unspecified),
        (HealthState::Activated, ThreatLevel::Unspecified),
        (HealthState::Deactivated, ThreatLevel::Unspecified),
        (HealthState::Secured, ThreatLevel::Secured),
        (HealthState::LowSeverity, ThreatLevel::Low),
        (HealthState::MediumSeverity, ThreatLevel::Medium),
        (HealthState::HighSeverity, ThreatLevel::High),
        (HealthState::Unresponsive, ThreatLevel::Unspecified),
        (HealthState::Compromised, ThreatLevel::High),
        (HealthState::Misconfigured, ThreatLevel::Unspecified),
    ];
    let observed = ts(unix_now() - 60);
    let reports = expected
        .iter()
        .map(|(state, _)| {
            report(
                &format!("dev-{}", state.as_str_name()),
                Platform::Android,
                *state,
                observed,
            )
        })
        .collect();
    let acks = ingest(&mut ingest_client, vec![batch("vendor-a", 1, b"", reports)]).await?;
    check_applied(&acks[0], 1, 10)?;

    let mut wrong = Vec::new();
    for (state, level) in expected {
        let device = get_device(&mut devices, &format!("dev-{}", state.as_str_name()))
            .await?
            .expect("device exists");
        let report_level = device.reports.first().map(|r| r.level);
        if device.level != level as i32 || report_level != Some(level as i32) {
            wrong.push(format!(
                "{state:?}: expected {level:?}, device level {:?}, report level {report_level:?}",
                ThreatLevel::try_from(device.level)
            ));
        }
    }
    assert!(wrong.is_empty(), "wrong levels:\n{}", wrong.join("\n"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_devices_pages_in_id_order_and_filters_by_platform_level_and_connector(
) -> anyhow::Result<()> {
    let dir = tempdir()?;
    let core = CoreProcess::start(dir.path(), &[]).await;
    let mut ingest_client = core.ingest_client().await?;
    let mut devices = core.device_client().await?;
    register_connector(&core, "vendor-a").await?;
    register_connector(&core, "vendor-b").await?;
    let t = ts(unix_now() - 60);

    // Sent out of id order. dev-4 has two connectors (SECURED and COMPROMISED → HIGH); dev-5 has
    // only missing data (no level).
    let from_a = vec![
        report("dev-4", Platform::Android, HealthState::Secured, t),
        report("dev-1", Platform::Android, HealthState::LowSeverity, t),
        report("dev-2", Platform::Ios, HealthState::HighSeverity, t),
    ];
    let from_b = vec![
        report("dev-3", Platform::Windows, HealthState::MediumSeverity, t),
        report("dev-5", Platform::Ios, HealthState::Unresponsive, t),
        report("dev-4", Platform::Android, HealthState::Compromised, t),
    ];
    let acks = ingest(
        &mut ingest_client,
        vec![
            batch("vendor-b", 1, b"", from_b),
            batch("vendor-a", 1, b"", from_a),
        ],
    )
    .await?;
    check_applied(&acks[0], 1, 3)?;
    check_applied(&acks[1], 1, 3)?;

    let ids = |list: &[riskgate_tests::api::Device]| -> Vec<String> {
        list.iter().map(|d| d.device_id.clone()).collect()
    };

    // Paging: 5 devices, 2 per page.
    let (all, pages) = list_all_devices(
        &mut devices,
        ListDevicesRequest {
            page_size: 2,
            ..Default::default()
        },
    )
    .await?;
    assert_eq!(ids(&all), ["dev-1", "dev-2", "dev-3", "dev-4", "dev-5"]);
    assert_eq!(pages, [2, 2, 1], "page sizes");
    let levels: Vec<i32> = all.iter().map(|d| d.level).collect();
    assert_eq!(
        levels,
        [
            ThreatLevel::Low,
            ThreatLevel::High,
            ThreatLevel::Medium,
            ThreatLevel::High,
            ThreatLevel::Unspecified
        ]
        .map(|l| l as i32)
    );

    // page_size 0 means 100: one page.
    let (_, pages) = list_all_devices(&mut devices, ListDevicesRequest::default()).await?;
    assert_eq!(pages, [5], "page_size 0 returns everything in one page");

    let filters: Vec<(&str, ListDevicesRequest, &[&str])> = vec![
        (
            "platform iOS",
            ListDevicesRequest {
                platforms: vec![Platform::Ios as i32],
                ..Default::default()
            },
            &["dev-2", "dev-5"],
        ),
        (
            "platform Android or Windows",
            ListDevicesRequest {
                platforms: vec![Platform::Android as i32, Platform::Windows as i32],
                ..Default::default()
            },
            &["dev-1", "dev-3", "dev-4"],
        ),
        (
            "platform macOS",
            ListDevicesRequest {
                platforms: vec![Platform::Macos as i32],
                ..Default::default()
            },
            &[],
        ),
        (
            "level HIGH",
            ListDevicesRequest {
                levels: vec![ThreatLevel::High as i32],
                ..Default::default()
            },
            &["dev-2", "dev-4"],
        ),
        (
            "level LOW or MEDIUM",
            ListDevicesRequest {
                levels: vec![ThreatLevel::Low as i32, ThreatLevel::Medium as i32],
                ..Default::default()
            },
            &["dev-1", "dev-3"],
        ),
        (
            "connector vendor-b",
            ListDevicesRequest {
                connector_id: "vendor-b".to_owned(),
                ..Default::default()
            },
            &["dev-3", "dev-4", "dev-5"],
        ),
        (
            "connector vendor-a and platform Android",
            ListDevicesRequest {
                connector_id: "vendor-a".to_owned(),
                platforms: vec![Platform::Android as i32],
                ..Default::default()
            },
            &["dev-1", "dev-4"],
        ),
        (
            "connector nobody",
            ListDevicesRequest {
                connector_id: "nobody".to_owned(),
                ..Default::default()
            },
            &[],
        ),
        (
            "platform Android or Windows, one per page",
            ListDevicesRequest {
                page_size: 1,
                platforms: vec![Platform::Android as i32, Platform::Windows as i32],
                ..Default::default()
            },
            &["dev-1", "dev-3", "dev-4"],
        ),
    ];
    let mut wrong = Vec::new();
    for (name, request, expected) in filters {
        let page_size = request.page_size;
        let (found, pages) = list_all_devices(&mut devices, request).await?;
        if ids(&found) != expected {
            wrong.push(format!(
                "{name}: expected {expected:?}, got {:?}",
                ids(&found)
            ));
        }
        if page_size > 0 && pages.iter().any(|&n| n > page_size as usize) {
            wrong.push(format!(
                "{name}: a page is larger than page_size {page_size}: {pages:?}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "wrong filter results:\n{}",
        wrong.join("\n")
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_history_is_in_log_order_with_contiguous_positions_and_pages() -> anyhow::Result<()>
{
    let dir = tempdir()?;
    let core = CoreProcess::start(dir.path(), &[]).await;
    let mut ingest_client = core.ingest_client().await?;
    let mut devices = core.device_client().await?;
    register_connector(&core, "vendor-a").await?;
    register_connector(&core, "vendor-b").await?;
    // Registering logged device-less events; from here on only the ingest below writes.
    let head0 = store_info(&mut devices).await?.head_position;
    let t0 = unix_now() - 3600;

    // One report per batch, interleaving two devices and two connectors.
    let script = [
        ("vendor-a", "dev-h", HealthState::Secured),
        ("vendor-b", "dev-h", HealthState::HighSeverity),
        ("vendor-a", "other", HealthState::LowSeverity),
        ("vendor-a", "dev-h", HealthState::MediumSeverity),
        ("vendor-b", "other", HealthState::Compromised),
        ("vendor-b", "dev-h", HealthState::Secured),
        ("vendor-a", "dev-h", HealthState::Unresponsive),
        ("vendor-a", "other", HealthState::Secured),
        ("vendor-b", "dev-h", HealthState::LowSeverity),
        ("vendor-a", "dev-h", HealthState::HighSeverity),
        ("vendor-b", "dev-h", HealthState::Activated),
        ("vendor-a", "dev-h", HealthState::Secured),
    ];
    let mut seqs: BTreeMap<&str, u64> = BTreeMap::new();
    let mut batches = Vec::new();
    for (i, (connector, device, state)) in script.iter().enumerate() {
        let seq = seqs.entry(connector).or_insert(0);
        *seq += 1;
        let mut sent = report(
            device,
            Platform::Android,
            *state,
            ts(t0 + i64::try_from(i)? * 10),
        );
        sent.threats = vec![threat(
            &format!("t-{i}"),
            ThreatCategory::File,
            ThreatLevel::Medium,
        )];
        batches.push(batch(
            connector,
            *seq,
            format!("cursor-{i}").as_bytes(),
            vec![sent],
        ));
    }
    let acks = ingest(&mut ingest_client, batches.clone()).await?;
    assert_eq!(acks.len(), script.len());
    // The events of batch i are at positions (bounds[i], bounds[i + 1]].
    let mut bounds = vec![head0];
    for (i, ack) in acks.iter().enumerate() {
        check_applied(ack, batches[i].batch_seq, 1)?;
        assert!(
            ack.position > bounds[i],
            "ack {i}: each applied batch writes after the previous one: {ack:?} after {}",
            bounds[i]
        );
        bounds.push(ack.position);
    }

    // The reference model: per device, the current level of each connector.
    let mut current: BTreeMap<(&str, &str), ThreatLevel> = BTreeMap::new();
    // Per device: (batch index, connector, state, previous level, current level) of each report.
    type Expected = (usize, String, HealthState, ThreatLevel, ThreatLevel);
    let mut expected: BTreeMap<&str, Vec<Expected>> = BTreeMap::new();
    for (i, (connector, device, state)) in script.iter().enumerate() {
        let level_of_device = |current: &BTreeMap<(&str, &str), ThreatLevel>| {
            worst(
                current
                    .iter()
                    .filter(|((d, _), _)| d == device)
                    .map(|(_, l)| *l),
            )
        };
        let previous = level_of_device(&current);
        // A state without a level keeps the risk (LOW or worse) the connector knew before.
        let level = match level_of(*state) {
            ThreatLevel::Unspecified => current
                .get(&(*device, *connector))
                .copied()
                .filter(|known| *known > ThreatLevel::Secured)
                .unwrap_or(ThreatLevel::Unspecified),
            level => level,
        };
        current.insert((device, connector), level);
        let now = level_of_device(&current);
        expected.entry(device).or_default().push((
            i,
            (*connector).to_owned(),
            *state,
            previous,
            now,
        ));
    }

    let mut all_positions = Vec::new();
    for (device, want) in &expected {
        let (events, pages) = full_history(&mut devices, device, 4).await?;
        let n = events.len();
        let want_pages: Vec<usize> = (0..n.div_ceil(4)).map(|p| (n - p * 4).min(4)).collect();
        assert_eq!(
            pages, want_pages,
            "{device}: history page sizes with page_size 4"
        );
        assert!(
            strictly_increasing(&events),
            "{device}: history in log order: {events:?}"
        );
        let reports = reports_of(&events);
        assert_eq!(
            reports.len(),
            want.len(),
            "{device}: one device_reported per applied report"
        );
        for ((position, r), (index, connector, state, previous, now)) in reports.iter().zip(want) {
            let sent = &batches[*index].reports[0];
            let what = format!("{device} report of batch {index} at position {position}");
            assert!(
                bounds[*index] < *position && *position <= bounds[index + 1],
                "{what}: written by its batch, whose events are in ({}, {}]",
                bounds[*index],
                bounds[index + 1]
            );
            assert_eq!(r.connector_id, *connector, "{what}");
            assert_eq!(r.health_state, *state as i32, "{what}");
            assert_eq!(
                r.report_level,
                level_of(*state) as i32,
                "{what}: report_level"
            );
            assert_eq!(r.previous_level, *previous as i32, "{what}: previous_level");
            assert_eq!(r.current_level, *now as i32, "{what}: current_level");
            assert_eq!(r.vendor_event_id, sent.vendor_event_id, "{what}");
            assert_eq!(r.observed_at, sent.observed_at, "{what}");
            assert_eq!(r.threats, sent.threats, "{what}");
        }
        for event in &events {
            assert_eq!(event.device_id, *device, "{device}: {event:?}");
            assert!(event.time.is_some(), "{device}: time is set: {event:?}");
            all_positions.push(event.position);
        }
        // page_size 0 means 100: the same events in one page.
        let (same, pages) = full_history(&mut devices, device, 0).await?;
        assert_eq!(
            pages,
            [n],
            "{device}: page_size 0 returns the whole history in one page"
        );
        assert_eq!(same, events, "{device}: paged and unpaged histories agree");
    }
    // Only the ingest wrote after head0, and every event it caused is about a device: together the
    // two histories cover every position from head0 to the head, each once.
    all_positions.sort_unstable();
    let head = store_info(&mut devices).await?.head_position;
    assert_eq!(
        head,
        bounds[script.len()],
        "the head is the last ack's position"
    );
    let after_head0: Vec<u64> = all_positions.into_iter().filter(|p| *p > head0).collect();
    assert_eq!(
        after_head0,
        ((head0 + 1)..=head).collect::<Vec<_>>(),
        "the histories cover positions {head0}+1..=head contiguously"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_checkpoint_returns_last_acked_checkpoint_and_batch_seq() -> anyhow::Result<()> {
    let dir = tempdir()?;
    let core = CoreProcess::start(dir.path(), &[]).await;
    let mut ingest_client = core.ingest_client().await?;
    register_connector(&core, "vendor-cp").await?;
    let t = ts(unix_now() - 60);

    assert_eq!(
        get_checkpoint(&mut ingest_client, "vendor-cp").await?,
        None,
        "NOT_FOUND before any batch"
    );

    let binary_cursor: &[u8] = &[0, 255, 1, 0x80, b'\n', 0];
    let acks = ingest(
        &mut ingest_client,
        vec![
            batch(
                "vendor-cp",
                1,
                b"cursor-1",
                vec![
                    report("d1", Platform::Android, HealthState::Secured, t),
                    report("d2", Platform::Ios, HealthState::Secured, t),
                ],
            ),
            batch(
                "vendor-cp",
                2,
                binary_cursor,
                vec![report("d3", Platform::Android, HealthState::Secured, t)],
            ),
        ],
    )
    .await?;
    check_applied(&acks[0], 1, 2)?;
    check_applied(&acks[1], 2, 1)?;
    let head = acks[1].position;
    let checkpoint = get_checkpoint(&mut ingest_client, "vendor-cp")
        .await?
        .expect("checkpoint after two batches");
    assert_eq!(checkpoint.connector_id, "vendor-cp");
    assert_eq!(
        checkpoint.checkpoint, binary_cursor,
        "opaque bytes round-trip"
    );
    assert_eq!(checkpoint.batch_seq, 2);
    assert_eq!(checkpoint.position, acks[1].position);
    assert!(checkpoint.updated_at.is_some(), "updated_at is set");

    // Numbers need only increase; an empty batch only advances the checkpoint; exactly 64 KiB is allowed.
    let big = vec![7u8; 64 * 1024];
    let acks = ingest(
        &mut ingest_client,
        vec![
            batch("vendor-cp", 5, b"cursor-5", vec![]),
            batch("vendor-cp", 6, &big, vec![]),
        ],
    )
    .await?;
    check_applied(&acks[0], 5, 0)?;
    check_applied(&acks[1], 6, 0)?;
    assert_eq!(
        (acks[0].position, acks[1].position),
        (head, head),
        "an empty batch acknowledges the head position"
    );
    let checkpoint = get_checkpoint(&mut ingest_client, "vendor-cp")
        .await?
        .expect("checkpoint");
    assert_eq!(
        (checkpoint.batch_seq, checkpoint.checkpoint.len()),
        (6, big.len())
    );
    assert_eq!(checkpoint.checkpoint, big);
    assert_eq!(checkpoint.position, head);

    // Other connectors are independent.
    assert_eq!(
        get_checkpoint(&mut ingest_client, "vendor-other").await?,
        None
    );
    let status = ingest_client
        .get_checkpoint(GetCheckpointRequest {
            connector_id: "vendor-other".to_owned(),
        })
        .await
        .expect_err("unknown connector");
    assert_eq!(status.code(), tonic::Code::NotFound);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_info_head_grows_with_applied_reports_and_not_with_stale_or_duplicate_ones(
) -> anyhow::Result<()> {
    let dir = tempdir()?;
    let core = CoreProcess::start(dir.path(), &[]).await;
    let mut ingest_client = core.ingest_client().await?;
    let mut devices = core.device_client().await?;
    let t0 = unix_now() - 3600;

    let empty = store_info(&mut devices).await?;
    assert!(!empty.store_epoch.is_empty(), "store_epoch is set");
    assert_eq!(
        (empty.head_position, empty.device_count),
        (0, 0),
        "a new store is empty"
    );
    register_connector(&core, "vendor-a").await?;
    register_connector(&core, "vendor-b").await?;
    let registered = store_info(&mut devices).await?;
    assert!(
        registered.head_position > 0 && registered.device_count == 0,
        "registering connectors logs device-less events: {registered:?}"
    );

    let first: Vec<_> = (0..5)
        .map(|i| {
            report(
                &format!("dev-{i}"),
                Platform::Android,
                HealthState::Secured,
                ts(t0 + 100),
            )
        })
        .collect();
    let mut duplicate = first[1].clone();
    duplicate.health_state = HealthState::HighSeverity as i32;
    let stale = report(
        "dev-0",
        Platform::Android,
        HealthState::HighSeverity,
        ts(t0),
    );
    let third: Vec<_> = (0..4)
        .map(|i| {
            report(
                &format!("dev-{i}"),
                Platform::Android,
                HealthState::MediumSeverity,
                ts(t0),
            )
        })
        .collect();

    let mut applied = 0u64;
    let mut head = registered.head_position;
    // (batch, applied, stale, duplicates)
    let steps = vec![
        (batch("vendor-a", 1, b"", first), 5, 0, 0),
        (
            batch("vendor-a", 2, b"", vec![stale.clone(), duplicate.clone()]),
            0,
            1,
            1,
        ),
        (
            batch(
                "vendor-a",
                3,
                b"",
                vec![
                    stale,
                    duplicate,
                    report("dev-5", Platform::Windows, HealthState::LowSeverity, ts(t0)),
                ],
            ),
            1,
            1,
            1,
        ),
        (batch("vendor-b", 1, b"", third), 4, 0, 0),
        (batch("vendor-b", 1, b"", vec![]), 0, 0, 0), // a replayed batch
    ];
    for (sent, want_applied, want_stale, want_duplicates) in steps {
        let what = format!("{} batch {}", sent.connector_id, sent.batch_seq);
        let acks = ingest(&mut ingest_client, vec![sent]).await?;
        let ack = acks[0];
        assert_eq!(
            (ack.applied, ack.stale, ack.duplicates),
            (want_applied, want_stale, want_duplicates),
            "{what}: {ack:?}"
        );
        let now = store_info(&mut devices).await?.head_position;
        if want_applied == 0 {
            assert_eq!(
                now, head,
                "{what}: stale, duplicate and replayed reports do not move the head"
            );
        } else {
            assert!(
                now >= head + u64::from(want_applied),
                "{what}: {want_applied} applied reports move the head by at least as much: {head} -> {now}"
            );
        }
        assert_eq!(ack.position, now, "{what}: the ack carries the head");
        applied += u64::from(want_applied);
        head = now;
    }
    assert_eq!(applied, 10);

    let info = store_info(&mut devices).await?;
    assert!(
        info.head_position >= registered.head_position + applied,
        "head_position grew by at least the number of applied reports: {info:?}"
    );
    assert_eq!(info.device_count, 6);
    assert_eq!(
        info.store_epoch, empty.store_epoch,
        "the epoch does not change"
    );

    // DeviceHistory agrees: one device_reported event per applied report.
    let mut reported = 0;
    for i in 0..6 {
        let (events, _) = full_history(&mut devices, &format!("dev-{i}"), 100).await?;
        reported += reports_of(&events).len();
    }
    assert_eq!(u64::try_from(reported)?, applied);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_ends_without_a_token_when_the_last_page_is_full() -> anyhow::Result<()> {
    let dir = tempdir()?;
    let core = CoreProcess::start(dir.path(), &[]).await;
    let mut ingest_client = core.ingest_client().await?;
    let mut devices = core.device_client().await?;
    register_connector(&core, "vendor-a").await?;
    let t0 = unix_now() - 3600;

    // 4 devices; dev-0 has 4 reports (and the events they cause).
    let batches = (0..4u64)
        .map(|i| {
            let reports = (0..4)
                .map(|d| {
                    // Alternating states: an unchanged report would write no event.
                    let state = if i % 2 == 0 {
                        HealthState::Secured
                    } else {
                        HealthState::LowSeverity
                    };
                    report(
                        &format!("dev-{d}"),
                        Platform::Android,
                        state,
                        ts(t0 + i64::try_from(i).expect("small")),
                    )
                })
                .filter(|r| i == 0 || r.device_id == "dev-0")
                .collect();
            batch("vendor-a", i + 1, b"", reports)
        })
        .collect();
    ingest(&mut ingest_client, batches).await?;

    // "next_page_token: Empty when there are no more devices / events."
    let mut problems = Vec::new();
    let page = devices
        .list_devices(ListDevicesRequest {
            page_size: 4,
            ..Default::default()
        })
        .await?
        .into_inner();
    assert_eq!(page.devices.len(), 4);
    if !page.next_page_token.is_empty() {
        problems.push(format!(
            "ListDevices: 4 devices fill a page of 4 and there are no more, yet next_page_token = {:?}",
            page.next_page_token
        ));
    }
    let (_, pages) = list_all_devices(
        &mut devices,
        ListDevicesRequest {
            page_size: 2,
            ..Default::default()
        },
    )
    .await?;
    if pages != [2, 2] {
        problems.push(format!(
            "ListDevices page_size 2 over 4 devices: page sizes {pages:?}, expected [2, 2]"
        ));
    }
    let (all_events, _) = full_history(&mut devices, "dev-0", 1000).await?;
    let n = all_events.len();
    assert!(n >= 4, "dev-0 has at least its 4 reports: {all_events:?}");
    let page = devices
        .device_history(DeviceHistoryRequest {
            device_id: "dev-0".to_owned(),
            page_size: u32::try_from(n)?,
            page_token: String::new(),
        })
        .await?
        .into_inner();
    assert_eq!(page.events, all_events);
    if !page.next_page_token.is_empty() {
        problems.push(format!(
            "DeviceHistory: {n} events fill a page of {n} and there are no more, yet next_page_token = {:?}",
            page.next_page_token
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}
