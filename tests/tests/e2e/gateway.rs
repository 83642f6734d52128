//! Envoy's external authorization against the real binary: the core serves `Authorization/Check` on its
//! gateway listener, and this test calls it as Envoy would, with envoy-types' generated client over real
//! gRPC. The device comes from the client certificate principal, the resource from the route's
//! `context_extensions`; the answer is CheckAccess's decision, rendered as HTTP.

use std::collections::HashMap;

use anyhow::{ensure, Context as _};
use envoy_types::pb::envoy::service::auth::v3::{
    attribute_context::{HttpRequest, Peer, Request as HttpAttributes},
    authorization_client::AuthorizationClient,
    check_response::HttpResponse,
    AttributeContext, CheckRequest, CheckResponse, DeniedHttpResponse, OkHttpResponse,
};
use prost::Message as _;
use riskgate_tests::{
    admin::{compliance_connector, compliance_policy, compliant_only_resource},
    api::{
        connector_service_client::ConnectorServiceClient,
        decision_service_client::DecisionServiceClient, ingest_service_client::IngestServiceClient,
        policy_service_client::PolicyServiceClient, AccessDecision, BatchAck, CheckAccessRequest,
        CreateConnectorRequest, HealthState, HeartbeatRequest, Platform, Resource, ThreatCategory,
        ThreatLevel, UnknownDeviceAccess,
    },
    auth::{token_entry, with_token},
    batch, report, threat, ts, unix_now, CoreProcess,
};
use tonic::{transport::Channel, Code};

const ADMIN: &str = "gateway-test-admin-token";
const GATEWAY: &str = "gateway-test-envoy-token";
const READER: &str = "gateway-test-reader-token";
const PATTERN: &str = "spiffe://example.org/device/{id}";

fn principal(device_id: &str) -> String {
    PATTERN.replace("{id}", device_id)
}

fn config_toml() -> String {
    format!(
        "{}{}{}[gateway]\nlisten = \"127.0.0.1:0\"\ndevice_principal = \"{PATTERN}\"\n",
        token_entry("ops", ADMIN, &["admin"]),
        token_entry("envoy", GATEWAY, &["gateway"]),
        token_entry("dashboard", READER, &["reader"]),
    )
}

/// A core with a gateway listener, a compliance connector `lookout`, policy `mtd` (at most LOW) and
/// resources `exchange` (compliant devices only, unknown ones denied) and `kiosk` (unknown ones allowed);
/// `phone-ok` (owned by alice@example.org) reported SECURED and `phone-bad` HIGH with threat `t-trojan`.
struct Gateway {
    core: CoreProcess,
    _dir: tempfile::TempDir,
    ack: BatchAck,
}

impl Gateway {
    async fn start() -> anyhow::Result<Self> {
        Self::start_with("").await
    }

    /// [`Self::start`] with `gateway_keys` added to the `[gateway]` table.
    async fn start_with(gateway_keys: &str) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("riskgate.toml");
        std::fs::write(&path, config_toml() + gateway_keys)?;
        let path = path.to_string_lossy().into_owned();
        let core = CoreProcess::try_start(&dir.path().join("data"), &["--config", &path]).await?;
        ensure!(
            core.gateway_addr().is_some(),
            "the READY line names the gateway listener"
        );
        let ack = set_up(&core).await?;
        Ok(Self {
            core,
            _dir: dir,
            ack,
        })
    }

    async fn client(&self) -> anyhow::Result<AuthorizationClient<Channel>> {
        let addr = self.core.gateway_addr().context("gateway listener")?;
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
            .connect()
            .await?;
        Ok(AuthorizationClient::new(channel))
    }

    /// Check as Envoy asks it, with the gateway token.
    async fn check(&self, request: CheckRequest) -> anyhow::Result<CheckResponse> {
        Ok(self
            .client()
            .await?
            .check(with_token(request, GATEWAY))
            .await
            .context("Check")?
            .into_inner())
    }

    /// CheckAccess for the same question, as an admin.
    async fn check_access(&self, device: &str, resource: &str) -> anyhow::Result<AccessDecision> {
        let mut client = DecisionServiceClient::new(self.core.channel().await?);
        let request = CheckAccessRequest {
            device_id: device.into(),
            user_id: String::new(),
            resource: resource.into(),
        };
        Ok(client
            .check_access(with_token(request, ADMIN))
            .await?
            .into_inner())
    }
}

