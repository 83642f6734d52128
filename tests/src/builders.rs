//! Builders for valid API messages (reports, threats, batches) and timestamp helpers.
//!
//! Every builder returns a message that the server must accept; tests make it invalid by changing
//! one field with struct-update syntax or a direct assignment.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{SystemTime, UNIX_EPOCH},
};

use prost_types::Timestamp;
use riskgate_proto::v1::{
    DeviceReport, HealthState, Platform, ReportBatch, Threat, ThreatCategory, ThreatLevel,
    ThreatStatus,
};

/// A timestamp at a whole number of seconds since the Unix epoch.
pub fn ts(unix_secs: i64) -> Timestamp {
    Timestamp {
        seconds: unix_secs,
        nanos: 0,
    }
}

/// The current wall-clock time, with nanoseconds.
pub fn now() -> Timestamp {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("system clock is before 1970");
    Timestamp {
        seconds: i64::try_from(since.as_secs()).expect("time fits in i64"),
        nanos: i32::try_from(since.subsec_nanos()).expect("nanos fit in i32"),
    }
}

/// The current wall-clock time in whole seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    now().seconds
}

/// A vendor event id that is unique within this test process (`evt-1`, `evt-2`, ...).
pub fn next_event_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("evt-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A valid report with no threats, no optional fields and a fresh unique `vendor_event_id`.
pub fn report(
    device_id: &str,
    platform: Platform,
    health_state: HealthState,
    observed_at: Timestamp,
) -> DeviceReport {
    DeviceReport {
        device_id: device_id.to_owned(),
        platform: platform as i32,
        os_version: String::new(),
        model: String::new(),
        owner_user_id: String::new(),
        groups: Vec::new(),
        health_state: health_state as i32,
        threats: Vec::new(),
        observed_at: Some(observed_at),
        vendor_event_id: next_event_id(),
    }
}

/// A valid open threat detected ten minutes ago, with a classification and a description.
pub fn threat(vendor_threat_id: &str, category: ThreatCategory, severity: ThreatLevel) -> Threat {
    Threat {
        vendor_threat_id: vendor_threat_id.to_owned(),
        category: category as i32,
        classification: "TROJAN".to_owned(),
        severity: severity as i32,
        status: ThreatStatus::Open as i32,
        detected_at: Some(ts(unix_now() - 600)),
        resolved_at: None,
        description: format!("threat {vendor_threat_id}"),
    }
}

/// A batch from `connector_id` with number `batch_seq`, the given checkpoint bytes and reports.
pub fn batch(
    connector_id: &str,
    batch_seq: u64,
    checkpoint: &[u8],
    reports: Vec<DeviceReport>,
) -> ReportBatch {
    ReportBatch {
        connector_id: connector_id.to_owned(),
        batch_seq,
        checkpoint: checkpoint.to_vec(),
        reports,
    }
}
