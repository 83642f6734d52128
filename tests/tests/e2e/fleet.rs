//! The console's reads: GetFleetSummary's counts equal what ListDevices' filters list, and
//! EventLogService.ListEvents reads the log across devices forwards and backwards, by kind and time.

use riskgate_tests::{
    admin::{compliance_connector, compliance_policy},
    api::{
        event::Kind, event_log_service_client::EventLogServiceClient, ComplianceStatus, EventKind,
        GetFleetSummaryRequest, HealthState, ListDevicesRequest, ListEventsRequest, Platform,
        ThreatLevel,
    },
    batch, ingest, register_connector_with, report,
    rpc::list_all_devices,
    ts, unix_now, CoreProcess,
};
use tempfile::tempdir;
use tonic::Code;

use crate::support::check_applied;

/// A core with a compliance connector `lookout`, a policy allowing up to LOW, and six devices: two HIGH,
/// one MEDIUM, one LOW, one SECURED and one whose MTD app was removed (no level).
async fn fleet(dir: &std::path::Path) -> anyhow::Result<CoreProcess> {
    let core = CoreProcess::start(dir, &[]).await;
    register_connector_with(&core, compliance_connector("lookout")).await?;
    core.policy_client()
        .await?
        .create_compliance_policy(compliance_policy("mtd", ThreatLevel::Low))
        .await?;
    let at = ts(unix_now() - 60);
    let states = [
        ("d-1", HealthState::HighSeverity),
        ("d-2", HealthState::HighSeverity),
        ("d-3", HealthState::MediumSeverity),
        ("d-4", HealthState::LowSeverity),
        ("d-5", HealthState::Secured),
        ("d-6", HealthState::Deactivated),
    ];
    let reports = states
        .iter()
        .map(|(device, state)| {
            let mut report = report(device, Platform::Android, *state, at);
            report.owner_user_id = format!("owner-of-{device}@example.com");
            report
        })
        .collect();
    let acks = ingest(
        &mut core.ingest_client().await?,
        vec![batch("lookout", 1, b"c1", reports)],
    )
    .await?;
    check_applied(&acks[0], 1, 6)?;
    Ok(core)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_summary_counts_equal_what_list_devices_filters_list() -> anyhow::Result<()> {
    let dir = tempdir()?;
    let core = fleet(dir.path()).await?;
    let mut devices = core.device_client().await?;
    let summary = devices
        .get_fleet_summary(GetFleetSummaryRequest {})
        .await?
        .into_inner();
    assert_eq!(summary.device_count, 6);
    assert_eq!(summary.by_level.len(), 5, "every level, zero or not");
    assert_eq!(summary.by_compliance.len(), 6, "every status, zero or not");
    for entry in &summary.by_level {
        let request = ListDevicesRequest {
            levels: vec![entry.level],
            ..Default::default()
        };
        let listed = list_all_devices(&mut devices, request).await?.0.len();
        assert_eq!(entry.count, listed as u64, "level {:?}", entry.level);
    }
    for entry in &summary.by_compliance {
        let request = ListDevicesRequest {
            compliance: vec![entry.status],
            ..Default::default()
        };
        let listed = list_all_devices(&mut devices, request).await?.0;
        assert_eq!(
            entry.count,
            listed.len() as u64,
            "status {:?}",
            entry.status
        );
        assert!(
            listed
                .iter()
                .all(|device| device.compliance == entry.status),
            "Device.compliance is the status the filter matched"
        );
    }
    let count = |level: ThreatLevel| {
        summary
            .by_level
            .iter()
            .find(|entry| entry.level == level as i32)
            .map(|entry| entry.count)
    };
    assert_eq!(count(ThreatLevel::High), Some(2));
    assert_eq!(count(ThreatLevel::Unspecified), Some(1), "the removed app");
    let noncompliant = summary
        .by_compliance
        .iter()
        .find(|entry| entry.status == ComplianceStatus::Noncompliant as i32)
        .map(|entry| entry.count);
    assert_eq!(noncompliant, Some(3), "HIGH, HIGH and MEDIUM exceed LOW");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_devices_search_matches_id_or_owner_ignoring_case() -> anyhow::Result<()> {
    let dir = tempdir()?;
    let core = fleet(dir.path()).await?;
    let mut devices = core.device_client().await?;
    let search = |text: &str| ListDevicesRequest {
        search: text.to_owned(),
        ..Default::default()
    };
    let ids = |listed: Vec<riskgate_tests::api::Device>| {
        listed
            .into_iter()
            .map(|device| device.device_id)
            .collect::<Vec<_>>()
    };
    let by_id = list_all_devices(&mut devices, search("D-3")).await?.0;
    assert_eq!(ids(by_id), ["d-3"]);
    let by_owner = list_all_devices(&mut devices, search("OWNER-OF-D-5@"))
        .await?
        .0;
    assert_eq!(ids(by_owner), ["d-5"]);
    let everyone = list_all_devices(&mut devices, search("example.com"))
        .await?
        .0;
    assert_eq!(everyone.len(), 6);
    let status = devices
        .list_devices(search(&"x".repeat(257)))
        .await
        .expect_err("too long");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("search"), "{status:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_events_reads_across_devices_by_kind_both_ways_and_pages() -> anyhow::Result<()> {
    let dir = tempdir()?;
    let core = fleet(dir.path()).await?;
    let mut log = EventLogServiceClient::new(core.channel().await?);
    let compliance_changes =
        |newest_first: bool, page_size: u32, page_token: String| ListEventsRequest {
            page_size,
            page_token,
            kinds: vec![EventKind::DeviceComplianceChange as i32],
            newest_first,
            since: None,
        };
    let mut forwards = Vec::new();
    let mut token = String::new();
    for _ in 0..20 {
        let page = log
            .list_events(compliance_changes(false, 2, token))
            .await?
            .into_inner();
        assert!(page.events.len() <= 2, "page_size bounds a page");
        forwards.extend(page.events);
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert!(token.is_empty(), "the read ends");
    assert!(forwards
        .iter()
        .all(|event| matches!(event.kind, Some(Kind::DeviceComplianceChange(_)))));
    let devices: std::collections::BTreeSet<_> = forwards
        .iter()
        .map(|event| event.device_id.as_str())
        .collect();
    assert_eq!(
        devices.len(),
        6,
        "one first evaluation per device: {devices:?}"
    );
    assert!(forwards
        .windows(2)
        .all(|pair| pair[0].position < pair[1].position));

    let newest = log
        .list_events(compliance_changes(true, 1000, String::new()))
        .await?
        .into_inner();
    let mut backwards = newest.events;
    backwards.reverse();
    assert_eq!(
        backwards, forwards,
        "newest first is the same events reversed"
    );
    assert_eq!(newest.oldest_position, 1);

    let everything = log
        .list_events(ListEventsRequest::default())
        .await?
        .into_inner();
    assert!(
        everything.events.len() > forwards.len(),
        "every kind without a filter"
    );
    let future = log
        .list_events(ListEventsRequest {
            newest_first: true,
            since: Some(ts(unix_now() + 3600)),
            ..Default::default()
        })
        .await?
        .into_inner();
    assert!(future.events.is_empty() && future.next_page_token.is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_events_refuses_a_bad_kind_and_a_forged_page_token_naming_the_field(
) -> anyhow::Result<()> {
    let dir = tempdir()?;
    let core = CoreProcess::start(dir.path(), &[]).await;
    let mut log = EventLogServiceClient::new(core.channel().await?);
    let cases = [
        (
            ListEventsRequest {
                kinds: vec![0],
                ..Default::default()
            },
            "kinds[0]",
        ),
        (
            ListEventsRequest {
                kinds: vec![EventKind::ConfigChange as i32, 99],
                ..Default::default()
            },
            "kinds[1]",
        ),
        (
            ListEventsRequest {
                page_token: "not-a-token".into(),
                ..Default::default()
            },
            "page_token",
        ),
        (
            ListEventsRequest {
                page_size: 1001,
                ..Default::default()
            },
            "page_size",
        ),
    ];
    for (request, field) in cases {
        let status = log.list_events(request).await.expect_err(field);
        assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
        assert!(status.message().contains(field), "{field}: {status:?}");
    }
    Ok(())
}
