//! Threats: opened on a device at one vendor or both, and resolved or ignored.

use serde_json::{json, Value};

use super::model::{LookoutThreat, World, ZimperiumThreat};
use crate::{
    actions::{InfectSpec, RemediateSpec, Vendor},
    time::now_ms,
    SimError,
};

impl World {
    /// Opens a threat on a device at one vendor or both. Returns the new threat ids.
    pub fn infect(&mut self, spec: &InfectSpec) -> Result<Value, SimError> {
        let index = self.device_index(&spec.device)?;
        let now = now_ms();
        let key = self.devices[index].key.clone();
        let mut result = serde_json::Map::new();
        if spec.vendor.includes(Vendor::Lookout) {
            let severity = lookout_severity(spec.severity.as_deref().unwrap_or("HIGH"))?;
            let threat_type = spec
                .category
                .clone()
                .unwrap_or_else(|| "APPLICATION".to_owned())
                .to_ascii_uppercase();
            let classification = spec
                .classification
                .clone()
                .unwrap_or_else(|| default_classification(&threat_type).to_owned());
            let details = threat_details(&threat_type, spec.threat.as_deref());
            let guid = match &spec.threat {
                Some(id) if !self.lookout_threats.iter().any(|t| &t.guid == id) => id.clone(),
                _ => self.uuid(),
            };
            let oid = self.oid();
            self.lookout_threats.push(LookoutThreat {
                guid: guid.clone(),
                oid,
                device_key: key.clone(),
                status: "OPEN".to_owned(),
                severity,
                threat_type,
                classification,
                details,
                created_ms: now,
                updated_ms: now,
                resolved_ms: None,
            });
            self.devices[index].checkin_ms = now;
            if !spec.silent {
                let threat_event =
                    self.threat_event(self.lookout_threats.len() - 1, "CREATED", now, None);
                let device_event = self.device_event(index, "UPDATED", now);
                self.append_events(vec![threat_event, device_event], now);
            }
            result.insert("lookout_threat".to_owned(), json!(guid));
        }
        if spec.vendor.includes(Vendor::Zimperium) {
            let severity_name = zimperium_severity(spec.severity.as_deref().unwrap_or("CRITICAL"))?;
            let id = match &spec.threat {
                Some(id) if !self.zimperium_threats.iter().any(|t| &t.id == id) => id.clone(),
                _ => self.uuid(),
            };
            let category = spec.category.clone().unwrap_or_else(|| "DEVICE".to_owned());
            let (vector_name, threat_type_name) =
                zimperium_vector(&category, &self.devices[index].platform);
            self.zimperium_threats.push(ZimperiumThreat {
                id: id.clone(),
                device_key: key,
                threat_type_name: spec.classification.clone().unwrap_or(threat_type_name),
                classification_name: if severity_name == "CRITICAL" {
                    "CRITICAL"
                } else {
                    "RISKY"
                }
                .to_owned(),
                severity_name,
                vector_name,
                state: 1,
                timestamp: now,
                last_modified: now,
                mitigated_at: None,
                extra: None,
                raw: None,
            });
            result.insert("zimperium_threat".to_owned(), json!(id));
        }
        Ok(Value::Object(result))
    }

