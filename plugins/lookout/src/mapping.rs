//! Lookout data → riskgate reports: the fleet the connector knows (devices and their threats), how
//! REST items and stream events update it, and how a device becomes a [`pb::DeviceReport`].
//!
//! The mapping table in the README is this module's contract; its unit tests cover every row.
//! Vendor data is read from `serde_json::Value`s, so unknown fields are ignored and wrong types are
//! reported as [`Malformed`] instead of failing a whole page or batch.

use std::collections::BTreeMap;

use riskgate_sdk::{
    pb::{self, HealthState, Platform, ThreatCategory, ThreatLevel, ThreatStatus},
    prost_types,
};
use serde_json::Value;

use crate::config::{Config, DeviceIdSource};

/// Why one vendor item was skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Malformed(pub String);

fn malformed(what: impl Into<String>) -> Malformed {
    Malformed(what.into())
}

/// A threat as the connector knows it (Lookout's vocabulary, mapped when a report is built).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreatState {
    /// Lookout `type`/`threat_type`.
    pub threat_type: String,
    /// Classifications, comma-separated.
    pub classification: String,
    /// Lookout `severity`/`risk`.
    pub severity: String,
    /// Lookout `status`.
    pub status: String,
    /// Detection time (epoch ms).
    pub detected_ms: u64,
    /// Resolution time (epoch ms), for resolved or ignored threats.
    pub resolved_ms: Option<u64>,
    /// Human-readable summary from `details`.
    pub description: String,
    /// The newest change applied (epoch ms); older updates are ignored.
    pub updated_ms: u64,
}

/// A device as the connector knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceState {
    /// Lookout `guid`.
    pub guid: String,
    /// MDM id (`external_id`), if any.
    pub external_id: Option<String>,
    /// Lookout platform (ANDROID, IOS).
    pub platform: String,
    /// Owner e-mail.
    pub email: String,
    /// Hardware model.
    pub model: String,
    /// OS version.
    pub os_version: String,
    /// `activation_status`.
    pub activation_status: String,
    /// `protection_status`.
    pub protection_status: String,
    /// `security_status`, absent unless activated and protected.
    pub security_status: Option<String>,
    /// The newest device change applied (epoch ms).
    pub updated_ms: u64,
    /// Threats by guid.
    pub threats: BTreeMap<String, ThreatState>,
}

/// Every device the connector knows, by Lookout guid.
#[derive(Debug, Clone, Default)]
pub struct Fleet {
    /// Devices by guid.
    pub devices: BTreeMap<String, DeviceState>,
    /// Which device each threat belongs to.
    pub threat_owner: BTreeMap<String, String>,
}

// === reading JSON ===

fn text<'a>(value: &'a Value, key: &str) -> Result<Option<&'a str>, Malformed> {
    match value.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(other) => Err(malformed(format!("{key}: expected a string, got {other}"))),
    }
}

fn required<'a>(value: &'a Value, key: &str) -> Result<&'a str, Malformed> {
    text(value, key)?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| malformed(format!("{key}: missing")))
}

/// Parses Lookout's ISO 8601 timestamps (`2025-02-24T09:59:04.734+00:00`, `…Z`, other offsets).
pub fn parse_time_ms(raw: &str) -> Option<u64> {
    riskgate_sdk::toolkit::time::parse_rfc3339_ms(raw).ok()
}

fn time_field(value: &Value, key: &str) -> Result<Option<u64>, Malformed> {
    match text(value, key)? {
        None => Ok(None),
        Some(raw) => parse_time_ms(raw)
            .map(Some)
            .ok_or_else(|| malformed(format!("{key}: {raw:?} is not an ISO 8601 time"))),
    }
}

fn description(threat_type: &str, classification: &str, details: Option<&Value>) -> String {
    let detail = details.and_then(|d| {
        [
            "application_name",
            "package_name",
            "url",
            "file_name",
            "path",
            "network_ssid",
            "minimum_os_version",
        ]
        .iter()
        .find_map(|k| d.get(*k).and_then(Value::as_str))
    });
    match detail {
        Some(detail) => format!("{threat_type} {classification}: {detail}"),
        None => format!("{threat_type} {classification}"),
    }
    .chars()
    .filter(|c| !c.is_control())
    .take(1024)
    .collect()
}

