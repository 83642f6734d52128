//! What the connector knows about the fleet, the durable cursor, and the reports it owes the core.
//!
//! Every report is a full picture of one device: its attributes, its health state and every threat
//! known for it, open or not (the core replaces a connector's previous report). A device is
//! reported again when that picture changes. Report ids are a digest of the picture and its
//! observation time, so re-emitting the same picture after a restart is dropped by the core as a
//! duplicate, while a state that comes back later (A → B → A) is a new observation.

use std::collections::{BTreeMap, BTreeSet};

use riskgate_sdk::{pb, prost_types};
use sha2::{Digest, Sha256};

use crate::mapping::{self, DeviceAttributes, DeviceRecord, ThreatRecord};

/// The durable cursor, stored as the batch checkpoint: threats with `lastModified` at or after
/// `after_ms` have not all been reported yet. Encoded as JSON, `{"v":1,"after":<epoch ms>}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// The start of the next threat window, epoch milliseconds.
    pub after_ms: u64,
}

impl Cursor {
    /// The checkpoint bytes.
    pub fn encode(&self) -> Vec<u8> {
        format!("{{\"v\":1,\"after\":{}}}", self.after_ms).into_bytes()
    }

    /// Reads a checkpoint written by [`Cursor::encode`].
    pub fn decode(raw: &[u8]) -> Result<Cursor, String> {
        let value: serde_json::Value =
            serde_json::from_slice(raw).map_err(|e| format!("not JSON: {e}"))?;
        if value.get("v").and_then(serde_json::Value::as_u64) != Some(1) {
            return Err(format!("unknown cursor version in {value}"));
        }
        let after_ms = value
            .get("after")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| format!("no \"after\" in {value}"))?;
        Ok(Cursor { after_ms })
    }
}

/// Most threats in one report (the core's limit).
const MAX_THREATS: usize = riskgate_sdk::validate::MAX_THREATS;

#[derive(Debug, Default)]
struct DeviceState {
    attributes: DeviceAttributes,
    /// Set by the devices API: a state the device's flags impose (deleted, app inactive, ...).
    override_state: Option<pb::HealthState>,
    /// Latest `lastSeen` from the devices API.
    last_seen_ms: u64,
    /// Whether the devices API listed the device (its attributes then win over the threats').
    listed: bool,
    threats: BTreeMap<String, ThreatRecord>,
    /// Digest of the last picture reported (or absorbed as reported before a restart).
    reported: Option<[u8; 32]>,
}

/// The fleet: devices by riskgate id.
#[derive(Debug, Default)]
pub struct Fleet {
    devices: BTreeMap<String, DeviceState>,
    /// Devices whose picture may have changed since it was last reported.
    dirty: BTreeSet<String>,
}

fn merge(into: &mut DeviceAttributes, from: &DeviceAttributes) {
    if from.platform.is_some() {
        into.platform = from.platform;
    }
    for (slot, value) in [
        (&mut into.os_version, &from.os_version),
        (&mut into.model, &from.model),
        (&mut into.owner, &from.owner),
        (&mut into.team, &from.team),
    ] {
        if !value.is_empty() {
            slot.clone_from(value);
        }
    }
}

impl Fleet {
    /// How many devices are known.
    pub fn len(&self) -> usize {
        self.devices.len()
    }

    /// Whether no device is known.
    pub fn is_empty(&self) -> bool {
        self.devices.is_empty()
    }

    /// Applies one version of a threat. Returns `false` for a version already applied (duplicate)
    /// or older than the one held. With `report` false (history below the cursor, re-read after a
    /// restart) the new picture counts as already reported.
    pub fn apply_threat(&mut self, threat: ThreatRecord, report: bool) -> bool {
        let device = self.devices.entry(threat.device_id.clone()).or_default();
        if device
            .threats
            .get(&threat.id)
            .is_some_and(|held| held.modified_ms >= threat.modified_ms)
        {
            return false;
        }
        // The devices API is authoritative for attributes; a threat only fills in the gaps.
        if device.listed {
            if device.attributes.platform.is_none() {
                device.attributes.platform = threat.device.platform;
            }
        } else {
            merge(&mut device.attributes, &threat.device);
        }
        let device_id = threat.device_id.clone();
        device.threats.insert(threat.id.clone(), threat);
        if report {
            self.dirty.insert(device_id);
        } else {
            let digest = picture(&device_id, device).digest;
            if let Some(device) = self.devices.get_mut(&device_id) {
                device.reported = Some(digest);
            }
        }
        true
    }

    /// Applies a device from the devices API; it is reported if its picture changed.
    pub fn apply_device(&mut self, record: DeviceRecord) {
        let device = self.devices.entry(record.device_id.clone()).or_default();
        device.attributes = DeviceAttributes {
            platform: record.attributes.platform.or(device.attributes.platform),
            ..record.attributes
        };
        device.override_state = record.override_state;
        device.listed = true;
        if let Some(seen) = record.last_seen_ms {
            device.last_seen_ms = device.last_seen_ms.max(seen);
        }
        self.dirty.insert(record.device_id);
    }

