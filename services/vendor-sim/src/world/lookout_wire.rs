//! Lookout's wire format (Mobile Risk API v2): devices and threats as the REST endpoints list them,
//! and the events of the `/mra/stream/v2/events` stream, appended to its log in SSE batches.

use serde_json::{json, Value};

use super::model::{Device, LookoutThreat, SseBatch, World};
use crate::time::iso_ms;

/// The enterprise every Lookout event belongs to.
pub const ENTERPRISE_GUID: &str = "5e1f0c2a-0000-4000-8000-00000000e17e";

impl World {
    /// The Lookout `security_status` of a device: absent unless ACTIVATED and PROTECTED; otherwise the
    /// admin override or the worst open threat.
    pub fn security_status(&self, device: &Device) -> Option<String> {
        if device.activation_status != "ACTIVATED" || device.protection_status != "PROTECTED" {
            return None;
        }
        if let Some(forced) = &device.security_override {
            return Some(forced.clone());
        }
        let worst = self
            .lookout_threats
            .iter()
            .filter(|t| {
                t.device_key == device.key && (t.status == "OPEN" || t.status == "DETECTED")
            })
            .map(|t| match t.severity.as_str() {
                "HIGH" | "CRITICAL" => 3,
                "MEDIUM" => 2,
                "LOW" | "ADVISORY" => 1,
                _ => 0,
            })
            .max()
            .unwrap_or(0);
        Some(["SECURE", "THREATS_LOW", "THREATS_MEDIUM", "THREATS_HIGH"][worst].to_owned())
    }

    /// A device as `/mra/api/v2/devices` lists it (the flat shape).
    pub fn lookout_device_item(&self, device: &Device) -> Value {
        let mut item = json!({
            "guid": device.lookout_guid,
            "oid": device.oid.to_string(),
            "email": device.email,
            "platform": device.platform,
            "profile_type": "WORK",
            "activation_status": device.activation_status,
            "protection_status": device.protection_status,
            "checkin_time": iso_ms(device.checkin_ms),
            "hardware": {"manufacturer": device.manufacturer, "model": device.model},
            "software": {"os_version": device.os_version, "security_patch_level": device.security_patch_level},
            "details": {"external_id": device.key, "mdm_connector_id": 12345},
        });
        if let Some(status) = self.security_status(device) {
            item["security_status"] = json!(status);
        }
        item
    }

    /// A threat as `/mra/api/v2/threats` lists it.
    pub fn lookout_threat_item(&self, threat: &LookoutThreat) -> Value {
        let device = self.devices.iter().find(|d| d.key == threat.device_key);
        let mut item = json!({
            "guid": threat.guid,
            "oid": threat.oid.to_string(),
            "device_guid": device.map(|d| d.lookout_guid.clone()),
            "device": {"guid": device.map(|d| d.lookout_guid.clone()), "email": device.map(|d| d.email.clone())},
            "classification": threat.classification,
            "classifications": [threat.classification],
            "risk": threat.severity,
            "status": threat.status,
            "threat_type": threat.threat_type,
            "details": threat.details,
            "created_time": iso_ms(threat.created_ms),
            "detected_at": iso_ms(threat.created_ms),
            "updated_time": iso_ms(threat.updated_ms),
        });
        if let Some(resolved) = threat.resolved_ms {
            item["resolved_time"] = json!(iso_ms(resolved));
        }
        item
    }

    pub(super) fn device_event(&mut self, index: usize, change_type: &str, now: u64) -> Value {
        let id = self.uuid();
        let device = &self.devices[index];
        let mut status = json!({
            "activation_status": device.activation_status,
            "protection_status": device.protection_status,
        });
        if let Some(security) = self.security_status(device) {
            status["security_status"] = json!(security);
        }
        json!({
            "id": id,
            "enterprise_guid": ENTERPRISE_GUID,
            "created_time": iso_ms(now),
            "type": "DEVICE",
            "change_type": change_type,
            "device": {
                "guid": device.lookout_guid,
                "platform": device.platform,
                "profile_type": "WORK",
                "info": {"external_id": device.key, "mdm_connector_id": "432293", "email": device.email},
                "status": status,
                "hardware": {"manufacturer": device.manufacturer, "model": device.model},
                "software": {"os_version": device.os_version, "security_patch_level": device.security_patch_level},
                "client": {"package_name": "com.lookout.enterprise", "package_version": "9.1.1.1517"},
                "parent_status": {},
            },
            "target": {"guid": device.lookout_guid, "type": "DEVICE"},
            "actor": {"guid": device.lookout_guid, "type": "DEVICE"},
        })
    }

    pub(super) fn threat_event(
        &mut self,
        index: usize,
        change_type: &str,
        now: u64,
        actor: Option<(&str, &str)>,
    ) -> Value {
        let id = self.uuid();
        let threat = &self.lookout_threats[index];
        let device_guid = self
            .devices
            .iter()
            .find(|d| d.key == threat.device_key)
            .map(|d| d.lookout_guid.clone())
            .unwrap_or_default();
        let (actor_type, actor_guid) = actor.unwrap_or(("DEVICE", &device_guid));
        let mut body = json!({
            "guid": threat.guid,
            "status": threat.status,
            "severity": threat.severity,
            "type": threat.threat_type,
            "classifications": [threat.classification],
            "details": threat.details,
        });
        if change_type != "CREATED" {
            body["assessments"] = json!([{"classification": threat.classification}]);
        }
        json!({
            "id": id,
            "enterprise_guid": ENTERPRISE_GUID,
            "created_time": iso_ms(now),
            "type": "THREAT",
            "change_type": change_type,
            "threat": body,
            "target": {"guid": device_guid, "type": "THREAT"},
            "actor": {"guid": actor_guid, "type": actor_type},
        })
    }

    /// Appends one SSE batch of events to the stream log.
    pub fn append_events(&mut self, events: Vec<Value>, now: u64) {
        let types = events
            .iter()
            .filter_map(|e| e["type"].as_str().map(str::to_owned))
            .collect();
        let data = json!({ "events": events }).to_string();
        self.append_raw(data, types, now);
    }

    pub(super) fn append_raw(&mut self, data: String, types: Vec<String>, now: u64) {
        let id = self.uuid7(now);
        self.stream_log.push(SseBatch {
            id,
            time_ms: now,
            data,
            types,
        });
    }
}