async fn set_up(core: &CoreProcess) -> anyhow::Result<BatchAck> {
    let channel = core.channel().await?;
    let mut connectors = ConnectorServiceClient::new(channel.clone());
    let create = CreateConnectorRequest {
        connector: Some(compliance_connector("lookout")),
    };
    connectors
        .create_connector(with_token(create, ADMIN))
        .await?;
    let heartbeat = HeartbeatRequest {
        connector_id: "lookout".into(),
        ..Default::default()
    };
    connectors.heartbeat(with_token(heartbeat, ADMIN)).await?;
    let mut policies = PolicyServiceClient::new(channel.clone());
    let policy = compliance_policy("mtd", ThreatLevel::Low);
    policies
        .create_compliance_policy(with_token(policy, ADMIN))
        .await?;
    let kiosk = Resource {
        unknown_device: UnknownDeviceAccess::Allow as i32,
        ..compliant_only_resource("kiosk")
    };
    for resource in [compliant_only_resource("exchange"), kiosk] {
        policies.put_resource(with_token(resource, ADMIN)).await?;
    }
    let observed = ts(unix_now() - 60);
    let mut ok = report("phone-ok", Platform::Ios, HealthState::Secured, observed);
    ok.owner_user_id = "alice@example.org".into();
    let mut bad = report(
        "phone-bad",
        Platform::Ios,
        HealthState::HighSeverity,
        observed,
    );
    bad.threats = vec![threat(
        "t-trojan",
        ThreatCategory::Application,
        ThreatLevel::High,
    )];
    let batches = vec![batch("lookout", 1, b"", vec![ok, bad])];
    let mut acks = IngestServiceClient::new(channel)
        .ingest(with_token(tokio_stream::iter(batches), ADMIN))
        .await?
        .into_inner();
    acks.message().await?.context("one ack")
}