fn classifications(value: &Value) -> Result<String, Malformed> {
    match value.get("classifications") {
        Some(Value::Array(items)) => {
            let mut names = Vec::new();
            for item in items {
                names.push(
                    item.as_str()
                        .ok_or_else(|| malformed("classifications: expected strings"))?,
                );
            }
            Ok(names.join(","))
        }
        None | Some(Value::Null) => Ok(text(value, "classification")?
            .unwrap_or_default()
            .to_owned()),
        Some(_) => Err(malformed("classifications: expected an array")),
    }
}

// === updating the fleet ===

impl Fleet {
    /// Applies a device from `GET /mra/api/v2/devices` (the flat shape). Returns its guid.
    pub fn apply_rest_device(&mut self, item: &Value) -> Result<String, Malformed> {
        let guid = required(item, "guid")?.to_owned();
        let updated = time_field(item, "checkin_time")?.unwrap_or(0);
        let external_id = match item.get("details") {
            Some(details) => text(details, "external_id")?.map(str::to_owned),
            None => None,
        };
        let hardware = item.get("hardware").unwrap_or(&Value::Null);
        let software = item.get("software").unwrap_or(&Value::Null);
        let device = DeviceState {
            guid: guid.clone(),
            external_id: external_id
                .or_else(|| self.devices.get(&guid).and_then(|d| d.external_id.clone())),
            platform: required(item, "platform")?.to_ascii_uppercase(),
            email: text(item, "email")?.unwrap_or_default().to_owned(),
            model: text(hardware, "model")?.unwrap_or_default().to_owned(),
            os_version: text(software, "os_version")?.unwrap_or_default().to_owned(),
            activation_status: text(item, "activation_status")?
                .unwrap_or("ACTIVATED")
                .to_ascii_uppercase(),
            protection_status: text(item, "protection_status")?
                .unwrap_or("PROTECTED")
                .to_ascii_uppercase(),
            security_status: text(item, "security_status")?.map(str::to_ascii_uppercase),
            updated_ms: updated,
            threats: self
                .devices
                .remove(&guid)
                .map(|d| d.threats)
                .unwrap_or_default(),
        };
        self.devices.insert(guid.clone(), device);
        Ok(guid)
    }

    /// Applies a threat from `GET /mra/api/v2/threats`. Returns its device's guid.
    pub fn apply_rest_threat(&mut self, item: &Value) -> Result<String, Malformed> {
        let guid = required(item, "guid")?.to_owned();
        let device_guid = match text(item, "device_guid")? {
            Some(g) => g.to_owned(),
            None => required(item.get("device").unwrap_or(&Value::Null), "guid")?.to_owned(),
        };
        let threat_type = text(item, "threat_type")?
            .or(text(item, "type")?)
            .ok_or_else(|| malformed("threat_type: missing"))?
            .to_ascii_uppercase();
        let severity = text(item, "risk")?
            .or(text(item, "severity")?)
            .ok_or_else(|| malformed("risk: missing"))?
            .to_ascii_uppercase();
        let status = required(item, "status")?.to_ascii_uppercase();
        let detected = time_field(item, "detected_at")?
            .or(time_field(item, "created_time")?)
            .ok_or_else(|| malformed("detected_at: missing"))?;
        let updated = time_field(item, "updated_time")?.unwrap_or(detected);
        let resolved = time_field(item, "resolved_time")?;
        let classification = classifications(item)?;
        let threat = ThreatState {
            description: description(&threat_type, &classification, item.get("details")),
            threat_type,
            classification,
            resolved_ms: if is_open(&status) {
                None
            } else {
                Some(resolved.unwrap_or(updated))
            },
            severity,
            status,
            detected_ms: detected,
            updated_ms: updated,
        };
        let device = self
            .devices
            .get_mut(&device_guid)
            .ok_or_else(|| malformed(format!("threat {guid}: unknown device {device_guid}")))?;
        device.threats.insert(guid.clone(), threat);
        self.threat_owner.insert(guid, device_guid.clone());
        Ok(device_guid)
    }

