//! Faults: HTTP errors armed for the next matching requests, dropped streams, and injected bad data
//! (malformed, unknown fields, duplicates) or stream control messages.

use serde_json::{json, Value};

use super::{
    lookout_wire::ENTERPRISE_GUID,
    model::{ArmedFault, StreamControl, World, ZimperiumThreat},
    threats::zimperium_vector,
};
use crate::{
    actions::{FaultSpec, InjectKind, InjectSpec, Vendor},
    time::{iso_ms, now_ms},
    SimError,
};

impl World {
    /// Injects malformed, unknown-field or duplicate data, or a stream control message.
    pub fn inject(&mut self, spec: &InjectSpec) -> Result<Value, SimError> {
        if let Some((control, name)) = stream_control(spec) {
            self.stream_controls.push(control);
            return Ok(json!({ "injected": name }));
        }
        let now = now_ms();
        let mut out = serde_json::Map::new();
        if spec.vendor.includes(Vendor::Lookout) {
            self.inject_lookout(spec, now)?;
            let batch = self.stream_log.last().map(|b| b.id.clone());
            out.insert("lookout".to_owned(), json!(batch));
        }
        if spec.vendor.includes(Vendor::Zimperium) {
            let id = self.inject_zimperium(spec, now)?;
            out.insert("zimperium".to_owned(), json!(id));
        }
        Ok(Value::Object(out))
    }

    /// Appends the injected data to Lookout's event log.
    fn inject_lookout(&mut self, spec: &InjectSpec, now: u64) -> Result<(), SimError> {
        match spec.kind {
            InjectKind::MalformedJson => {
                self.append_raw("{\"events\":[{\"id\":\"broken".to_owned(), Vec::new(), now);
            }
            InjectKind::Malformed => {
                let event = self.malformed_lookout_event();
                self.append_events(vec![event], now);
            }
            InjectKind::UnknownFields => {
                let index = self.injected_device(spec)?;
                let events = self.lookout_events_with_unknown_fields(index, now);
                self.append_events(events, now);
            }
            InjectKind::Duplicate => {
                let last = self
                    .stream_log
                    .iter()
                    .rev()
                    .find(|b| !b.types.is_empty())
                    .cloned()
                    .ok_or_else(|| {
                        SimError::BadRequest("no Lookout batch to duplicate".to_owned())
                    })?;
                self.append_raw(last.data, last.types, now);
            }
            _ => {}
        }
        Ok(())
    }

    /// Adds the injected item to Zimperium's threat list; returns its id.
    fn inject_zimperium(&mut self, spec: &InjectSpec, now: u64) -> Result<String, SimError> {
        let id = self.uuid();
        let threat = match spec.kind {
            InjectKind::Malformed | InjectKind::MalformedJson => {
                Some(malformed_zimperium_threat(&id, now))
            }
            InjectKind::UnknownFields => {
                let index = self.injected_device(spec)?;
                Some(self.zimperium_threat_with_unknown_fields(index, &id, now))
            }
            InjectKind::Duplicate => Some(self.duplicate_of_last_zimperium_threat()?),
            _ => None,
        };
        self.zimperium_threats.extend(threat);
        Ok(id)
    }

    /// The device an injection names, or the first device.
    fn injected_device(&self, spec: &InjectSpec) -> Result<usize, SimError> {
        match &spec.device {
            Some(name) => self.device_index(name),
            None if !self.devices.is_empty() => Ok(0),
            None => Err(SimError::BadRequest("no device to report".to_owned())),
        }
    }

    /// A THREAT event whose fields have the wrong types and values.
    fn malformed_lookout_event(&mut self) -> Value {
        let id = self.uuid();
        json!({
            "id": id, "enterprise_guid": ENTERPRISE_GUID, "created_time": "not a time",
            "type": "THREAT", "change_type": "CREATED",
            "threat": {"guid": 42, "status": ["OPEN"], "severity": "EXTREME", "type": null},
            "actor": {"guid": null, "type": "DEVICE"}, "target": "nowhere",
        })
    }

