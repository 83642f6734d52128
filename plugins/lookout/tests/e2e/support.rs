//! What the Lookout end-to-end tests share: the simulator with fast stream heartbeats, the core with
//! reads the tests need, a connector host on the plugin with a pinned SHA-256, and the plugin config.
//! Processes, binaries and polling come from the `riskgate-tests` harness, which builds the workspace
//! once; nothing here sleeps to synchronise.

use std::time::Duration;

use riskgate_proto::v1 as api;
use riskgate_tests::{
    admin::{
        check_access, compliance_connector, compliance_policy, compliant_only_resource,
        ClockClient, ConnectorClient, PolicyClient,
    },
    binary::artifacts,
    child::ChildProcess,
    connector_host::{sha256_file, start_host, HostSpec},
    events::reports_of,
    rpc::{full_history, get_device, DeviceClient},
    vendor_sim::SimProcess,
    CoreProcess,
};
use serde_json::{json, Value};

pub(crate) use riskgate_tests::wait_until;

/// Generous bound for anything the tests wait for.
pub(crate) const WAIT: Duration = Duration::from_secs(30);

/// The running simulator.
pub(crate) type Sim = SimProcess;

/// Starts the simulator with `args`, with Lookout stream heartbeats every 200 ms so that idle
/// timeouts are quick to exercise.
pub(crate) async fn start_sim(args: &[&str]) -> anyhow::Result<Sim> {
    let mut all_args = vec!["--heartbeat-ms", "200"];
    all_args.extend_from_slice(args);
    SimProcess::start(&all_args).await
}

/// A running `riskgate-core` on a temporary data dir, with the reads these tests make.
#[derive(Debug)]
pub(crate) struct Core {
    process: CoreProcess,
    /// Its gRPC URL.
    pub(crate) url: String,
}

impl Core {
    /// Starts the core.
    pub(crate) async fn start() -> anyhow::Result<Core> {
        Self::start_with(&[]).await
    }

    /// Starts the core with `extra` flags (such as `--manual-clock`).
    pub(crate) async fn start_with(extra: &[&str]) -> anyhow::Result<Core> {
        let mut args = vec!["--durability", "flush"];
        args.extend_from_slice(extra);
        let process = CoreProcess::start_temp(&args).await?;
        let url = process.url();
        Ok(Core { process, url })
    }

    /// Registers a connector (vendor Lookout) whose data counts for compliance on every platform.
    /// Its heartbeats come from the host.
    pub(crate) async fn create_compliance_connector(&self, id: &str) -> anyhow::Result<()> {
        self.create_compliance_connector_with(id, api::MissingDataMode::Unspecified)
            .await
    }

    /// [`Self::create_compliance_connector`] with a missing-data mode.
    pub(crate) async fn create_compliance_connector_with(
        &self,
        id: &str,
        missing_data: api::MissingDataMode,
    ) -> anyhow::Result<()> {
        let connector = api::Connector {
            vendor: "Lookout".to_owned(),
            missing_data: missing_data as i32,
            ..compliance_connector(id)
        };
        let mut client = self.process.connector_client().await?;
        client
            .create_connector(api::CreateConnectorRequest {
                connector: Some(connector),
            })
            .await?;
        Ok(())
    }

    /// The device, if the core knows it (and answers).
    pub(crate) async fn device(&self, id: &str) -> Option<api::Device> {
        let mut client = self.process.device_client().await.ok()?;
        get_device(&mut client, id).await.ok().flatten()
    }

    /// A compliance policy allowing at most LOW on every device, and resource `exchange` requiring a
    /// compliant device.
    pub(crate) async fn require_low_for_exchange(&self) -> anyhow::Result<()> {
        let mut policies = self.process.policy_client().await?;
        policies
            .create_compliance_policy(compliance_policy("max-low", api::ThreatLevel::Low))
            .await?;
        policies
            .put_resource(compliant_only_resource("exchange"))
            .await?;
        Ok(())
    }

    /// CheckAccess for `exchange`, `None` if the core does not answer.
    pub(crate) async fn exchange(&self, device: &str) -> Option<api::AccessDecision> {
        let mut client = self.process.decision_client().await.ok()?;
        check_access(&mut client, device, "exchange").await.ok()
    }

    /// Whether `exchange` answers `decision` for `device`.
    pub(crate) async fn exchange_is(&self, device: &str, decision: api::Decision) -> bool {
        self.exchange(device)
            .await
            .is_some_and(|answer| answer.decision == decision as i32)
    }

