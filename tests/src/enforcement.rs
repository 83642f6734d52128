//! The whole enforcement path, started for a test or a benchmark: the vendor simulator with a seeded
//! fleet, a core with tokens and a gateway listener whose `exchange` needs a compliant device (at most
//! LOW), the real Lookout plugin in a real connector host, and a real Envoy in front of a sample
//! "exchange" app whose ext_authz filter asks the core. Devices reach Envoy with certificates whose URI
//! SAN is `spiffe://riskgate.test/device/<id>`.

use std::{path::Path, time::Duration};

use anyhow::Context as _;
use riskgate_envoy::{bootstrap::JWT_PAYLOAD, Identity, JwtAuthn, JwtIssuer};
use serde_json::{json, Value};

use crate::{
    admin::{compliance_connector, compliance_policy, compliant_only_resource},
    api::{
        connector_service_client::ConnectorServiceClient,
        device_service_client::DeviceServiceClient, policy_service_client::PolicyServiceClient,
        Connector, CreateConnectorRequest, ThreatLevel,
    },
    auth::{token_entry, with_token},
    binary::artifacts,
    child::ChildProcess,
    connector_host::{sha256_file, start_host, start_host_with, HostSpec},
    envoy::EnvoyProcess,
    vendor_sim::SimProcess,
    wait_until, CoreProcess,
};

/// The admin token of the core.
pub const ADMIN_TOKEN: &str = "enforcement-admin-token";
/// The token Envoy presents, with the `gateway` role.
pub const GATEWAY_TOKEN: &str = "enforcement-gateway-token";
/// The Lookout connector host's token.
pub const LOOKOUT_TOKEN: &str = "enforcement-lookout-host-token";
/// The SSF transmitter's token for the core (`subscriber` and `reader`).
pub const SSF_CORE_TOKEN: &str = "enforcement-ssf-token";
/// The web console's own token for the core (`subscriber`: its live updates), name `console`.
pub const CONSOLE_CORE_TOKEN: &str = "enforcement-console-token";
/// A read-only user's token (`reader`), name `viewer`.
pub const READER_TOKEN: &str = "enforcement-reader-token";
/// A token of neither `reader` nor `admin` (`gateway`'s role), for refused sign-ins.
pub const NO_CONSOLE_ROLE_TOKEN: &str = GATEWAY_TOKEN;
/// How device certificates name the device; the core's `gateway.device_principal`.
pub const PRINCIPAL_PATTERN: &str = "spiffe://riskgate.test/device/{id}";
/// The path a device asks for through Envoy.
pub const EXCHANGE_PATH: &str = "/exchange/inbox";

/// The issuer of the test identity provider's tokens.
pub const IDP_ISSUER: &str = "https://idp.riskgate.test";

/// The owner the simulator gives a device it was not told an email for (`<id>@corp.example`), which the
/// Lookout plugin reports as the device's `owner_user_id`.
pub fn owner_email(device: &str) -> String {
    format!("{device}@corp.example")
}

/// Whether requests name a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Users {
    /// No user: the device alone decides.
    None,
    /// Envoy verifies bearer JWTs of a test identity provider, and the core takes the user from their
    /// `email` claim (`gateway.user_claim = "jwt_payload.email"`); [`Enforced::exchange`] sends the
    /// device owner's token.
    JwtEmail,
}

/// How the connector host runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostTimings {
    /// The test timings of [`crate::connector_host::FAST_HOST_TIMINGS`] and fast plugin back-off.
    Fast,
    /// The host's and the plugin's defaults, as an operator runs them.
    Default,
}

/// What to start.
#[derive(Debug, Clone, Copy)]
pub struct Setup<'a> {
    /// Devices in the simulator's fleet (`fleet-00000`, …, seed 11).
    pub fleet: u32,
    /// How the connector host runs.
    pub timings: HostTimings,
    /// Whether requests name a user.
    pub users: Users,
    /// Devices that must get 200 through Envoy before `start` returns.
    pub ready_devices: &'a [&'a str],
    /// How long that may take.
    pub within: Duration,
}

/// The fleet side of the path without a gateway: the simulator, the core with its policy, and the
/// Lookout plugin in a connector host. The SSF transmitter's tests follow this core.
#[derive(Debug)]
pub struct Fleet {
    /// The vendor simulator.
    pub sim: SimProcess,
    /// The core.
    pub core: CoreProcess,
    /// The directory of the core's data and configuration.
    pub dir: tempfile::TempDir,
    _host: ChildProcess,
}

