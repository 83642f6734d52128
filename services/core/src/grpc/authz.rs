//! Envoy's external authorization, `envoy.service.auth.v3.Authorization/Check`: a gateway (Envoy, with
//! `failure_mode_allow: false`) asks before every request whether it may reach the app behind it.
//!
//! The request is turned into domain values at the top (`crate::gateway` finds the device, user and
//! resource; `AccessCheck::parse` checks them as CheckAccess does), and the answer is CheckAccess's own
//! decision (`decisions::decide`). Allow is an OK response that sets `x-riskgate-decision` and
//! `x-riskgate-position` and removes forged `x-riskgate-*` headers; deny is HTTP 403 with a small JSON body.
//! A request that names no device or resource, or names them malformed, is denied: never allowed by default.

use std::{borrow::Cow, collections::HashMap, sync::Arc};

use envoy_types::ext_authz::v3::{
    pb::{Authorization, CheckRequest, CheckResponse, HeaderAppendAction, HttpStatusCode},
    CheckResponseExt, DeniedHttpResponseBuilder, OkHttpResponseBuilder,
};
use riskgate_policy::{domain::policy::Reason, error::DomainError};
use riskgate_store::RiskStore;
use serde::Serialize;
use tonic::{Request, Response, Status};

use super::decisions::{decide, AccessCheck};
use crate::{
    error::CoreError,
    gateway::{Mapping, RequestFacts, DECISION_HEADER, POSITION_HEADER},
    metrics::Metrics,
};

/// The generated server type, for the server wiring.
pub(crate) use envoy_types::ext_authz::v3::pb::AuthorizationServer;

/// The gateway's authorization API.
#[derive(Debug, Clone)]
pub(crate) struct GatewayApi {
    store: RiskStore,
    mapping: Arc<Mapping>,
    metrics: Arc<Metrics>,
}

impl GatewayApi {
    /// Answers from `store`'s view with the rules of `mapping`, counting decisions in `metrics`.
    pub(crate) fn new(store: RiskStore, mapping: Mapping, metrics: Arc<Metrics>) -> Self {
        Self {
            store,
            mapping: Arc::new(mapping),
            metrics,
        }
    }
}

#[tonic::async_trait]
impl Authorization for GatewayApi {
    async fn check(
        &self,
        request: Request<CheckRequest>,
    ) -> Result<Response<CheckResponse>, Status> {
        let request = request.into_inner();
        let headers = request_headers(&request);
        let facts = request_facts(&request, &headers);
        let outcome = {
            let view = self.store.view();
            answer(&view, &self.mapping, &facts)?
        };
        let response = match outcome {
            Outcome::Allow { position } => {
                self.metrics.record_decision("gateway", "allow");
                allow_response(position, Mapping::forged_headers(&headers))
            }
            Outcome::Deny(body) => {
                self.metrics.record_decision("gateway", "deny");
                deny_response(&body)
            }
        };
        Ok(Response::new(response))
    }
}

/// What the gateway answers, before it is rendered for Envoy.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Allow { position: u64 },
    Deny(DenyBody),
}

/// The JSON body of a deny: the resource, the decision and the reasons, with no internal detail.
#[derive(Debug, PartialEq, Eq, Serialize)]
struct DenyBody {
    resource: Option<String>,
    decision: &'static str,
    reasons: Vec<DenyReason>,
}

