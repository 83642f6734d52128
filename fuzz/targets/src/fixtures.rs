//! The fixed inputs besides the fuzzed bytes: the clock, configurations, keys and secrets. Fixed so
//! that a crash reproduces byte for byte, and shared with the seed writer (`examples/write_seeds.rs`)
//! so its signed seeds (cursors, webhook pushes) verify.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// "Now" for every target: 2026-11-28T00:00:00Z, in unix seconds.
pub const NOW_SECS: u64 = 1_795_824_000;

/// [`NOW_SECS`] as a `SystemTime`.
pub fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW_SECS)
}

/// The store epoch the cursor codec is bound to.
pub const CURSOR_EPOCH: u128 = 0x0190_ec04_a5f0_731e_bb68_a9b8_9d37_669f;

/// The cursor signing key.
pub const CURSOR_KEY: [u8; 32] = *b"riskgate-fuzz-cursor-signing-key";

/// The webhook's shared secret (at least 16 bytes, as its configuration requires).
pub const WEBHOOK_SECRET: &str = "fuzz-webhook-shared-secret";

/// The webhook configuration: the README's example mapping (plugins/webhook/README.md), with the
/// secret inline.
pub const WEBHOOK_CONFIG: &str = r#"{
  "listen": "127.0.0.1:0",
  "secret": "fuzz-webhook-shared-secret",
  "max_batch_reports": 100,
  "mapping": {
    "events": "events",
    "device_id": "device.id",
    "platform": "device.os",
    "os_version": "device.os_version",
    "model": "device.model",
    "owner": "device.owner",
    "groups": "device.groups",
    "level": "risk",
    "threats": "threats",
    "threat": {"id": "id", "category": "type", "classification": "name", "severity": "severity",
               "status": "state", "detected_at": "detected", "resolved_at": "resolved",
               "description": "description"},
    "observed_at": "time",
    "event_id": "event_id"
  },
  "values": {
    "platform": {"ANDROID": "android", "IPHONE": "ios"},
    "level": {"NONE": "secured", "ELEVATED": "medium", "CRITICAL": "high"},
    "category": {"APP": "application", "WIFI": "network"},
    "severity": {"ELEVATED": "medium", "CRITICAL": "high"},
    "status": {"ACTIVE": "open", "FIXED": "resolved"}
  }
}"#;

/// The Lookout configuration: device ids are Lookout guids (so every device can be reported), and
/// one classification marks a device compromised.
pub const LOOKOUT_CONFIG: &str = r#"{"base_url": "http://127.0.0.1:9", "application_key": "fuzz",
  "device_id": "guid", "compromised_classifications": ["ROOT_JAILBREAK"]}"#;

/// The Lookout device every Lookout input starts out knowing (Lookout MRA v2 devices, the flat REST
/// shape), so stream events and threats about it apply.
pub const LOOKOUT_KNOWN_DEVICE: &str = r#"{"guid": "f1557f3b-0000-4000-8000-000000000001",
  "oid": "1", "email": "user@corp.com", "platform": "ANDROID", "activation_status": "ACTIVATED",
  "protection_status": "PROTECTED", "security_status": "SECURE",
  "checkin_time": "2025-02-24T09:00:00.000+00:00",
  "hardware": {"manufacturer": "samsung", "model": "sm-a346b"}, "software": {"os_version": "14"},
  "details": {"external_id": "33184684-0000-4000-8000-000000000001"}}"#;
