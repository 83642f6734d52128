//! Enforcement through a real Envoy: Envoy 1.40.0 with an mTLS listener whose device certificates carry
//! the device id in a URI SAN, its ext_authz filter asking the core's gateway listener (with a bearer
//! token of the `gateway` role), and a sample "exchange" app behind it. The device's risk comes from the
//! vendor simulator through the real Lookout plugin in a real connector host, so each scenario is the
//! seed's: a threat on the phone, and Exchange stops answering it.

use std::time::Duration;

use anyhow::{ensure, Context as _};
use riskgate_envoy::Identity;
use riskgate_tests::{
    admin::{compliance_connector, compliance_policy, compliant_only_resource},
    api::{
        connector_service_client::ConnectorServiceClient,
        policy_service_client::PolicyServiceClient, CreateConnectorRequest, ThreatLevel,
    },
    auth::{token_entry, with_token},
    binary::artifacts,
    child::ChildProcess,
    connector_host::{sha256_file, start_host, HostSpec},
    envoy::EnvoyProcess,
    vendor_sim::SimProcess,
    wait_until, CoreProcess,
};
use serde_json::{json, Value};

const ADMIN: &str = "envoy-test-admin-token";
const GATEWAY: &str = "envoy-test-gateway-token";
const LOOKOUT: &str = "envoy-test-lookout-host-token";
const PATTERN: &str = "spiffe://riskgate.test/device/{id}";

/// Generous bound for anything these tests wait for.
const WAIT: Duration = Duration::from_secs(30);

/// A secure device of the simulator's seeded fleet, and two more.
const PHONE: &str = "fleet-00001";
const OTHER_PHONE: &str = "fleet-00000";
const THIRD_PHONE: &str = "fleet-00002";

/// The simulator (three devices, seed 11), a core with tokens and a gateway listener whose `exchange`
/// needs a compliant device (at most LOW), the Lookout plugin in a connector host, and Envoy in front
/// of a sample "exchange"; started once every device is allowed through Envoy.
struct Enforced {
    sim: SimProcess,
    core: CoreProcess,
    _host: ChildProcess,
    envoy: EnvoyProcess,
    _dir: tempfile::TempDir,
}

impl Enforced {
    async fn start() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let sim =
            SimProcess::start(&["--heartbeat-ms", "200", "--fleet", "3", "--seed", "11"]).await?;
        let config = dir.path().join("riskgate.toml");
        std::fs::write(&config, core_config())?;
        let config = config.to_string_lossy().into_owned();
        let core = CoreProcess::try_start(&dir.path().join("data"), &["--config", &config]).await?;
        set_up_policy(&core).await?;
        let host = start_lookout_host(&core, &sim, dir.path())?;
        let gateway = core.gateway_addr().context("the core's gateway listener")?;
        let envoy = EnvoyProcess::start(gateway, GATEWAY, &["exchange"]).await?;
        let enforced = Self {
            sim,
            core,
            _host: host,
            envoy,
            _dir: dir,
        };
        for device in [PHONE, OTHER_PHONE, THIRD_PHONE] {
            enforced
                .wait_for_status(device, 200, "the synced, secure fleet")
                .await?;
        }
        Ok(enforced)
    }

    /// The certificate of `device`, as its MDM would have installed it.
    fn certificate(&self, device: &str) -> anyhow::Result<Identity> {
        self.envoy.device(&PATTERN.replace("{id}", device))
    }

    /// `GET /exchange/inbox` through Envoy as `device`, with extra `headers`.
    async fn exchange(
        &self,
        device: &str,
        headers: &[(&str, &str)],
    ) -> anyhow::Result<(u16, Value)> {
        let client = self.envoy.client(Some(&self.certificate(device)?))?;
        self.envoy.get(&client, "/exchange/inbox", headers).await
    }

    /// Waits until `device` gets `status` from Envoy.
    async fn wait_for_status(&self, device: &str, status: u16, why: &str) -> anyhow::Result<()> {
        let last = std::sync::Mutex::new(String::new());
        let waited = wait_until(
            WAIT,
            &format!("{device} gets {status} through Envoy ({why})"),
            || async {
                let answer = self.exchange(device, &[]).await;
                let reached = matches!(answer, Ok((got, _)) if got == status);
                *last.lock().expect("not poisoned") = match &answer {
                    Ok((got, body)) => format!("{got} {body}"),
                    Err(err) => format!("{err:#}"),
                };
                reached
            },
        )
        .await;
        let last = last.into_inner().expect("not poisoned");
        waited.with_context(|| format!("the last answer: {last}"))
    }

    /// Opens a HIGH Lookout threat on `device` in the simulator and returns its threat id.
    async fn infect(&self, device: &str) -> anyhow::Result<String> {
        let answer = self
            .sim
            .admin(
                "infect",
                json!({"device": device, "vendor": "lookout", "severity": "HIGH", "classification": "TROJAN"}),
            )
            .await?;
        answer["lookout_threat"]
            .as_str()
            .map(str::to_owned)
            .context("the simulator names the Lookout threat")
    }
}