impl Fleet {
    /// Starts the simulator with `fleet` devices, the core (with `users`' gateway settings) and the
    /// Lookout connector host.
    pub async fn start(fleet: u32, timings: HostTimings, users: Users) -> anyhow::Result<Self> {
        Self::start_with(fleet, timings, users, &[]).await
    }

    /// [`Fleet::start`] with more flags for the core (`--retention-max-events 10`).
    pub async fn start_with(
        fleet: u32,
        timings: HostTimings,
        users: Users,
        core_flags: &[&str],
    ) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let fleet = fleet.to_string();
        let sim = SimProcess::start(&["--fleet", &fleet, "--seed", "11"]).await?;
        let config = dir.path().join("riskgate.toml");
        std::fs::write(&config, core_config(users))?;
        let config = config.to_string_lossy().into_owned();
        let mut flags = vec!["--config", config.as_str()];
        flags.extend_from_slice(core_flags);
        let core = CoreProcess::try_start(&dir.path().join("data"), &flags).await?;
        set_up_policy(&core).await?;
        let host = start_lookout_host(&core, &sim, dir.path(), timings)?;
        Ok(Self {
            sim,
            core,
            dir,
            _host: host,
        })
    }

    /// The first 1,000 events of `device` in the core's log, read with the admin token.
    pub async fn history(&self, device: &str) -> anyhow::Result<Vec<crate::api::Event>> {
        let request = crate::api::DeviceHistoryRequest {
            device_id: device.to_owned(),
            page_size: 1000,
            page_token: String::new(),
        };
        Ok(DeviceServiceClient::new(self.core.channel().await?)
            .device_history(with_token(request, ADMIN_TOKEN))
            .await?
            .into_inner()
            .events)
    }

    /// Opens a HIGH Lookout threat (a trojan) on `device` in the simulator; returns the threat id.
    pub async fn infect(&self, device: &str) -> anyhow::Result<String> {
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

    /// Resolves every open Lookout threat of `device` in the simulator.
    pub async fn remediate(&self, device: &str) -> anyhow::Result<()> {
        self.sim
            .admin("remediate", json!({"device": device, "vendor": "lookout"}))
            .await
            .map(drop)
    }
}

/// The running enforcement path.
#[derive(Debug)]
pub struct Enforced {
    /// The simulator, the core and the connector host.
    pub fleet: Fleet,
    /// Envoy and the sample app.
    pub envoy: EnvoyProcess,
    /// The test identity provider, with [`Users::JwtEmail`].
    pub idp: Option<JwtIssuer>,
}

impl std::ops::Deref for Enforced {
    type Target = Fleet;

    fn deref(&self) -> &Fleet {
        &self.fleet
    }
}

impl Enforced {
    /// Starts everything as `setup` says and waits until its ready devices get 200 through Envoy.
    pub async fn start(setup: Setup<'_>) -> anyhow::Result<Self> {
        let fleet = Fleet::start(setup.fleet, setup.timings, setup.users).await?;
        let gateway = fleet
            .core
            .gateway_addr()
            .context("the core's gateway listener")?;
        let idp = match setup.users {
            Users::None => None,
            Users::JwtEmail => Some(JwtIssuer::generate(IDP_ISSUER)?),
        };
        let jwt = idp.as_ref().map(|idp| JwtAuthn {
            issuer: idp.issuer().to_owned(),
            jwks: idp.jwks(),
        });
        let envoy = EnvoyProcess::start(gateway, GATEWAY_TOKEN, &["exchange"], jwt).await?;
        let enforced = Self { fleet, envoy, idp };
        for device in setup.ready_devices {
            enforced
                .wait_for_status(device, 200, "the synced, secure fleet", setup.within)
                .await?;
        }
        Ok(enforced)
    }

    /// The certificate of `device`, as its MDM would have installed it.
    pub fn certificate(&self, device: &str) -> anyhow::Result<Identity> {
        self.envoy
            .device(&PRINCIPAL_PATTERN.replace("{id}", device))
    }

    /// An HTTPS client that presents `device`'s certificate (keep it to reuse the connection).
    pub fn device_client(&self, device: &str) -> anyhow::Result<reqwest::Client> {
        self.envoy.client(Some(&self.certificate(device)?))
    }

