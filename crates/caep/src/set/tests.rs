use serde_json::json;

use super::*;
use crate::event::{Context, Event};

fn token(aud: &[&str]) -> SecurityEventToken {
    SecurityEventToken {
        iss: "https://riskgate.example".into(),
        jti: jti("s1", 42, 0),
        iat: 1_700_000_000,
        aud: aud.iter().map(|a| (*a).to_owned()).collect(),
        txn: Some(42),
        sub_id: Subject::device("phone-1", None, None),
        event: Event::SessionRevoked {
            context: Context {
                reason_admin: Some("exchange denied: noncompliant (policy mtd)".into()),
                ..Context::default()
            },
        },
    }
}

#[test]
fn claims_hold_one_event_and_no_sub_or_exp() {
    let claims = token(&["https://idp.example"]).claims();
    assert_eq!(
        claims,
        json!({
            "iss": "https://riskgate.example",
            "jti": "s1.42.0",
            "iat": 1_700_000_000,
            "aud": "https://idp.example",
            "txn": "42",
            "sub_id": {"format": "complex", "device": {"format": "opaque", "id": "phone-1"}},
            "events": {
                "https://schemas.openid.net/secevent/caep/event-type/session-revoked": {
                    "reason_admin": {"en": "exchange denied: noncompliant (policy mtd)"}
                }
            },
        })
    );
    assert!(claims.get("sub").is_none() && claims.get("exp").is_none());
}

#[test]
fn several_audiences_are_an_array() {
    assert_eq!(token(&["a", "b"]).claims()["aud"], json!(["a", "b"]));
}

#[test]
fn the_header_says_secevent_jwt_rs256_and_the_key() {
    assert_eq!(
        JoseHeader { kid: "k1".into() }.to_json(),
        json!({"alg": "RS256", "typ": "secevent+jwt", "kid": "k1"})
    );
}

#[test]
fn jti_is_stable_for_a_redelivery_and_distinct_otherwise() {
    assert_eq!(jti("s1", 7, 0), jti("s1", 7, 0));
    assert_ne!(jti("s1", 7, 0), jti("s1", 7, 1));
    assert_ne!(jti("s1", 7, 0), jti("s2", 7, 0));
}
