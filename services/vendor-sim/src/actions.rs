//! What the admin API and scenario timelines can do, as serde types: the same JSON (or TOML) shape in
//! `POST /_admin/...` bodies and in a scenario file's `[[timeline]]` entries.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Which simulated API an action or a token concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Vendor {
    /// Lookout Mobile Risk API v2.
    Lookout,
    /// Zimperium zConsole API.
    Zimperium,
    /// Both.
    #[default]
    #[serde(alias = "both", alias = "any")]
    All,
}

impl Vendor {
    /// Whether this selector covers `other`.
    pub fn includes(self, other: Vendor) -> bool {
        self == Vendor::All || other == Vendor::All || self == other
    }

    /// The lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Vendor::Lookout => "lookout",
            Vendor::Zimperium => "zimperium",
            Vendor::All => "all",
        }
    }
}

/// A device to add.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceSpec {
    /// The device's name: its MDM id at both vendors (Lookout `external_id`, Zimperium `mdmDeviceId`).
    pub id: String,
    /// `ANDROID` or `IOS`.
    pub platform: String,
    /// Owner e-mail (default `<id>@corp.example`).
    #[serde(default)]
    pub email: Option<String>,
    /// Hardware manufacturer.
    #[serde(default)]
    pub manufacturer: Option<String>,
    /// Hardware model.
    #[serde(default)]
    pub model: Option<String>,
    /// OS version.
    #[serde(default)]
    pub os_version: Option<String>,
    /// Lookout activation status (default ACTIVATED).
    #[serde(default)]
    pub activation_status: Option<String>,
    /// Lookout protection status (default PROTECTED).
    #[serde(default)]
    pub protection_status: Option<String>,
}

/// A seeded random fleet.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FleetSpec {
    /// How many devices.
    pub count: usize,
    /// Seed of the random choices (platform, model, OS, infections).
    pub seed: Option<u64>,
    /// Platforms to draw from (default ANDROID and IOS).
    pub platforms: Vec<String>,
    /// Device id prefix; ids are `<prefix><5-digit index>`.
    pub prefix: String,
    /// Share of devices (0 to 1) that get a random open threat at both vendors.
    pub infected: f64,
}

impl Default for FleetSpec {
    fn default() -> Self {
        FleetSpec {
            count: 0,
            seed: None,
            platforms: Vec::new(),
            prefix: "device-".to_owned(),
            infected: 0.0,
        }
    }
}

/// Open a threat on a device.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InfectSpec {
    /// The device (its id, Lookout guid or Zimperium id).
    pub device: String,
    /// At which vendor (default both).
    #[serde(default)]
    pub vendor: Vendor,
    /// The threat's id (default generated); for Lookout applications, also the package name.
    #[serde(default)]
    pub threat: Option<String>,
    /// Severity in either vendor's vocabulary (ADVISORY, LOW, MEDIUM, HIGH / NORMAL, LOW, ELEVATED, CRITICAL);
    /// mapped to the other vendor's. Default HIGH / CRITICAL.
    #[serde(default)]
    pub severity: Option<String>,
    /// Lookout threat `type` (APPLICATION, NETWORK, WEB_CONTENT, CONFIGURATION, FILE, OS); for
    /// Zimperium it picks the vector (NETWORK, APPLICATION, anything else Device).
    #[serde(default)]
    pub category: Option<String>,
    /// Lookout classification (default by type) / Zimperium `threatTypeName`.
    #[serde(default)]
    pub classification: Option<String>,
    /// Change the state without any Lookout stream event: only the REST API shows it (a change the
    /// vendor's feed missed, which a re-check must find).
    #[serde(default)]
    pub silent: bool,
}

/// Resolve a device's open threats.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemediateSpec {
    /// The device.
    pub device: String,
    /// At which vendor (default both).
    #[serde(default)]
    pub vendor: Vendor,
    /// Only this threat (default every open one).
    #[serde(default)]
    pub threat: Option<String>,
    /// Lookout status to set: RESOLVED (default) or IGNORED. Zimperium threats become state 4 (mitigated).
    #[serde(default)]
    pub status: Option<String>,
}

