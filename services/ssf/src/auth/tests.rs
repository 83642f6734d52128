use sha2::{Digest, Sha256};

use super::*;

fn token(name: &str, secret: &str, roles: &[&str]) -> TokenConfig {
    TokenConfig {
        name: name.to_owned(),
        sha256: hex::encode(Sha256::digest(secret.as_bytes())),
        roles: roles.iter().map(|role| (*role).to_owned()).collect(),
        audience: None,
        expires_at: None,
    }
}

#[test]
fn a_token_names_its_caller_and_audience() {
    let tokens = Tokens::from_config(&[token("okta", "s3cret", &["ssf.manage"])]).unwrap();
    let caller = tokens.authenticate(Some("Bearer s3cret")).unwrap();
    assert_eq!(caller.name, "okta");
    assert_eq!(caller.audience, "okta");
    assert!(caller.may_manage() && caller.may_read() && !caller.is_admin());
    assert!(caller.owns("okta") && !caller.owns("keycloak"));
}

#[test]
fn read_only_tokens_may_not_manage() {
    let tokens = Tokens::from_config(&[token("reader", "r", &["ssf.read"])]).unwrap();
    let caller = tokens.authenticate(Some("Bearer r")).unwrap();
    assert!(caller.may_read() && !caller.may_manage());
}

#[test]
fn admins_own_every_stream() {
    let tokens = Tokens::from_config(&[token("ops", "a", &["admin"])]).unwrap();
    let caller = tokens.authenticate(Some("Bearer a")).unwrap();
    assert!(caller.owns("okta") && caller.may_manage());
}

#[test]
fn missing_unknown_and_expired_tokens_are_unauthenticated() {
    let mut expired = token("old", "e", &["ssf.read"]);
    expired.expires_at = Some("2020-01-01T00:00:00Z".to_owned());
    let tokens = Tokens::from_config(&[expired]).unwrap();
    for header in [None, Some("Basic x"), Some("Bearer nope"), Some("Bearer e")] {
        assert!(
            matches!(
                tokens.authenticate(header),
                Err(ApiError::Unauthenticated(_))
            ),
            "{header:?}"
        );
    }
}

#[test]
fn configuration_errors_name_the_entry_and_field() {
    let err = Tokens::from_config(&[token("x", "y", &["ssf.write"])]).unwrap_err();
    assert!(err.starts_with("tokens[0].roles"), "{err}");
    let mut bad = token("x", "y", &["ssf.read"]);
    bad.sha256 = "abc".to_owned();
    let err = Tokens::from_config(&[bad]).unwrap_err();
    assert!(err.starts_with("tokens[0].sha256"), "{err}");
}
