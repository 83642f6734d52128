//! Unit tests of the risk store's write rules on the in-memory engine: positions, batch and event dedup,
//! stale reports, checkpoints, aggregation and group commit.

use std::sync::Arc;

use riskgate_policy::admin::AdminCommand;

use super::*;
use crate::{
    error::WriteError, shared::BatchOutcome, KvEngine, KvStore, MemoryEngine, NoObserver,
    Retention, StoreError,
};
use riskgate_policy::domain::{
    policy::{
        ConnectorSettings, MissingDataMode, PartnerKind, PerPlatform, DEFAULT_UNRESPONSIVE_AFTER,
    },
    DeviceInfo, DeviceReport, EventKind, HealthState, Platform, SystemClock, ThreatLevel,
    Timestamp,
};
use riskgate_policy::error::DomainError;

async fn open_on(engine: Arc<dyn KvEngine>) -> RiskStore {
    RiskStore::open(
        Arc::new(KvStore::new(engine)),
        Arc::new(SystemClock),
        Arc::new(NoObserver),
        WriterConfig::default(),
    )
    .await
    .unwrap()
}

/// Registers a connector and sends its first heartbeat, so that it may report.
async fn register(store: &RiskStore, connector: &str) {
    let id = ConnectorId::parse(connector).unwrap();
    let settings = ConnectorSettings {
        vendor: "test".into(),
        display_name: connector.into(),
        kind: PartnerKind::ThirdParty,
        compliance_enabled: PerPlatform::default(),
        app_protection_enabled: PerPlatform::default(),
        block_on_missing_partner_data: PerPlatform::default(),
        block_unsupported_os_versions: false,
        minimum_os_versions: PerPlatform::default(),
        unresponsive_after: DEFAULT_UNRESPONSIVE_AFTER,
        provisioned: true,
        missing_data: MissingDataMode::LastKnown,
    };
    store
        .admin(AdminCommand::CreateConnector(id.clone(), settings))
        .await
        .unwrap();
    store
        .admin(AdminCommand::Heartbeat {
            connector_id: id,
            error_message: String::new(),
            feed: None,
        })
        .await
        .unwrap();
}

async fn store() -> RiskStore {
    let store = open_on(Arc::new(MemoryEngine::new())).await;
    for connector in ["c", "lookout", "other"] {
        register(&store, connector).await;
    }
    store
}

/// The positions of a device's `DeviceReported` events.
fn report_positions(events: &[Event]) -> Vec<u64> {
    events
        .iter()
        .filter(|event| matches!(event.kind, EventKind::DeviceReported(_)))
        .map(|event| event.position)
        .collect()
}

fn report(
    device: &str,
    health_state: HealthState,
    observed_at: i64,
    event_id: &str,
) -> DeviceReport {
    DeviceReport {
        device_id: DeviceId::parse(device).unwrap(),
        info: DeviceInfo {
            platform: Platform::Android,
            os_version: "14".into(),
            model: "Pixel".into(),
            owner_user_id: "alice".into(),
            groups: vec!["sales".into()],
        },
        health_state,
        threats: vec![],
        observed_at: Timestamp(observed_at),
        vendor_event_id: event_id.into(),
    }
}

fn batch(connector: &str, batch_seq: u64, reports: Vec<DeviceReport>) -> ReportBatch {
    ReportBatch {
        connector_id: ConnectorId::parse(connector).unwrap(),
        batch_seq,
        checkpoint: format!("cursor-{batch_seq}").into_bytes(),
        reports,
    }
}

fn device_id(raw: &str) -> DeviceId {
    DeviceId::parse(raw).unwrap()
}

