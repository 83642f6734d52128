//! The identity and resource rules, one assertion per test.

use std::collections::HashMap;

use super::*;

fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect()
}

fn spiffe() -> Mapping {
    Mapping {
        device: DeviceSource::Principal(
            PrincipalPattern::parse("spiffe://example.org/device/{id}").unwrap(),
        ),
        user: None,
        resource_key: DEFAULT_RESOURCE_KEY.to_owned(),
        routes: vec![
            Route {
                host: Some("mail.example.org".to_owned()),
                path_prefix: "/".to_owned(),
                resource: "exchange".to_owned(),
            },
            Route {
                host: None,
                path_prefix: "/sites/".to_owned(),
                resource: "sharepoint".to_owned(),
            },
        ],
    }
}

struct Facts {
    principal: &'static str,
    headers: HashMap<String, String>,
    extensions: HashMap<String, String>,
    host: &'static str,
    path: &'static str,
    jwt_claims: HashMap<(String, String), String>,
}

impl Facts {
    fn new(principal: &'static str) -> Self {
        Self {
            principal,
            headers: HashMap::new(),
            extensions: map(&[("riskgate_resource", "exchange")]),
            host: "app.example.org",
            path: "/",
            jwt_claims: HashMap::new(),
        }
    }

    fn facts(&self) -> RequestFacts<'_> {
        RequestFacts {
            principal: self.principal,
            headers: &self.headers,
            context_extensions: &self.extensions,
            host: self.host,
            path: self.path,
            jwt_claims: &self.jwt_claims,
        }
    }
}

/// [`spiffe`] naming the user from `source`.
fn spiffe_with_user(source: UserSource) -> Mapping {
    Mapping {
        user: Some(source),
        ..spiffe()
    }
}

#[test]
fn principal_matching_the_pattern_names_the_device() {
    let facts = Facts::new("spiffe://example.org/device/phone-1");
    let mapping = spiffe();
    let question = mapping.question(&facts.facts()).unwrap();
    assert_eq!(question.device_id, "phone-1");
}

#[test]
fn pattern_with_a_suffix_takes_the_middle() {
    let pattern = PrincipalPattern::parse("device:{id}@example.org").unwrap();
    assert_eq!(pattern.device_id("device:p1@example.org"), Some("p1"));
    assert_eq!(pattern.device_id("device:@example.org"), None);
    assert_eq!(pattern.device_id("device:p1@evil.org"), None);
}

#[test]
fn principal_of_another_trust_domain_is_no_identity() {
    let facts = Facts::new("spiffe://evil.org/device/phone-1");
    assert!(matches!(
        spiffe().question(&facts.facts()),
        Err(Missing::DeviceIdentity(_))
    ));
}

#[test]
fn missing_principal_is_no_identity_even_with_a_device_header() {
    let mut facts = Facts::new("");
    facts.headers = map(&[
        ("x-riskgate-device-id", "phone-1"),
        ("x-device-id", "phone-1"),
    ]);
    let refused = spiffe().question(&facts.facts()).unwrap_err();
    assert_eq!(refused.code(), "no_device_identity");
}

#[test]
fn patterns_without_exactly_one_placeholder_are_refused() {
    assert!(PrincipalPattern::parse("spiffe://example.org/device/").is_err());
    assert!(PrincipalPattern::parse("{id}/{id}").is_err());
    assert!(PrincipalPattern::parse("{id}").is_err());
}

#[test]
fn trusted_header_names_the_device_when_configured() {
    let mapping = Mapping {
        device: DeviceSource::Header("x-device-id".to_owned()),
        ..spiffe()
    };
    let mut facts = Facts::new("");
    facts.headers = map(&[("x-device-id", "phone-2")]);
    assert_eq!(
        mapping.question(&facts.facts()).unwrap().device_id,
        "phone-2"
    );
    facts.headers.clear();
    assert_eq!(
        mapping.question(&facts.facts()),
        Err(Missing::DeviceIdentity("no device header"))
    );
}

