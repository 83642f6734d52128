//! The transmitter's HTTP API: discovery (`/.well-known/ssf-configuration`, the JWKS), stream
//! management (SSF 1.0 §8), the poll endpoint (RFC 8936) and two admin calls (test events, key rotation).
//! Handlers here authenticate and route; [`crate::api`] does the work.

use std::collections::HashMap;

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use riskgate_caep::metadata::metadata;
use serde_json::Value;

use crate::{
    api,
    auth::Caller,
    error::ApiError,
    keys::KeyError,
    transmitter::{unix_now, Shared},
};

/// The routes.
pub fn router(transmitter: Shared) -> Router {
    Router::new()
        .route("/.well-known/ssf-configuration", get(configuration))
        .route("/ssf/jwks.json", get(jwks))
        .route(
            "/ssf/streams",
            get(get_streams)
                .post(create_stream)
                .patch(update_stream)
                .put(replace_stream)
                .delete(delete_stream),
        )
        .route("/ssf/status", get(get_status).post(set_status))
        .route("/ssf/subjects:add", post(add_subject))
        .route("/ssf/subjects:remove", post(remove_subject))
        .route("/ssf/verify", post(verify))
        .route("/ssf/poll/{stream_id}", post(poll))
        .route("/ssf/admin/emit-test", post(emit_test))
        .route("/ssf/admin/rotate-key", post(rotate_key))
        .with_state(transmitter)
}

async fn configuration(State(transmitter): State<Shared>) -> Json<Value> {
    Json(metadata(
        &transmitter.issuer,
        &transmitter.base_url,
        transmitter.default_subjects,
    ))
}

async fn jwks(State(transmitter): State<Shared>) -> Json<Value> {
    Json(
        transmitter
            .keys
            .read()
            .jwks(transmitter.key_overlap_secs, unix_now()),
    )
}

type Params = Query<HashMap<String, String>>;
type Answer = Result<Response, ApiError>;

fn caller(transmitter: &Shared, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    let caller = transmitter.tokens.authenticate(authorization)?;
    if caller.may_read() {
        Ok(caller)
    } else {
        Err(ApiError::Forbidden("read streams"))
    }
}

fn manager(transmitter: &Shared, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let caller = caller(transmitter, headers)?;
    if caller.may_manage() {
        Ok(caller)
    } else {
        Err(ApiError::Forbidden("change streams (needs ssf.manage)"))
    }
}

fn admin(transmitter: &Shared, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let caller = caller(transmitter, headers)?;
    if caller.is_admin() {
        Ok(caller)
    } else {
        Err(ApiError::Forbidden("use admin calls (needs admin)"))
    }
}

/// A JSON object body; anything else is a 400 naming `body`.
fn object(body: &Bytes) -> Result<Value, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|err| ApiError::field("body", format!("not JSON: {err}")))?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(ApiError::field("body", "must be a JSON object"))
    }
}

fn json(status: StatusCode, value: Value) -> Response {
    (status, Json(value)).into_response()
}

async fn get_streams(
    State(transmitter): State<Shared>,
    headers: HeaderMap,
    Query(params): Params,
) -> Answer {
    let caller = caller(&transmitter, &headers)?;
    Ok(match params.get("stream_id") {
        Some(stream_id) => json(
            StatusCode::OK,
            api::get_stream(&transmitter, &caller, stream_id)?,
        ),
        None => json(StatusCode::OK, api::list_streams(&transmitter, &caller)),
    })
}

async fn create_stream(
    State(transmitter): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let caller = manager(&transmitter, &headers)?;
    let config = api::create_stream(&transmitter, &caller, &object(&body)?).await?;
    Ok(json(StatusCode::CREATED, config))
}

async fn update_stream(
    State(transmitter): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let caller = manager(&transmitter, &headers)?;
    let config = api::change_stream(&transmitter, &caller, &object(&body)?, api::Change::Update)?;
    Ok(json(StatusCode::OK, config))
}

async fn replace_stream(
    State(transmitter): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let caller = manager(&transmitter, &headers)?;
    let config = api::change_stream(&transmitter, &caller, &object(&body)?, api::Change::Replace)?;
    Ok(json(StatusCode::OK, config))
}

async fn delete_stream(
    State(transmitter): State<Shared>,
    headers: HeaderMap,
    Query(params): Params,
) -> Answer {
    let caller = manager(&transmitter, &headers)?;
    api::delete_stream(
        &transmitter,
        &caller,
        api::required_param(&params, "stream_id")?,
    )?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn get_status(
    State(transmitter): State<Shared>,
    headers: HeaderMap,
    Query(params): Params,
) -> Answer {
    let caller = caller(&transmitter, &headers)?;
    let stream_id = api::required_param(&params, "stream_id")?;
    Ok(json(
        StatusCode::OK,
        api::get_status(&transmitter, &caller, stream_id)?,
    ))
}

async fn set_status(State(transmitter): State<Shared>, headers: HeaderMap, body: Bytes) -> Answer {
    let caller = manager(&transmitter, &headers)?;
    let status = api::set_status(&transmitter, &caller, &object(&body)?).await?;
    Ok(json(StatusCode::OK, status))
}

async fn add_subject(State(transmitter): State<Shared>, headers: HeaderMap, body: Bytes) -> Answer {
    let caller = manager(&transmitter, &headers)?;
    api::change_subjects(&transmitter, &caller, &object(&body)?, api::Subjects::Add)?;
    Ok(StatusCode::OK.into_response())
}

async fn remove_subject(
    State(transmitter): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let caller = manager(&transmitter, &headers)?;
    api::change_subjects(
        &transmitter,
        &caller,
        &object(&body)?,
        api::Subjects::Remove,
    )?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn verify(State(transmitter): State<Shared>, headers: HeaderMap, body: Bytes) -> Answer {
    let caller = manager(&transmitter, &headers)?;
    api::verify(&transmitter, &caller, &object(&body)?)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn poll(
    State(transmitter): State<Shared>,
    headers: HeaderMap,
    Path(stream_id): Path<String>,
    body: Bytes,
) -> Answer {
    let caller = caller(&transmitter, &headers)?;
    let body = if body.is_empty() {
        Value::Object(Default::default())
    } else {
        object(&body)?
    };
    Ok(json(
        StatusCode::OK,
        api::poll(&transmitter, &caller, &stream_id, &body).await?,
    ))
}

async fn emit_test(State(transmitter): State<Shared>, headers: HeaderMap, body: Bytes) -> Answer {
    admin(&transmitter, &headers)?;
    Ok(json(
        StatusCode::OK,
        api::emit_test(&transmitter, &object(&body)?)?,
    ))
}

async fn rotate_key(State(transmitter): State<Shared>, headers: HeaderMap) -> Answer {
    admin(&transmitter, &headers)?;
    let mut keys = transmitter.keys.write();
    let key = keys.rotate(unix_now()).map_err(|err| match err {
        KeyError::OperatorKey => ApiError::Conflict(err.to_string()),
        err => ApiError::Internal(format!("rotating the signing key: {err}")),
    })?;
    Ok(json(StatusCode::OK, serde_json::json!({ "kid": key.kid })))
}