fn core_config() -> String {
    format!(
        "{}{}{}[gateway]\nlisten = \"127.0.0.1:0\"\ndevice_principal = \"{PATTERN}\"\n",
        token_entry("ops", ADMIN, &["admin"]),
        token_entry("envoy", GATEWAY, &["gateway"]),
        token_entry("lookout-host", LOOKOUT, &["connector:lookout"]),
    )
}

/// Connector `lookout` (Lookout, counts for compliance), policy `mtd` (at most LOW) and resource
/// `exchange` (compliant devices only).
async fn set_up_policy(core: &CoreProcess) -> anyhow::Result<()> {
    let channel = core.channel().await?;
    let connector = riskgate_tests::api::Connector {
        vendor: "Lookout".to_owned(),
        ..compliance_connector("lookout")
    };
    ConnectorServiceClient::new(channel.clone())
        .create_connector(with_token(
            CreateConnectorRequest {
                connector: Some(connector),
            },
            ADMIN,
        ))
        .await?;
    let mut policies = PolicyServiceClient::new(channel);
    policies
        .create_compliance_policy(with_token(
            compliance_policy("mtd", ThreatLevel::Low),
            ADMIN,
        ))
        .await?;
    policies
        .put_resource(with_token(compliant_only_resource("exchange"), ADMIN))
        .await?;
    Ok(())
}

/// The Lookout plugin in a connector host, pulling from `sim` and ingesting into `core` with its token.
fn start_lookout_host(
    core: &CoreProcess,
    sim: &SimProcess,
    dir: &std::path::Path,
) -> anyhow::Result<ChildProcess> {
    let config = dir.join("lookout.json");
    let plugin_config = json!({
        "base_url": sim.url,
        "application_key": "sim-lookout-app-key",
        "stream_idle_timeout_ms": 2000,
        "backoff_initial_ms": 50,
        "backoff_max_ms": 500,
    });
    std::fs::write(&config, plugin_config.to_string())?;
    let token_file = dir.join("lookout.token");
    std::fs::write(&token_file, LOOKOUT)?;
    let plugin = artifacts().cdylib("riskgate_lookout");
    let url = core.url();
    let spec = HostSpec {
        core_url: &url,
        connector_id: "lookout",
        plugin,
        sha256: &sha256_file(plugin),
        config: &config,
    };
    let token_file = token_file.to_string_lossy().into_owned();
    start_host(spec, &["--token-file", &token_file])
}

