//! The simulated vendor clouds' state: one fleet of devices seen by both vendors, Lookout and
//! Zimperium threats, Lookout's event log (the SSE batches), issued tokens, armed faults and counters.
//!
//! Everything is behind one mutex in [`crate::Sim`]; handlers lock it briefly and never across an
//! await. Every change bumps a watch counter so open event streams wake up.

use std::collections::{BTreeMap, HashMap};

use rand::{rngs::StdRng, Rng as _, SeedableRng as _};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::{
    actions::{
        DeviceSpec, FaultSpec, FleetSpec, InfectSpec, InjectKind, InjectSpec, RemediateSpec,
        StateSpec, Vendor,
    },
    time::{iso_ms, now_ms},
    SimError,
};

/// The enterprise every Lookout event belongs to.
pub const ENTERPRISE_GUID: &str = "5e1f0c2a-0000-4000-8000-00000000e17e";

/// Settings the admin API can change at run time.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// The Lookout application key clients must present on `POST /oauth2/token`.
    pub lookout_app_key: String,
    /// Lifetime of Lookout access tokens, in seconds.
    pub lookout_token_ttl_secs: u64,
    /// Zimperium API client id.
    pub zimperium_client_id: String,
    /// Zimperium API client secret.
    pub zimperium_secret: String,
    /// Lifetime of Zimperium access tokens (the JWT `exp`), in seconds.
    pub zimperium_token_ttl_secs: u64,
    /// How often the Lookout stream sends `event:heartbeat`, in milliseconds.
    pub heartbeat_ms: u64,
    /// Largest `limit` the Lookout REST endpoints accept.
    pub lookout_max_limit: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            lookout_app_key: "sim-lookout-app-key".to_owned(),
            lookout_token_ttl_secs: 7200,
            zimperium_client_id: "sim-zimperium-client".to_owned(),
            zimperium_secret: "sim-zimperium-secret".to_owned(),
            zimperium_token_ttl_secs: 3600,
            heartbeat_ms: 5000,
            lookout_max_limit: 1000,
        }
    }
}

/// One device of the fleet, as both vendors know it.
#[derive(Debug, Clone, Serialize)]
pub struct Device {
    /// The scenario's name for the device; also its MDM id (Lookout `external_id`, Zimperium `mdmDeviceId`).
    pub key: String,
    /// Lookout `guid`.
    pub lookout_guid: String,
    /// Lookout paging id.
    pub oid: u64,
    /// Zimperium device `id`.
    pub zimperium_id: String,
    /// Zimperium `zdeviceId`.
    pub zdevice_id: String,
    /// `ANDROID` or `IOS`.
    pub platform: String,
    /// The owner's e-mail.
    pub email: String,
    /// Hardware manufacturer.
    pub manufacturer: String,
    /// Hardware model.
    pub model: String,
    /// OS version.
    pub os_version: String,
    /// Android security patch level (empty on iOS).
    pub security_patch_level: String,
    /// Lookout `activation_status`: ACTIVATED, DEACTIVATED, PENDING, DELETED.
    pub activation_status: String,
    /// Lookout `protection_status`: PROTECTED, DISCONNECTED, UNINSTALLED.
    pub protection_status: String,
    /// A `security_status` forced by the admin API instead of the roll-up of open threats.
    pub security_override: Option<String>,
    /// When the device joined (epoch ms).
    pub created_ms: u64,
    /// Last check-in or change (epoch ms).
    pub checkin_ms: u64,
}

/// A Lookout threat.
#[derive(Debug, Clone, Serialize)]
pub struct LookoutThreat {
    /// Lookout `guid`.
    pub guid: String,
    /// Paging id.
    pub oid: u64,
    /// The device's key.
    pub device_key: String,
    /// OPEN, RESOLVED, IGNORED (or DETECTED).
    pub status: String,
    /// ADVISORY, LOW, MEDIUM, HIGH.
    pub severity: String,
    /// APPLICATION, NETWORK, WEB_CONTENT, CONFIGURATION, FILE, OS.
    pub threat_type: String,
    /// Such as RISKWARE or PORT_SCAN.
    pub classification: String,
    /// The `details` object.
    pub details: Value,
    /// Detection time (epoch ms).
    pub created_ms: u64,
    /// Last change (epoch ms).
    pub updated_ms: u64,
    /// Resolution time (epoch ms), once resolved or ignored.
    pub resolved_ms: Option<u64>,
}

