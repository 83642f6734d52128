//! Admin calls: a test event for a subject (`riskctl ssf emit-test`), as the OpenID conformance suite
//! asks a transmitter to produce on demand. It is a `session-revoked` whose `reason_admin` says it is a
//! test, sent to every stream (or the one named) that carries the subject and asked for session-revoked.

use riskgate_caep::{event::Context, Event};
use serde_json::{json, Value};

use crate::{
    api::{optional_string, parse_subject},
    error::ApiError,
    transmitter::{unix_now, Transmitter},
};

/// `POST /ssf/admin/emit-test` with `{"subject": …, "stream_id": …}`: the ids of the streams it went to.
pub fn emit_test(transmitter: &Transmitter, body: &Value) -> Result<Value, ApiError> {
    let subject = parse_subject(body.get("subject"), "subject")?;
    let only = optional_string(body, "stream_id")?;
    let mut sent = Vec::new();
    for handle in transmitter.streams.all() {
        let record = handle.record();
        let event = Event::SessionRevoked {
            context: Context {
                event_timestamp: Some(unix_now()),
                initiating_entity: Some("admin"),
                reason_admin: Some("test event (riskctl ssf emit-test)".to_owned()),
            },
        };
        if only.is_some_and(|only| only != record.stream_id)
            || !handle.wants(&subject, transmitter.default_subjects)
            || !Transmitter::delivers(&record, &event.uri())
        {
            continue;
        }
        handle.inject(transmitter.sign_own(&record, subject.clone(), event)?);
        sent.push(record.stream_id);
    }
    if let (Some(only), true) = (only, sent.is_empty()) {
        return Err(ApiError::NoStream(only.to_owned()));
    }
    sent.sort();
    Ok(json!({ "streams": sent }))
}