    /// `GET /exchange/inbox` through Envoy as `device` (on a new connection), with extra `headers`; with
    /// [`Users::JwtEmail`], with the device owner's bearer token.
    pub async fn exchange(
        &self,
        device: &str,
        headers: &[(&str, &str)],
    ) -> anyhow::Result<(u16, Value)> {
        let client = self.device_client(device)?;
        let bearer = match &self.idp {
            Some(_) => Some(self.bearer_for(&owner_email(device))?),
            None => None,
        };
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        if let Some(bearer) = &bearer {
            all.push(("authorization", bearer));
        }
        self.envoy.get(&client, EXCHANGE_PATH, &all).await
    }

    /// `Bearer <token>` of the test identity provider for the user `email` ([`Users::JwtEmail`]).
    pub fn bearer_for(&self, email: &str) -> anyhow::Result<String> {
        let idp = self
            .idp
            .as_ref()
            .context("started without an identity provider")?;
        Ok(format!("Bearer {}", idp.token(&json!({ "email": email }))?))
    }

    /// Waits, at most `within`, until `device` gets `status` from Envoy; the error names the last answer.
    pub async fn wait_for_status(
        &self,
        device: &str,
        status: u16,
        why: &str,
        within: Duration,
    ) -> anyhow::Result<()> {
        let last = std::sync::Mutex::new(String::new());
        let what = format!("{device} gets {status} through Envoy ({why})");
        let waited = wait_until(within, &what, || async {
            let answer = self.exchange(device, &[]).await;
            let reached = matches!(answer, Ok((got, _)) if got == status);
            *last.lock().expect("not poisoned") = match &answer {
                Ok((got, body)) => format!("{got} {body}"),
                Err(err) => format!("{err:#}"),
            };
            reached
        })
        .await;
        let last = last.into_inner().expect("not poisoned");
        waited.with_context(|| format!("the last answer: {last}"))
    }
}

fn core_config(users: Users) -> String {
    let user_claim = match users {
        Users::None => String::new(),
        Users::JwtEmail => format!("user_claim = \"{JWT_PAYLOAD}.email\"\n"),
    };
    format!(
        "{}{}{}{}[gateway]\nlisten = \"127.0.0.1:0\"\ndevice_principal = \"{PRINCIPAL_PATTERN}\"\n{user_claim}",
        token_entry("ops", ADMIN_TOKEN, &["admin"]),
        token_entry("envoy", GATEWAY_TOKEN, &["gateway"]),
        token_entry("lookout-host", LOOKOUT_TOKEN, &["connector:lookout"]),
        token_entry("ssf", SSF_CORE_TOKEN, &["subscriber", "reader"]),
    ) + &token_entry("console", CONSOLE_CORE_TOKEN, &["subscriber"])
        + &token_entry("viewer", READER_TOKEN, &["reader"])
}

/// Connector `lookout` (Lookout, counts for compliance), policy `mtd` (at most LOW) and resource
/// `exchange` (compliant devices only).
async fn set_up_policy(core: &CoreProcess) -> anyhow::Result<()> {
    let channel = core.channel().await?;
    let connector = Connector {
        vendor: "Lookout".to_owned(),
        ..compliance_connector("lookout")
    };
    let create = CreateConnectorRequest {
        connector: Some(connector),
    };
    ConnectorServiceClient::new(channel.clone())
        .create_connector(with_token(create, ADMIN_TOKEN))
        .await?;
    let mut policies = PolicyServiceClient::new(channel);
    let policy = compliance_policy("mtd", ThreatLevel::Low);
    policies
        .create_compliance_policy(with_token(policy, ADMIN_TOKEN))
        .await?;
    let resource = compliant_only_resource("exchange");
    policies
        .put_resource(with_token(resource, ADMIN_TOKEN))
        .await?;
    Ok(())
}

/// The Lookout plugin in a connector host, pulling from `sim` and ingesting into `core` with its token.
fn start_lookout_host(
    core: &CoreProcess,
    sim: &SimProcess,
    dir: &Path,
    timings: HostTimings,
) -> anyhow::Result<ChildProcess> {
    let mut plugin_config = json!({
        "base_url": sim.url,
        "application_key": "sim-lookout-app-key",
    });
    if timings == HostTimings::Fast {
        plugin_config["backoff_initial_ms"] = json!(50);
        plugin_config["backoff_max_ms"] = json!(500);
    }
    let config = dir.join("lookout.json");
    std::fs::write(&config, plugin_config.to_string())?;
    let token_file = dir.join("lookout.token");
    std::fs::write(&token_file, LOOKOUT_TOKEN)?;
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
    let flags = ["--token-file", token_file.as_str()];
    match timings {
        HostTimings::Fast => start_host(spec, &flags),
        HostTimings::Default => start_host_with(spec, &flags),
    }
}