/// A Zimperium threat, or a raw item the list returns verbatim (injected malformed or duplicate data).
#[derive(Debug, Clone, Serialize)]
pub struct ZimperiumThreat {
    /// Threat `id`.
    pub id: String,
    /// The device's key.
    pub device_key: String,
    /// Such as `ACTIVE EXPLOIT OS ANDROID`.
    pub threat_type_name: String,
    /// LOW, NORMAL, ELEVATED, CRITICAL.
    pub severity_name: String,
    /// `classificationName`: CRITICAL or RISKY.
    pub classification_name: String,
    /// `vectorName`: Device, Network, App.
    pub vector_name: String,
    /// 1 active, 4 mitigated.
    pub state: i64,
    /// Detection time (epoch ms).
    pub timestamp: u64,
    /// Last change (epoch ms); the after/before window applies to it.
    pub last_modified: u64,
    /// Mitigation time (epoch ms).
    pub mitigated_at: Option<u64>,
    /// Extra fields merged into the rendering (unknown-field injection).
    pub extra: Option<Value>,
    /// Returned instead of the rendering (malformed or duplicate injection).
    pub raw: Option<Value>,
}

/// One item of Lookout's event stream log.
#[derive(Debug, Clone, Serialize)]
pub struct SseBatch {
    /// The SSE `id:` (UUIDv7-like, increasing).
    pub id: String,
    /// When it was appended (epoch ms).
    pub time_ms: u64,
    /// The `data:` payload, one line.
    pub data: String,
    /// Event `type`s in the batch, for `types=` filtering (empty for malformed data).
    pub types: Vec<String>,
}

/// An issued access token.
#[derive(Debug, Clone, Serialize)]
pub struct Token {
    /// Which API it is for.
    pub vendor: Vendor,
    /// Expiry (epoch ms).
    pub expires_ms: u64,
}

/// A fault armed for the next matching requests.
#[derive(Debug, Clone, Serialize)]
pub struct ArmedFault {
    /// What it applies to.
    pub spec: FaultSpec,
    /// How many more requests it hits.
    pub remaining: u32,
}

/// A control message for open Lookout streams (`reconnect`, `end`, `drop`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum StreamControl {
    /// `event:reconnect` with `retry:` milliseconds, then close.
    Reconnect(u64),
    /// `event:end`, then close.
    End,
    /// Close abruptly.
    Drop,
}

/// What the simulator counts (`GET /_admin/counters`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counters {
    /// Requests served per route (method and path template), faults included.
    pub requests: BTreeMap<String, u64>,
    /// Access tokens issued per vendor.
    pub tokens_issued: BTreeMap<String, u64>,
    /// Refreshes served (Zimperium `api_keys/access`).
    pub token_refreshes: u64,
    /// Responses with status 401 (bad or expired token, bad key, injected).
    pub unauthorized: u64,
    /// Injected fault responses per status code.
    pub faults_served: BTreeMap<String, u64>,
    /// Lookout stream connections opened.
    pub stream_connections: u64,
    /// Lookout stream batches (`event:events`) written.
    pub stream_batches_sent: u64,
    /// Lookout stream heartbeats written.
    pub stream_heartbeats_sent: u64,
    /// Lookout streams dropped mid-batch by an injected fault.
    pub stream_drops: u64,
}

/// The whole simulated state.
#[derive(Debug)]
pub struct World {
    /// Run-time settings.
    pub settings: Settings,
    /// The fleet, in `oid` order.
    pub devices: Vec<Device>,
    /// Lookout threats, in `oid` order.
    pub lookout_threats: Vec<LookoutThreat>,
    /// Zimperium threats, in insertion order.
    pub zimperium_threats: Vec<ZimperiumThreat>,
    /// Lookout's event stream log.
    pub stream_log: Vec<SseBatch>,
    /// Control messages for open streams; a stream delivers those appended after it connected.
    pub stream_controls: Vec<StreamControl>,
    /// Streams to drop mid-batch: each entry is taken by one new connection, which drops after that
    /// many complete batches.
    pub stream_drop_after: Vec<u32>,
    /// Access tokens.
    pub tokens: HashMap<String, Token>,
    /// Zimperium refresh tokens.
    pub refresh_tokens: HashMap<String, ()>,
    /// Armed faults.
    pub faults: Vec<ArmedFault>,
    /// Counters.
    pub counters: Counters,
    rng: StdRng,
    next_oid: u64,
    next_seq: u64,
    last_stream_ms: u64,
}

