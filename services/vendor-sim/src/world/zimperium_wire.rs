//! Zimperium's wire format (zConsole public API): threats and devices as the list endpoints return
//! them.

use serde_json::{json, Value};

use super::model::{Device, World, ZimperiumThreat};

impl World {
    /// A threat as `/api/threats/public/v1/threats` returns it.
    pub fn zimperium_threat_item(&self, threat: &ZimperiumThreat) -> Value {
        if let Some(raw) = &threat.raw {
            return raw.clone();
        }
        let device = self.devices.iter().find(|d| d.key == threat.device_key);
        let os_name = device.map_or("ANDROID".to_owned(), |d| d.platform.clone());
        let mut item = json!({
            "id": threat.id,
            "accountId": "2222aaaa-0000-4000-8000-000000000002",
            "teamId": "3333aaaa-0000-4000-8000-000000000003",
            "teamName": "Default",
            "zappInstanceId": "4444aaaa-0000-4000-8000-000000000004",
            "deviceId": device.map(|d| d.zimperium_id.clone()),
            "device": {
                "id": device.map(|d| d.zimperium_id.clone()),
                "mdmDeviceId": device.map(|d| d.key.clone()),
                "mamDeviceId": "",
                "model": device.map(|d| d.model.clone()),
                "os": {"id": if os_name == "IOS" { 2 } else { 1 }, "name": os_name, "version": device.map(|d| d.os_version.clone())},
                "zdeviceId": device.map(|d| d.zdevice_id.clone()),
            },
            "os": os_name.to_ascii_lowercase(),
            "timestamp": threat.timestamp,
            "timestampInfo": {"timestamp": threat.timestamp, "toTheSecond": threat.timestamp / 1000 * 1000},
            "eventReceivedTimestamp": threat.timestamp,
            "eventProcessedTimestamp": threat.timestamp,
            "threatTypeId": 172,
            "threatTypeName": threat.threat_type_name,
            "severity": zimperium_severity_number(&threat.severity_name),
            "severityName": threat.severity_name,
            "vector": match threat.vector_name.as_str() { "Network" => 1, "Device" => 2, _ => 3 },
            "vectorName": threat.vector_name,
            "classification": if threat.classification_name == "CRITICAL" { 1 } else { 2 },
            "classificationName": threat.classification_name,
            "state": threat.state,
            "responses": [],
            "mitigationEvents": [],
            "simulated": false,
            "lastModified": threat.last_modified,
            "activationName": device.map(|d| d.email.clone()),
            "deviceOwner": device.map(|d| d.email.clone()),
            "zeventId": threat.id,
        });
        if let Some(mitigated) = threat.mitigated_at {
            item["mitigatedAt"] = json!(mitigated);
            item["mitigatedReason"] = json!("");
        }
        if let Some(Value::Object(extra)) = &threat.extra {
            for (k, v) in extra {
                item[k] = v.clone();
            }
        }
        item
    }

    /// A device as `/api/devices/public/v2/devices/...` returns it.
    pub fn zimperium_device_item(&self, device: &Device) -> Value {
        let open: Vec<&ZimperiumThreat> = self
            .zimperium_threats
            .iter()
            .filter(|t| t.device_key == device.key && t.state == 1 && t.raw.is_none())
            .collect();
        let critical: Vec<&str> = open
            .iter()
            .filter(|t| t.severity_name == "CRITICAL")
            .map(|t| t.id.as_str())
            .collect();
        let risky: Vec<&str> = open
            .iter()
            .filter(|t| t.severity_name != "CRITICAL")
            .map(|t| t.id.as_str())
            .collect();
        let posture = open
            .iter()
            .map(|t| zimperium_severity_number(&t.severity_name))
            .max()
            .unwrap_or(0);
        let android = device.platform == "ANDROID";
        let posture_name =
            ["NORMAL", "LOW", "ELEVATED", "CRITICAL"][usize::try_from(posture).unwrap_or(0).min(3)];
        json!({
            "id": device.zimperium_id,
            "groupId": "3",
            "riskPosture": posture,
            "riskPostureName": posture_name,
            "accountId": "2222aaaa-0000-4000-8000-000000000002",
            "teamId": "3333aaaa-0000-4000-8000-000000000003",
            "teamName": "Default",
            "created": device.created_ms,
            "lastSeen": device.checkin_ms,
            "os": {"id": if android { 1 } else { 2 }, "name": device.platform.to_ascii_lowercase(),
                   "type": if android { "Android" } else { "iOS" }, "version": device.os_version},
            "deviceOwner": {"email": device.email},
            "mdmDeviceId": device.key,
            "zappInstance": [{"id": "6", "name": "MTD", "bundleId": "com.zimperium.zips", "version": "5.9.22", "lastSeen": device.checkin_ms, "agentType": 2}],
            "fullType": device.model,
            "model": device.model,
            "isJailbroken": false,
            "deleted": device.activation_status == "DELETED",
            "activationName": device.email,
            "agentType": 2,
            "processed": true,
            "threatState": {"criticalThreats": critical, "numberOfCriticalThreats": critical.len(),
                            "riskyThreats": risky, "numberOfRiskyThreats": risky.len(), "hadCriticalMitigation": false},
            "appStatus": if device.protection_status == "PROTECTED" { "ACTIVE" } else { "INACTIVE" },
            "zdeviceId": device.zdevice_id,
        })
    }
}

/// The simulator's numbering of Zimperium severities (2 and 3 are captured; 0 and 1 are a guess).
pub fn zimperium_severity_number(name: &str) -> i64 {
    match name {
        "NORMAL" => 0,
        "LOW" => 1,
        "ELEVATED" => 2,
        "CRITICAL" => 3,
        _ => -1,
    }
}