    /// The current report of `device_id`, changed or not (a re-check reports it either way); `None` for an
    /// unknown device or one whose platform is unknown.
    pub fn current_report(&mut self, device_id: &str) -> Option<pb::DeviceReport> {
        let device = self.devices.get_mut(device_id)?;
        let picture = picture(device_id, device);
        device.reported = Some(picture.digest);
        picture.report
    }

    /// Every known device id.
    pub fn device_ids(&self) -> Vec<String> {
        self.devices.keys().cloned().collect()
    }

    /// The reports owed: one per device whose picture changed since it was last reported.
    pub fn take_reports(&mut self) -> Vec<pb::DeviceReport> {
        let dirty = std::mem::take(&mut self.dirty);
        let mut reports = Vec::new();
        for device_id in dirty {
            let Some(device) = self.devices.get_mut(&device_id) else {
                continue;
            };
            let picture = picture(&device_id, device);
            if device.reported == Some(picture.digest) {
                continue;
            }
            device.reported = Some(picture.digest);
            if let Some(report) = picture.report {
                reports.push(report);
            }
        }
        reports
    }
}

struct Picture {
    digest: [u8; 32],
    /// `None` when the platform is unknown (no report can be made).
    report: Option<pb::DeviceReport>,
}

fn timestamp(ms: u64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: i64::try_from(ms / 1000).unwrap_or(i64::MAX),
        nanos: i32::try_from((ms % 1000) * 1_000_000).unwrap_or(0),
    }
}

/// The report a device's state stands for, and the digest of what it says.
fn picture(device_id: &str, device: &DeviceState) -> Picture {
    // Open threats first, then the most recently changed; at most the core's limit.
    let mut threats: Vec<&ThreatRecord> = device.threats.values().collect();
    threats.sort_by(|a, b| {
        (b.status == pb::ThreatStatus::Open)
            .cmp(&(a.status == pb::ThreatStatus::Open))
            .then(b.modified_ms.cmp(&a.modified_ms))
            .then(a.id.cmp(&b.id))
    });
    threats.truncate(MAX_THREATS);
    threats.sort_by(|a, b| a.id.cmp(&b.id));
    let health = device
        .override_state
        .unwrap_or_else(|| mapping::threat_health(device.threats.values()));
    let observed_ms = device
        .threats
        .values()
        .map(|t| t.modified_ms)
        .chain([device.last_seen_ms])
        .max()
        .unwrap_or(0);
    let attributes = &device.attributes;
    let groups: Vec<String> = [attributes.team.clone()]
        .into_iter()
        .filter(|team| !team.is_empty())
        .collect();
    let pb_threats: Vec<pb::Threat> = threats
        .iter()
        .map(|t| pb::Threat {
            vendor_threat_id: t.id.clone(),
            category: t.category as i32,
            classification: t.classification.clone(),
            severity: t.severity as i32,
            status: t.status as i32,
            detected_at: Some(timestamp(t.detected_ms)),
            resolved_at: t.resolved_ms.map(timestamp),
            description: t.description.clone(),
        })
        .collect();
    let mut hasher = Sha256::new();
    let mut field = |bytes: &[u8]| {
        hasher.update(u64::try_from(bytes.len()).unwrap_or(u64::MAX).to_be_bytes());
        hasher.update(bytes);
    };
    field(device_id.as_bytes());
    field(&attributes.platform.map_or(0, |p| p as i32).to_be_bytes());
    field(attributes.os_version.as_bytes());
    field(attributes.model.as_bytes());
    field(attributes.owner.as_bytes());
    field(attributes.team.as_bytes());
    field(&(health as i32).to_be_bytes());
    for t in &threats {
        field(t.id.as_bytes());
        field(&t.modified_ms.to_be_bytes());
        field(&(t.status as i32).to_be_bytes());
        field(&(t.severity as i32).to_be_bytes());
        field(&(t.category as i32).to_be_bytes());
        field(t.classification.as_bytes());
    }
    let digest: [u8; 32] = hasher.finalize().into();
    // The id also covers the observation time, so a picture that comes back later is new.
    let mut id_hasher = Sha256::new();
    id_hasher.update(digest);
    id_hasher.update(observed_ms.to_be_bytes());
    let id_digest = id_hasher.finalize();
    let vendor_event_id = format!("zimperium-{}", hex::encode(&id_digest[..16]));
    let report = attributes.platform.map(|platform| pb::DeviceReport {
        device_id: device_id.to_owned(),
        platform: platform as i32,
        os_version: attributes.os_version.clone(),
        model: attributes.model.clone(),
        owner_user_id: attributes.owner.clone(),
        groups,
        health_state: health as i32,
        threats: pb_threats,
        observed_at: Some(timestamp(observed_ms)),
        vendor_event_id,
    });
    Picture { digest, report }
}

#[cfg(test)]
mod tests;
