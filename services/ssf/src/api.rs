//! Stream management (SSF 1.0 §8): create, get, list, update, replace, delete, status, subjects and
//! verification. Every change is saved before it is answered; a bad request is a 400 naming the field.

mod admin;
mod poll;

use std::collections::HashMap;

use riskgate_caep::{
    stream::{Delivery, FieldError, StreamRequest},
    Event, StreamStatus, Subject,
};
use serde_json::{json, Map, Value};

pub use admin::emit_test;
pub use poll::poll;

use crate::{
    auth::Caller,
    error::ApiError,
    store::{StoredDelivery, StreamRecord},
    streams::StreamHandle,
    transmitter::{unix_now, Shared, Transmitter},
    worker,
};

/// Update (PATCH: the fields given replace the stream's) or replace (PUT: the body is the whole
/// configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// PATCH.
    Update,
    /// PUT.
    Replace,
}

/// Add or remove a subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subjects {
    /// `subjects:add`.
    Add,
    /// `subjects:remove`.
    Remove,
}

/// A required query parameter.
pub fn required_param<'a>(
    params: &'a HashMap<String, String>,
    name: &str,
) -> Result<&'a str, ApiError> {
    params
        .get(name)
        .map(String::as_str)
        .filter(|value| !value.is_empty())
        .ok_or_else(|| ApiError::field(name, "required"))
}

/// A required string member of a request body.
fn required_string<'a>(body: &'a Value, name: &str) -> Result<&'a str, ApiError> {
    match body.get(name) {
        Some(Value::String(value)) if !value.is_empty() => Ok(value),
        None | Some(Value::Null) => Err(ApiError::field(name, "required")),
        Some(_) => Err(ApiError::field(name, "must be a non-empty string")),
    }
}

/// An optional string member of a request body.
fn optional_string<'a>(body: &'a Value, name: &str) -> Result<Option<&'a str>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(value)) => Ok(Some(value)),
        Some(_) => Err(ApiError::field(name, "must be a string")),
    }
}

fn internal(err: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(err.to_string())
}

/// `GET /ssf/streams?stream_id=…`.
pub fn get_stream(
    transmitter: &Transmitter,
    caller: &Caller,
    stream_id: &str,
) -> Result<Value, ApiError> {
    let handle = transmitter.streams.get_for(caller, stream_id)?;
    Ok(transmitter.configuration(&handle.record()))
}

/// `GET /ssf/streams`: the caller's streams.
pub fn list_streams(transmitter: &Transmitter, caller: &Caller) -> Value {
    Value::Array(
        transmitter
            .streams
            .list_for(caller)
            .iter()
            .map(|handle| transmitter.configuration(&handle.record()))
            .collect(),
    )
}

/// `POST /ssf/streams`: a new stream, starting at the core's head.
pub async fn create_stream(
    transmitter: &Shared,
    caller: &Caller,
    body: &Value,
) -> Result<Value, ApiError> {
    let request = StreamRequest::parse(body)?;
    let (position, cursor) = transmitter.core.head().await.map_err(|status| {
        ApiError::Unavailable(format!("the core cannot be reached: {}", status.message()))
    })?;
    let record = StreamRecord {
        stream_id: uuid::Uuid::new_v4().simple().to_string(),
        owner: caller.name.clone(),
        audience: caller.audience.clone(),
        events_requested: request.events_requested,
        delivery: stored(request.delivery),
        description: request.description,
        status: StreamStatus::Enabled,
        status_reason: None,
        subjects_added: Vec::new(),
        subjects_removed: Vec::new(),
        delivered: Some(crate::store::Position { position, cursor }),
        acked: Vec::new(),
        last_verification: None,
    };
    transmitter.store.save(&record).map_err(internal)?;
    tracing::info!(stream = %record.stream_id, owner = %record.owner, "stream created");
    let config = transmitter.configuration(&record);
    let handle = transmitter.streams.insert(record);
    worker::spawn(std::sync::Arc::clone(transmitter), handle);
    Ok(config)
}

