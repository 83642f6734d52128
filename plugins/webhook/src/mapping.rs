//! The configurable field mapping: where each riskgate field is in a vendor's JSON event, and how
//! the vendor's vocabulary (severity strings, statuses, platforms, ...) maps onto riskgate's.
//!
//! A *selector* is a JSON pointer (`/device/id`), a dotted path (`device.id`, `threats.0.id`;
//! numeric segments index arrays), or a literal constant prefixed with `=` (`=android`). A JSON
//! `null` counts as missing. Enumerated values are looked up in the configured value map first
//! (exact key, then case-insensitively), then against riskgate's own names (case-insensitive,
//! ignoring `_`, `-` and spaces, with or without the proto prefix such as `HEALTH_STATE_`).
//! See the crate README for the full reference.

use std::{
    collections::BTreeMap,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use riskgate_sdk::{pb, prost_types, toolkit};
use serde_json::{Map, Value};

/// A configuration error, naming the key.
pub use riskgate_sdk::toolkit::ConfigError;

/// Why one event cannot become a report, naming the field in the event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct MappingError {
    /// Where in the event (the configured selector, prefixed by the threat index for threat fields).
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

fn mapping_error(field: impl Into<String>, reason: impl Into<String>) -> MappingError {
    MappingError {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Where a value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Selector {
    /// A JSON pointer into the event (dotted paths are converted to pointers).
    Pointer(String),
    /// A constant.
    Literal(Value),
}

impl Selector {
    /// Parses `raw` (pointer, dotted path or `=literal`); `key` names it in errors.
    pub fn parse(key: &str, raw: &str) -> Result<Selector, ConfigError> {
        if let Some(literal) = raw.strip_prefix('=') {
            return Ok(Selector::Literal(Value::String(literal.to_owned())));
        }
        if raw.is_empty() || raw.starts_with('/') {
            return Ok(Selector::Pointer(raw.to_owned()));
        }
        let mut pointer = String::new();
        for segment in raw.split('.') {
            if segment.is_empty() {
                return Err(ConfigError(format!(
                    "{key}: empty segment in dotted path {raw:?}"
                )));
            }
            pointer.push('/');
            pointer.push_str(&segment.replace('~', "~0").replace('/', "~1"));
        }
        Ok(Selector::Pointer(pointer))
    }

    /// The value in `event`, if present and not `null`.
    pub fn get<'a>(&'a self, event: &'a Value) -> Option<&'a Value> {
        let found = match self {
            Selector::Literal(value) => Some(value),
            Selector::Pointer(pointer) => event.pointer(pointer),
        };
        found.filter(|value| !value.is_null())
    }

    fn describe(&self) -> String {
        match self {
            Selector::Pointer(pointer) => pointer.clone(),
            Selector::Literal(value) => format!("={}", scalar_text(value).unwrap_or_default()),
        }
    }
}

/// Where the fields of one threat are, relative to the threat's object.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreatFields {
    /// The vendor's threat id. Required.
    pub id: Selector,
    /// The category (mapped through `values.category`). Required.
    pub category: Selector,
    /// Free-text classification.
    pub classification: Option<Selector>,
    /// The severity (mapped through `values.severity` to a level). Required.
    pub severity: Selector,
    /// The status (mapped through `values.status`); open when absent.
    pub status: Option<Selector>,
    /// When it was detected; the report's observed time when absent.
    pub detected_at: Option<Selector>,
    /// When it was resolved.
    pub resolved_at: Option<Selector>,
    /// Human-readable description.
    pub description: Option<Selector>,
}

/// Where every report field is in an event.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldMapping {
    /// Where the array of events is in a push; `None`: the body is one event, or an array of them.
    pub events: Option<Selector>,
    /// The device id. Required.
    pub device_id: Selector,
    /// The platform. Required.
    pub platform: Selector,
    /// OS version.
    pub os_version: Option<Selector>,
    /// Hardware model.
    pub model: Option<Selector>,
    /// The owner's user id.
    pub owner: Option<Selector>,
    /// Groups: an array of strings, or one string.
    pub groups: Option<Selector>,
    /// The vendor's health state (mapped through `values.health_state`).
    pub health_state: Option<Selector>,
    /// The vendor's device level (mapped through `values.level`).
    pub level: Option<Selector>,
    /// The array of threats.
    pub threats: Option<Selector>,
    /// The fields of each threat.
    pub threat: Option<ThreatFields>,
    /// When the vendor observed the state; the time of receipt when not configured.
    pub observed_at: Option<Selector>,
    /// The vendor's event id; derived from the body's SHA-256 and the event's index when absent.
    pub event_id: Option<Selector>,
}

/// Vendor value → riskgate value, one map per enumerated field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValueMaps {
    /// Vendor platform → [`pb::Platform`].
    pub platform: BTreeMap<String, pb::Platform>,
    /// Vendor health state → [`pb::HealthState`].
    pub health_state: BTreeMap<String, pb::HealthState>,
    /// Vendor device level → [`pb::ThreatLevel`].
    pub level: BTreeMap<String, pb::ThreatLevel>,
    /// Vendor threat category → [`pb::ThreatCategory`].
    pub category: BTreeMap<String, pb::ThreatCategory>,
    /// Vendor threat severity → [`pb::ThreatLevel`].
    pub severity: BTreeMap<String, pb::ThreatLevel>,
    /// Vendor threat status → [`pb::ThreatStatus`].
    pub status: BTreeMap<String, pb::ThreatStatus>,
}

