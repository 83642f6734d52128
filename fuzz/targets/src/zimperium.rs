//! The Zimperium target: threat items (`GET /api/threats/public/v1/threats`) through the connector's threat parser
//! (plugins/zimperium/src/mapping.rs), the device parser on the same items, and the fleet's reports.

use riskgate_sdk::pb;
use riskgate_zimperium::{
    fleet::Fleet,
    mapping::{self, DeviceIdSource},
};
use serde_json::Value;

use crate::{check, Verdict};

/// A threats page (`{"content":[...]}`), an array of items, or one item. Each item goes through
/// `mapping::threat` with both device id sources (and `mapping::device`, which must refuse or
/// accept it without panicking); accepted threats go into a fleet, whose reports are checked.
///
/// Asserts: an accepted threat names its id and device, knows its platform, is resolved exactly
/// when it carries a resolution time, and its times are ordered (detected ≤ modified, detected ≤
/// resolved); the same threat version applied twice is a duplicate; a fleet's reports have the
/// mapped shape, and once taken are not owed again.
pub fn zimperium_threat(data: &[u8]) -> Verdict {
    let Ok(page) = serde_json::from_slice::<Value>(data) else {
        return Verdict::Rejected;
    };
    let single = [page.clone()];
    let items: &[Value] = match page.get("content").and_then(Value::as_array) {
        Some(content) => content,
        None => page.as_array().map_or(&single[..], Vec::as_slice),
    };
    let mut fleet = Fleet::default();
    let mut accepted = false;
    for item in items {
        for source in [DeviceIdSource::Mdm, DeviceIdSource::Zimperium] {
            if let Ok(device) = mapping::device(item, source) {
                assert!(!device.device_id.is_empty(), "a device without an id");
                fleet.apply_device(device);
            }
            let Ok(threat) = mapping::threat(item, source) else {
                continue;
            };
            accepted = true;
            assert!(!threat.id.is_empty(), "a threat without an id");
            assert!(
                !threat.device_id.is_empty(),
                "threat {}: no device id",
                threat.id
            );
            assert!(
                threat.device.platform.is_some(),
                "threat {}: no platform",
                threat.id
            );
            assert!(
                threat.modified_ms >= threat.detected_ms,
                "threat {}: modified before detected",
                threat.id
            );
            assert_eq!(
                threat.resolved_ms.is_some(),
                threat.status == pb::ThreatStatus::Resolved,
                "threat {}: resolved without a time, or a time without resolution",
                threat.id
            );
            if let Some(resolved) = threat.resolved_ms {
                assert!(
                    resolved >= threat.detected_ms,
                    "threat {}: resolved before detected",
                    threat.id
                );
            }
            // Both id sources may name the same device, and a page may repeat an item: only the
            // second apply of the very same version is certain to be a duplicate.
            fleet.apply_threat(threat.clone(), true);
            assert!(
                !fleet.apply_threat(threat, true),
                "the same threat version applied twice"
            );
        }
    }
    for report in fleet.take_reports() {
        check::report_shape(&report);
    }
    assert!(
        fleet.take_reports().is_empty(),
        "reports owed again after being taken"
    );
    Verdict::from_accepted(accepted)
}