/// What Envoy sends for a request from `principal`'s certificate on a route naming `resource`.
fn envoy_request(principal: &str, resource: &str, headers: &[(&str, &str)]) -> CheckRequest {
    let headers: HashMap<String, String> = headers
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect();
    CheckRequest {
        attributes: Some(AttributeContext {
            source: Some(Peer {
                principal: principal.to_owned(),
                ..Default::default()
            }),
            request: Some(HttpAttributes {
                http: Some(HttpRequest {
                    method: "GET".into(),
                    host: "mail.example.org".into(),
                    path: "/owa/".into(),
                    headers,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            context_extensions: [("riskgate_resource".to_owned(), resource.to_owned())].into(),
            ..Default::default()
        }),
    }
}

fn ok_response(response: CheckResponse) -> anyhow::Result<OkHttpResponse> {
    ensure!(
        response.status.as_ref().map(|status| status.code) == Some(0),
        "an allow carries status OK: {response:?}"
    );
    match response.http_response {
        Some(HttpResponse::OkResponse(ok)) => Ok(ok),
        other => anyhow::bail!("expected an OK response, got {other:?}"),
    }
}

fn denied_response(
    response: CheckResponse,
) -> anyhow::Result<(DeniedHttpResponse, serde_json::Value)> {
    ensure!(
        response.status.as_ref().map(|status| status.code) == Some(Code::PermissionDenied as i32),
        "a deny carries status PERMISSION_DENIED: {response:?}"
    );
    let Some(HttpResponse::DeniedResponse(denied)) = response.http_response else {
        anyhow::bail!(
            "expected a denied response, got {:?}",
            response.http_response
        );
    };
    ensure!(
        denied.status.as_ref().map(|status| status.code) == Some(403),
        "a deny is HTTP 403: {denied:?}"
    );
    let content_type = denied
        .headers
        .iter()
        .filter_map(|option| option.header.as_ref())
        .find(|header| header.key == "content-type")
        .map(|header| header.value.clone());
    ensure!(
        content_type.as_deref() == Some("application/json"),
        "{denied:?}"
    );
    let body = serde_json::from_str(&denied.body).context("the deny body is JSON")?;
    Ok((denied, body))
}

/// The value of the header an OK response sets for upstream.
fn upstream_header(ok: &OkHttpResponse, name: &str) -> Option<String> {
    ok.headers
        .iter()
        .filter_map(|option| option.header.as_ref())
        .find(|header| header.key == name)
        .map(|header| header.value.clone())
}

/// The deny body's reason codes.
fn codes(body: &serde_json::Value) -> Vec<String> {
    body["reasons"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|reason| reason["code"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_device_gets_ok_with_decision_and_position_headers() -> anyhow::Result<()> {
    let gateway = Gateway::start().await?;
    let response = gateway
        .check(envoy_request(&principal("phone-ok"), "exchange", &[]))
        .await?;
    let ok = ok_response(response)?;
    assert_eq!(
        upstream_header(&ok, "x-riskgate-decision").as_deref(),
        Some("allow")
    );
    let position: u64 = upstream_header(&ok, "x-riskgate-position")
        .context("x-riskgate-position")?
        .parse()?;
    assert!(
        position >= gateway.ack.position,
        "the answer reflects the acknowledged report: {position} < {}",
        gateway.ack.position
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn high_risk_device_gets_403_json_with_checkaccess_reasons() -> anyhow::Result<()> {
    let gateway = Gateway::start().await?;
    let response = gateway
        .check(envoy_request(&principal("phone-bad"), "exchange", &[]))
        .await?;
    let (_, body) = denied_response(response)?;
    assert_eq!(body["resource"], "exchange", "{body}");
    assert_eq!(body["decision"], "deny", "{body}");
    assert!(codes(&body).contains(&"noncompliant".to_owned()), "{body}");
    // The same reasons CheckAccess gives, field by field, and no message texts.
    let access = gateway.check_access("phone-bad", "exchange").await?;
    let expected: Vec<serde_json::Value> = access
        .reasons
        .iter()
        .map(|reason| {
            let mut json = serde_json::json!({"code": reason.code, "threats": reason.threat_ids});
            if !reason.policy_id.is_empty() {
                json["policy"] = reason.policy_id.clone().into();
            }
            if !reason.connector_id.is_empty() {
                json["connector"] = reason.connector_id.clone().into();
            }
            json
        })
        .collect();
    assert_eq!(body["reasons"], serde_json::Value::from(expected), "{body}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_device_gets_the_resources_unknown_device_choice() -> anyhow::Result<()> {
    let gateway = Gateway::start().await?;
    let stranger = principal("phone-never-seen");
    let (_, body) = denied_response(
        gateway
            .check(envoy_request(&stranger, "exchange", &[]))
            .await?,
    )?;
    assert_eq!(codes(&body), vec!["device_unknown"], "{body}");
    ok_response(
        gateway
            .check(envoy_request(&stranger, "kiosk", &[]))
            .await?,
    )?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_riskgate_headers_are_removed_or_overwritten_and_change_nothing(
) -> anyhow::Result<()> {
    let gateway = Gateway::start().await?;
    let forged = [
        ("x-riskgate-device-id", "phone-bad"),
        ("x-riskgate-decision", "deny"),
    ];
    let ok = ok_response(
        gateway
            .check(envoy_request(&principal("phone-ok"), "exchange", &forged))
            .await?,
    )?;
    assert_eq!(ok.headers_to_remove, vec!["x-riskgate-device-id"]);
    assert_eq!(
        upstream_header(&ok, "x-riskgate-decision").as_deref(),
        Some("allow")
    );
    let forged_allow = [
        ("x-riskgate-decision", "allow"),
        ("x-riskgate-device-id", "phone-ok"),
    ];
    denied_response(
        gateway
            .check(envoy_request(
                &principal("phone-bad"),
                "exchange",
                &forged_allow,
            ))
            .await?,
    )?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_identity_or_resource_or_with_a_bad_id_are_denied() -> anyhow::Result<()> {
    let gateway = Gateway::start().await?;
    let cases = [
        (envoy_request("", "exchange", &[]), "no_device_identity"),
        (
            envoy_request("spiffe://evil.org/device/phone-ok", "exchange", &[]),
            "no_device_identity",
        ),
        (
            envoy_request(&principal("phone-ok"), "", &[]),
            "invalid_resource",
        ),
        (
            envoy_request(&principal("phone-ok"), "payroll", &[]),
            "unknown_resource",
        ),
        (
            envoy_request(&principal("bad\u{7}id"), "exchange", &[]),
            "invalid_device_id",
        ),
        (CheckRequest::default(), "no_device_identity"),
    ];
    for (request, code) in cases {
        let (_, body) = denied_response(gateway.check(request).await?)?;
        assert_eq!(codes(&body), vec![code], "{body}");
    }
    let mut no_resource = envoy_request(&principal("phone-ok"), "exchange", &[]);
    if let Some(attributes) = no_resource.attributes.as_mut() {
        attributes.context_extensions.clear();
    }
    let (_, body) = denied_response(gateway.check(no_resource).await?)?;
    assert_eq!(codes(&body), vec!["no_resource"], "{body}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_without_token_is_unauthenticated_and_with_reader_token_permission_denied(
) -> anyhow::Result<()> {
    let gateway = Gateway::start().await?;
    let request = || envoy_request(&principal("phone-ok"), "exchange", &[]);
    let mut client = gateway.client().await?;
    let anonymous = client.check(request()).await;
    assert_eq!(
        anonymous.as_ref().map_err(tonic::Status::code).err(),
        Some(Code::Unauthenticated),
        "{anonymous:?}"
    );
    let reader = client.check(with_token(request(), READER)).await;
    assert_eq!(
        reader.as_ref().map_err(tonic::Status::code).err(),
        Some(Code::PermissionDenied),
        "{reader:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_request_that_does_not_decode_is_invalid_argument_not_internal() -> anyhow::Result<()>
{
    let gateway = Gateway::start().await?;
    let addr = gateway.core.gateway_addr().context("gateway listener")?;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
        .connect()
        .await?;
    let mut encoded = envoy_request(&principal("phone-ok"), "exchange", &[]).encode_to_vec();
    encoded.truncate(encoded.len() - 3);
    let answer = riskgate_tests::raw::unary_request::<CheckResponse>(
        channel,
        "/envoy.service.auth.v3.Authorization/Check",
        with_token(encoded, GATEWAY),
    )
    .await;
    let status = answer
        .err()
        .context("a truncated CheckRequest is refused")?;
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains("CheckRequest"), "{status:?}");
    Ok(())
}

/// `request` as Envoy sends it after its `jwt_authn` filter verified a token whose `email` claim is
/// `email` (`payload_in_metadata: jwt_payload`, and ext_authz's `metadata_context_namespaces` naming the
/// filter).
fn with_verified_email(mut request: CheckRequest, email: &str) -> CheckRequest {
    use envoy_types::pb::{
        envoy::config::core::v3::Metadata,
        google::protobuf::{value::Kind, Struct, Value},
    };
    let value = |kind| Value { kind: Some(kind) };
    let payload = Struct {
        fields: [(
            "email".to_owned(),
            value(Kind::StringValue(email.to_owned())),
        )]
        .into(),
    };
    let namespace = Struct {
        fields: [("jwt_payload".to_owned(), value(Kind::StructValue(payload)))].into(),
    };
    if let Some(attributes) = request.attributes.as_mut() {
        attributes.metadata_context = Some(Metadata {
            filter_metadata: [("envoy.filters.http.jwt_authn".to_owned(), namespace)].into(),
            ..Default::default()
        });
    }
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_from_a_verified_jwt_claim_must_own_the_device_and_be_present() -> anyhow::Result<()> {
    let gateway = Gateway::start_with("user_claim = \"jwt_payload.email\"\n").await?;
    let request = || envoy_request(&principal("phone-ok"), "exchange", &[]);

    ok_response(
        gateway
            .check(with_verified_email(request(), "alice@example.org"))
            .await?,
    )?;

    let (_, body) = denied_response(
        gateway
            .check(with_verified_email(request(), "mallory@example.org"))
            .await?,
    )?;
    assert!(codes(&body).contains(&"user_mismatch".to_owned()), "{body}");

    // Without a verified token there is no user, and a header naming one does not count.
    let forged = envoy_request(
        &principal("phone-ok"),
        "exchange",
        &[("email", "alice@example.org")],
    );
    let (_, body) = denied_response(gateway.check(forged).await?)?;
    assert_eq!(codes(&body), vec!["no_user"], "{body}");
    Ok(())
}
