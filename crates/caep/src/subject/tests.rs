use serde_json::json;

use super::*;

#[test]
fn a_device_subject_is_complex_with_an_opaque_device_an_email_user_and_a_tenant() {
    let subject = Subject::device("phone-1", Some("alice@corp.example"), Some("acme"));
    assert_eq!(
        serde_json::to_value(&subject).unwrap(),
        json!({
            "format": "complex",
            "device": {"format": "opaque", "id": "phone-1"},
            "user": {"format": "email", "email": "alice@corp.example"},
            "tenant": {"format": "opaque", "id": "acme"},
        })
    );
}

#[test]
fn an_owner_that_is_not_an_email_address_is_left_out() {
    for owner in [
        "S-1-5-21-1004",
        "alice",
        "alice@localhost",
        "a lice@corp.example",
    ] {
        let Subject::Complex(subject) = Subject::device("phone-1", Some(owner), None) else {
            panic!("complex")
        };
        assert_eq!(subject.user, None, "{owner}");
    }
}

#[test]
fn subjects_parse_back_from_their_json() {
    let text = r#"{"format":"complex","device":{"format":"opaque","id":"p"},"user":{"format":"iss_sub","iss":"https://idp","sub":"u1"}}"#;
    let subject: Subject = serde_json::from_str(text).unwrap();
    assert_eq!(serde_json::to_string(&subject).unwrap(), text);
}

#[test]
fn complex_subjects_match_when_every_member_both_define_agrees() {
    let event = Subject::device("phone-1", Some("alice@corp.example"), Some("acme"));
    let tenant_only = Subject::Complex(ComplexSubject {
        tenant: Some(Box::new(Subject::Opaque { id: "acme".into() })),
        ..ComplexSubject::default()
    });
    let other_tenant = Subject::Complex(ComplexSubject {
        tenant: Some(Box::new(Subject::Opaque {
            id: "globex".into(),
        })),
        ..ComplexSubject::default()
    });
    assert!(event.matches(&tenant_only));
    assert!(!event.matches(&other_tenant));
    assert!(event.matches(&event));
}

#[test]
fn a_simple_subject_matches_a_complex_one_holding_it() {
    let event = Subject::device("phone-1", Some("alice@corp.example"), None);
    let alice = Subject::Email {
        email: "alice@corp.example".into(),
    };
    let bob = Subject::Email {
        email: "bob@corp.example".into(),
    };
    assert!(event.matches(&alice));
    assert!(alice.matches(&event));
    assert!(!event.matches(&bob));
}