    /// Applies one stream event. Returns the guid of the device it changed, `None` for events
    /// that carry no device risk (AUDIT, SMISHING_ALERT, unknown types), or why it is malformed.
    /// A DEVICE or THREAT event about a device the fleet does not know yet returns
    /// [`EventOutcome::UnknownDevice`] so the caller can fetch the device and apply it again.
    pub fn apply_event(&mut self, event: &Value) -> Result<EventOutcome, Malformed> {
        if !event.is_object() {
            return Err(malformed("event: expected an object"));
        }
        required(event, "id")?;
        let kind = required(event, "type")?;
        let at =
            time_field(event, "created_time")?.ok_or_else(|| malformed("created_time: missing"))?;
        let change = text(event, "change_type")?
            .unwrap_or("UPDATED")
            .to_ascii_uppercase();
        match kind {
            "DEVICE" => self.apply_device_event(event, at, &change),
            "THREAT" => self.apply_threat_event(event, at),
            _ => Ok(EventOutcome::Ignored),
        }
    }

    /// A DEVICE event: the fields it carries replace the device's, unless an event newer than
    /// this one was applied already; a DELETED or PURGED change marks the device deleted.
    fn apply_device_event(
        &mut self,
        event: &Value,
        at: u64,
        change: &str,
    ) -> Result<EventOutcome, Malformed> {
        let body = event
            .get("device")
            .filter(|b| b.is_object())
            .ok_or_else(|| malformed("device: missing"))?;
        let guid = required(body, "guid")?.to_owned();
        let fields = DeviceFields::read(body)?;
        let device = match self.devices.get_mut(&guid) {
            Some(device) => device,
            None => {
                // A device first seen in an event needs its platform; otherwise the caller fetches it.
                let Some(platform) = fields.platform.clone() else {
                    return Ok(EventOutcome::UnknownDevice(guid));
                };
                self.devices
                    .entry(guid.clone())
                    .or_insert_with(|| DeviceState::first_seen(&guid, platform))
            }
        };
        if at < device.updated_ms {
            return Ok(EventOutcome::Device(guid));
        }
        device.updated_ms = at;
        fields.apply_to(device);
        if change == "DELETED" || change == "PURGED" {
            device.activation_status = "DELETED".to_owned();
            device.security_status = None;
        }
        Ok(EventOutcome::Device(guid))
    }

    /// A THREAT event: the threat's new state, merged with what is known of it, on the device it
    /// belongs to, unless an event newer than this one was applied already.
    fn apply_threat_event(&mut self, event: &Value, at: u64) -> Result<EventOutcome, Malformed> {
        let body = event
            .get("threat")
            .filter(|b| b.is_object())
            .ok_or_else(|| malformed("threat: missing"))?;
        let guid = required(body, "guid")?.to_owned();
        let device_guid = self.threat_device(event, &guid)?;
        let fields = ThreatFields::read(body)?;
        let Some(device) = self.devices.get_mut(&device_guid) else {
            return Ok(EventOutcome::UnknownDevice(device_guid));
        };
        let existing = device.threats.get(&guid);
        if existing.is_some_and(|t| at < t.updated_ms) {
            return Ok(EventOutcome::Device(device_guid));
        }
        let threat = fields.merge(existing, at, body.get("details"))?;
        device.threats.insert(guid.clone(), threat);
        self.threat_owner.insert(guid, device_guid.clone());
        Ok(EventOutcome::Device(device_guid))
    }

    /// The device a threat event is about: the actor when it is a device, else the device the
    /// threat was seen on before, else a known device named as the target.
    fn threat_device(&self, event: &Value, guid: &str) -> Result<String, Malformed> {
        let actor = event.get("actor").unwrap_or(&Value::Null);
        let target = event.get("target").unwrap_or(&Value::Null);
        let actor_device = if text(actor, "type")? == Some("DEVICE") {
            text(actor, "guid")?.map(str::to_owned)
        } else {
            None
        };
        actor_device
            .or_else(|| self.threat_owner.get(guid).cloned())
            .or(text(target, "guid")
                .ok()
                .flatten()
                .filter(|g| self.devices.contains_key(*g))
                .map(str::to_owned))
            .ok_or_else(|| malformed(format!("threat {guid}: no device")))
    }
}

