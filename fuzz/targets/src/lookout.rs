//! The Lookout targets: stream events (Lookout MRA v2 event stream) and REST items (its devices and threats endpoints) through the
//! connector's fleet and report mapping (plugins/lookout/src/mapping.rs).

use std::{collections::BTreeMap, sync::LazyLock};

use riskgate_lookout::{
    config::Config,
    mapping::{self, DeviceState, EventOutcome, Fleet},
};
use serde_json::Value;

use crate::{check, fixtures, Verdict};

static CONFIG: LazyLock<Config> = LazyLock::new(|| {
    Config::parse(fixtures::LOOKOUT_CONFIG.as_bytes()).expect("the fixed Lookout config parses")
});

/// The fleet every input starts from: one known device.
static FLEET: LazyLock<Fleet> = LazyLock::new(|| {
    let mut fleet = Fleet::default();
    let device: Value =
        serde_json::from_str(fixtures::LOOKOUT_KNOWN_DEVICE).expect("the known device is JSON");
    fleet
        .apply_rest_device(&device)
        .expect("the known device applies");
    fleet
});

/// What the fleet holds, compared before and after an apply.
type Snapshot = (BTreeMap<String, DeviceState>, BTreeMap<String, String>);

fn snapshot(fleet: &Fleet) -> Snapshot {
    (fleet.devices.clone(), fleet.threat_owner.clone())
}

/// A Lookout SSE `data` payload, `{"events":[...]}`, applied as the connector's `on_batch` does:
/// events without an id are skipped, each event is applied to the fleet, and each device it touched
/// is mapped to a report.
///
/// Asserts: a refused event (malformed, or about a device the fleet does not know) leaves the
/// fleet unchanged; applying an accepted event twice changes nothing more (stream batches are
/// redelivered after reconnects); every report has the mapped shape.
pub fn lookout_event(data: &[u8]) -> Verdict {
    let Ok(payload) = serde_json::from_slice::<Value>(data) else {
        return Verdict::Rejected;
    };
    let Some(events) = payload.get("events").and_then(Value::as_array) else {
        return Verdict::Rejected;
    };
    let mut fleet = FLEET.clone();
    let mut touched: Vec<(String, String, u64)> = Vec::new();
    for event in events {
        let Some(id) = event.get("id").and_then(Value::as_str) else {
            continue;
        };
        let before = snapshot(&fleet);
        let outcome = fleet.apply_event(event);
        match &outcome {
            Ok(EventOutcome::Device(guid)) => {
                assert!(
                    fleet.devices.contains_key(guid),
                    "event {id}: {guid} vanished"
                );
                let after = snapshot(&fleet);
                assert_eq!(fleet.apply_event(event), outcome, "event {id}: re-applied");
                assert!(
                    snapshot(&fleet) == after,
                    "event {id}: re-applying changed the fleet"
                );
                let at = event
                    .get("created_time")
                    .and_then(Value::as_str)
                    .and_then(mapping::parse_time_ms)
                    .expect("an applied event has a created_time");
                touched.push((guid.clone(), id.to_owned(), at));
            }
            Ok(EventOutcome::UnknownDevice(guid)) => {
                assert!(
                    !fleet.devices.contains_key(guid),
                    "event {id}: {guid} is known"
                );
                assert!(
                    snapshot(&fleet) == before,
                    "event {id}: unknown device changed the fleet"
                );
            }
            Ok(EventOutcome::Ignored) | Err(_) => {
                assert!(
                    snapshot(&fleet) == before,
                    "event {id}: refused, yet changed the fleet"
                );
            }
        }
    }
    for (guid, event_id, at) in &touched {
        let device = &fleet.devices[guid];
        report(device, *at, event_id);
    }
    Verdict::from_accepted(!touched.is_empty())
}

/// Lookout REST items: a devices page (`{"devices":[...]}`), a threats page (`{"threats":[...]}`),
/// both, or one device (`GET /mra/api/v2/device`), applied as the connector's sync does.
///
/// Asserts: an applied item is in the fleet; applying it again (the next sync lists it again)
/// changes nothing; every device's report has the mapped shape.
pub fn lookout_device(data: &[u8]) -> Verdict {
    let Ok(page) = serde_json::from_slice::<Value>(data) else {
        return Verdict::Rejected;
    };
    let devices = page.get("devices").and_then(Value::as_array);
    let threats = page.get("threats").and_then(Value::as_array);
    let single = [page.clone()];
    let devices: &[Value] = match (devices, threats) {
        (Some(devices), _) => devices,
        (None, Some(_)) => &[],
        (None, None) => &single,
    };
    let mut fleet = FLEET.clone();
    let mut accepted = false;
    for item in devices {
        let before = snapshot(&fleet);
        match fleet.apply_rest_device(item) {
            Ok(guid) => {
                accepted = true;
                assert_eq!(fleet.devices[&guid].guid, guid);
                let after = snapshot(&fleet);
                assert_eq!(fleet.apply_rest_device(item), Ok(guid.clone()));
                assert!(
                    snapshot(&fleet) == after,
                    "device {guid}: re-applying changed the fleet"
                );
            }
            Err(_) => assert!(
                snapshot(&fleet) == before,
                "a refused device changed the fleet"
            ),
        }
    }
    for item in threats.into_iter().flatten() {
        let before = snapshot(&fleet);
        match fleet.apply_rest_threat(item) {
            Ok(device_guid) => {
                accepted = true;
                assert!(fleet.devices.contains_key(&device_guid));
                let after = snapshot(&fleet);
                assert_eq!(fleet.apply_rest_threat(item), Ok(device_guid.clone()));
                assert!(
                    snapshot(&fleet) == after,
                    "a re-applied threat changed the fleet"
                );
            }
            Err(_) => assert!(
                snapshot(&fleet) == before,
                "a refused threat changed the fleet"
            ),
        }
    }
    for device in fleet.devices.values() {
        report(device, device.updated_ms.max(1000), "sync");
    }
    Verdict::from_accepted(accepted)
}

/// Maps a device as the connector does and checks the report's shape.
fn report(device: &DeviceState, observed_ms: u64, event_id: &str) {
    let observed_ms = observed_ms.min(fixtures::NOW_SECS * 1000);
    let Ok(mapped) = mapping::report(device, &CONFIG, observed_ms, event_id) else {
        return;
    };
    let report = &mapped.report;
    assert_eq!(report.vendor_event_id, event_id);
    assert_eq!(
        report.device_id, device.guid,
        "device ids come from the guid"
    );
    check::clipped("os_version", &report.os_version, 64);
    check::clipped("model", &report.model, 128);
    check::clipped("owner_user_id", &report.owner_user_id, 256);
    for threat in &report.threats {
        // Only cut to length: a control character here makes the SDK's validation skip the report.
        assert!(
            threat.classification.chars().count() <= 256,
            "classification too long"
        );
        check::clipped("description", &threat.description, 1024);
    }
    check::report_shape(report);
}
