//! The fleet model: the simulated clouds' state (devices, threats at each vendor, Lookout's event
//! log, tokens, armed faults, counters) and the ids it hands out.

use std::collections::{BTreeMap, HashMap};

use rand::{rngs::StdRng, Rng as _, SeedableRng as _};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    actions::{FaultSpec, Vendor},
    SimError,
};

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
    /// Seeded, so a scenario's generated ids repeat from run to run.
    pub(super) rng: StdRng,
    pub(super) next_oid: u64,
    pub(super) next_seq: u64,
    pub(super) last_stream_ms: u64,
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
    pub(super) fn uuid7(&mut self, ms: u64) -> String {
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

    pub(super) fn oid(&mut self) -> u64 {
        self.next_oid += 1;
        self.next_oid
    }

    /// A random alphanumeric token.
    pub fn secret(&mut self, prefix: &str) -> String {
        let bytes: [u8; 16] = self.rng.random();
        format!("{prefix}{}", hex::encode(bytes))
    }

    /// The device with this key, Lookout guid or Zimperium id.
    pub fn device_index(&self, name: &str) -> Result<usize, SimError> {
        self.devices
            .iter()
            .position(|d| d.key == name || d.lookout_guid == name || d.zimperium_id == name)
            .ok_or_else(|| SimError::NotFound(format!("device {name:?}")))
    }
}