impl DeviceState {
    /// A device first seen in an event: activated and protected until told otherwise.
    fn first_seen(guid: &str, platform: String) -> DeviceState {
        DeviceState {
            guid: guid.to_owned(),
            platform,
            activation_status: "ACTIVATED".to_owned(),
            protection_status: "PROTECTED".to_owned(),
            ..DeviceState::default()
        }
    }
}

/// The device fields a DEVICE event carries; absent ones leave the device's as they are.
struct DeviceFields {
    platform: Option<String>,
    external_id: Option<String>,
    email: Option<String>,
    model: Option<String>,
    os_version: Option<String>,
    /// Present when the event has a `status` object: then the security status is replaced even
    /// when absent (absent means not activated or not protected).
    status: Option<StatusFields>,
}

struct StatusFields {
    activation: Option<String>,
    protection: Option<String>,
    security: Option<String>,
}

impl DeviceFields {
    fn read(body: &Value) -> Result<DeviceFields, Malformed> {
        let status = body.get("status").unwrap_or(&Value::Null);
        let info = body.get("info").unwrap_or(&Value::Null);
        let hardware = body.get("hardware").unwrap_or(&Value::Null);
        let software = body.get("software").unwrap_or(&Value::Null);
        let status_fields = StatusFields {
            activation: text(status, "activation_status")?.map(str::to_ascii_uppercase),
            protection: text(status, "protection_status")?.map(str::to_ascii_uppercase),
            security: text(status, "security_status")?.map(str::to_ascii_uppercase),
        };
        Ok(DeviceFields {
            platform: text(body, "platform")?.map(str::to_ascii_uppercase),
            external_id: text(info, "external_id")?.map(str::to_owned),
            email: text(info, "email")?.map(str::to_owned),
            model: text(hardware, "model")?.map(str::to_owned),
            os_version: text(software, "os_version")?.map(str::to_owned),
            status: status.is_object().then_some(status_fields),
        })
    }

    fn apply_to(self, device: &mut DeviceState) {
        if let Some(v) = self.platform {
            device.platform = v;
        }
        if let Some(v) = self.external_id {
            device.external_id = Some(v);
        }
        if let Some(v) = self.email {
            device.email = v;
        }
        if let Some(v) = self.model {
            device.model = v;
        }
        if let Some(v) = self.os_version {
            device.os_version = v;
        }
        if let Some(status) = self.status {
            if let Some(v) = status.activation {
                device.activation_status = v;
            }
            if let Some(v) = status.protection {
                device.protection_status = v;
            }
            device.security_status = status.security;
        }
    }
}

/// The threat fields a THREAT event carries; absent ones keep the threat's known values.
struct ThreatFields {
    threat_type: Option<String>,
    severity: Option<String>,
    status: Option<String>,
    classification: String,
}

impl ThreatFields {
    fn read(body: &Value) -> Result<ThreatFields, Malformed> {
        Ok(ThreatFields {
            threat_type: text(body, "type")?.map(str::to_ascii_uppercase),
            severity: text(body, "severity")?.map(str::to_ascii_uppercase),
            status: text(body, "status")?.map(str::to_ascii_uppercase),
            classification: classifications(body)?,
        })
    }

    /// The threat's state after an event at `at`: the event's fields over the `existing` ones; it
    /// was detected at its first event and resolved at the first event that closed it.
    fn merge(
        self,
        existing: Option<&ThreatState>,
        at: u64,
        details: Option<&Value>,
    ) -> Result<ThreatState, Malformed> {
        let threat_type = self
            .threat_type
            .or_else(|| existing.map(|t| t.threat_type.clone()))
            .ok_or_else(|| malformed("threat.type: missing"))?;
        let severity = self
            .severity
            .or_else(|| existing.map(|t| t.severity.clone()))
            .ok_or_else(|| malformed("threat.severity: missing"))?;
        let status = self
            .status
            .or_else(|| existing.map(|t| t.status.clone()))
            .ok_or_else(|| malformed("threat.status: missing"))?;
        let classification = if self.classification.is_empty() {
            existing
                .map(|t| t.classification.clone())
                .unwrap_or_default()
        } else {
            self.classification
        };
        let resolved_ms = if is_open(&status) {
            None
        } else {
            Some(existing.and_then(|t| t.resolved_ms).unwrap_or(at))
        };
        Ok(ThreatState {
            description: description(&threat_type, &classification, details),
            threat_type,
            classification,
            severity,
            status,
            detected_ms: existing.map_or(at, |t| t.detected_ms.min(at)),
            resolved_ms,
            updated_ms: at,
        })
    }
}

