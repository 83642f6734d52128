use serde_json::json;

use super::*;

const COMPLIANCE: &str =
    "https://schemas.openid.net/secevent/caep/event-type/device-compliance-change";
const REVOKED: &str = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";

#[test]
fn a_push_stream_with_its_url_and_authorization() {
    let request = StreamRequest::parse(&json!({
        "events_requested": [COMPLIANCE, "urn:example:unknown"],
        "delivery": {
            "method": PUSH,
            "endpoint_url": "https://receiver.example/ssf",
            "authorization_header": "Bearer r1",
        },
        "description": "okta",
        "stream_id": "ignored: the transmitter's",
    }))
    .unwrap();
    assert_eq!(
        request.delivery,
        Delivery::Push {
            endpoint_url: "https://receiver.example/ssf".into(),
            authorization_header: Some("Bearer r1".into()),
        }
    );
    assert_eq!(request.description.as_deref(), Some("okta"));
    assert_eq!(
        request.events_delivered(&[REVOKED, COMPLIANCE]),
        vec![COMPLIANCE]
    );
}

#[test]
fn without_delivery_a_stream_is_poll() {
    let request = StreamRequest::parse(&json!({})).unwrap();
    assert_eq!(request.delivery, Delivery::Poll);
    assert!(request.events_requested.is_empty());
}

#[test]
fn bad_requests_name_the_field() {
    let cases = [
        (json!([]), "body"),
        (json!({"events_requested": "x"}), "events_requested"),
        (
            json!({"events_requested": [COMPLIANCE, 3]}),
            "events_requested[1]",
        ),
        (json!({"delivery": "push"}), "delivery"),
        (json!({"delivery": {}}), "delivery.method"),
        (
            json!({"delivery": {"method": "urn:ietf:rfc:9999"}}),
            "delivery.method",
        ),
        (
            json!({"delivery": {"method": PUSH}}),
            "delivery.endpoint_url",
        ),
        (
            json!({"delivery": {"method": PUSH, "endpoint_url": "ftp://x"}}),
            "delivery.endpoint_url",
        ),
        (
            json!({"delivery": {"method": PUSH, "endpoint_url": "http://receiver.example/"}}),
            "delivery.endpoint_url",
        ),
        (
            json!({"delivery": {"method": POLL, "endpoint_url": "https://x/"}}),
            "delivery.endpoint_url",
        ),
        (
            json!({"delivery": {"method": PUSH, "endpoint_url": "https://x/", "authorization_header": 1}}),
            "delivery.authorization_header",
        ),
        (json!({"description": false}), "description"),
    ];
    for (body, field) in cases {
        let err = StreamRequest::parse(&body).unwrap_err();
        assert_eq!(err.field, field, "{body}: {err}");
    }
}

#[test]
fn plain_http_push_is_allowed_to_loopback_only() {
    for url in [
        "http://127.0.0.1:8080/ssf",
        "http://localhost/ssf",
        "http://[::1]:9/x",
    ] {
        let body = json!({"delivery": {"method": PUSH, "endpoint_url": url}});
        assert!(StreamRequest::parse(&body).is_ok(), "{url}");
    }
}