#[tokio::test]
async fn applied_reports_get_contiguous_positions_and_update_the_device() {
    let store = store().await;
    let result = store
        .submit(batch(
            "lookout",
            1,
            vec![
                report("d1", HealthState::Secured, 10, "e1"),
                report("d2", HealthState::HighSeverity, 10, "e2"),
                report("d1", HealthState::MediumSeverity, 11, "e3"),
            ],
        ))
        .await
        .unwrap();
    assert_eq!((result.outcome, result.applied), (BatchOutcome::Applied, 3));
    assert_eq!(result.position, store.info().head_position);
    let d1 = store.device(&device_id("d1")).unwrap().unwrap();
    assert_eq!(d1.level(), Some(ThreatLevel::Medium));
    let history = store.device_history(&device_id("d1"), 0, 100).unwrap();
    let positions = report_positions(&history);
    assert_eq!(positions.len(), 2);
    let d2_history = store.device_history(&device_id("d2"), 0, 100).unwrap();
    // The three reports took three consecutive positions, in batch order.
    assert_eq!(report_positions(&d2_history), vec![positions[0] + 1]);
    assert_eq!(positions[1], positions[0] + 2);
    let reported: Vec<_> = history
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::DeviceReported(reported) => Some(reported),
            _ => None,
        })
        .collect();
    assert_eq!(reported[1].previous_level, Some(ThreatLevel::Secured));
    assert_eq!(reported[1].current_level, Some(ThreatLevel::Medium));
    assert_eq!(d1.position, positions[1]);
    assert_eq!(store.info().device_count, 2);
}

#[tokio::test]
async fn a_replayed_batch_number_is_a_duplicate_and_changes_nothing() {
    let store = store().await;
    store
        .submit(batch(
            "c",
            5,
            vec![report("d", HealthState::Secured, 10, "e1")],
        ))
        .await
        .unwrap();
    let replay = store
        .submit(batch(
            "c",
            5,
            vec![report("d", HealthState::HighSeverity, 20, "e2")],
        ))
        .await
        .unwrap();
    assert_eq!(replay.outcome, BatchOutcome::Duplicate);
    let head = store.info().head_position;
    assert_eq!(replay.position, head);
    let older = store
        .submit(batch(
            "c",
            4,
            vec![report("d", HealthState::HighSeverity, 20, "e3")],
        ))
        .await
        .unwrap();
    assert_eq!(older.outcome, BatchOutcome::Duplicate);
    let device = store.device(&device_id("d")).unwrap().unwrap();
    assert_eq!(device.level(), Some(ThreatLevel::Secured));
    let checkpoint = store
        .checkpoint(&ConnectorId::parse("c").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(
        (checkpoint.batch_seq, checkpoint.cursor),
        (5, b"cursor-5".to_vec())
    );
}

#[tokio::test]
async fn seen_vendor_events_and_older_reports_are_counted_and_ignored() {
    let store = store().await;
    store
        .submit(batch(
            "c",
            1,
            vec![report("d", HealthState::LowSeverity, 100, "e1")],
        ))
        .await
        .unwrap();
    let result = store
        .submit(batch(
            "c",
            2,
            vec![
                report("d", HealthState::HighSeverity, 200, "e1"),
                report("d", HealthState::HighSeverity, 50, "e2"),
            ],
        ))
        .await
        .unwrap();
    let head_before = store.info().head_position;
    assert_eq!((result.applied, result.duplicates, result.stale), (0, 1, 1));
    assert_eq!(result.position, head_before, "nothing was written");
    // The same event id from another connector is a different event.
    let other = store
        .submit(batch(
            "other",
            1,
            vec![report("d", HealthState::HighSeverity, 60, "e1")],
        ))
        .await
        .unwrap();
    assert_eq!(other.applied, 1);
    let device = store.device(&device_id("d")).unwrap().unwrap();
    assert_eq!(device.level(), Some(ThreatLevel::High));
    assert_eq!(device.reports.len(), 2);
}

#[tokio::test]
async fn duplicates_inside_one_batch_and_one_group_are_caught() {
    let store = store().await;
    let first = store
        .enqueue(batch(
            "c",
            1,
            vec![report("d", HealthState::Secured, 1, "e1")],
        ))
        .await
        .unwrap();
    let second = store
        .enqueue(batch(
            "c",
            2,
            vec![
                report("d", HealthState::Secured, 2, "e1"),
                report("d", HealthState::LowSeverity, 3, "e2"),
                report("d", HealthState::LowSeverity, 3, "e2"),
            ],
        ))
        .await
        .unwrap();
    let replay = store
        .enqueue(batch(
            "c",
            2,
            vec![report("d", HealthState::HighSeverity, 9, "e9")],
        ))
        .await
        .unwrap();
    assert_eq!(first.await.unwrap().unwrap().applied, 1);
    let second = second.await.unwrap().unwrap();
    assert_eq!((second.applied, second.duplicates), (1, 2));
    assert_eq!(
        replay.await.unwrap().unwrap().outcome,
        BatchOutcome::Duplicate
    );
    let history = store.device_history(&device_id("d"), 0, 100).unwrap();
    assert_eq!(report_positions(&history).len(), 2);
}

#[tokio::test]
async fn an_empty_batch_only_moves_the_checkpoint() {
    let store = store().await;
    let head = store.info().head_position;
    let result = store.submit(batch("c", 1, vec![])).await.unwrap();
    assert_eq!((result.applied, result.position), (0, head));
    let checkpoint = store
        .checkpoint(&ConnectorId::parse("c").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(checkpoint.cursor, b"cursor-1".to_vec());
    assert_eq!(store.info().head_position, head);
}

#[tokio::test]
async fn listing_pages_through_devices_in_id_order_with_a_filter() {
    let store = store().await;
    let reports = ["a", "b", "c", "d", "e"]
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let state = if i % 2 == 0 {
                HealthState::Secured
            } else {
                HealthState::HighSeverity
            };
            report(id, state, 1, &format!("e{i}"))
        })
        .collect();
    store.submit(batch("c", 1, reports)).await.unwrap();
    let page = store.list_devices(None, 2, |_| true).unwrap();
    let ids: Vec<&str> = page.iter().map(|d| d.device_id.as_str()).collect();
    assert_eq!(ids, ["a", "b"]);
    let page = store
        .list_devices(Some(&device_id("b")), 10, |_| true)
        .unwrap();
    assert_eq!(page.len(), 3);
    let high = store
        .list_devices(None, 10, |d| d.level() == Some(ThreatLevel::High))
        .unwrap();
    let ids: Vec<&str> = high.iter().map(|d| d.device_id.as_str()).collect();
    assert_eq!(ids, ["b", "d"]);
}