/// Change a device's Lookout state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateSpec {
    /// The device.
    pub device: String,
    /// ACTIVATED, DEACTIVATED, PENDING or DELETED.
    #[serde(default)]
    pub activation_status: Option<String>,
    /// PROTECTED, DISCONNECTED or UNINSTALLED.
    #[serde(default)]
    pub protection_status: Option<String>,
    /// Force a `security_status` (SECURE, THREATS_LOW, ...); an empty string goes back to the roll-up.
    #[serde(default)]
    pub security_status: Option<String>,
}

/// A fault for the next matching requests.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// Which API (default both).
    #[serde(default)]
    pub vendor: Vendor,
    /// Only requests whose path starts with this.
    #[serde(default)]
    pub path: Option<String>,
    /// HTTP status to answer (401, 429, 500, 503, ...). Omit with `kind = "drop_stream"`.
    #[serde(default)]
    pub status: Option<u16>,
    /// `http` (default) or `drop_stream`: the next `count` Lookout stream connections are cut in the
    /// middle of a batch after `after_batches` complete batches.
    #[serde(default)]
    pub kind: Option<String>,
    /// How many requests (or stream connections) it hits (default 1).
    #[serde(default)]
    pub count: u32,
    /// For 429 and 503: the `Retry-After` header, in seconds.
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// For `drop_stream`: complete batches sent before the cut.
    #[serde(default)]
    pub after_batches: Option<u32>,
}

impl FaultSpec {
    /// Whether this is a stream drop rather than an HTTP status.
    pub fn kind_is_stream_drop(&self) -> bool {
        self.kind.as_deref() == Some("drop_stream")
    }
}

/// What to inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InjectKind {
    /// Lookout: a batch whose one event has wrong types and values; Zimperium: a threat item with wrong types.
    Malformed,
    /// Lookout: a batch whose `data` is not JSON; Zimperium: as `malformed`.
    MalformedJson,
    /// Lookout: a DEVICE event with unknown fields plus a SMISHING_ALERT event; Zimperium: a LOW threat with unknown fields.
    UnknownFields,
    /// Lookout: the last batch again under a new SSE id (same event ids); Zimperium: the last threat listed twice.
    Duplicate,
    /// Lookout: `event:reconnect` (with `retry:`) on open streams, which then close.
    Reconnect,
    /// Lookout: `event:end` on open streams, which then close.
    End,
    /// Lookout: open streams are closed abruptly.
    DropStream,
}

/// An injection.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InjectSpec {
    /// What.
    pub kind: InjectKind,
    /// Where (default both).
    #[serde(default)]
    pub vendor: Vendor,
    /// The device an unknown-field event is about (default the first).
    #[serde(default)]
    pub device: Option<String>,
    /// For `reconnect`: the `retry:` value in milliseconds (default 1000).
    #[serde(default)]
    pub retry_ms: Option<u64>,
}

/// Expire tokens.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpireSpec {
    /// Whose (default both).
    #[serde(default)]
    pub vendor: Vendor,
}

/// One admin action; the `action` field names it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Add one device.
    AddDevice(DeviceSpec),
    /// Add a seeded random fleet.
    Fleet(FleetSpec),
    /// Open a threat.
    Infect(InfectSpec),
    /// Resolve threats.
    Remediate(RemediateSpec),
    /// Change a device's state.
    SetState(StateSpec),
    /// Arm a fault.
    Fault(FaultSpec),
    /// Inject bad data or a stream control.
    Inject(InjectSpec),
    /// Expire tokens.
    ExpireTokens(ExpireSpec),
}

/// A timeline entry: an action and when, relative to when the scenario was loaded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TimedAction {
    /// Offset such as `"5s"` or `"1m 30s"` (humantime).
    pub at: String,
    /// The action.
    #[serde(flatten)]
    pub action: Action,
}

impl TimedAction {
    /// The offset.
    pub fn offset(&self) -> Result<Duration, humantime::DurationError> {
        humantime::parse_duration(&self.at)
    }
}
