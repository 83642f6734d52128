//! Zimperium JSON (zConsole public API) → riskgate's vocabulary: threat items and device
//! items become [`ThreatRecord`]s and [`DeviceRecord`]s, checked field by field. Anything that
//! does not parse is a [`Malformed`] naming the field, which the caller skips and counts.
//!
//! The README's mapping table is the reference for every row here.

use riskgate_sdk::pb;
use serde_json::Value;

/// Where a device's riskgate id comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceIdSource {
    /// `mdmDeviceId` (the MDM's id, so Zimperium and other vendors' reports meet on one device),
    /// falling back to Zimperium's device id when it is empty.
    Mdm,
    /// Zimperium's own device id.
    Zimperium,
}

/// Why an item was skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct Malformed {
    /// The JSON field.
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

fn malformed(field: &str, reason: impl Into<String>) -> Malformed {
    Malformed {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

/// One threat, as riskgate needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreatRecord {
    /// `id`.
    pub id: String,
    /// The riskgate device id (see [`DeviceIdSource`]).
    pub device_id: String,
    /// What the threat item says about its device.
    pub device: DeviceAttributes,
    /// From `vectorName` (or the numeric `vector`).
    pub category: pb::ThreatCategory,
    /// `threatTypeName`.
    pub classification: String,
    /// From `severityName` (or the numeric `severity`).
    pub severity: pb::ThreatLevel,
    /// From `state` and `mitigatedAt`.
    pub status: pb::ThreatStatus,
    /// `timestamp`, epoch milliseconds.
    pub detected_ms: u64,
    /// `mitigatedAt` (or `lastModified` for a mitigated threat without it), epoch milliseconds.
    pub resolved_ms: Option<u64>,
    /// `lastModified` (or `timestamp` when absent), epoch milliseconds: the threat's version.
    pub modified_ms: u64,
    /// A one-line description: type, classification and vector.
    pub description: String,
}

/// What is known about a device's identity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct DeviceAttributes {
    /// From `os.name` / `device.os.name` / `os`.
    pub platform: Option<pb::Platform>,
    /// `os.version`.
    pub os_version: String,
    /// `model`.
    pub model: String,
    /// `deviceOwner` (string or `{email}`), else `activationName`.
    pub owner: String,
    /// `teamName`, as the device's one group.
    pub team: String,
}

/// One device from the devices API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    /// The riskgate device id.
    pub device_id: String,
    /// Its attributes.
    pub attributes: DeviceAttributes,
    /// `lastSeen`, epoch milliseconds.
    pub last_seen_ms: Option<u64>,
    /// A health state the device's own flags impose, overriding the threats (see [`device_health`]).
    pub override_state: Option<pb::HealthState>,
}

fn text<'a>(item: &'a Value, pointer: &str) -> Option<&'a str> {
    item.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn id_text(item: &Value, pointer: &str) -> Option<String> {
    match item.pointer(pointer)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn millis(item: &Value, pointer: &str) -> Result<Option<u64>, Malformed> {
    match item.pointer(pointer) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_u64()
            .filter(|ms| *ms > 0)
            .map(Some)
            .ok_or_else(|| malformed(pointer, format!("{value} is not epoch milliseconds"))),
    }
}

/// The platform of an OS name (`ANDROID`, `android`, `IOS`, `iOS`, ...).
pub fn platform(name: &str) -> Option<pb::Platform> {
    match name.to_ascii_lowercase().as_str() {
        "android" => Some(pb::Platform::Android),
        "ios" => Some(pb::Platform::Ios),
        "ipados" => Some(pb::Platform::Ipados),
        "windows" => Some(pb::Platform::Windows),
        "macos" | "mac os" | "osx" => Some(pb::Platform::Macos),
        _ => None,
    }
}

/// `severityName` → level: NORMAL is informational (secured), LOW low, ELEVATED medium,
/// CRITICAL high.
pub fn severity_named(name: &str) -> Option<pb::ThreatLevel> {
    match name.to_ascii_uppercase().as_str() {
        "NORMAL" => Some(pb::ThreatLevel::Secured),
        "LOW" => Some(pb::ThreatLevel::Low),
        "ELEVATED" => Some(pb::ThreatLevel::Medium),
        "CRITICAL" => Some(pb::ThreatLevel::High),
        _ => None,
    }
}

/// The numeric `severity` when `severityName` is missing: only 2 (ELEVATED) and 3 (CRITICAL) were
/// ever seen in captures, so only those are trusted.
fn severity_numbered(number: u64) -> Option<pb::ThreatLevel> {
    match number {
        2 => Some(pb::ThreatLevel::Medium),
        3 => Some(pb::ThreatLevel::High),
        _ => None,
    }
}