/// What one stream event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventOutcome {
    /// It changed (or re-stated) this device.
    Device(String),
    /// It is about a device the fleet does not know (fetch it, then apply the event again).
    UnknownDevice(String),
    /// It carries no device risk.
    Ignored,
}

// === mapping to riskgate ===

fn is_open(status: &str) -> bool {
    matches!(status, "OPEN" | "DETECTED")
}

/// Lookout threat `type` → category.
pub fn category(threat_type: &str) -> Option<ThreatCategory> {
    Some(match threat_type {
        "APPLICATION" => ThreatCategory::Application,
        "NETWORK" => ThreatCategory::Network,
        "OS" => ThreatCategory::Os,
        "WEB_CONTENT" => ThreatCategory::WebContent,
        "CONFIGURATION" => ThreatCategory::Configuration,
        "FILE" => ThreatCategory::File,
        _ => return None,
    })
}

/// Lookout threat `severity`/`risk` → level (Lookout documents ADVISORY below LOW; riskgate counts it as LOW).
pub fn level(severity: &str) -> Option<ThreatLevel> {
    Some(match severity {
        "NONE" => ThreatLevel::Secured,
        "ADVISORY" | "LOW" => ThreatLevel::Low,
        "MEDIUM" | "MODERATE" => ThreatLevel::Medium,
        "HIGH" | "CRITICAL" => ThreatLevel::High,
        _ => return None,
    })
}

/// Lookout threat `status` → status.
pub fn status(raw: &str) -> Option<ThreatStatus> {
    Some(match raw {
        "OPEN" | "DETECTED" => ThreatStatus::Open,
        "RESOLVED" => ThreatStatus::Resolved,
        "IGNORED" => ThreatStatus::Ignored,
        _ => return None,
    })
}

/// Lookout `security_status` (v2 plural or v1 singular names) → health state.
pub fn security_health(raw: &str) -> Option<HealthState> {
    Some(match raw {
        "SECURE" => HealthState::Secured,
        "THREATS_LOW" | "THREAT_LOW" => HealthState::LowSeverity,
        "THREATS_MEDIUM" | "THREAT_MEDIUM" => HealthState::MediumSeverity,
        "THREATS_HIGH" | "THREAT_HIGH" | "THREATS_CRITICAL" => HealthState::HighSeverity,
        _ => return None,
    })
}

fn level_health(level: ThreatLevel) -> HealthState {
    match level {
        ThreatLevel::Low => HealthState::LowSeverity,
        ThreatLevel::Medium => HealthState::MediumSeverity,
        ThreatLevel::High => HealthState::HighSeverity,
        ThreatLevel::Secured | ThreatLevel::Unspecified => HealthState::Secured,
    }
}

/// A device's health state, and a note when a vendor value was not understood.
pub fn health(device: &DeviceState, config: &Config) -> (HealthState, Option<String>) {
    match device.activation_status.as_str() {
        "ACTIVATED" => {}
        "PENDING" => return (HealthState::Unknown, None),
        "DEACTIVATED" | "DELETED" => return (HealthState::Deactivated, None),
        other => {
            return (
                HealthState::Unknown,
                Some(format!("activation_status {other:?} unknown")),
            )
        }
    }
    match device.protection_status.as_str() {
        "PROTECTED" => {}
        "DISCONNECTED" => return (HealthState::Unresponsive, None),
        "UNINSTALLED" => return (HealthState::Misconfigured, None),
        other => {
            return (
                HealthState::Unknown,
                Some(format!("protection_status {other:?} unknown")),
            )
        }
    }
    let open = || device.threats.values().filter(|t| is_open(&t.status));
    if !config.compromised_classifications.is_empty()
        && open().any(|t| {
            t.classification
                .split(',')
                .any(|c| config.compromised_classifications.iter().any(|x| x == c))
        })
    {
        return (HealthState::Compromised, None);
    }
    let rollup = || {
        level_health(
            open()
                .filter_map(|t| level(&t.severity))
                .max_by_key(|l| *l as i32)
                .unwrap_or(ThreatLevel::Secured),
        )
    };
    match &device.security_status {
        Some(raw) => match security_health(raw) {
            Some(state) => (state, None),
            None => (
                rollup(),
                Some(format!(
                    "security_status {raw:?} unknown; used the open threats"
                )),
            ),
        },
        None => (rollup(), None),
    }
}

