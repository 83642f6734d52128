//! The rendering of gateway answers: the deny body's shape and the headers of an allow.

use envoy_types::{
    ext_authz::v3::pb::HttpResponse,
    pb::envoy::{
        config::core::v3::{HeaderMap, HeaderValue},
        service::auth::v3::{attribute_context, AttributeContext},
    },
};

use super::*;

#[test]
fn deny_body_names_resource_decision_and_reasons_without_messages() {
    let body = DenyBody {
        resource: Some("exchange".into()),
        decision: "deny",
        reasons: vec![DenyReason {
            code: Cow::Borrowed("threat_level_exceeded"),
            policy: Some("mtd".into()),
            connector: Some("lookout".into()),
            threats: vec!["t-1".into()],
            detail: None,
        }],
    };
    let json: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&body).unwrap()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "resource": "exchange",
            "decision": "deny",
            "reasons": [{"code": "threat_level_exceeded", "policy": "mtd", "connector": "lookout", "threats": ["t-1"]}],
        })
    );
}

#[test]
fn deny_is_http_403_with_a_json_body() {
    let response = deny_response(&DenyBody::refused(None, "no_resource", "x".into()));
    assert_eq!(
        response.status.unwrap().code,
        tonic::Code::PermissionDenied as i32
    );
    let Some(HttpResponse::DeniedResponse(denied)) = response.http_response else {
        panic!("not a denied response");
    };
    assert_eq!(
        denied.status.unwrap().code,
        HttpStatusCode::Forbidden as i32
    );
    let content_type = denied.headers[0].header.as_ref().unwrap();
    assert_eq!(
        (content_type.key.as_str(), content_type.value.as_str()),
        ("content-type", "application/json")
    );
    assert!(denied
        .body
        .starts_with(r#"{"resource":null,"decision":"deny""#));
}

#[test]
fn allow_overwrites_riskgate_headers_and_removes_forged_ones() {
    let response = allow_response(42, vec!["x-riskgate-device-id".into()]);
    assert_eq!(response.status.unwrap().code, 0);
    let Some(HttpResponse::OkResponse(ok)) = response.http_response else {
        panic!("not an OK response");
    };
    let set: Vec<_> = ok
        .headers
        .iter()
        .map(|option| {
            let header = option.header.as_ref().unwrap();
            (
                header.key.as_str(),
                header.value.as_str(),
                option.append_action,
            )
        })
        .collect();
    let overwrite = HeaderAppendAction::OverwriteIfExistsOrAdd as i32;
    assert_eq!(
        set,
        vec![
            ("x-riskgate-decision", "allow", overwrite),
            ("x-riskgate-position", "42", overwrite)
        ]
    );
    assert_eq!(ok.headers_to_remove, vec!["x-riskgate-device-id"]);
}

#[test]
fn raw_header_map_is_read_when_envoy_encodes_raw_headers() {
    let raw = |key: &str, value: &str| HeaderValue {
        key: key.into(),
        raw_value: value.as_bytes().to_vec(),
        ..Default::default()
    };
    let request = CheckRequest {
        attributes: Some(AttributeContext {
            request: Some(attribute_context::Request {
                http: Some(attribute_context::HttpRequest {
                    header_map: Some(HeaderMap {
                        headers: vec![
                            raw("X-Riskgate-Device-Id", "a"),
                            raw("x-riskgate-device-id", "b"),
                        ],
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }),
    };
    let headers = request_headers(&request);
    assert_eq!(
        headers.get("x-riskgate-device-id").map(String::as_str),
        Some("a,b")
    );
}

#[test]
fn request_without_attributes_has_empty_facts() {
    let request = CheckRequest::default();
    let headers = request_headers(&request);
    let claims = jwt_claims(&request);
    let facts = request_facts(&request, &headers, &claims);
    assert_eq!((facts.principal, facts.host, facts.path), ("", "", ""));
    assert!(facts.context_extensions.is_empty());
    assert!(facts.jwt_claims.is_empty());
}

#[test]
fn jwt_claims_are_the_string_claims_of_the_verified_payloads() {
    use envoy_types::pb::{
        envoy::config::core::v3::Metadata,
        google::protobuf::{Struct, Value},
    };
    let string = |text: &str| Value {
        kind: Some(Kind::StringValue(text.to_owned())),
    };
    let payload = Struct {
        fields: [
            ("email".to_owned(), string("alice@example.org")),
            (
                "exp".to_owned(),
                Value {
                    kind: Some(Kind::NumberValue(1.0)),
                },
            ),
        ]
        .into(),
    };
    let namespace = Struct {
        fields: [(
            "jwt_payload".to_owned(),
            Value {
                kind: Some(Kind::StructValue(payload)),
            },
        )]
        .into(),
    };
    let request = CheckRequest {
        attributes: Some(AttributeContext {
            metadata_context: Some(Metadata {
                filter_metadata: [
                    (JWT_AUTHN_NAMESPACE.to_owned(), namespace.clone()),
                    ("some.other.filter".to_owned(), namespace),
                ]
                .into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
    };
    let claims = jwt_claims(&request);
    assert_eq!(
        claims,
        HashMap::from([(
            ("jwt_payload".to_owned(), "email".to_owned()),
            "alice@example.org".to_owned()
        )])
    );
}
