//! Stream configuration (SSF 1.0 §8.1.1): what a receiver asks for when it creates or replaces a stream
//! (`events_requested`, `delivery`, `description`), checked field by field, and the events the
//! transmitter then delivers (`events_delivered`, the requested ones it supports).
//!
//! Delivery is push (RFC 8935, `urn:ietf:rfc:8935`: the receiver gives the URL the transmitter POSTs to,
//! and optionally an `authorization_header`) or poll (RFC 8936, `urn:ietf:rfc:8936`: the transmitter
//! gives the URL); without `delivery` a stream is poll (SSF 1.0 §8.1.1).

use serde_json::{Map, Value};

/// The push delivery method (RFC 8935).
pub const PUSH: &str = "urn:ietf:rfc:8935";
/// The poll delivery method (RFC 8936).
pub const POLL: &str = "urn:ietf:rfc:8936";

/// A request the transmitter refuses, naming the field (`delivery.endpoint_url`) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    /// The field's path in the request.
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

impl FieldError {
    fn new(field: &str, reason: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }
}

/// How a stream's events reach the receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The transmitter POSTs each SET to `endpoint_url`.
    Push {
        /// The receiver's URL.
        endpoint_url: String,
        /// Sent as the `Authorization` header of every POST, if given.
        authorization_header: Option<String>,
    },
    /// The receiver polls the transmitter's URL.
    Poll,
}

/// What the receiver asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamRequest {
    /// Event type URIs the receiver wants.
    pub events_requested: Vec<String>,
    /// How it wants them.
    pub delivery: Delivery,
    /// Its own description of the stream.
    pub description: Option<String>,
}

impl StreamRequest {
    /// Parses a create or replace request's body. Transmitter-supplied fields (`stream_id`, `iss`, `aud`,
    /// `events_supported`, `events_delivered`, …) are ignored, as receivers ignore what they do not set.
    pub fn parse(body: &Value) -> Result<StreamRequest, FieldError> {
        let body = body
            .as_object()
            .ok_or_else(|| FieldError::new("body", "must be a JSON object"))?;
        Ok(StreamRequest {
            events_requested: events_requested(body)?,
            delivery: delivery(body.get("delivery"))?,
            description: optional_string(body, "description", "description")?,
        })
    }

    /// The events to deliver: those requested that the transmitter supports, in `supported`'s order.
    pub fn events_delivered(&self, supported: &[&str]) -> Vec<String> {
        supported
            .iter()
            .filter(|uri| self.events_requested.iter().any(|asked| asked == *uri))
            .map(|uri| (*uri).to_owned())
            .collect()
    }
}

fn events_requested(body: &Map<String, Value>) -> Result<Vec<String>, FieldError> {
    let Some(value) = body.get("events_requested") else {
        return Ok(Vec::new());
    };
    let items = value.as_array().ok_or_else(|| {
        FieldError::new("events_requested", "must be an array of event type URIs")
    })?;
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            item.as_str()
                .filter(|uri| !uri.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| {
                    FieldError::new(
                        &format!("events_requested[{index}]"),
                        "must be a non-empty string",
                    )
                })
        })
        .collect()
}

fn delivery(value: Option<&Value>) -> Result<Delivery, FieldError> {
    let Some(value) = value else {
        return Ok(Delivery::Poll);
    };
    let delivery = value
        .as_object()
        .ok_or_else(|| FieldError::new("delivery", "must be a JSON object"))?;
    let method = optional_string(delivery, "method", "delivery.method")?
        .ok_or_else(|| FieldError::new("delivery.method", format!("required: {PUSH} or {POLL}")))?;
    let endpoint_url = optional_string(delivery, "endpoint_url", "delivery.endpoint_url")?;
    match method.as_str() {
        PUSH => {
            let endpoint_url = endpoint_url.ok_or_else(|| {
                FieldError::new("delivery.endpoint_url", "required for push delivery")
            })?;
            check_push_url(&endpoint_url)?;
            Ok(Delivery::Push {
                endpoint_url,
                authorization_header: optional_string(
                    delivery,
                    "authorization_header",
                    "delivery.authorization_header",
                )?,
            })
        }
        POLL if endpoint_url.is_some() => Err(FieldError::new(
            "delivery.endpoint_url",
            "set by the transmitter for poll delivery; leave it out",
        )),
        POLL => Ok(Delivery::Poll),
        other => Err(FieldError::new(
            "delivery.method",
            format!("{other:?} is not supported: {PUSH} or {POLL}"),
        )),
    }
}

/// A push URL is `https://…`, or `http://` to a loopback host only (as riskgate's own listeners: plain
/// HTTP never leaves the machine).
fn check_push_url(url: &str) -> Result<(), FieldError> {
    let field = "delivery.endpoint_url";
    if let Some(rest) = url.strip_prefix("https://") {
        return if rest.is_empty() {
            Err(FieldError::new(field, "has no host"))
        } else {
            Ok(())
        };
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(FieldError::new(
            field,
            format!("{url:?} is not an https URL"),
        ));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    };
    if matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            format!("{url:?}: plain http is allowed only to a loopback host; use https"),
        ))
    }
}

fn optional_string(
    object: &Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Option<String>, FieldError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(FieldError::new(field, "must be a string")),
    }
}

#[cfg(test)]
mod tests;