/// The riskgate device id of a device, per configuration.
pub fn device_id(device: &DeviceState, config: &Config) -> Option<String> {
    match config.device_id {
        DeviceIdSource::Guid => Some(device.guid.clone()),
        DeviceIdSource::ExternalId => device.external_id.clone().filter(|id| !id.is_empty()),
    }
}

/// The riskgate platform of a device.
pub fn platform(device: &DeviceState, config: &Config) -> Option<Platform> {
    let mapped = *config.platforms.get(&device.platform)?;
    if mapped == Platform::Ios
        && config.ipad_as_ipados
        && device.model.to_ascii_lowercase().starts_with("ipad")
    {
        return Some(Platform::Ipados);
    }
    Some(mapped)
}

/// Epoch milliseconds → protobuf timestamp.
pub fn timestamp(ms: u64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: i64::try_from(ms / 1000).unwrap_or(i64::MAX),
        nanos: i32::try_from((ms % 1000) * 1_000_000).unwrap_or(0),
    }
}

/// A report and notes about vendor values it had to skip.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    /// The report.
    pub report: pb::DeviceReport,
    /// What was skipped or not understood.
    pub notes: Vec<String>,
}

/// Builds the report of a device observed at `observed_ms` because of `vendor_event_id`.
pub fn report(
    device: &DeviceState,
    config: &Config,
    observed_ms: u64,
    vendor_event_id: &str,
) -> Result<Mapped, Malformed> {
    let device_id = device_id(device, config)
        .ok_or_else(|| malformed(format!("device {}: no external_id", device.guid)))?;
    let platform = platform(device, config).ok_or_else(|| {
        malformed(format!(
            "device {}: platform {:?} not mapped",
            device.guid, device.platform
        ))
    })?;
    let (health_state, note) = health(device, config);
    let mut notes: Vec<String> = note.into_iter().collect();
    let mut threats = Vec::new();
    for (guid, t) in &device.threats {
        let (Some(category), Some(severity), Some(status)) = (
            category(&t.threat_type),
            level(&t.severity),
            status(&t.status),
        ) else {
            notes.push(format!(
                "threat {guid}: type {:?}, severity {:?} or status {:?} unknown; skipped",
                t.threat_type, t.severity, t.status
            ));
            continue;
        };
        threats.push(pb::Threat {
            vendor_threat_id: guid.clone(),
            category: category as i32,
            classification: t.classification.chars().take(256).collect(),
            severity: severity as i32,
            status: status as i32,
            detected_at: Some(timestamp(t.detected_ms.min(observed_ms).max(1000))),
            resolved_at: t.resolved_ms.map(|r| {
                timestamp(
                    r.min(observed_ms)
                        .max(t.detected_ms.min(observed_ms).max(1000)),
                )
            }),
            description: t.description.clone(),
        });
    }
    // Keep the most relevant threats if a device has more than the core accepts: open ones first.
    threats.sort_by_key(|t| {
        (
            t.status != ThreatStatus::Open as i32,
            std::cmp::Reverse(t.severity),
        )
    });
    threats.truncate(riskgate_sdk::validate::MAX_THREATS);
    let clip =
        |s: &str, n: usize| -> String { s.chars().filter(|c| !c.is_control()).take(n).collect() };
    Ok(Mapped {
        report: pb::DeviceReport {
            device_id,
            platform: platform as i32,
            os_version: clip(&device.os_version, 64),
            model: clip(&device.model, 128),
            owner_user_id: clip(&device.email, 256),
            groups: Vec::new(),
            health_state: health_state as i32,
            threats,
            observed_at: Some(timestamp(observed_ms)),
            vendor_event_id: vendor_event_id.to_owned(),
        },
        notes,
    })
}

#[cfg(test)]
mod tests;
