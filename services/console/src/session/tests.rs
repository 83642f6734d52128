use std::time::Duration;

use super::{Role, SessionError, Sessions};

#[test]
fn a_session_carries_its_token_role_and_a_csrf_token_that_only_matches_itself() {
    let sessions = Sessions::new(Duration::from_secs(60), 10);
    let id = sessions
        .start("secret".into(), "ops".into(), Role::Admin)
        .expect("room");
    let session = sessions.get(&id).expect("live");
    assert_eq!(
        (session.token.as_str(), session.role),
        ("secret", Role::Admin)
    );
    assert!(session.csrf_matches(&session.csrf.clone()));
    assert!(!session.csrf_matches(""));
    assert!(!session.csrf_matches("forged"));
    sessions.end(&id);
    assert!(sessions.get(&id).is_none(), "signed out");
}

#[test]
fn an_expired_session_is_gone_and_a_full_table_refuses_new_ones() {
    let sessions = Sessions::new(Duration::ZERO, 1);
    let id = sessions
        .start("t".into(), "a".into(), Role::Reader)
        .expect("room");
    assert!(sessions.get(&id).is_none(), "a zero ttl expires at once");
    let full = Sessions::new(Duration::from_secs(60), 1);
    full.start("t".into(), "a".into(), Role::Reader)
        .expect("room");
    assert_eq!(
        full.start("u".into(), "b".into(), Role::Reader),
        Err(SessionError::Full)
    );
}

#[test]
fn a_one_time_link_works_once() {
    let sessions = Sessions::new(Duration::from_secs(60), 10);
    let code = sessions.link("secret".into());
    assert_eq!(sessions.redeem(&code).as_deref(), Some("secret"));
    assert_eq!(sessions.redeem(&code), None, "spent");
    assert_eq!(sessions.redeem("made-up"), None);
}

#[test]
fn console_roles_come_from_core_roles() {
    let roles = |list: &[&str]| Role::of(&list.iter().map(|r| (*r).to_owned()).collect::<Vec<_>>());
    assert_eq!(roles(&["reader", "admin"]), Some(Role::Admin));
    assert_eq!(roles(&["reader"]), Some(Role::Reader));
    assert_eq!(roles(&["subscriber", "gateway"]), None);
}