#[tokio::test]
async fn after_shutdown_the_store_refuses_writes() {
    let store = store().await;
    store
        .submit(batch(
            "c",
            1,
            vec![report("d", HealthState::Secured, 1, "e1")],
        ))
        .await
        .unwrap();
    store.shutdown().await.unwrap();
    let err = store.submit(batch("c", 2, vec![])).await.unwrap_err();
    assert!(matches!(err, WriteError::Store(StoreError::Closed)));
}

#[tokio::test]
async fn reopening_a_store_keeps_epoch_head_and_checkpoints() {
    let engine: Arc<dyn KvEngine> = Arc::new(MemoryEngine::new());
    let first = open_on(engine.clone()).await;
    register(&first, "c").await;
    first
        .submit(batch(
            "c",
            1,
            vec![report("d", HealthState::Secured, 1, "e1")],
        ))
        .await
        .unwrap();
    let info = first.info();
    first.shutdown().await.unwrap();
    let second = open_on(engine).await;
    assert_eq!(second.info(), info);
    let next = second
        .submit(batch(
            "c",
            2,
            vec![report("d", HealthState::LowSeverity, 2, "e2")],
        ))
        .await
        .unwrap();
    let history = second.device_history(&device_id("d"), 0, 100).unwrap();
    assert_eq!(
        report_positions(&history)[1],
        info.head_position + 1,
        "positions continue after a reopen"
    );
    assert!(next.position > info.head_position);
}

#[tokio::test]
async fn reports_from_unknown_or_not_set_up_connectors_are_refused_and_not_stored() {
    let store = open_on(Arc::new(MemoryEngine::new())).await;
    let err = store
        .submit(batch(
            "ghost",
            1,
            vec![report("d", HealthState::Secured, 1, "e1")],
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, WriteError::Refused(DomainError::FailedPrecondition(message)) if message.contains("ghost")),
        "{err}"
    );
    let id = ConnectorId::parse("fresh").unwrap();
    let settings = ConnectorSettings {
        vendor: "v".into(),
        display_name: String::new(),
        kind: PartnerKind::ThirdParty,
        compliance_enabled: PerPlatform::default(),
        app_protection_enabled: PerPlatform::default(),
        block_on_missing_partner_data: PerPlatform::default(),
        block_unsupported_os_versions: false,
        minimum_os_versions: PerPlatform::default(),
        unresponsive_after: DEFAULT_UNRESPONSIVE_AFTER,
        provisioned: true,
        missing_data: MissingDataMode::LastKnown,
    };
    store
        .admin(AdminCommand::CreateConnector(id, settings))
        .await
        .unwrap();
    let err = store
        .submit(batch(
            "fresh",
            1,
            vec![report("d", HealthState::Secured, 1, "e1")],
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, WriteError::Refused(DomainError::FailedPrecondition(message)) if message.contains("NOT_SET_UP")),
        "{err}"
    );
    assert_eq!(store.device(&device_id("d")).unwrap(), None);
    assert_eq!(
        store
            .checkpoint(&ConnectorId::parse("fresh").unwrap())
            .unwrap(),
        None
    );
    let _ = Timestamp(0);
}