/// The whole mapping: selectors and value maps.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapping {
    /// Where the fields are.
    pub fields: FieldMapping,
    /// How values translate.
    pub values: ValueMaps,
}

// === parsing the configuration ===

fn object<'a>(key: &str, value: &'a Value) -> Result<&'a Map<String, Value>, ConfigError> {
    value
        .as_object()
        .ok_or_else(|| ConfigError(format!("{key}: must be a JSON object")))
}

/// The JSON object at `key`, refusing (by name) any key not in `allowed`.
fn object_with_keys<'a>(
    key: &str,
    value: &'a Value,
    allowed: &[&str],
) -> Result<&'a Map<String, Value>, ConfigError> {
    let object = object(key, value)?;
    for name in object.keys() {
        if !allowed.contains(&name.as_str()) {
            return Err(ConfigError(format!("{key}.{name}: unknown key")));
        }
    }
    Ok(object)
}

fn selector(
    key: &str,
    object: &Map<String, Value>,
    name: &str,
) -> Result<Option<Selector>, ConfigError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(raw)) => Selector::parse(&format!("{key}.{name}"), raw).map(Some),
        Some(_) => Err(ConfigError(format!(
            "{key}.{name}: must be a string (JSON pointer, dotted path or =literal)"
        ))),
    }
}

fn required(key: &str, object: &Map<String, Value>, name: &str) -> Result<Selector, ConfigError> {
    selector(key, object, name)?.ok_or_else(|| ConfigError(format!("{key}.{name}: required")))
}

impl Mapping {
    /// Parses the `mapping` and `values` objects of the configuration.
    pub fn parse(mapping: &Value, values: Option<&Value>) -> Result<Mapping, ConfigError> {
        let fields = FieldMapping::parse(mapping)?;
        if fields.threats.is_some() != fields.threat.is_some() {
            return Err(ConfigError(
                "mapping.threats and mapping.threat: give both or neither".to_owned(),
            ));
        }
        if fields.health_state.is_none() && fields.level.is_none() && fields.threats.is_none() {
            return Err(ConfigError(
                "mapping: one of health_state, level or threats is required to know the device's health"
                    .to_owned(),
            ));
        }
        let values = match values {
            None | Some(Value::Null) => ValueMaps::default(),
            Some(raw) => ValueMaps::parse(raw)?,
        };
        Ok(Mapping { fields, values })
    }
}

impl FieldMapping {
    /// The `mapping` object: a selector per report field.
    fn parse(mapping: &Value) -> Result<FieldMapping, ConfigError> {
        let key = "mapping";
        let fields_obj = object_with_keys(
            key,
            mapping,
            &[
                "events",
                "device_id",
                "platform",
                "os_version",
                "model",
                "owner",
                "groups",
                "health_state",
                "level",
                "threats",
                "threat",
                "observed_at",
                "event_id",
            ],
        )?;
        let threat = match fields_obj.get("threat") {
            None | Some(Value::Null) => None,
            Some(raw) => Some(ThreatFields::parse(raw)?),
        };
        Ok(FieldMapping {
            events: selector(key, fields_obj, "events")?,
            device_id: required(key, fields_obj, "device_id")?,
            platform: required(key, fields_obj, "platform")?,
            os_version: selector(key, fields_obj, "os_version")?,
            model: selector(key, fields_obj, "model")?,
            owner: selector(key, fields_obj, "owner")?,
            groups: selector(key, fields_obj, "groups")?,
            health_state: selector(key, fields_obj, "health_state")?,
            level: selector(key, fields_obj, "level")?,
            threats: selector(key, fields_obj, "threats")?,
            threat,
            observed_at: selector(key, fields_obj, "observed_at")?,
            event_id: selector(key, fields_obj, "event_id")?,
        })
    }
}

