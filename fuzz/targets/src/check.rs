//! Invariants shared by the connector targets: what every report a plugin builds must look like,
//! whatever the vendor sent.

use riskgate_sdk::{pb, prost_types, validate};

use crate::fixtures;

fn nanos(ts: &prost_types::Timestamp) -> i128 {
    i128::from(ts.seconds) * 1_000_000_000 + i128::from(ts.nanos)
}

/// Asserts the shape every mapped report has, then runs the SDK's validation (the check a report
/// passes before it leaves a plugin) on it. Validation may refuse a report (the plugins then skip
/// it); it must not panic.
pub(crate) fn report_shape(report: &pb::DeviceReport) {
    assert!(
        report.threats.len() <= validate::MAX_THREATS,
        "a report with {} threats",
        report.threats.len()
    );
    assert!(report.observed_at.is_some(), "a report without observed_at");
    for threat in &report.threats {
        let detected = threat
            .detected_at
            .as_ref()
            .expect("detected_at is always set");
        assert!(
            (0..1_000_000_000).contains(&detected.nanos),
            "detected_at nanos out of range: {detected:?}"
        );
        if let Some(resolved) = &threat.resolved_at {
            assert!(
                (0..1_000_000_000).contains(&resolved.nanos),
                "resolved_at nanos out of range: {resolved:?}"
            );
            assert!(
                nanos(resolved) >= nanos(detected),
                "threat {:?} resolved before it was detected",
                threat.vendor_threat_id
            );
        }
    }
    let batch = pb::PluginBatch {
        batch_id: 1,
        checkpoint: Vec::new(),
        reports: vec![report.clone()],
    };
    let _ = validate::batch(&batch, &validate::Limits::default(), fixtures::now());
}

/// Asserts `text` has at most `max_chars` characters and no control characters (the Lookout
/// mapping clips vendor text to the core's limits).
pub(crate) fn clipped(field: &str, text: &str, max_chars: usize) {
    assert!(
        text.chars().count() <= max_chars,
        "{field}: longer than {max_chars} characters"
    );
    assert!(
        !text.chars().any(char::is_control),
        "{field}: control characters in {text:?}"
    );
}