impl World {
    /// An empty world whose generated ids come from `seed`.
    pub fn new(settings: Settings, seed: u64) -> World {
        World {
            settings,
            devices: Vec::new(),
            lookout_threats: Vec::new(),
            zimperium_threats: Vec::new(),
            stream_log: Vec::new(),
            stream_controls: Vec::new(),
            stream_drop_after: Vec::new(),
            tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            faults: Vec::new(),
            counters: Counters::default(),
            rng: StdRng::seed_from_u64(seed),
            next_oid: 1000,
            next_seq: 0,
            last_stream_ms: 0,
        }
    }

    /// A random version 4 UUID, drawn from the world's seeded generator so runs repeat.
    pub fn uuid(&mut self) -> String {
        let bytes: [u8; 16] = self.rng.random();
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string()
    }

    /// A version 7 UUID (RFC 9562 §5.7) for `ms` that sorts after every id issued before it: the
    /// timestamp never goes back, and a sequence number fills the counter bits, then 16 random bits.
    fn uuid7(&mut self, ms: u64) -> String {
        let ms = ms.max(self.last_stream_ms);
        self.last_stream_ms = ms;
        self.next_seq += 1;
        let random: u16 = self.rng.random();
        // 80 bits after the timestamp: the version and variant take 6 of the top 18, so the
        // sequence keeps its order below 2^46.
        let counter = (u128::from(self.next_seq) << 16) | u128::from(random);
        let mut counter_bytes = [0u8; 10];
        counter_bytes.copy_from_slice(&counter.to_be_bytes()[6..]);
        uuid::Builder::from_unix_timestamp_millis(ms, &counter_bytes)
            .into_uuid()
            .to_string()
    }

    fn oid(&mut self) -> u64 {
        self.next_oid += 1;
        self.next_oid
    }

    /// A random alphanumeric token.
    pub fn secret(&mut self, prefix: &str) -> String {
        let bytes: [u8; 16] = self.rng.random();
        format!("{prefix}{}", hex::encode(bytes))
    }

    // === devices ===

    /// The device with this key, Lookout guid or Zimperium id.
    pub fn device_index(&self, name: &str) -> Result<usize, SimError> {
        self.devices
            .iter()
            .position(|d| d.key == name || d.lookout_guid == name || d.zimperium_id == name)
            .ok_or_else(|| SimError::NotFound(format!("device {name:?}")))
    }

    /// Adds a device; a key already in use is refused.
    pub fn add_device(&mut self, spec: &DeviceSpec) -> Result<String, SimError> {
        if self.devices.iter().any(|d| d.key == spec.id) {
            return Err(SimError::Conflict(format!("device {:?} exists", spec.id)));
        }
        let platform = spec.platform.to_ascii_uppercase();
        if platform != "ANDROID" && platform != "IOS" {
            return Err(SimError::BadRequest(format!(
                "platform {:?}: must be ANDROID or IOS",
                spec.platform
            )));
        }
        let now = now_ms();
        let android = platform == "ANDROID";
        let oid = self.oid();
        let lookout_guid = self.uuid();
        let zimperium_id = self.uuid();
        let zdevice_id = self.uuid();
        let device = Device {
            key: spec.id.clone(),
            lookout_guid,
            oid,
            zimperium_id,
            zdevice_id,
            email: spec
                .email
                .clone()
                .unwrap_or_else(|| format!("{}@corp.example", spec.id)),
            manufacturer: spec
                .manufacturer
                .clone()
                .unwrap_or_else(|| if android { "samsung" } else { "apple" }.to_owned()),
            model: spec
                .model
                .clone()
                .unwrap_or_else(|| if android { "sm-a346b" } else { "iphone17,2" }.to_owned()),
            os_version: spec
                .os_version
                .clone()
                .unwrap_or_else(|| if android { "14" } else { "18.3.1" }.to_owned()),
            security_patch_level: if android {
                "2025-02-01".to_owned()
            } else {
                String::new()
            },
            platform,
            activation_status: spec
                .activation_status
                .clone()
                .unwrap_or_else(|| "ACTIVATED".to_owned()),
            protection_status: spec
                .protection_status
                .clone()
                .unwrap_or_else(|| "PROTECTED".to_owned()),
            security_override: None,
            created_ms: now,
            checkin_ms: now,
        };
        let key = device.key.clone();
        self.devices.push(device);
        let index = self.devices.len() - 1;
        let event = self.device_event(index, "CREATED", now);
        self.append_events(vec![event], now);
        Ok(key)
    }