impl ThreatFields {
    /// The `mapping.threat` object: a selector per threat field, within one threat.
    fn parse(raw: &Value) -> Result<ThreatFields, ConfigError> {
        let key = "mapping.threat";
        let obj = object_with_keys(
            key,
            raw,
            &[
                "id",
                "category",
                "classification",
                "severity",
                "status",
                "detected_at",
                "resolved_at",
                "description",
            ],
        )?;
        Ok(ThreatFields {
            id: required(key, obj, "id")?,
            category: required(key, obj, "category")?,
            classification: selector(key, obj, "classification")?,
            severity: required(key, obj, "severity")?,
            status: selector(key, obj, "status")?,
            detected_at: selector(key, obj, "detected_at")?,
            resolved_at: selector(key, obj, "resolved_at")?,
            description: selector(key, obj, "description")?,
        })
    }
}

impl ValueMaps {
    fn parse(raw: &Value) -> Result<ValueMaps, ConfigError> {
        let key = "values";
        let obj = object_with_keys(
            key,
            raw,
            &[
                "platform",
                "health_state",
                "level",
                "category",
                "severity",
                "status",
            ],
        )?;
        Ok(ValueMaps {
            platform: value_map(obj, "platform", platform_named)?,
            health_state: value_map(obj, "health_state", health_state_named)?,
            level: value_map(obj, "level", level_named)?,
            category: value_map(obj, "category", category_named)?,
            severity: value_map(obj, "severity", level_named)?,
            status: value_map(obj, "status", status_named)?,
        })
    }
}

fn value_map<T>(
    obj: &Map<String, Value>,
    name: &str,
    named: fn(&str) -> Option<T>,
) -> Result<BTreeMap<String, T>, ConfigError> {
    let mut out = BTreeMap::new();
    let Some(raw) = obj.get(name) else {
        return Ok(out);
    };
    let key = format!("values.{name}");
    for (vendor, target) in object(&key, raw)? {
        let target = target.as_str().and_then(named).ok_or_else(|| {
            ConfigError(format!("{key}.{vendor}: {target} is not a riskgate {name}"))
        })?;
        out.insert(vendor.clone(), target);
    }
    Ok(out)
}

// === riskgate's own names ===

fn normalise(raw: &str, prefix: &str) -> String {
    let squashed: String = raw
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect();
    squashed
        .strip_prefix(prefix)
        .map_or_else(|| squashed.clone(), str::to_owned)
}

/// The platform named `raw` in riskgate's vocabulary (`android`, `ios`, `ipados`, `windows`, `macos`).
pub fn platform_named(raw: &str) -> Option<pb::Platform> {
    match normalise(raw, "platform").as_str() {
        "android" => Some(pb::Platform::Android),
        "ios" => Some(pb::Platform::Ios),
        "ipados" => Some(pb::Platform::Ipados),
        "windows" => Some(pb::Platform::Windows),
        "macos" => Some(pb::Platform::Macos),
        _ => None,
    }
}

/// The health state named `raw` (the ten Intune states: `secured`, `low_severity`, `lowSeverity`, ...).
pub fn health_state_named(raw: &str) -> Option<pb::HealthState> {
    match normalise(raw, "healthstate").as_str() {
        "unknown" => Some(pb::HealthState::Unknown),
        "activated" => Some(pb::HealthState::Activated),
        "deactivated" => Some(pb::HealthState::Deactivated),
        "secured" => Some(pb::HealthState::Secured),
        "lowseverity" => Some(pb::HealthState::LowSeverity),
        "mediumseverity" => Some(pb::HealthState::MediumSeverity),
        "highseverity" => Some(pb::HealthState::HighSeverity),
        "unresponsive" => Some(pb::HealthState::Unresponsive),
        "compromised" => Some(pb::HealthState::Compromised),
        "misconfigured" => Some(pb::HealthState::Misconfigured),
        _ => None,
    }
}

