//! The poll endpoint (RFC 8936): acknowledgements (`ack`) and errors (`setErrs`) first, saved, then up
//! to `maxEvents` unacknowledged SETs, oldest first, with `moreAvailable`. Without `returnImmediately`
//! an empty poll waits (long polling) until a SET arrives or `long_poll` passes.

use std::collections::HashSet;

use riskgate_caep::StreamStatus;
use serde_json::{json, Map, Value};

use crate::{
    auth::Caller, error::ApiError, store::StoredDelivery, transmitter::Transmitter, worker,
};

/// The most SETs one poll returns, whatever `maxEvents` asks.
const MAX_EVENTS: usize = 1000;

/// What the receiver sent.
struct PollRequest {
    max_events: usize,
    return_immediately: bool,
    done: HashSet<String>,
    errors: Vec<(String, String)>,
}

fn parse(body: &Value) -> Result<PollRequest, ApiError> {
    let max_events = match body.get("maxEvents") {
        None | Some(Value::Null) => MAX_EVENTS,
        Some(value) => value
            .as_u64()
            .map(|max| usize::try_from(max).unwrap_or(MAX_EVENTS).min(MAX_EVENTS))
            .ok_or_else(|| ApiError::field("maxEvents", "must be a non-negative integer"))?,
    };
    let return_immediately = match body.get("returnImmediately") {
        None | Some(Value::Null) => false,
        Some(value) => value
            .as_bool()
            .ok_or_else(|| ApiError::field("returnImmediately", "must be true or false"))?,
    };
    let mut done = HashSet::new();
    if let Some(ack) = body.get("ack").filter(|ack| !ack.is_null()) {
        let items = ack
            .as_array()
            .ok_or_else(|| ApiError::field("ack", "must be an array of jti strings"))?;
        for (index, item) in items.iter().enumerate() {
            let jti = item
                .as_str()
                .ok_or_else(|| ApiError::field(&format!("ack[{index}]"), "must be a string"))?;
            done.insert(jti.to_owned());
        }
    }
    let mut errors = Vec::new();
    if let Some(set_errs) = body.get("setErrs").filter(|errs| !errs.is_null()) {
        let set_errs = set_errs
            .as_object()
            .ok_or_else(|| ApiError::field("setErrs", "must be an object of jti to error"))?;
        for (jti, error) in set_errs {
            errors.push((jti.clone(), describe(error, jti)?));
            done.insert(jti.clone());
        }
    }
    Ok(PollRequest {
        max_events,
        return_immediately,
        done,
        errors,
    })
}

/// `{"err": …, "description": …}` as one line.
fn describe(error: &Value, jti: &str) -> Result<String, ApiError> {
    let field = format!("setErrs.{jti}");
    let error = error
        .as_object()
        .ok_or_else(|| ApiError::field(&field, "must be an object with err and description"))?;
    let code = error
        .get("err")
        .and_then(Value::as_str)
        .unwrap_or("unspecified");
    let description = error
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("");
    Ok(format!("{code}: {description}"))
}

/// `POST /ssf/poll/{stream_id}`.
pub async fn poll(
    transmitter: &Transmitter,
    caller: &Caller,
    stream_id: &str,
    body: &Value,
) -> Result<Value, ApiError> {
    let handle = transmitter.streams.get_for(caller, stream_id)?;
    if handle.record().delivery != StoredDelivery::Poll {
        return Err(ApiError::field(
            "delivery.method",
            "this stream is push, not poll",
        ));
    }
    let request = parse(body)?;
    for (jti, error) in &request.errors {
        tracing::warn!(%jti, %error, "the receiver reported a SET error");
        handle.set_last_error(Some(format!("the receiver reported SET {jti}: {error}")));
    }
    if !request.done.is_empty() {
        let acked = handle.poll.acknowledge(&request.done);
        worker::acknowledge_poll(transmitter, &handle, acked).map_err(ApiError::Internal)?;
    }
    let deadline = tokio::time::Instant::now() + transmitter.delivery.long_poll;
    let mut status = handle.status();
    loop {
        let changed = handle.poll.notified();
        let (sets, more) = handle.poll.take(request.max_events);
        let enabled = *status.borrow() == StreamStatus::Enabled;
        if !sets.is_empty() || request.return_immediately || request.max_events == 0 || !enabled {
            let sets: Map<String, Value> = sets
                .into_iter()
                .map(|set| (set.jti, Value::String(set.jwt)))
                .collect();
            return Ok(json!({ "sets": sets, "moreAvailable": more }));
        }
        tokio::select! {
            () = changed => {}
            _ = status.changed() => {}
            () = tokio::time::sleep_until(deadline) => {
                return Ok(json!({ "sets": {}, "moreAvailable": false }));
            }
        }
    }
}