fn stored(delivery: Delivery) -> StoredDelivery {
    match delivery {
        Delivery::Push {
            endpoint_url,
            authorization_header,
        } => StoredDelivery::Push {
            endpoint_url,
            authorization_header,
        },
        Delivery::Poll => StoredDelivery::Poll,
    }
}

/// The stream's request as the receiver last gave it, for a PATCH to change members of.
fn current_request(record: &StreamRecord) -> Map<String, Value> {
    let delivery = match &record.delivery {
        StoredDelivery::Push {
            endpoint_url,
            authorization_header,
        } => json!({
            "method": riskgate_caep::stream::PUSH,
            "endpoint_url": endpoint_url,
            "authorization_header": authorization_header,
        }),
        StoredDelivery::Poll => json!({ "method": riskgate_caep::stream::POLL }),
    };
    let mut request = Map::new();
    request.insert("events_requested".into(), json!(record.events_requested));
    request.insert("delivery".into(), delivery);
    request.insert("description".into(), json!(record.description));
    request
}

/// `PATCH` and `PUT /ssf/streams`.
pub fn change_stream(
    transmitter: &Shared,
    caller: &Caller,
    body: &Value,
    change: Change,
) -> Result<Value, ApiError> {
    let handle = transmitter
        .streams
        .get_for(caller, required_string(body, "stream_id")?)?;
    let request = match change {
        Change::Replace => StreamRequest::parse(body)?,
        Change::Update => {
            let mut merged = current_request(&handle.record());
            for key in ["events_requested", "delivery", "description"] {
                if let Some(value) = body.get(key) {
                    merged.insert(key.to_owned(), value.clone());
                }
            }
            StreamRequest::parse(&Value::Object(merged))?
        }
    };
    let delivery = stored(request.delivery);
    let delivery_changed = handle.record().delivery != delivery;
    let record = handle
        .update(&transmitter.store, |record| {
            record.events_requested = request.events_requested;
            record.delivery = delivery;
            record.description = request.description;
            record.clone()
        })
        .map_err(internal)?;
    if delivery_changed {
        // The worker delivers the way it started; a new one takes over from the saved position.
        worker::spawn(std::sync::Arc::clone(transmitter), handle);
    }
    Ok(transmitter.configuration(&record))
}

/// `DELETE /ssf/streams?stream_id=…`.
pub fn delete_stream(
    transmitter: &Transmitter,
    caller: &Caller,
    stream_id: &str,
) -> Result<(), ApiError> {
    transmitter.streams.get_for(caller, stream_id)?;
    transmitter.streams.remove(stream_id);
    transmitter.store.delete(stream_id).map_err(internal)?;
    tracing::info!(stream = %stream_id, "stream deleted");
    Ok(())
}

/// `GET /ssf/status?stream_id=…`: the status, its reason, and the last error a receiver answered.
pub fn get_status(
    transmitter: &Transmitter,
    caller: &Caller,
    stream_id: &str,
) -> Result<Value, ApiError> {
    let handle = transmitter.streams.get_for(caller, stream_id)?;
    Ok(status_document(&handle))
}

fn status_document(handle: &StreamHandle) -> Value {
    let record = handle.record();
    let mut status = json!({ "stream_id": record.stream_id, "status": record.status });
    if let Some(reason) = record.status_reason {
        status["reason"] = json!(reason);
    }
    if let Some(error) = handle.last_error() {
        status["last_error"] = json!(error);
    }
    status
}