/// One reason of a deny: the code, and the policy, connector and threats it names.
#[derive(Debug, PartialEq, Eq, Serialize)]
struct DenyReason {
    code: Cow<'static, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    connector: Option<String>,
    threats: Vec<String>,
    /// What is wrong with the request, for the reasons the gateway itself gives.
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

impl DenyBody {
    /// A deny the gateway gives before any decision: the request asks nothing answerable.
    fn refused(resource: Option<&str>, code: &'static str, detail: String) -> Self {
        Self {
            resource: resource.map(str::to_owned),
            decision: "deny",
            reasons: vec![DenyReason {
                code: Cow::Borrowed(code),
                policy: None,
                connector: None,
                threats: Vec::new(),
                detail: Some(detail),
            }],
        }
    }
}

/// The decision for `facts`: CheckAccess's, or a deny when the request is not answerable.
fn answer(
    view: &riskgate_policy::view::View,
    mapping: &Mapping,
    facts: &RequestFacts<'_>,
) -> Result<Outcome, Status> {
    let question = match mapping.question(facts) {
        Ok(question) => question,
        Err(unanswerable) => {
            return Ok(Outcome::Deny(DenyBody::refused(
                None,
                unanswerable.code(),
                unanswerable.detail().to_owned(),
            )));
        }
    };
    let resource = Some(question.resource);
    let check = match AccessCheck::parse(
        "",
        question.device_id,
        question.user_id.unwrap_or_default(),
        question.resource,
    ) {
        Ok(check) => check,
        Err(CoreError::Domain(DomainError::InvalidArgument { field, reason })) => {
            let code = match field.as_str() {
                "device_id" => "invalid_device_id",
                "user_id" => "invalid_user_id",
                _ => "invalid_resource",
            };
            let detail = format!("{field}: {reason}");
            return Ok(Outcome::Deny(DenyBody::refused(resource, code, detail)));
        }
        Err(other) => return Err(other.into()),
    };
    let decided = match decide(view, &check) {
        Ok(decided) => decided,
        Err(CoreError::Domain(DomainError::NotFound { .. })) => {
            let detail = "riskgate has no resource of this name".to_owned();
            return Ok(Outcome::Deny(DenyBody::refused(
                resource,
                "unknown_resource",
                detail,
            )));
        }
        Err(other) => return Err(other.into()),
    };
    if decided.verdict.allow {
        return Ok(Outcome::Allow {
            position: decided.position,
        });
    }
    Ok(Outcome::Deny(DenyBody {
        resource: Some(check.resource),
        decision: "deny",
        reasons: decided.verdict.reasons.iter().map(deny_reason).collect(),
    }))
}

fn deny_reason(reason: &Reason) -> DenyReason {
    DenyReason {
        code: Cow::Borrowed(reason.code.as_str()),
        policy: reason.policy_id.clone(),
        connector: reason.connector_id.as_ref().map(ToString::to_string),
        threats: reason.threat_ids.clone(),
        detail: None,
    }
}

/// The request headers, lower case: Envoy sends them in `headers`, or in `header_map` with
/// `encode_raw_headers` (repeated names joined with commas, as `headers` would hold them).
fn request_headers(request: &CheckRequest) -> Cow<'_, HashMap<String, String>> {
    let Some(http) = request
        .attributes
        .as_ref()
        .and_then(|attributes| attributes.request.as_ref())
        .and_then(|request| request.http.as_ref())
    else {
        return Cow::Owned(HashMap::new());
    };
    let Some(raw) = http.header_map.as_ref().filter(|_| http.headers.is_empty()) else {
        return Cow::Borrowed(&http.headers);
    };
    let mut headers: HashMap<String, String> = HashMap::new();
    for header in &raw.headers {
        let value = String::from_utf8_lossy(&header.raw_value);
        headers
            .entry(header.key.to_ascii_lowercase())
            .and_modify(|joined| {
                joined.push(',');
                joined.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    Cow::Owned(headers)
}

/// What `crate::gateway` needs of the request; everything absent is empty.
fn request_facts<'a>(
    request: &'a CheckRequest,
    headers: &'a HashMap<String, String>,
) -> RequestFacts<'a> {
    static EMPTY: std::sync::OnceLock<HashMap<String, String>> = std::sync::OnceLock::new();
    let attributes = request.attributes.as_ref();
    let http = attributes
        .and_then(|attributes| attributes.request.as_ref())
        .and_then(|request| request.http.as_ref());
    RequestFacts {
        principal: attributes
            .and_then(|attributes| attributes.source.as_ref())
            .map_or("", |source| source.principal.as_str()),
        headers,
        context_extensions: attributes.map_or_else(
            || EMPTY.get_or_init(HashMap::new),
            |a| &a.context_extensions,
        ),
        host: http.map_or("", |http| http.host.as_str()),
        path: http.map_or("", |http| http.path.as_str()),
    }
}

/// OK: the request goes upstream with riskgate's headers (overwriting any a client sent) and without the
/// forged ones.
fn allow_response(position: u64, forged: Vec<String>) -> CheckResponse {
    let overwrite = Some(HeaderAppendAction::OverwriteIfExistsOrAdd);
    let mut ok = OkHttpResponseBuilder::new();
    ok.add_header(DECISION_HEADER, "allow", overwrite, false)
        .add_header(POSITION_HEADER, position.to_string(), overwrite, false);
    for name in forged {
        ok.remove_header(name);
    }
    let mut response = CheckResponse::with_status(Status::ok("allowed by riskgate"));
    response.set_http_response(ok);
    response
}

/// Denied: HTTP 403 with the JSON body.
fn deny_response(body: &DenyBody) -> CheckResponse {
    let json = serde_json::to_string(body).unwrap_or_else(|_| {
        // Serialising plain strings cannot fail; should it ever, the deny still stands.
        r#"{"decision":"deny","reasons":[]}"#.to_owned()
    });
    let overwrite = Some(HeaderAppendAction::OverwriteIfExistsOrAdd);
    let mut denied = DeniedHttpResponseBuilder::new();
    denied
        .set_http_status(HttpStatusCode::Forbidden)
        .add_header("content-type", "application/json", overwrite, false)
        .set_body(json);
    let mut response = CheckResponse::with_status(Status::permission_denied("denied by riskgate"));
    response.set_http_response(denied);
    response
}

#[cfg(test)]
mod tests;
