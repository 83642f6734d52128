//! Unit tests of the `[gateway]` table: off by default, file and flags merged, every bad value named.

use std::io::Write;

use crate::config::{Args, Config};
use crate::gateway::{DeviceSource, PrincipalPattern, Route, UserSource};

use super::GatewayArgs;

fn file(contents: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(contents.as_bytes()).unwrap();
    file
}

fn resolve(toml: &str, gateway: GatewayArgs) -> Result<Config, crate::config::ConfigError> {
    let toml = file(toml);
    Config::resolve(Args {
        config: Some(toml.path().to_owned()),
        gateway,
        ..Args::default()
    })
}

#[test]
fn gateway_is_off_by_default() {
    assert!(Config::resolve(Args::default()).unwrap().gateway.is_none());
}

#[test]
fn gateway_table_sets_listener_identity_user_and_routes() {
    let config = resolve(
        r#"
[gateway]
listen = "127.0.0.1:9191"
device_principal = "spiffe://example.org/device/{id}"
user_header = "X-User"

[[gateway.routes]]
host = "Mail.Example.org"
resource = "exchange"
"#,
        GatewayArgs::default(),
    )
    .unwrap();
    let gateway = config.gateway.unwrap();
    assert_eq!(gateway.listen, "127.0.0.1:9191".parse().unwrap());
    assert_eq!(
        gateway.mapping.device,
        DeviceSource::Principal(
            PrincipalPattern::parse("spiffe://example.org/device/{id}").unwrap()
        )
    );
    assert_eq!(
        gateway.mapping.user,
        Some(UserSource::Header("x-user".to_owned()))
    );
    assert_eq!(gateway.mapping.resource_key, "riskgate_resource");
    assert_eq!(
        gateway.mapping.routes,
        vec![Route {
            host: Some("mail.example.org".into()),
            path_prefix: "/".into(),
            resource: "exchange".into(),
        }]
    );
}

#[test]
fn gateway_flags_override_the_file() {
    let config = resolve(
        "[gateway]\nlisten = \"127.0.0.1:9191\"\ndevice_header = \"x-device\"\n",
        GatewayArgs {
            gateway_listen: Some("127.0.0.1:9292".into()),
            gateway_resource_key: Some("app".into()),
            ..GatewayArgs::default()
        },
    )
    .unwrap();
    let gateway = config.gateway.unwrap();
    assert_eq!(gateway.listen, "127.0.0.1:9292".parse().unwrap());
    assert_eq!(gateway.mapping.resource_key, "app");
    assert_eq!(
        gateway.mapping.device,
        DeviceSource::Header("x-device".into())
    );
}

#[test]
fn every_bad_gateway_value_names_its_key() {
    let listen = "[gateway]\nlisten = \"127.0.0.1:9191\"\n";
    let principal = "device_principal = \"spiffe://x/{id}\"\n";
    let cases = [
        (
            "gateway.listen",
            "[gateway]\ndevice_header = \"x-device\"\n".to_owned(),
        ),
        (
            "gateway.listen",
            "[gateway]\nlisten = \"nope\"\n".to_owned(),
        ),
        (
            "gateway.listen",
            format!("[gateway]\nlisten = \"0.0.0.0:9191\"\n{principal}"),
        ),
        ("gateway.device_principal", listen.to_owned()),
        (
            "gateway.device_principal",
            format!("{listen}device_principal = \"spiffe://x/\"\n"),
        ),
        (
            "gateway.device_header",
            format!("{listen}{principal}device_header = \"x-device\"\n"),
        ),
        (
            "gateway.device_header",
            format!("{listen}device_header = \"x-riskgate-device\"\n"),
        ),
        (
            "gateway.user_header",
            format!("{listen}{principal}user_header = \"bad header\"\n"),
        ),
        (
            "gateway.user_claim",
            format!("{listen}{principal}user_claim = \"email\"\n"),
        ),
        (
            "gateway.user_claim",
            format!(
                "{listen}{principal}user_claim = \"jwt_payload.email\"\nuser_header = \"x-user\"\n"
            ),
        ),
        (
            "gateway.resource_key",
            format!("{listen}{principal}resource_key = \"\"\n"),
        ),
        (
            "gateway.routes[0].path_prefix",
            format!(
                "{listen}{principal}[[gateway.routes]]\npath_prefix = \"x\"\nresource = \"a\"\n"
            ),
        ),
        (
            "gateway.routes[0].resource",
            format!("{listen}{principal}[[gateway.routes]]\nresource = \"bad name\"\n"),
        ),
    ];
    for (key, toml) in cases {
        let err = resolve(&toml, GatewayArgs::default()).unwrap_err();
        assert_eq!(err.key, key, "{toml}: {err}");
    }
}

#[test]
fn user_claim_names_the_jwt_payload_and_the_claim() {
    let config = resolve(
        "[gateway]\nlisten = \"127.0.0.1:9191\"\ndevice_principal = \"spiffe://example.org/device/{id}\"\nuser_claim = \"jwt_payload.email\"\n",
        GatewayArgs::default(),
    )
    .unwrap();
    assert_eq!(
        config.gateway.unwrap().mapping.user,
        Some(UserSource::JwtClaim {
            payload: "jwt_payload".to_owned(),
            claim: "email".to_owned(),
        })
    );
}