/// `POST /ssf/status`. Disabling forgets the position (a disabled stream holds nothing); enabling a
/// disabled stream starts it at the core's head before answering, so nothing after the answer is missed.
/// When an admin changes another receiver's stream, that receiver hears it in a `stream-updated`.
pub async fn set_status(
    transmitter: &Shared,
    caller: &Caller,
    body: &Value,
) -> Result<Value, ApiError> {
    let handle = transmitter
        .streams
        .get_for(caller, required_string(body, "stream_id")?)?;
    let status = match required_string(body, "status")? {
        "enabled" => StreamStatus::Enabled,
        "paused" => StreamStatus::Paused,
        "disabled" => StreamStatus::Disabled,
        other => {
            return Err(ApiError::field(
                "status",
                format!("{other:?} is not a status: enabled, paused or disabled"),
            ))
        }
    };
    let reason = optional_string(body, "reason")?.map(str::to_owned);
    let head = if status == StreamStatus::Enabled && handle.record().delivered.is_none() {
        let (position, cursor) = transmitter.core.head().await.map_err(|status| {
            ApiError::Unavailable(format!("the core cannot be reached: {}", status.message()))
        })?;
        Some(crate::store::Position { position, cursor })
    } else {
        None
    };
    let record = handle
        .update(&transmitter.store, |record| {
            record.status = status;
            record.status_reason = reason.clone();
            if status == StreamStatus::Disabled {
                record.delivered = None;
                record.acked.clear();
            }
            if head.is_some() {
                record.delivered = head;
            }
            record.clone()
        })
        .map_err(internal)?;
    if status == StreamStatus::Disabled {
        handle.poll.clear();
    }
    if record.owner != caller.name {
        let event = Event::StreamUpdated { status, reason };
        let subject = Subject::Opaque {
            id: record.stream_id.clone(),
        };
        handle.inject(transmitter.sign_own(&record, subject, event)?);
    }
    tracing::info!(stream = %record.stream_id, status = ?status, "stream status changed");
    Ok(status_document(&handle))
}

/// `subjects:add` and `subjects:remove`.
pub fn change_subjects(
    transmitter: &Transmitter,
    caller: &Caller,
    body: &Value,
    change: Subjects,
) -> Result<(), ApiError> {
    let handle = transmitter
        .streams
        .get_for(caller, required_string(body, "stream_id")?)?;
    let subject = parse_subject(body.get("subject"), "subject")?;
    if let Some(verified) = body.get("verified") {
        if !verified.is_boolean() {
            return Err(ApiError::field("verified", "must be true or false"));
        }
    }
    handle
        .update(&transmitter.store, |record| {
            let (into, out_of) = match change {
                Subjects::Add => (&mut record.subjects_added, &mut record.subjects_removed),
                Subjects::Remove => (&mut record.subjects_removed, &mut record.subjects_added),
            };
            out_of.retain(|known| *known != subject);
            if !into.contains(&subject) {
                into.push(subject);
            }
        })
        .map_err(internal)
}

/// A subject member, 400 naming `field` when it is missing or not a subject identifier.
pub fn parse_subject(value: Option<&Value>, field: &str) -> Result<Subject, ApiError> {
    let value = value.ok_or_else(|| ApiError::field(field, "required"))?;
    serde_json::from_value(value.clone()).map_err(|err| {
        ApiError::BadRequest(FieldError {
            field: field.to_owned(),
            reason: format!("not a subject identifier: {err}"),
        })
    })
}

/// `POST /ssf/verify`: a `verification` event with the receiver's `state`, in order with the stream's
/// other events; 429 (with `Retry-After`) when asked again within `min_verification_interval`.
pub fn verify(transmitter: &Transmitter, caller: &Caller, body: &Value) -> Result<(), ApiError> {
    let handle = transmitter
        .streams
        .get_for(caller, required_string(body, "stream_id")?)?;
    let state = optional_string(body, "state")?.map(str::to_owned);
    let interval = transmitter.min_verification_interval.as_secs();
    let now = unix_now();
    let record = handle
        .update(&transmitter.store, |record| {
            let since = record
                .last_verification
                .map(|last| now.saturating_sub(last));
            match since {
                Some(since) if since < interval => Err(ApiError::TooSoon {
                    interval_secs: interval,
                    retry_after_secs: interval - since,
                }),
                _ => {
                    record.last_verification = Some(now);
                    Ok(record.clone())
                }
            }
        })
        .map_err(internal)??;
    let subject = Subject::Opaque {
        id: record.stream_id.clone(),
    };
    handle.inject(transmitter.sign_own(&record, subject, Event::Verification { state })?);
    Ok(())
}