    /// Resolves (or ignores) a device's open threats, or one of them.
    pub fn remediate(&mut self, spec: &RemediateSpec) -> Result<Value, SimError> {
        let index = self.device_index(&spec.device)?;
        let key = self.devices[index].key.clone();
        let now = now_ms();
        let status = spec
            .status
            .clone()
            .unwrap_or_else(|| "RESOLVED".to_owned())
            .to_ascii_uppercase();
        if !["RESOLVED", "IGNORED"].contains(&status.as_str()) {
            return Err(SimError::BadRequest(format!(
                "status {status:?}: must be RESOLVED or IGNORED"
            )));
        }
        let mut lookout = Vec::new();
        let mut zimperium = Vec::new();
        if spec.vendor.includes(Vendor::Lookout) {
            let mut events = Vec::new();
            for i in 0..self.lookout_threats.len() {
                let t = &self.lookout_threats[i];
                let open = t.status == "OPEN" || t.status == "DETECTED";
                if t.device_key != key
                    || !open
                    || spec.threat.as_ref().is_some_and(|id| id != &t.guid)
                {
                    continue;
                }
                let t = &mut self.lookout_threats[i];
                t.status = status.clone();
                t.updated_ms = now;
                t.resolved_ms = Some(now);
                lookout.push(t.guid.clone());
                let actor = (status == "IGNORED")
                    .then_some(("ADMIN", "ad000000-0000-4000-8000-0000000000ad"));
                events.push(self.threat_event(i, "UPDATED", now, actor));
            }
            if !events.is_empty() {
                self.devices[index].checkin_ms = now;
                events.push(self.device_event(index, "UPDATED", now));
                self.append_events(events, now);
            }
        }
        if spec.vendor.includes(Vendor::Zimperium) {
            for t in &mut self.zimperium_threats {
                if t.device_key != key
                    || t.state != 1
                    || t.raw.is_some()
                    || spec.threat.as_ref().is_some_and(|id| id != &t.id)
                {
                    continue;
                }
                t.state = 4;
                t.mitigated_at = Some(now);
                t.last_modified = now;
                zimperium.push(t.id.clone());
            }
        }
        Ok(json!({"lookout_threats": lookout, "zimperium_threats": zimperium}))
    }
}

/// Normalises a Lookout threat severity.
fn lookout_severity(raw: &str) -> Result<String, SimError> {
    let upper = raw.to_ascii_uppercase();
    let mapped = match upper.as_str() {
        "ADVISORY" | "LOW" | "MEDIUM" | "HIGH" | "NONE" => upper.clone(),
        "MODERATE" | "ELEVATED" => "MEDIUM".to_owned(),
        "CRITICAL" => "HIGH".to_owned(),
        "NORMAL" => "ADVISORY".to_owned(),
        _ => return Err(SimError::BadRequest(format!("severity {raw:?}: unknown"))),
    };
    Ok(mapped)
}

/// Normalises a Zimperium threat severity.
fn zimperium_severity(raw: &str) -> Result<String, SimError> {
    let upper = raw.to_ascii_uppercase();
    let mapped = match upper.as_str() {
        "LOW" | "NORMAL" | "ELEVATED" | "CRITICAL" => upper.clone(),
        "MEDIUM" | "MODERATE" => "ELEVATED".to_owned(),
        "HIGH" => "CRITICAL".to_owned(),
        "ADVISORY" => "NORMAL".to_owned(),
        _ => return Err(SimError::BadRequest(format!("severity {raw:?}: unknown"))),
    };
    Ok(mapped)
}

pub(super) fn zimperium_vector(category: &str, platform: &str) -> (String, String) {
    let os = if platform == "IOS" { "IOS" } else { "ANDROID" };
    match category.to_ascii_uppercase().as_str() {
        "NETWORK" => ("Network".to_owned(), "MITM".to_owned()),
        "APPLICATION" | "APP" => ("App".to_owned(), "SUSPICIOUS APP".to_owned()),
        _ => ("Device".to_owned(), format!("ACTIVE EXPLOIT OS {os}")),
    }
}

fn default_classification(threat_type: &str) -> &'static str {
    match threat_type {
        "NETWORK" => "PORT_SCAN",
        "WEB_CONTENT" => "MALICIOUS",
        "CONFIGURATION" => "OUT_OF_DATE_ASPL",
        "FILE" => "VULNERABILITY",
        "OS" => "VULNERABILITY",
        _ => "RISKWARE",
    }
}

fn threat_details(threat_type: &str, name: Option<&str>) -> Value {
    let name = name.unwrap_or("com.doa.start");
    match threat_type {
        "APPLICATION" => {
            json!({"application_name": name, "package_name": name, "path": format!("package://{name}"), "file_name": name})
        }
        "WEB_CONTENT" => {
            json!({"url": "malicousdomain.com", "reason": "MALICIOUS", "response": "BLOCKED", "reputation": 0.1})
        }
        "CONFIGURATION" => json!({"minimum_os_version": "2025-01-05", "version_type": "ASPL"}),
        "FILE" => json!({"path": "file:///sdcard/Download/x.apk", "file_name": "x.apk"}),
        _ => json!({}),
    }
}
