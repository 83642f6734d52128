//! What the handlers and the stream workers share: who the transmitter is, its keys, its streams and
//! their store, the core, and how SETs are signed.

use std::{
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use riskgate_caep::{
    metadata::DefaultSubjects, set::jti, Event, JoseHeader, SecurityEventToken, Subject,
    SUPPORTED_EVENTS,
};
use serde_json::{json, Value};

use crate::{
    auth::Tokens,
    config::DeliveryConfig,
    core_client::Core,
    error::ApiError,
    jws,
    keys::KeyRing,
    store::{StoredDelivery, StreamRecord, StreamStore},
    streams::{Signed, Streams},
};

/// The transmitter.
#[derive(Debug)]
pub struct Transmitter {
    /// The `iss` of every SET, and the metadata's `issuer`.
    pub issuer: String,
    /// Where the endpoints are, as receivers reach them (no trailing slash).
    pub base_url: String,
    /// The tenant member of device subjects.
    pub tenant: Option<String>,
    /// Which subjects a new stream carries.
    pub default_subjects: DefaultSubjects,
    /// The shortest time between verification requests of one stream.
    pub min_verification_interval: Duration,
    /// The signing keys.
    pub keys: parking_lot::RwLock<KeyRing>,
    /// How long a retired key stays in the JWKS, seconds.
    pub key_overlap_secs: u64,
    /// Receivers' tokens.
    pub tokens: Tokens,
    /// The streams' records on disk.
    pub store: StreamStore,
    /// The streams at run time.
    pub streams: Streams,
    /// The core.
    pub core: Core,
    /// Delivery limits.
    pub delivery: DeliveryConfig,
    /// The client push deliveries use.
    pub http: reqwest::Client,
    /// Rotate a made signing key once it is this old.
    pub key_rotate_after: Option<Duration>,
}

impl Transmitter {
    /// Signs one SET of `record`'s stream.
    pub fn sign(
        &self,
        record: &StreamRecord,
        jti: String,
        txn: Option<u64>,
        subject: Subject,
        event: Event,
    ) -> Result<Signed, ApiError> {
        let set = SecurityEventToken {
            iss: self.issuer.clone(),
            jti,
            iat: unix_now(),
            aud: vec![record.audience.clone()],
            txn,
            sub_id: subject,
            event,
        };
        let keys = self.keys.read();
        let key = keys.current();
        let header = JoseHeader {
            kid: key.kid.clone(),
        };
        let jwt = jws::sign(&header.to_json(), &set.claims(), key)
            .map_err(|err| ApiError::Internal(format!("signing a SET: {err}")))?;
        Ok(Signed { jti: set.jti, jwt })
    }

    /// Signs a SET the transmitter makes itself (no log position): its `jti` is random.
    pub fn sign_own(
        &self,
        record: &StreamRecord,
        subject: Subject,
        event: Event,
    ) -> Result<Signed, ApiError> {
        let id = format!("{}.own.{}", record.stream_id, uuid::Uuid::new_v4().simple());
        self.sign(record, id, None, subject, event)
    }

    /// The `jti` of a SET made from the log (derived: the same on redelivery).
    pub fn log_jti(record: &StreamRecord, position: u64, index: usize) -> String {
        jti(&record.stream_id, position, index)
    }

    /// The stream's configuration as SSF 1.0 §8.1.1 shows it (the push `authorization_header` is never
    /// shown back: it is the receiver's secret).
    pub fn configuration(&self, record: &StreamRecord) -> Value {
        let delivery = match &record.delivery {
            StoredDelivery::Push { endpoint_url, .. } => {
                json!({ "method": riskgate_caep::stream::PUSH, "endpoint_url": endpoint_url })
            }
            StoredDelivery::Poll => json!({
                "method": riskgate_caep::stream::POLL,
                "endpoint_url": format!("{}/ssf/poll/{}", self.base_url, record.stream_id),
            }),
        };
        let mut config = json!({
            "stream_id": record.stream_id,
            "iss": self.issuer,
            "aud": record.audience,
            "events_supported": SUPPORTED_EVENTS,
            "events_requested": record.events_requested,
            "events_delivered": events_delivered(&record.events_requested),
            "delivery": delivery,
            "min_verification_interval": self.min_verification_interval.as_secs(),
        });
        if let Some(description) = &record.description {
            config["description"] = json!(description);
        }
        config
    }

    /// Whether `record`'s stream delivers events of type `uri`.
    pub fn delivers(record: &StreamRecord, uri: &str) -> bool {
        record.events_requested.iter().any(|asked| asked == uri) && SUPPORTED_EVENTS.contains(&uri)
    }
}

/// The events delivered for a request: those asked for that riskgate supports.
pub fn events_delivered(requested: &[String]) -> Vec<&'static str> {
    SUPPORTED_EVENTS
        .iter()
        .copied()
        .filter(|uri| requested.iter().any(|asked| asked == uri))
        .collect()
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// The shared transmitter, as handlers and workers hold it.
pub type Shared = Arc<Transmitter>;
