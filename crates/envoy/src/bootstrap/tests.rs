use std::time::Duration;

use super::*;

fn gateway() -> Gateway {
    Gateway {
        tls: ListenerTls {
            certificate: "/pki/envoy.pem".into(),
            private_key: "/pki/envoy.key".into(),
            client_ca: "/pki/ca.pem".into(),
        },
        authz: AuthzService {
            addr: "127.0.0.1:7001".parse().unwrap(),
            bearer_token: "secret".into(),
            timeout: Duration::from_millis(1500),
        },
        apps: vec![
            App {
                name: "exchange".into(),
                addr: "127.0.0.1:8001".parse().unwrap(),
            },
            App {
                name: "sharepoint".into(),
                addr: "127.0.0.1:8002".parse().unwrap(),
            },
        ],
        listen: "127.0.0.1:0".parse().unwrap(),
        jwt: None,
    }
}

#[test]
fn ext_authz_fails_closed_with_the_token_and_timeout() {
    let bootstrap = gateway().bootstrap();
    let filters = &bootstrap["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
        ["typed_config"]["http_filters"];
    let authz = &filters[0]["typed_config"];
    assert_eq!(filters[0]["name"], "envoy.filters.http.ext_authz");
    assert_eq!(authz["failure_mode_allow"], false);
    assert_eq!(authz["status_on_error"]["code"], 503);
    assert_eq!(authz["grpc_service"]["timeout"], "1.500s");
    assert_eq!(
        authz["grpc_service"]["initial_metadata"][0]["value"],
        "Bearer secret"
    );
    assert_eq!(filters[1]["name"], "envoy.filters.http.router");
}

#[test]
fn listener_requires_a_client_certificate_from_the_device_ca() {
    let bootstrap = gateway().bootstrap();
    let tls = &bootstrap["static_resources"]["listeners"][0]["filter_chains"][0]
        ["transport_socket"]["typed_config"];
    assert_eq!(tls["require_client_certificate"], true);
    assert_eq!(
        tls["common_tls_context"]["validation_context"]["trusted_ca"]["filename"],
        "/pki/ca.pem"
    );
}

#[test]
fn each_app_is_a_route_naming_its_resource_and_a_cluster() {
    let bootstrap = gateway().bootstrap();
    let routes = &bootstrap["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
        ["typed_config"]["route_config"]["virtual_hosts"][0]["routes"];
    assert_eq!(routes[1]["match"]["prefix"], "/sharepoint");
    assert_eq!(routes[1]["route"]["cluster"], "sharepoint");
    assert_eq!(
        routes[1]["typed_per_filter_config"]["envoy.filters.http.ext_authz"]["check_settings"]
            ["context_extensions"]["riskgate_resource"],
        "sharepoint"
    );
    let clusters = bootstrap["static_resources"]["clusters"]
        .as_array()
        .unwrap();
    let names: Vec<_> = clusters
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["riskgate", "exchange", "sharepoint"]);
    assert!(clusters[0]["typed_extension_protocol_options"].is_object());
    assert!(clusters[1]
        .get("typed_extension_protocol_options")
        .is_none());
}

#[test]
fn jwt_authn_comes_first_and_its_payload_reaches_riskgate() {
    let mut gateway = gateway();
    gateway.jwt = Some(JwtAuthn {
        issuer: "https://idp.test".into(),
        jwks: "{\"keys\":[]}".into(),
    });
    let bootstrap = gateway.bootstrap();
    let filters = &bootstrap["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
        ["typed_config"]["http_filters"];
    assert_eq!(filters[0]["name"], "envoy.filters.http.jwt_authn");
    assert_eq!(
        filters[0]["typed_config"]["providers"]["idp"]["payload_in_metadata"],
        "jwt_payload"
    );
    assert_eq!(filters[1]["name"], "envoy.filters.http.ext_authz");
    assert_eq!(
        filters[1]["typed_config"]["metadata_context_namespaces"][0],
        "envoy.filters.http.jwt_authn"
    );
}