    /// Adds `spec.count` devices with seeded random platforms, models and OS versions, and infects
    /// a seeded random share of them.
    pub fn add_fleet(&mut self, spec: &FleetSpec) -> Result<Vec<String>, SimError> {
        let mut rng = StdRng::seed_from_u64(spec.seed.unwrap_or(0));
        let platforms = if spec.platforms.is_empty() {
            vec!["ANDROID".to_owned(), "IOS".to_owned()]
        } else {
            spec.platforms.clone()
        };
        let start = self.devices.len();
        let mut keys = Vec::new();
        for n in 0..spec.count {
            let platform = platforms[rng.random_range(0..platforms.len())].clone();
            let android = platform.eq_ignore_ascii_case("ANDROID");
            let (manufacturer, model, os) = if android {
                let models = [
                    ("samsung", "sm-a346b"),
                    ("google", "pixel 8"),
                    ("motorola", "moto g54"),
                ];
                let (m, model) = models[rng.random_range(0..models.len())];
                (m, model, ["13", "14", "15"][rng.random_range(0..3)])
            } else {
                let models = ["iphone15,2", "iphone16,1", "iphone17,2"];
                (
                    "apple",
                    models[rng.random_range(0..models.len())],
                    ["17.6.1", "18.2", "18.3.1"][rng.random_range(0..3)],
                )
            };
            let spec_device = DeviceSpec {
                id: format!("{}{:05}", spec.prefix, start + n),
                platform,
                email: None,
                manufacturer: Some(manufacturer.to_owned()),
                model: Some(model.to_owned()),
                os_version: Some(os.to_owned()),
                activation_status: None,
                protection_status: None,
            };
            keys.push(self.add_device(&spec_device)?);
        }
        let severities = ["LOW", "MEDIUM", "HIGH", "ADVISORY"];
        for key in &keys {
            if rng.random_bool(spec.infected.clamp(0.0, 1.0)) {
                let severity = severities[rng.random_range(0..severities.len())];
                self.infect(&InfectSpec {
                    device: key.clone(),
                    vendor: Vendor::All,
                    severity: Some(severity.to_owned()),
                    ..InfectSpec::default()
                })?;
            }
        }
        Ok(keys)
    }

    /// Changes a device's activation or protection status or forces its security status.
    pub fn set_state(&mut self, spec: &StateSpec) -> Result<(), SimError> {
        let index = self.device_index(&spec.device)?;
        let now = now_ms();
        let device = &mut self.devices[index];
        if let Some(value) = &spec.activation_status {
            device.activation_status = value.to_ascii_uppercase();
        }
        if let Some(value) = &spec.protection_status {
            device.protection_status = value.to_ascii_uppercase();
        }
        if let Some(value) = &spec.security_status {
            device.security_override = (!value.is_empty()).then(|| value.to_ascii_uppercase());
        }
        device.checkin_ms = now;
        let event = self.device_event(index, "UPDATED", now);
        self.append_events(vec![event], now);
        Ok(())
    }

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

    // === threats ===

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

    // === Lookout rendering ===

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