/// `vectorName` → category: Network → network, Device → OS, Malware/App → application,
/// Phishing/Web → web content, Configuration → configuration.
pub fn category_named(name: &str) -> Option<pb::ThreatCategory> {
    match name.to_ascii_lowercase().as_str() {
        "network" => Some(pb::ThreatCategory::Network),
        "device" | "os" | "system" => Some(pb::ThreatCategory::Os),
        "malware" | "app" | "apps" | "application" => Some(pb::ThreatCategory::Application),
        "phishing" | "web" | "content" | "web content" => Some(pb::ThreatCategory::WebContent),
        "configuration" | "config" => Some(pb::ThreatCategory::Configuration),
        "file" => Some(pb::ThreatCategory::File),
        _ => None,
    }
}

/// The numeric `vector` when `vectorName` is missing or unknown: 1 network, 2 device, 3 malware.
fn category_numbered(number: u64) -> Option<pb::ThreatCategory> {
    match number {
        1 => Some(pb::ThreatCategory::Network),
        2 => Some(pb::ThreatCategory::Os),
        3 => Some(pb::ThreatCategory::Application),
        _ => None,
    }
}

fn device_id(item: &Value, source: DeviceIdSource, mdm: &str, own: &[&str]) -> Option<String> {
    let own = || own.iter().find_map(|pointer| id_text(item, pointer));
    match source {
        DeviceIdSource::Mdm => id_text(item, mdm).or_else(own),
        DeviceIdSource::Zimperium => own(),
    }
}

/// Parses one item of `GET /api/threats/public/v1/threats`.
pub fn threat(item: &Value, source: DeviceIdSource) -> Result<ThreatRecord, Malformed> {
    if !item.is_object() {
        return Err(malformed("content[]", "not a JSON object"));
    }
    let id = id_text(item, "/id").ok_or_else(|| malformed("id", "missing"))?;
    let device_id = device_id(
        item,
        source,
        "/device/mdmDeviceId",
        &["/deviceId", "/device/id"],
    )
    .ok_or_else(|| malformed("deviceId", "missing"))?;
    let platform = threat_platform(item)?;
    let severity = threat_severity(item)?;
    let category = threat_category(item)?;
    let detected_ms =
        millis(item, "/timestamp")?.ok_or_else(|| malformed("timestamp", "missing"))?;
    let modified_ms = millis(item, "/lastModified")?.unwrap_or(detected_ms);
    let mitigated_ms = millis(item, "/mitigatedAt")?;
    let status = threat_status(item, mitigated_ms)?;
    let resolved_ms = (status == pb::ThreatStatus::Resolved)
        .then(|| mitigated_ms.unwrap_or(modified_ms).max(detected_ms));
    let classification = text(item, "/threatTypeName").unwrap_or_default().to_owned();
    let description = threat_description(item, &classification);
    let owner = text(item, "/deviceOwner")
        .or_else(|| text(item, "/activationName"))
        .unwrap_or_default();
    Ok(ThreatRecord {
        id,
        device_id,
        device: DeviceAttributes {
            platform: Some(platform),
            os_version: text(item, "/device/os/version")
                .unwrap_or_default()
                .to_owned(),
            model: text(item, "/device/model").unwrap_or_default().to_owned(),
            owner: owner.to_owned(),
            team: text(item, "/teamName").unwrap_or_default().to_owned(),
        },
        category,
        classification,
        severity,
        status,
        detected_ms,
        resolved_ms,
        modified_ms: modified_ms.max(detected_ms),
        description,
    })
}

/// The platform of a threat's device (`device.os.name`, or the top-level `os`).
fn threat_platform(item: &Value) -> Result<pb::Platform, Malformed> {
    let platform_name = text(item, "/device/os/name")
        .or_else(|| text(item, "/os"))
        .ok_or_else(|| malformed("device.os.name", "missing"))?;
    platform(platform_name).ok_or_else(|| {
        malformed(
            "device.os.name",
            format!("unknown platform {platform_name:?}"),
        )
    })
}

/// The severity by name (`severityName`), or else by number (`severity`).
fn threat_severity(item: &Value) -> Result<pb::ThreatLevel, Malformed> {
    match text(item, "/severityName") {
        Some(name) => severity_named(name)
            .ok_or_else(|| malformed("severityName", format!("unknown severity {name:?}"))),
        None => item
            .get("severity")
            .and_then(Value::as_u64)
            .and_then(severity_numbered)
            .ok_or_else(|| malformed("severityName", "missing")),
    }
}