#[tokio::test]
async fn committed_events_are_broadcast_in_log_order_after_they_are_durable() {
    let store = store().await;
    let mut live = store.subscribe();
    let result = store
        .submit(batch(
            "c",
            1,
            vec![report("d1", HealthState::HighSeverity, 1, "e1")],
        ))
        .await
        .unwrap();
    let events = live.recv().await.unwrap();
    let positions: Vec<u64> = events.iter().map(|event| event.position).collect();
    assert!(!positions.is_empty());
    assert!(
        positions.windows(2).all(|pair| pair[1] == pair[0] + 1),
        "{positions:?}"
    );
    assert_eq!(*positions.last().unwrap(), result.position);
    assert!(
        store.info().head_position >= result.position,
        "broadcast only what is durable"
    );
}

#[tokio::test]
async fn compaction_drops_old_events_and_their_dedup_entries_and_reading_past_it_is_refused() {
    let store = store().await;
    for seq in 1..=20u64 {
        // Alternating states, so that each report is a change with its own event.
        let state = if seq % 2 == 0 {
            HealthState::Secured
        } else {
            HealthState::LowSeverity
        };
        let reports = vec![report("d", state, seq as i64, &format!("e{seq}"))];
        store.submit(batch("c", seq, reports)).await.unwrap();
    }
    let head = store.info().head_position;
    let retention = Retention {
        max_age: std::time::Duration::from_secs(3600),
        max_events: 5,
        chunk: 3,
    };
    // Chunks of three until done.
    let mut rounds = 0;
    loop {
        let done = store.compact(retention).await.unwrap();
        rounds += 1;
        if !done.more {
            break;
        }
    }
    assert!(rounds > 1, "compaction worked in chunks");
    assert_eq!(store.first_retained(), head - 4);
    assert_eq!(
        store.events_after(0, 10).unwrap(),
        None,
        "events before the oldest retained are gone"
    );
    let kept = store.events_after(head - 5, 100).unwrap().unwrap();
    assert_eq!(kept.len(), 5);
    // The dedup entry of a compacted report went with it: the same vendor event id applies again.
    let again = store
        .submit(batch(
            "c",
            21,
            vec![report("d", HealthState::Secured, 100, "e1")],
        ))
        .await
        .unwrap();
    assert_eq!(again.applied, 1);
}

#[tokio::test]
async fn an_unchanged_re_report_refreshes_freshness_without_an_event() {
    let store = store().await;
    store
        .submit(batch(
            "c",
            1,
            vec![report("d", HealthState::HighSeverity, 10, "e1")],
        ))
        .await
        .unwrap();
    let before = store.device(&device_id("d")).unwrap().unwrap();
    let head = store.info().head_position;
    let again = store
        .submit(batch(
            "c",
            2,
            vec![report("d", HealthState::HighSeverity, 20, "e2")],
        ))
        .await
        .unwrap();
    assert_eq!(again.applied, 1);
    assert_eq!(
        store.info().head_position,
        head,
        "no event for an unchanged report"
    );
    let after = store.device(&device_id("d")).unwrap().unwrap();
    let refreshed = &after.reports[&ConnectorId::parse("c").unwrap()];
    assert_eq!(refreshed.observed_at, Timestamp(20));
    assert_eq!(refreshed.vendor_event_id, "e2");
    assert!(refreshed.received_at >= before.reports[&ConnectorId::parse("c").unwrap()].received_at);
    assert_eq!(
        refreshed.position, before.position,
        "position names the change"
    );
    // The refreshed report's event id is deduplicated like any other.
    let redelivered = store
        .submit(batch(
            "c",
            3,
            vec![report("d", HealthState::HighSeverity, 21, "e2")],
        ))
        .await
        .unwrap();
    assert_eq!(redelivered.duplicates, 1);
    // A change is a full report again.
    store
        .submit(batch(
            "c",
            4,
            vec![report("d", HealthState::Secured, 30, "e3")],
        ))
        .await
        .unwrap();
    assert!(store.info().head_position > head);
}