    fn device_event(&mut self, index: usize, change_type: &str, now: u64) -> Value {
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

    fn threat_event(
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

    fn append_raw(&mut self, data: String, types: Vec<String>, now: u64) {
        let id = self.uuid7(now);
        self.stream_log.push(SseBatch {
            id,
            time_ms: now,
            data,
            types,
        });
    }

    // === Zimperium rendering ===

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

    // === injections ===

    /// Injects malformed, unknown-field or duplicate data, or a stream control message.
    pub fn inject(&mut self, spec: &InjectSpec) -> Result<Value, SimError> {
        let now = now_ms();
        let vendor = spec.vendor;
        match spec.kind {
            InjectKind::Reconnect => {
                self.stream_controls
                    .push(StreamControl::Reconnect(spec.retry_ms.unwrap_or(1000)));
                return Ok(json!({"injected": "reconnect"}));
            }
            InjectKind::End => {
                self.stream_controls.push(StreamControl::End);
                return Ok(json!({"injected": "end"}));
            }
            InjectKind::DropStream => {
                self.stream_controls.push(StreamControl::Drop);
                return Ok(json!({"injected": "drop_stream"}));
            }
            _ => {}
        }
        let mut out = serde_json::Map::new();
        if vendor.includes(Vendor::Lookout) {
            match spec.kind {
                InjectKind::MalformedJson => {
                    self.append_raw("{\"events\":[{\"id\":\"broken".to_owned(), Vec::new(), now);
                }
                InjectKind::Malformed => {
                    let id = self.uuid();
                    let event = json!({
                        "id": id, "enterprise_guid": ENTERPRISE_GUID, "created_time": "not a time",
                        "type": "THREAT", "change_type": "CREATED",
                        "threat": {"guid": 42, "status": ["OPEN"], "severity": "EXTREME", "type": null},
                        "actor": {"guid": null, "type": "DEVICE"}, "target": "nowhere",
                    });
                    self.append_events(vec![event], now);
                }
                InjectKind::UnknownFields => {
                    let index = match &spec.device {
                        Some(name) => self.device_index(name)?,
                        None if !self.devices.is_empty() => 0,
                        None => return Err(SimError::BadRequest("no device to report".to_owned())),
                    };
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
                    self.append_events(vec![event, smishing], now);
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
            out.insert(
                "lookout".to_owned(),
                json!(self.stream_log.last().map(|b| b.id.clone())),
            );
        }
        if vendor.includes(Vendor::Zimperium) {
            let id = self.uuid();
            match spec.kind {
                InjectKind::Malformed | InjectKind::MalformedJson => {
                    self.zimperium_threats.push(ZimperiumThreat {
                        id: id.clone(),
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
                        raw: Some(json!({"id": id, "timestamp": "yesterday", "severityName": 7, "state": "open", "deviceId": null, "device": "gone"})),
                    });
                }
                InjectKind::UnknownFields => {
                    let index = match &spec.device {
                        Some(name) => self.device_index(name)?,
                        None if !self.devices.is_empty() => 0,
                        None => return Err(SimError::BadRequest("no device to report".to_owned())),
                    };
                    let key = self.devices[index].key.clone();
                    let platform = self.devices[index].platform.clone();
                    let (vector_name, threat_type_name) = zimperium_vector("NETWORK", &platform);
                    self.zimperium_threats.push(ZimperiumThreat {
                        id: id.clone(),
                        device_key: key,
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
                    });
                }
                InjectKind::Duplicate => {
                    let last = self
                        .zimperium_threats
                        .iter()
                        .rev()
                        .find(|t| t.raw.is_none())
                        .cloned()
                        .ok_or_else(|| {
                            SimError::BadRequest("no Zimperium threat to duplicate".to_owned())
                        })?;
                    let raw = self.zimperium_threat_item(&last);
                    self.zimperium_threats.push(ZimperiumThreat {
                        raw: Some(raw),
                        ..last
                    });
                }
                _ => {}
            }
            out.insert("zimperium".to_owned(), json!(id));
        }
        Ok(Value::Object(out))
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

    /// Expires every token of `vendor` now.
    pub fn expire_tokens(&mut self, vendor: Vendor) -> usize {
        let now = now_ms();
        let mut n = 0;
        for token in self.tokens.values_mut() {
            if vendor.includes(token.vendor) && token.expires_ms > now {
                token.expires_ms = now;
                n += 1;
            }
        }
        n
    }

    /// Issues an access token.
    pub fn issue_token(&mut self, vendor: Vendor, ttl_secs: u64) -> (String, u64) {
        let token = match vendor {
            Vendor::Zimperium => self.zimperium_jwt(ttl_secs),
            _ => self.secret("lk-"),
        };
        let expires_ms = now_ms() + ttl_secs * 1000;
        self.tokens
            .insert(token.clone(), Token { vendor, expires_ms });
        *self
            .counters
            .tokens_issued
            .entry(vendor.name().to_owned())
            .or_default() += 1;
        (token, expires_ms)
    }

    fn zimperium_jwt(&mut self, ttl_secs: u64) -> String {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let now = now_ms() / 1000;
        let jti = self.uuid();
        let header = b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let claims = json!({"sub": self.settings.zimperium_client_id, "iat": now, "exp": now + ttl_secs, "jti": jti});
        let payload = b64.encode(claims.to_string());
        let signature = b64.encode(self.secret("sig").as_bytes());
        format!("{header}.{payload}.{signature}")
    }

    /// Checks a bearer token for `vendor`: `Ok` or why not.
    pub fn check_token(&self, vendor: Vendor, token: Option<&str>) -> Result<u64, &'static str> {
        let token = token.ok_or("missing bearer token")?;
        let entry = self.tokens.get(token).ok_or("unknown token")?;
        if entry.vendor != vendor {
            return Err("token for another API");
        }
        if entry.expires_ms <= now_ms() {
            return Err("token expired");
        }
        Ok(entry.expires_ms)
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

fn zimperium_vector(category: &str, platform: &str) -> (String, String) {
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