    /// A DEVICE event with fields Lookout may add one day, and an event of a type the connector
    /// does not know (SMISHING_ALERT).
    fn lookout_events_with_unknown_fields(&mut self, index: usize, now: u64) -> Vec<Value> {
        let mut event = self.device_event(index, "UPDATED", now);
        event["future_top_level"] = json!({"nested": [1, 2, 3]});
        event["device"]["future_device_field"] = json!("x");
        event["device"]["status"]["future_status_field"] = json!(true);
        let smishing_id = self.uuid();
        let guid = self.devices[index].lookout_guid.clone();
        let smishing = json!({
            "id": smishing_id, "enterprise_guid": ENTERPRISE_GUID, "created_time": iso_ms(now),
            "type": "SMISHING_ALERT", "change_type": "CREATED",
            "target": {"guid": guid, "type": "SMISHING_ALERT"}, "actor": {"guid": guid, "type": "DEVICE"},
            "smishing_alert": {"guid": smishing_id, "detections": [{"category": "EMBEDDED_PHISHING_URL", "alert_type": "URL_DETECTION", "original_url": "https://bit.ly/x"}]},
        });
        vec![event, smishing]
    }

    /// A LOW network threat on the device at `index`, rendered with extra fields.
    fn zimperium_threat_with_unknown_fields(
        &self,
        index: usize,
        id: &str,
        now: u64,
    ) -> ZimperiumThreat {
        let device = &self.devices[index];
        let (vector_name, threat_type_name) = zimperium_vector("NETWORK", &device.platform);
        ZimperiumThreat {
            id: id.to_owned(),
            device_key: device.key.clone(),
            threat_type_name,
            severity_name: "LOW".to_owned(),
            classification_name: "RISKY".to_owned(),
            vector_name,
            state: 1,
            timestamp: now,
            last_modified: now,
            mitigated_at: None,
            extra: Some(json!({"futureField": {"a": 1}, "anotherNewField": [true]})),
            raw: None,
        }
    }

    /// The last real threat again, listed verbatim as it rendered then.
    fn duplicate_of_last_zimperium_threat(&self) -> Result<ZimperiumThreat, SimError> {
        let last = self
            .zimperium_threats
            .iter()
            .rev()
            .find(|t| t.raw.is_none())
            .cloned()
            .ok_or_else(|| SimError::BadRequest("no Zimperium threat to duplicate".to_owned()))?;
        let raw = self.zimperium_threat_item(&last);
        Ok(ZimperiumThreat {
            raw: Some(raw),
            ..last
        })
    }

    /// Arms a fault for the next matching requests.
    pub fn arm_fault(&mut self, spec: FaultSpec) -> Result<(), SimError> {
        if spec.kind_is_stream_drop() {
            for _ in 0..spec.count.max(1) {
                self.stream_drop_after.push(spec.after_batches.unwrap_or(0));
            }
            return Ok(());
        }
        let status = spec.status.unwrap_or(500);
        if !(400..=599).contains(&status) {
            return Err(SimError::BadRequest(format!(
                "status {status}: must be 400 to 599"
            )));
        }
        let remaining = spec.count.max(1);
        self.faults.push(ArmedFault { spec, remaining });
        Ok(())
    }

    /// Takes the first armed fault matching a request of `vendor` to `path`.
    pub fn take_fault(&mut self, vendor: Vendor, path: &str) -> Option<FaultSpec> {
        let index = self.faults.iter().position(|f| {
            f.remaining > 0
                && f.spec.vendor.includes(vendor)
                && f.spec.path.as_deref().is_none_or(|p| path.starts_with(p))
        })?;
        let fault = &mut self.faults[index];
        fault.remaining -= 1;
        let spec = fault.spec.clone();
        if fault.remaining == 0 {
            self.faults.remove(index);
        }
        Some(spec)
    }
}

/// The stream control message an injection asks for, and its name.
fn stream_control(spec: &InjectSpec) -> Option<(StreamControl, &'static str)> {
    match spec.kind {
        InjectKind::Reconnect => Some((
            StreamControl::Reconnect(spec.retry_ms.unwrap_or(1000)),
            "reconnect",
        )),
        InjectKind::End => Some((StreamControl::End, "end")),
        InjectKind::DropStream => Some((StreamControl::Drop, "drop_stream")),
        _ => None,
    }
}

/// A threat item with wrong types everywhere, listed verbatim.
fn malformed_zimperium_threat(id: &str, now: u64) -> ZimperiumThreat {
    ZimperiumThreat {
        id: id.to_owned(),
        device_key: String::new(),
        threat_type_name: String::new(),
        severity_name: String::new(),
        classification_name: String::new(),
        vector_name: String::new(),
        state: 1,
        timestamp: now,
        last_modified: now,
        mitigated_at: None,
        extra: None,
        raw: Some(
            json!({"id": id, "timestamp": "yesterday", "severityName": 7, "state": "open", "deviceId": null, "device": "gone"}),
        ),
    }
}
