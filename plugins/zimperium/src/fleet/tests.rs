//! Unit tests of the fleet: pictures, resolution, duplicates, restart absorption and the cursor.

use super::*;
use crate::mapping::DeviceIdSource;

fn threat(id: &str, device: &str, severity: &str, state: u64, modified: u64) -> ThreatRecord {
    let mut item = serde_json::json!({
        "id": id, "deviceId": device, "device": {"id": device, "os": {"name": "ANDROID", "version": "14"}},
        "timestamp": 1_000_u64, "lastModified": modified,
        "severityName": severity, "vectorName": "Network", "threatTypeName": "MITM", "state": state,
        "deviceOwner": format!("{device}@corp")
    });
    if state == 4 {
        item["mitigatedAt"] = serde_json::json!(modified);
    }
    mapping::threat(&item, DeviceIdSource::Zimperium).unwrap()
}

#[test]
fn the_cursor_round_trips_and_refuses_other_formats() {
    let cursor = Cursor {
        after_ms: 1_750_000_000_123,
    };
    assert_eq!(cursor.encode(), br#"{"v":1,"after":1750000000123}"#);
    assert_eq!(Cursor::decode(&cursor.encode()), Ok(cursor));
    assert!(Cursor::decode(b"42").is_err());
    assert!(Cursor::decode(br#"{"v":2,"after":1}"#).is_err());
    assert!(Cursor::decode(br#"{"v":1}"#).is_err());
}

#[test]
fn a_device_is_reported_with_its_worst_open_threat_and_again_when_it_is_mitigated() {
    let mut fleet = Fleet::default();
    assert!(fleet.apply_threat(threat("t1", "d1", "CRITICAL", 1, 1_700_000_001_000), true));
    assert!(fleet.apply_threat(threat("t2", "d1", "LOW", 1, 1_700_000_002_000), true));
    let reports = fleet.take_reports();
    assert_eq!(reports.len(), 1, "one report per device");
    let infected = &reports[0];
    assert_eq!(infected.device_id, "d1");
    assert_eq!(infected.health_state, pb::HealthState::HighSeverity as i32);
    assert_eq!(infected.threats.len(), 2);
    assert_eq!(infected.observed_at.unwrap().seconds, 1_700_000_002);
    assert_eq!(infected.owner_user_id, "d1@corp");
    assert!(fleet.take_reports().is_empty(), "nothing changed since");

    assert!(fleet.apply_threat(threat("t1", "d1", "CRITICAL", 4, 1_700_000_003_000), true));
    let reports = fleet.take_reports();
    let mitigated = &reports[0];
    assert_eq!(mitigated.health_state, pb::HealthState::LowSeverity as i32);
    let t1 = mitigated
        .threats
        .iter()
        .find(|t| t.vendor_threat_id == "t1")
        .unwrap();
    assert_eq!(t1.status, pb::ThreatStatus::Resolved as i32);
    assert_eq!(t1.resolved_at.unwrap().seconds, 1_700_000_003);
    assert_ne!(mitigated.vendor_event_id, infected.vendor_event_id);
    assert!(mitigated.observed_at.unwrap().seconds > infected.observed_at.unwrap().seconds);
}

#[test]
fn duplicates_and_older_versions_change_nothing() {
    let mut fleet = Fleet::default();
    assert!(fleet.apply_threat(threat("t1", "d1", "LOW", 1, 2_000), true));
    assert!(!fleet.apply_threat(threat("t1", "d1", "LOW", 1, 2_000), true));
    assert!(!fleet.apply_threat(threat("t1", "d1", "CRITICAL", 1, 1_000), true));
    let reports = fleet.take_reports();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].health_state, pb::HealthState::LowSeverity as i32);
}

#[test]
fn history_absorbed_after_a_restart_is_not_reported_again_but_later_changes_carry_it() {
    // Before the restart: the device got two threats and was reported.
    let mut before = Fleet::default();
    before.apply_threat(threat("t1", "d1", "CRITICAL", 1, 1_000_000), true);
    before.apply_threat(threat("t2", "d1", "LOW", 1, 2_000_000), true);
    let original = before.take_reports();

    // After: the same history is re-read below the cursor, silently.
    let mut after = Fleet::default();
    after.apply_threat(threat("t1", "d1", "CRITICAL", 1, 1_000_000), false);
    after.apply_threat(threat("t2", "d1", "LOW", 1, 2_000_000), false);
    assert!(after.take_reports().is_empty());
    // A device sync with the same picture yields the same event id, which the core drops.
    after.apply_device(DeviceRecord {
        device_id: "d1".into(),
        attributes: before.devices["d1"].attributes.clone(),
        last_seen_ms: None,
        override_state: None,
    });
    assert!(
        after.take_reports().is_empty(),
        "same picture: nothing owed"
    );
    // A change after the cursor is reported with the whole picture, old threats included.
    after.apply_threat(threat("t2", "d1", "LOW", 4, 3_000_000), true);
    let reports = after.take_reports();
    assert_eq!(reports[0].threats.len(), 2);
    assert_eq!(
        reports[0].health_state,
        pb::HealthState::HighSeverity as i32,
        "t1 is still open"
    );
    assert_ne!(reports[0].vendor_event_id, original[0].vendor_event_id);
}

#[test]
fn device_sync_sets_attributes_and_flags_and_a_returning_state_is_a_new_event() {
    let mut fleet = Fleet::default();
    fleet.apply_threat(threat("t1", "d1", "ELEVATED", 1, 5_000), true);
    let device = |app: &str, seen: u64| DeviceRecord {
        device_id: "d1".into(),
        attributes: DeviceAttributes {
            platform: Some(pb::Platform::Android),
            os_version: "15".into(),
            model: "Pixel 9".into(),
            owner: "owner@corp".into(),
            team: "Sales".into(),
        },
        last_seen_ms: Some(seen),
        override_state: mapping::device_health(false, Some(app), false, true),
    };
    fleet.apply_device(device("ACTIVE", 6_000));
    let first = fleet.take_reports().remove(0);
    assert_eq!(first.os_version, "15");
    assert_eq!(first.model, "Pixel 9");
    assert_eq!(first.owner_user_id, "owner@corp");
    assert_eq!(first.groups, ["Sales"]);
    assert_eq!(first.health_state, pb::HealthState::MediumSeverity as i32);
    assert_eq!(first.observed_at.unwrap().seconds, 6);
    // A check-in alone does not make a report.
    fleet.apply_device(device("ACTIVE", 7_000));
    assert!(fleet.take_reports().is_empty());
    // The app goes inactive, comes back, goes inactive again: three reports, three ids.
    fleet.apply_device(device("INACTIVE", 8_000));
    let inactive = fleet.take_reports().remove(0);
    assert_eq!(inactive.health_state, pb::HealthState::Unresponsive as i32);
    fleet.apply_device(device("ACTIVE", 9_000));
    assert_eq!(fleet.take_reports().len(), 1);
    fleet.apply_device(device("INACTIVE", 10_000));
    let again = fleet.take_reports().remove(0);
    assert_eq!(again.health_state, pb::HealthState::Unresponsive as i32);
    assert_ne!(again.vendor_event_id, inactive.vendor_event_id);
    // Threat attributes do not override the devices API's.
    fleet.apply_threat(threat("t2", "d1", "LOW", 1, 11_000), true);
    assert_eq!(fleet.take_reports()[0].os_version, "15");
}

#[test]
fn a_report_holds_at_most_the_core_limit_of_threats_open_ones_first() {
    let mut fleet = Fleet::default();
    for n in 0..300u64 {
        let state = if n < 10 { 1 } else { 4 };
        fleet.apply_threat(
            threat(&format!("t{n:03}"), "d1", "LOW", state, 1_000 + n),
            true,
        );
    }
    let report = fleet.take_reports().remove(0);
    assert_eq!(report.threats.len(), MAX_THREATS);
    let open = report
        .threats
        .iter()
        .filter(|t| t.status == pb::ThreatStatus::Open as i32)
        .count();
    assert_eq!(open, 10);
    assert_eq!(report.health_state, pb::HealthState::LowSeverity as i32);
}