/// The codes, policies, connectors and threats of a deny body's reasons.
fn reasons(body: &Value) -> Vec<(String, String, String, Vec<String>)> {
    let field = |reason: &Value, key: &str| reason[key].as_str().unwrap_or_default().to_owned();
    body["reasons"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|reason| {
            let threats = reason["threats"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|threat| threat.as_str().map(str::to_owned))
                .collect();
            (
                field(reason, "code"),
                field(reason, "policy"),
                field(reason, "connector"),
                threats,
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookout_high_turns_exchange_to_403_with_reasons_and_remediation_restores_200(
) -> anyhow::Result<()> {
    let enforced = Enforced::start().await?;
    let (status, body) = enforced.exchange(PHONE, &[]).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["app"], "exchange", "the app answered: {body}");
    assert_eq!(
        body["riskgate_headers"]["x-riskgate-decision"], "allow",
        "{body}"
    );
    let position: u64 = body["riskgate_headers"]["x-riskgate-position"]
        .as_str()
        .context("x-riskgate-position reaches the app")?
        .parse()?;
    ensure!(position > 0, "the position of the decision's view: {body}");

    let threat = enforced.infect(PHONE).await?;
    enforced
        .wait_for_status(PHONE, 403, "Lookout raised it to HIGH")
        .await?;
    let (status, body) = enforced.exchange(PHONE, &[]).await?;
    assert_eq!(status, 403);
    assert_eq!(body["resource"], "exchange", "{body}");
    assert_eq!(body["decision"], "deny", "{body}");
    let reasons = reasons(&body);
    assert!(
        reasons
            .iter()
            .any(|(_, policy, connector, threats)| policy == "mtd"
                && connector == "lookout"
                && threats.contains(&threat)),
        "the deny names policy mtd, connector lookout and threat {threat}: {body}"
    );
    assert!(
        body.get("app").is_none(),
        "the app never saw the request: {body}"
    );
    // Only the infected phone lost access.
    assert_eq!(enforced.exchange(OTHER_PHONE, &[]).await?.0, 200);

    enforced
        .sim
        .admin("remediate", json!({"device": PHONE, "vendor": "lookout"}))
        .await?;
    enforced
        .wait_for_status(PHONE, 200, "the threat was remediated")
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_without_a_device_certificate_from_the_ca_are_refused() -> anyhow::Result<()> {
    let enforced = Enforced::start().await?;
    let anonymous = enforced.envoy.client(None)?;
    let refused = enforced.envoy.get(&anonymous, "/exchange/inbox", &[]).await;
    assert!(
        refused.is_err(),
        "no client certificate, no answer: {refused:?}"
    );

    let foreign_ca = riskgate_envoy::Pki::generate()?;
    let foreign = foreign_ca.device(&PATTERN.replace("{id}", PHONE))?;
    let impostor = enforced.envoy.client(Some(&foreign))?;
    let refused = enforced.envoy.get(&impostor, "/exchange/inbox", &[]).await;
    assert!(
        refused.is_err(),
        "a certificate from another CA naming a good device is refused: {refused:?}"
    );
    // The real device still gets in.
    assert_eq!(enforced.exchange(PHONE, &[]).await?.0, 200);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_riskgate_headers_change_nothing() -> anyhow::Result<()> {
    let enforced = Enforced::start().await?;
    let forged = [
        ("x-riskgate-decision", "deny"),
        ("x-riskgate-position", "999999999"),
        ("x-riskgate-device", THIRD_PHONE),
    ];
    let (status, body) = enforced.exchange(PHONE, &forged).await?;
    assert_eq!(status, 200, "{body}");
    let seen = &body["riskgate_headers"];
    assert_eq!(seen["x-riskgate-decision"], "allow", "{body}");
    assert_ne!(seen["x-riskgate-position"], "999999999", "{body}");
    assert!(
        seen.get("x-riskgate-device").is_none(),
        "forged headers are removed: {body}"
    );

    enforced.infect(THIRD_PHONE).await?;
    enforced
        .wait_for_status(THIRD_PHONE, 403, "Lookout raised it to HIGH")
        .await?;
    let claims_allowed = [
        ("x-riskgate-decision", "allow"),
        ("x-riskgate-device", PHONE),
    ];
    let (status, body) = enforced.exchange(THIRD_PHONE, &claims_allowed).await?;
    assert_eq!(status, 403, "a forged allow does not open the door: {body}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_riskgate_stopped_envoy_refuses_every_request() -> anyhow::Result<()> {
    let mut enforced = Enforced::start().await?;
    enforced.core.terminate().await?;
    let (status, body) = enforced.exchange(PHONE, &[]).await?;
    assert_eq!(
        status, 503,
        "fail closed, as an outage rather than a deny: {body}"
    );
    assert!(
        body.get("app").is_none(),
        "the app never saw the request: {body}"
    );
    let errors = enforced
        .envoy
        .admin
        .counter("http.gateway.ext_authz.error")
        .await?;
    assert!(
        errors >= 1,
        "Envoy counts the refusal as an ext_authz error, not a deny"
    );
    Ok(())
}
