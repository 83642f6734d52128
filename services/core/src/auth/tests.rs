//! Unit tests of the permission table and token checks: each role against each RPC family.

use super::*;

fn tokens() -> Tokens {
    let entry = |name: &str, roles: Vec<Role>, expires_at| TokenEntry {
        name: name.into(),
        roles,
        expires_at,
    };
    let lookout = ConnectorId::parse("lookout").unwrap();
    Tokens::new([
        (
            Tokens::hash("admin-secret"),
            entry("admin", vec![Role::Admin], None),
        ),
        (
            Tokens::hash("reader-secret"),
            entry("reader", vec![Role::Reader], None),
        ),
        (
            Tokens::hash("sub-secret"),
            entry("sub", vec![Role::Subscriber], None),
        ),
        (
            Tokens::hash("lookout-secret"),
            entry("lookout", vec![Role::Connector(lookout)], None),
        ),
        (
            Tokens::hash("old-secret"),
            entry("old", vec![Role::Admin], Some(Timestamp(100))),
        ),
    ])
}

const NOW: Timestamp = Timestamp(1_000);

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[test]
fn every_role_against_every_rpc_family() {
    let methods = [
        "/riskgate.v1.IngestService/Ingest",
        "/riskgate.v1.IngestService/GetCheckpoint",
        "/riskgate.v1.ConnectorService/Heartbeat",
        "/riskgate.v1.ConnectorService/GetConnector",
        "/riskgate.v1.ConnectorService/CreateConnector",
        "/riskgate.v1.PolicyService/ListResources",
        "/riskgate.v1.PolicyService/PutResource",
        "/riskgate.v1.DeviceService/GetDevice",
        "/riskgate.v1.DecisionService/CheckAccess",
        "/riskgate.v1.RiskStream/Subscribe",
        "/riskgate.v1.ClockService/AdvanceClock",
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    ];
    // Allowed per token, in the order of `methods`.
    let table: [(&str, [bool; 12]); 4] = [
        ("admin-secret", [true; 12]),
        (
            // A reader may not read a connector's checkpoint: it is the vendor's cursor.
            "reader-secret",
            [
                false, false, false, true, false, true, false, true, true, false, false, true,
            ],
        ),
        (
            "sub-secret",
            [
                false, false, false, false, false, false, false, false, false, true, false, true,
            ],
        ),
        (
            "lookout-secret",
            [
                true, true, true, false, false, false, false, false, false, false, false, true,
            ],
        ),
    ];
    let tokens = tokens();
    for (token, allowed) in table {
        for (method, allow) in methods.iter().zip(allowed) {
            let result = tokens.authorize(Some(&bearer(token)), method, NOW);
            assert_eq!(result.is_ok(), allow, "{token} on {method}: {result:?}");
            if !allow {
                assert!(matches!(result, Err(Refusal::PermissionDenied(_))));
            }
        }
    }
}

#[test]
fn missing_wrong_malformed_and_expired_tokens_are_unauthenticated() {
    let tokens = tokens();
    let method = "/riskgate.v1.DeviceService/GetDevice";
    for (header, reason) in [
        (None, "missing bearer token"),
        (Some("Bearer nope".to_owned()), "unknown token"),
        (
            Some("Basic YWRtaW4=".to_owned()),
            "the authorization header must be \"Bearer <token>\"",
        ),
        (Some(bearer("old-secret")), "expired token"),
    ] {
        assert_eq!(
            tokens
                .authorize(header.as_deref(), method, NOW)
                .unwrap_err(),
            Refusal::Unauthenticated(reason)
        );
    }
}

#[test]
fn health_stays_open_and_connectors_act_only_for_themselves() {
    let tokens = tokens();
    assert!(tokens
        .authorize(None, "/grpc.health.v1.Health/Check", NOW)
        .unwrap()
        .is_none());
    let principal = tokens
        .authorize(
            Some(&bearer("lookout-secret")),
            "/riskgate.v1.IngestService/Ingest",
            NOW,
        )
        .unwrap()
        .unwrap();
    assert!(principal.may_act_for(&ConnectorId::parse("lookout").unwrap()));
    assert!(!principal.may_act_for(&ConnectorId::parse("zimperium").unwrap()));
}

#[test]
fn roles_parse_and_refuse_unknown_names() {
    assert_eq!(Role::parse("admin"), Ok(Role::Admin));
    assert_eq!(
        Role::parse("connector:lookout"),
        Ok(Role::Connector(ConnectorId::parse("lookout").unwrap()))
    );
    assert!(Role::parse("root").is_err());
    assert!(Role::parse("connector:bad id").is_err());
}

#[test]
fn gateway_role_may_call_check_and_nothing_else() {
    assert_eq!(Role::parse("gateway"), Ok(Role::Gateway));
    let tokens = Tokens::new([(
        Tokens::hash("gw-secret"),
        TokenEntry {
            name: "envoy".into(),
            roles: vec![Role::Gateway],
            expires_at: None,
        },
    )]);
    let check = "/envoy.service.auth.v3.Authorization/Check";
    let gateway = bearer("gw-secret");
    assert!(tokens.authorize(Some(&gateway), check, NOW).is_ok());
    for other in [
        "/riskgate.v1.DecisionService/CheckAccess",
        "/riskgate.v1.DeviceService/GetDevice",
        "/riskgate.v1.RiskStream/Subscribe",
    ] {
        assert!(matches!(
            tokens.authorize(Some(&gateway), other, NOW),
            Err(Refusal::PermissionDenied(_))
        ));
    }
}

#[test]
fn only_gateway_and_admin_tokens_may_call_check() {
    let check = "/envoy.service.auth.v3.Authorization/Check";
    assert!(tokens()
        .authorize(Some(&bearer("admin-secret")), check, NOW)
        .is_ok());
    for token in ["reader-secret", "sub-secret", "lookout-secret"] {
        assert!(matches!(
            tokens().authorize(Some(&bearer(token)), check, NOW),
            Err(Refusal::PermissionDenied(_))
        ));
    }
    assert!(matches!(
        tokens().authorize(None, check, NOW),
        Err(Refusal::Unauthenticated(_))
    ));
}
