//! The ingest target: a protobuf `ReportBatch` through the parse the core's Ingest RPC runs on every
//! batch (`riskgate_core::ingest_contract`, services/core/src/grpc/parse.rs).

use std::time::Duration;

use prost::Message as _;
use riskgate_core::{
    ingest_contract::{parse_report_batch, Limits},
    CoreError,
};
use riskgate_policy::{domain::Timestamp, error::DomainError};
use riskgate_proto::v1 as pb;

use crate::{fixtures, Verdict};

/// The core's default limits (services/core/src/config.rs).
const LIMITS: Limits = Limits {
    max_batch_reports: 1000,
    max_clock_skew: Duration::from_secs(300),
};

/// Decodes a `ReportBatch` and parses it as the Ingest RPC does.
///
/// Asserts: the decoded message survives a protobuf round trip; a refusal is an invalid-argument
/// error naming a field; an accepted batch keeps its connector id, sequence, checkpoint and every
/// report and threat, with required times after 1970, not beyond now plus the allowed skew, and
/// resolutions not before detections.
pub fn ingest_validation(data: &[u8]) -> Verdict {
    let Ok(message) = pb::ReportBatch::decode(data) else {
        return Verdict::Rejected;
    };
    let again = pb::ReportBatch::decode(message.encode_to_vec().as_slice())
        .expect("a re-encoded ReportBatch decodes");
    assert_eq!(again, message, "protobuf round trip");
    let now = Timestamp(i64::try_from(fixtures::NOW_SECS).expect("fits") * 1_000_000_000);
    let latest = now.saturating_add(LIMITS.max_clock_skew);
    let batch = match parse_report_batch(message.clone(), &LIMITS, now) {
        Ok(batch) => batch,
        Err(CoreError::Domain(DomainError::InvalidArgument { field, reason })) => {
            assert!(
                !field.is_empty() && !reason.is_empty(),
                "an error naming no field"
            );
            return Verdict::Rejected;
        }
        Err(other) => panic!("the ingest parse failed with a non-argument error: {other}"),
    };
    assert_eq!(batch.connector_id.as_str(), message.connector_id);
    assert_eq!(batch.batch_seq, message.batch_seq);
    assert!(batch.batch_seq >= 1);
    assert_eq!(batch.checkpoint, message.checkpoint);
    assert_eq!(batch.reports.len(), message.reports.len());
    for (report, raw) in batch.reports.iter().zip(&message.reports) {
        assert_eq!(report.device_id.as_str(), raw.device_id);
        assert_eq!(report.vendor_event_id, raw.vendor_event_id);
        assert!(!report.vendor_event_id.is_empty());
        assert!(report.observed_at.0 > 0 && report.observed_at <= latest);
        assert_eq!(report.threats.len(), raw.threats.len());
        for threat in &report.threats {
            assert!(threat.detected_at.0 > 0 && threat.detected_at <= latest);
            if let Some(resolved_at) = threat.resolved_at {
                assert!(resolved_at >= threat.detected_at && resolved_at <= latest);
            }
        }
    }
    Verdict::Accepted
}