#[test]
fn without_a_user_source_the_question_has_no_user() {
    let mut facts = Facts::new("spiffe://example.org/device/phone-1");
    facts.headers = map(&[("x-user", "alice")]);
    assert_eq!(spiffe().question(&facts.facts()).unwrap().user_id, None);
}

#[test]
fn user_comes_from_the_named_header() {
    let mapping = spiffe_with_user(UserSource::Header("x-user".to_owned()));
    let mut facts = Facts::new("spiffe://example.org/device/phone-1");
    facts.headers = map(&[("x-user", "alice")]);
    assert_eq!(
        mapping.question(&facts.facts()).unwrap().user_id,
        Some("alice")
    );
}

#[test]
fn user_comes_from_a_verified_jwt_claim_not_from_a_header() {
    let mapping = spiffe_with_user(UserSource::JwtClaim {
        payload: "jwt_payload".to_owned(),
        claim: "email".to_owned(),
    });
    let mut facts = Facts::new("spiffe://example.org/device/phone-1");
    facts.headers = map(&[("email", "mallory@example.org")]);
    facts.jwt_claims = HashMap::from([(
        ("jwt_payload".to_owned(), "email".to_owned()),
        "alice@example.org".to_owned(),
    )]);
    assert_eq!(
        mapping.question(&facts.facts()).unwrap().user_id,
        Some("alice@example.org")
    );
}

#[test]
fn a_configured_user_source_without_a_user_is_unanswerable() {
    let facts = Facts::new("spiffe://example.org/device/phone-1");
    for source in [
        UserSource::Header("x-user".to_owned()),
        UserSource::JwtClaim {
            payload: "jwt_payload".to_owned(),
            claim: "sub".to_owned(),
        },
    ] {
        assert_eq!(
            spiffe_with_user(source).question(&facts.facts()),
            Err(Missing::User)
        );
    }
}

#[test]
fn context_extension_wins_over_routes() {
    let mut facts = Facts::new("spiffe://example.org/device/phone-1");
    facts.extensions = map(&[("riskgate_resource", "payroll")]);
    facts.host = "mail.example.org";
    assert_eq!(
        spiffe().question(&facts.facts()).unwrap().resource,
        "payroll"
    );
}

#[test]
fn host_rule_matches_ignoring_port_and_case() {
    let mut facts = Facts::new("spiffe://example.org/device/phone-1");
    facts.extensions.clear();
    facts.host = "Mail.Example.org:8443";
    assert_eq!(
        spiffe().question(&facts.facts()).unwrap().resource,
        "exchange"
    );
}

#[test]
fn path_rule_matches_the_prefix_without_the_query() {
    let mut facts = Facts::new("spiffe://example.org/device/phone-1");
    facts.extensions.clear();
    facts.path = "/sites/hr?q=/x";
    assert_eq!(
        spiffe().question(&facts.facts()).unwrap().resource,
        "sharepoint"
    );
    facts.path = "/other?q=/sites/";
    assert_eq!(spiffe().question(&facts.facts()), Err(Missing::Resource));
}

#[test]
fn forged_riskgate_headers_are_listed_except_the_ones_an_allow_overwrites() {
    let headers = map(&[
        ("x-riskgate-device-id", "victim"),
        ("x-riskgate-decision", "allow"),
        ("x-riskgate-position", "1"),
        ("x-riskgate-reasons", "none"),
        ("x-user", "alice"),
    ]);
    assert_eq!(
        Mapping::forged_headers(&headers),
        vec!["x-riskgate-device-id", "x-riskgate-reasons"]
    );
}

#[test]
fn ipv6_literal_hosts_keep_their_brackets() {
    assert_eq!(host_without_port("[::1]:443"), "[::1]");
    assert_eq!(host_without_port("[::1]"), "[::1]");
    assert_eq!(host_without_port("example.org"), "example.org");
}
