//! The webhook target: a push's signature headers and body through the signature check
//! (plugins/webhook/src/signature.rs) and the body through the mapping and validation the push
//! endpoint runs (`server::reports_of`).

use std::{sync::LazyLock, time::Duration};

use riskgate_sdk::{pb, validate};
use riskgate_webhook::{
    config::WebhookConfig,
    server::{self, Refusal},
    signature::{self, SignatureError, Verifier},
};

use crate::{check, fixtures, Verdict};

static CONFIG: LazyLock<WebhookConfig> = LazyLock::new(|| {
    WebhookConfig::parse(fixtures::WEBHOOK_CONFIG.as_bytes(), |_| None)
        .expect("the fixed webhook config parses")
});

/// Splits a push: `<timestamp header>\n<signature header>\n<body>`; without two newlines the whole
/// input is an unsigned body.
pub(crate) fn split_push(data: &[u8]) -> (Option<&[u8]>, Option<&[u8]>, &[u8]) {
    let mut parts = data.splitn(3, |byte| *byte == b'\n');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(timestamp), Some(signature), Some(body)) => (Some(timestamp), Some(signature), body),
        _ => (None, None, data),
    }
}

fn header_text(raw: Option<&[u8]>) -> Option<&str> {
    raw.and_then(|raw| std::str::from_utf8(raw).ok())
}

/// Checks the push's headers against its body, checks that a push signed now with the shared
/// secret verifies, then maps the body as the push endpoint does after a valid signature.
///
/// Asserts: a signature check ends in a typed verdict; `sign` then `verify` round-trips for any
/// body; a refused body names why (a field, or too many events); an accepted body yields at most
/// `max_batch_reports` reports that pass the SDK's validation and have the mapped shape.
pub fn webhook_payload(data: &[u8]) -> Verdict {
    let config = &*CONFIG;
    let (timestamp, signature_header, body) = split_push(data);
    let verifier = Verifier {
        secret: &config.secret,
        signature_header: &config.signature_header,
        timestamp_header: &config.timestamp_header,
        tolerance: config.tolerance,
    };
    let verdict = signature::verify(
        &verifier,
        header_text(signature_header),
        header_text(timestamp),
        body,
        fixtures::now(),
    );
    if let Err(SignatureError::Stale { skew_secs, .. }) = &verdict {
        assert!(*skew_secs > config.tolerance.as_secs());
    }
    let now_secs = i64::try_from(fixtures::NOW_SECS).expect("fits");
    let signed = signature::sign(&config.secret, now_secs, body);
    assert_eq!(
        signature::verify(
            &verifier,
            Some(&signed),
            Some(&now_secs.to_string()),
            body,
            fixtures::now()
        ),
        Ok(()),
        "a push signed now with the secret is refused"
    );
    let late = fixtures::now() + config.tolerance + Duration::from_secs(1);
    assert!(
        matches!(
            signature::verify(
                &verifier,
                Some(&signed),
                Some(&now_secs.to_string()),
                body,
                late
            ),
            Err(SignatureError::Stale { .. })
        ),
        "a push past the tolerance is not stale"
    );
    match server::reports_of(config, body, fixtures::now()) {
        Ok(reports) => {
            assert!(reports.len() <= config.max_batch_reports);
            let batch = pb::PluginBatch {
                batch_id: 1,
                checkpoint: Vec::new(),
                reports,
            };
            assert_eq!(
                validate::batch(&batch, &validate::Limits::default(), fixtures::now()),
                Ok(()),
                "an accepted push holds an invalid report"
            );
            for report in &batch.reports {
                check::report_shape(report);
            }
            Verdict::Accepted
        }
        Err(Refusal::TooMany(count)) => {
            assert!(count > config.max_batch_reports);
            Verdict::Rejected
        }
        Err(Refusal::Malformed(detail)) => {
            assert!(!detail.is_empty(), "a refusal that says nothing");
            Verdict::Rejected
        }
    }
}