    /// A `ConnectorService` client.
    pub(crate) async fn connectors(&self) -> anyhow::Result<ConnectorClient> {
        self.process.connector_client().await
    }

    /// A `PolicyService` client.
    pub(crate) async fn policies(&self) -> anyhow::Result<PolicyClient> {
        self.process.policy_client().await
    }

    /// A `ClockService` client (the core must run with `--manual-clock`).
    pub(crate) async fn clock(&self) -> anyhow::Result<ClockClient> {
        self.process.clock_client().await
    }

    /// The connector as the core shows it.
    pub(crate) async fn connector(&self, id: &str) -> anyhow::Result<api::Connector> {
        Ok(self
            .connectors()
            .await?
            .get_connector(api::GetConnectorRequest {
                connector_id: id.to_owned(),
            })
            .await?
            .into_inner())
    }

    /// A `DeviceService` client.
    pub(crate) async fn devices(&self) -> anyhow::Result<DeviceClient> {
        self.process.device_client().await
    }

    /// The health state the device's latest report carries.
    pub(crate) async fn health(&self, id: &str) -> Option<api::HealthState> {
        let device = self.device(id).await?;
        device
            .reports
            .first()
            .and_then(|r| api::HealthState::try_from(r.health_state).ok())
    }

    /// Every `device_reported` event of a device, oldest first.
    pub(crate) async fn reports(&self, id: &str) -> anyhow::Result<Vec<api::DeviceReported>> {
        let mut client = self.process.device_client().await?;
        let (events, _) = full_history(&mut client, id, 1000).await?;
        Ok(reports_of(&events)
            .into_iter()
            .map(|(_, report)| report.clone())
            .collect())
    }
}

/// The fleet every access test starts from: a simulator with three devices (seed 11), a core whose
/// `exchange` needs a compliant device (at most LOW), the Lookout connector under `missing_data`, and
/// its host, once `device` is allowed.
pub(crate) async fn exchange_fleet(
    missing_data: api::MissingDataMode,
    device: &str,
) -> anyhow::Result<(Sim, Core, Host)> {
    let sim = start_sim(&["--fleet", "3", "--seed", "11"]).await?;
    let core = Core::start().await?;
    core.create_compliance_connector_with("lookout", missing_data)
        .await?;
    core.require_low_for_exchange().await?;
    let host = Host::start(&core, "lookout", &plugin_config(&sim, json!({})))?;
    wait_until(
        WAIT,
        "exchange allows the synced, secure device",
        || async { core.exchange_is(device, api::Decision::Allow).await },
    )
    .await?;
    Ok((sim, core, host))
}

/// Config JSON for the plugin pointing at `sim`, with fast timeouts for tests.
pub(crate) fn plugin_config(sim: &Sim, extra: Value) -> Value {
    let mut config = json!({
        "base_url": sim.url,
        "application_key": "sim-lookout-app-key",
        "stream_idle_timeout_ms": 2000,
        "backoff_initial_ms": 50,
        "backoff_max_ms": 500,
        "page_size": 2,
    });
    if let (Some(target), Some(extra)) = (config.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            target.insert(k.clone(), v.clone());
        }
    }
    config
}

/// A connector host running the Lookout plugin against `core`.
pub(crate) struct Host {
    pub(crate) proc: ChildProcess,
    _dir: tempfile::TempDir,
}

impl Host {
    /// Starts `riskgate-connector-host run` with the plugin and `config`.
    pub(crate) fn start(core: &Core, connector_id: &str, config: &Value) -> anyhow::Result<Host> {
        let dir = tempfile::tempdir()?;
        let config_path = dir.path().join("lookout.json");
        std::fs::write(&config_path, config.to_string())?;
        let plugin = artifacts().cdylib("riskgate_lookout");
        let spec = HostSpec {
            core_url: &core.url,
            connector_id,
            plugin,
            sha256: &sha256_file(plugin),
            config: &config_path,
        };
        Ok(Host {
            proc: start_host(spec, &[])?,
            _dir: dir,
        })
    }
}

/// Waits until the core shows `device` with `state`.
pub(crate) async fn wait_health(
    core: &Core,
    device: &str,
    state: api::HealthState,
) -> anyhow::Result<()> {
    wait_until(
        WAIT,
        &format!("{device} is {state:?} in the core"),
        || async { core.health(device).await == Some(state) },
    )
    .await
}