/// The level named `raw` (`secured`, `low`, `medium`, `high`).
pub fn level_named(raw: &str) -> Option<pb::ThreatLevel> {
    match normalise(raw, "threatlevel").as_str() {
        "secured" => Some(pb::ThreatLevel::Secured),
        "low" => Some(pb::ThreatLevel::Low),
        "medium" => Some(pb::ThreatLevel::Medium),
        "high" => Some(pb::ThreatLevel::High),
        _ => None,
    }
}

/// The category named `raw` (`application`, `network`, `os`, `web_content`, `configuration`, `file`).
pub fn category_named(raw: &str) -> Option<pb::ThreatCategory> {
    match normalise(raw, "threatcategory").as_str() {
        "application" => Some(pb::ThreatCategory::Application),
        "network" => Some(pb::ThreatCategory::Network),
        "os" => Some(pb::ThreatCategory::Os),
        "webcontent" => Some(pb::ThreatCategory::WebContent),
        "configuration" => Some(pb::ThreatCategory::Configuration),
        "file" => Some(pb::ThreatCategory::File),
        _ => None,
    }
}

/// The status named `raw` (`open`, `resolved`, `ignored`).
pub fn status_named(raw: &str) -> Option<pb::ThreatStatus> {
    match normalise(raw, "threatstatus").as_str() {
        "open" => Some(pb::ThreatStatus::Open),
        "resolved" => Some(pb::ThreatStatus::Resolved),
        "ignored" => Some(pb::ThreatStatus::Ignored),
        _ => None,
    }
}

/// The health state a device level stands for.
pub fn health_of_level(level: pb::ThreatLevel) -> pb::HealthState {
    match level {
        pb::ThreatLevel::High => pb::HealthState::HighSeverity,
        pb::ThreatLevel::Medium => pb::HealthState::MediumSeverity,
        pb::ThreatLevel::Low => pb::HealthState::LowSeverity,
        pb::ThreatLevel::Secured | pb::ThreatLevel::Unspecified => pb::HealthState::Secured,
    }
}

// === values ===

/// The text of a scalar: strings as they are, numbers and booleans as JSON writes them.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

fn lookup<T: Copy>(
    map: &BTreeMap<String, T>,
    named: fn(&str) -> Option<T>,
    raw: &str,
) -> Option<T> {
    map.get(raw)
        .or_else(|| {
            map.iter()
                .find(|(vendor, _)| vendor.eq_ignore_ascii_case(raw))
                .map(|(_, target)| target)
        })
        .copied()
        .or_else(|| named(raw))
}

/// Parses a timestamp: an RFC 3339 string (`Z`, an offset, or none for UTC), or a number of unix
/// seconds or milliseconds (numbers above 10^11 are milliseconds), as a number or a digit string.
pub fn parse_time(value: &Value) -> Result<SystemTime, String> {
    let epoch = |number: f64| -> Result<SystemTime, String> {
        if !number.is_finite() || number <= 0.0 {
            return Err(format!("{number} is not a time after 1970"));
        }
        let seconds = if number > 1e11 {
            number / 1000.0
        } else {
            number
        };
        Duration::try_from_secs_f64(seconds)
            .ok()
            .and_then(|since| UNIX_EPOCH.checked_add(since))
            .ok_or_else(|| format!("{number} is out of range"))
    };
    match value {
        Value::Number(number) => epoch(number.as_f64().unwrap_or(f64::NAN)),
        Value::String(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
            epoch(text.parse::<f64>().map_err(|e| e.to_string())?)
        }
        Value::String(text) => parse_rfc3339(text),
        other => Err(format!("{other} is not a time")),
    }
}

/// An RFC 3339 time after 1970 (any offset; none means UTC).
fn parse_rfc3339(text: &str) -> Result<SystemTime, String> {
    let time = toolkit::time::parse_rfc3339_system(text).map_err(|e| e.to_string())?;
    if time > UNIX_EPOCH {
        Ok(time)
    } else {
        Err(toolkit::TimeError {
            input: text.to_owned(),
        }
        .to_string())
    }
}

/// A protobuf timestamp.
pub fn timestamp(time: SystemTime) -> prost_types::Timestamp {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    prost_types::Timestamp {
        seconds: i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        nanos: i32::try_from(since.subsec_nanos()).unwrap_or(0),
    }
}

// === mapping one event ===