/// The category from the vector by name (`vectorName`), or else by number (`vector`).
fn threat_category(item: &Value) -> Result<pb::ThreatCategory, Malformed> {
    text(item, "/vectorName")
        .and_then(category_named)
        .or_else(|| {
            item.get("vector")
                .and_then(Value::as_u64)
                .and_then(category_numbered)
        })
        .ok_or_else(|| {
            malformed(
                "vectorName",
                format!(
                    "unknown vector {}",
                    item.get("vectorName").unwrap_or(&Value::Null)
                ),
            )
        })
}

/// State 4 or a mitigation time means mitigated; any other state counts as still open, so an
/// unfamiliar state never hides a threat.
fn threat_status(item: &Value, mitigated_ms: Option<u64>) -> Result<pb::ThreatStatus, Malformed> {
    let state = match item.get("state") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            value
                .as_u64()
                .ok_or_else(|| malformed("state", format!("{value} is not a number")))?,
        ),
    };
    Ok(if state == Some(4) || mitigated_ms.is_some() {
        pb::ThreatStatus::Resolved
    } else {
        pb::ThreatStatus::Open
    })
}

/// `classification (classificationName, vector vectorName)`.
fn threat_description(item: &Value, classification: &str) -> String {
    format!(
        "{} ({}, vector {})",
        if classification.is_empty() {
            "threat"
        } else {
            classification
        },
        text(item, "/classificationName").unwrap_or("unclassified"),
        text(item, "/vectorName").unwrap_or("unknown"),
    )
}

/// Parses one item of `GET /api/devices/public/v2/devices/start-scroll`.
pub fn device(item: &Value, source: DeviceIdSource) -> Result<DeviceRecord, Malformed> {
    if !item.is_object() {
        return Err(malformed("content[]", "not a JSON object"));
    }
    let device_id = device_id(item, source, "/mdmDeviceId", &["/id"])
        .ok_or_else(|| malformed("id", "missing"))?;
    let platform_name = text(item, "/os/name")
        .or_else(|| text(item, "/os/type"))
        .ok_or_else(|| malformed("os.name", "missing"))?;
    let platform = platform(platform_name)
        .ok_or_else(|| malformed("os.name", format!("unknown platform {platform_name:?}")))?;
    let owner = text(item, "/deviceOwner/email")
        .or_else(|| text(item, "/deviceOwner"))
        .or_else(|| text(item, "/activationName"))
        .unwrap_or_default();
    let flag = |name: &str| item.get(name).and_then(Value::as_bool);
    let override_state = device_health(
        flag("deleted").unwrap_or(false),
        text(item, "/appStatus"),
        flag("isJailbroken").unwrap_or(false),
        flag("processed").unwrap_or(true),
    );
    Ok(DeviceRecord {
        device_id,
        attributes: DeviceAttributes {
            platform: Some(platform),
            os_version: text(item, "/os/version").unwrap_or_default().to_owned(),
            model: text(item, "/model")
                .or_else(|| text(item, "/fullType"))
                .unwrap_or_default()
                .to_owned(),
            owner: owner.to_owned(),
            team: text(item, "/teamName").unwrap_or_default().to_owned(),
        },
        last_seen_ms: millis(item, "/lastSeen")?,
        override_state,
    })
}

/// The health state a device's own flags impose, in this order: deleted → DEACTIVATED; the MTD
/// app not `ACTIVE` → UNRESPONSIVE; jailbroken or rooted → COMPROMISED; not yet processed →
/// ACTIVATED. `None`: the threats decide.
pub fn device_health(
    deleted: bool,
    app_status: Option<&str>,
    jailbroken: bool,
    processed: bool,
) -> Option<pb::HealthState> {
    if deleted {
        Some(pb::HealthState::Deactivated)
    } else if app_status.is_some_and(|status| !status.eq_ignore_ascii_case("ACTIVE")) {
        Some(pb::HealthState::Unresponsive)
    } else if jailbroken {
        Some(pb::HealthState::Compromised)
    } else if !processed {
        Some(pb::HealthState::Activated)
    } else {
        None
    }
}

/// The health state of the worst open threat (rollup): none open → SECURED.
pub fn threat_health<'a>(threats: impl IntoIterator<Item = &'a ThreatRecord>) -> pb::HealthState {
    let worst = threats
        .into_iter()
        .filter(|t| t.status == pb::ThreatStatus::Open)
        .map(|t| t.severity)
        .max()
        .unwrap_or(pb::ThreatLevel::Secured);
    match worst {
        pb::ThreatLevel::High => pb::HealthState::HighSeverity,
        pb::ThreatLevel::Medium => pb::HealthState::MediumSeverity,
        pb::ThreatLevel::Low => pb::HealthState::LowSeverity,
        pb::ThreatLevel::Secured | pb::ThreatLevel::Unspecified => pb::HealthState::Secured,
    }
}

#[cfg(test)]
mod tests;