/// What a report needs besides the event: the time of receipt, and the fallback event id.
#[derive(Debug, Clone)]
pub struct EventContext {
    /// When the push was received.
    pub received_at: SystemTime,
    /// The event id when the mapping has none or the event lacks it.
    pub fallback_event_id: String,
}

impl Mapping {
    /// The events of a push body.
    pub fn events<'a>(&'a self, body: &'a Value) -> Result<Vec<&'a Value>, MappingError> {
        let container = match &self.fields.events {
            None => body,
            Some(selector) => selector.get(body).ok_or_else(|| {
                mapping_error(selector.describe(), "missing: expected the array of events")
            })?,
        };
        match container {
            Value::Array(items) => Ok(items.iter().collect()),
            Value::Object(_) if self.fields.events.is_none() => Ok(vec![container]),
            _ => Err(mapping_error(
                self.fields
                    .events
                    .as_ref()
                    .map_or_else(|| "body".to_owned(), Selector::describe),
                "expected a JSON object or an array of objects",
            )),
        }
    }

    /// Maps one event to a report. Every required field must be present and every enumerated
    /// value known; the caller still checks the result with the SDK's validation.
    pub fn report(
        &self,
        event: &Value,
        ctx: &EventContext,
    ) -> Result<pb::DeviceReport, MappingError> {
        let fields = &self.fields;
        if !event.is_object() {
            return Err(mapping_error("event", "must be a JSON object"));
        }
        let device_id = required_text(&fields.device_id, event)?;
        let platform = enumerated(
            &fields.platform,
            event,
            &self.values.platform,
            platform_named,
        )?;
        let observed_at = match &fields.observed_at {
            None => ctx.received_at,
            Some(selector) => {
                let raw = selector
                    .get(event)
                    .ok_or_else(|| mapping_error(selector.describe(), "missing"))?;
                parse_time(raw).map_err(|reason| mapping_error(selector.describe(), reason))?
            }
        };
        let mut threats = Vec::new();
        if let (Some(threats_selector), Some(threat_fields)) = (&fields.threats, &fields.threat) {
            match threats_selector.get(event) {
                None => {}
                Some(Value::Array(items)) => {
                    for (index, item) in items.iter().enumerate() {
                        threats.push(self.threat(index, item, threat_fields, observed_at)?);
                    }
                }
                Some(_) => {
                    return Err(mapping_error(
                        threats_selector.describe(),
                        "must be an array",
                    ))
                }
            }
        }
        let health_state = self.health(event, &threats)?;
        let event_id = match fields.event_id.as_ref().and_then(|s| s.get(event)) {
            Some(raw) => scalar_text(raw)
                .filter(|text| !text.is_empty())
                .ok_or_else(|| {
                    mapping_error(
                        fields
                            .event_id
                            .as_ref()
                            .map_or_else(String::new, Selector::describe),
                        "must be a non-empty string or number",
                    )
                })?,
            None => ctx.fallback_event_id.clone(),
        };
        Ok(pb::DeviceReport {
            device_id,
            platform: platform as i32,
            os_version: optional_text(fields.os_version.as_ref(), event)?,
            model: optional_text(fields.model.as_ref(), event)?,
            owner_user_id: optional_text(fields.owner.as_ref(), event)?,
            groups: groups(fields.groups.as_ref(), event)?,
            health_state: health_state as i32,
            threats,
            observed_at: Some(timestamp(observed_at)),
            vendor_event_id: event_id,
        })
    }

    /// The health state: the first of `health_state`, `level` or the worst open threat that
    /// yields a value (secured when no threat is open).
    fn health(
        &self,
        event: &Value,
        threats: &[pb::Threat],
    ) -> Result<pb::HealthState, MappingError> {
        let fields = &self.fields;
        if let Some(selector) = &fields.health_state {
            if selector.get(event).is_some() {
                return enumerated(
                    selector,
                    event,
                    &self.values.health_state,
                    health_state_named,
                );
            }
        }
        if let Some(selector) = &fields.level {
            if selector.get(event).is_some() {
                let level = enumerated(selector, event, &self.values.level, level_named)?;
                return Ok(health_of_level(level));
            }
        }
        if fields.threats.is_none() {
            return Err(mapping_error(
                fields
                    .health_state
                    .as_ref()
                    .or(fields.level.as_ref())
                    .map_or_else(String::new, Selector::describe),
                "missing, and no threats are mapped to derive the health from",
            ));
        }
        let worst = threats
            .iter()
            .filter(|threat| threat.status == pb::ThreatStatus::Open as i32)
            .filter_map(|threat| pb::ThreatLevel::try_from(threat.severity).ok())
            .max()
            .unwrap_or(pb::ThreatLevel::Secured);
        Ok(health_of_level(worst))
    }

    fn threat(
        &self,
        index: usize,
        item: &Value,
        fields: &ThreatFields,
        observed_at: SystemTime,
    ) -> Result<pb::Threat, MappingError> {
        let prefix = format!("threats[{index}]");
        let at = |err: MappingError| mapping_error(format!("{prefix}{}", err.field), err.reason);
        if !item.is_object() {
            return Err(mapping_error(prefix, "must be a JSON object"));
        }
        let id = required_text(&fields.id, item).map_err(at)?;
        let category = enumerated(
            &fields.category,
            item,
            &self.values.category,
            category_named,
        )
        .map_err(at)?;
        let severity =
            enumerated(&fields.severity, item, &self.values.severity, level_named).map_err(at)?;
        let status = match fields.status.as_ref().filter(|s| s.get(item).is_some()) {
            None => pb::ThreatStatus::Open,
            Some(selector) => {
                enumerated(selector, item, &self.values.status, status_named).map_err(at)?
            }
        };
        let time = |selector: Option<&Selector>| -> Result<Option<SystemTime>, MappingError> {
            match selector.and_then(|s| s.get(item).map(|raw| (s, raw))) {
                None => Ok(None),
                Some((s, raw)) => parse_time(raw)
                    .map(Some)
                    .map_err(|reason| at(mapping_error(s.describe(), reason))),
            }
        };
        let detected_at = time(fields.detected_at.as_ref())?.unwrap_or(observed_at);
        let resolved_at = time(fields.resolved_at.as_ref())?;
        Ok(pb::Threat {
            vendor_threat_id: id,
            category: category as i32,
            classification: optional_text(fields.classification.as_ref(), item).map_err(at)?,
            severity: severity as i32,
            status: status as i32,
            detected_at: Some(timestamp(detected_at)),
            resolved_at: resolved_at.map(timestamp),
            description: optional_text(fields.description.as_ref(), item).map_err(at)?,
        })
    }
}

fn required_text(selector: &Selector, event: &Value) -> Result<String, MappingError> {
    let raw = selector
        .get(event)
        .ok_or_else(|| mapping_error(selector.describe(), "missing"))?;
    scalar_text(raw)
        .filter(|text| !text.is_empty())
        .ok_or_else(|| mapping_error(selector.describe(), "must be a non-empty string or number"))
}

fn optional_text(selector: Option<&Selector>, event: &Value) -> Result<String, MappingError> {
    match selector.and_then(|s| s.get(event).map(|raw| (s, raw))) {
        None => Ok(String::new()),
        Some((s, raw)) => scalar_text(raw)
            .ok_or_else(|| mapping_error(s.describe(), "must be a string or number")),
    }
}

fn groups(selector: Option<&Selector>, event: &Value) -> Result<Vec<String>, MappingError> {
    let Some((s, raw)) = selector.and_then(|s| s.get(event).map(|raw| (s, raw))) else {
        return Ok(Vec::new());
    };
    match raw {
        Value::Array(items) => items
            .iter()
            .map(|item| {
                scalar_text(item)
                    .filter(|text| !text.is_empty())
                    .ok_or_else(|| mapping_error(s.describe(), "must hold non-empty strings"))
            })
            .collect(),
        other => scalar_text(other)
            .map(|text| vec![text])
            .ok_or_else(|| mapping_error(s.describe(), "must be a string or an array of strings")),
    }
}

fn enumerated<T: Copy>(
    selector: &Selector,
    event: &Value,
    map: &BTreeMap<String, T>,
    named: fn(&str) -> Option<T>,
) -> Result<T, MappingError> {
    let raw = selector
        .get(event)
        .ok_or_else(|| mapping_error(selector.describe(), "missing"))?;
    let text = scalar_text(raw)
        .ok_or_else(|| mapping_error(selector.describe(), "must be a string or number"))?;
    lookup(map, named, &text)
        .ok_or_else(|| mapping_error(selector.describe(), format!("unmapped value {text:?}")))
}

#[cfg(test)]
mod tests;
