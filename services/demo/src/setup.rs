//! What an admin would set up: the two connectors, the sample compliance policy and the two
//! conditional-access resources (all over the core's gRPC API), and one connector host per vendor
//! pointed at the simulator.
//!
//! One vendor per platform, as Intune recommends (Microsoft Learn, "Mobile Threat Defense integration with Intune"): Lookout's
//! data counts for iOS, Zimperium's for Android. Both clouds know every device, so each connector
//! reports all of them, but only the enabled platform's reports count for compliance (Intune's per-platform connector toggles).

use std::{path::Path, time::Duration};

use anyhow::Context as _;
use riskgate_proto::{bearer::BearerToken, v1 as api};
use serde_json::json;
use tokio::process::Command;
use tonic::{service::interceptor::InterceptedService, transport::Endpoint};

use crate::{
    artifacts::{sha256_hex, Binaries},
    auth::{CoreChannel, DemoTokens},
    out::Out,
    processes::{Processes, Started},
    resources::RESOURCES,
    vendor::Vendor,
};

/// The compliance policy's id.
const POLICY_ID: &str = "mtd-threat-level-low";

/// Connects to the core; every call on the channel carries `bearer`.
pub(crate) async fn connect(url: &str, bearer: BearerToken) -> anyhow::Result<CoreChannel> {
    let channel = Endpoint::from_shared(url.to_owned())
        .with_context(|| format!("bad core address {url}"))?
        .connect()
        .await
        .with_context(|| format!("cannot connect to the core at {url}"))?;
    Ok(InterceptedService::new(channel, bearer))
}

/// Shows that the core is not open: a call without a token must be refused with UNAUTHENTICATED.
pub(crate) async fn check_tokens_required(url: &str) -> anyhow::Result<()> {
    let channel = Endpoint::from_shared(url.to_owned())
        .with_context(|| format!("bad core address {url}"))?
        .connect()
        .await
        .with_context(|| format!("cannot connect to the core at {url}"))?;
    let mut devices = api::device_service_client::DeviceServiceClient::new(channel);
    match devices.get_store_info(api::GetStoreInfoRequest {}).await {
        Err(status) if status.code() == tonic::Code::Unauthenticated => Ok(()),
        other => anyhow::bail!(
            "the core answered a call without a token with {other:?}, not UNAUTHENTICATED"
        ),
    }
}

/// Registers the connectors, then creates the policy and the resources.
pub(crate) async fn configure(channel: &CoreChannel) -> anyhow::Result<()> {
    let mut connectors =
        api::connector_service_client::ConnectorServiceClient::new(channel.clone());
    for vendor in [Vendor::Lookout, Vendor::Zimperium] {
        let platforms = match vendor {
            Vendor::Lookout => api::PlatformToggles {
                ios: true,
                ..Default::default()
            },
            Vendor::Zimperium => api::PlatformToggles {
                android: true,
                ..Default::default()
            },
        };
        connectors
            .create_connector(api::CreateConnectorRequest {
                connector: Some(api::Connector {
                    connector_id: vendor.connector_id().to_owned(),
                    vendor: vendor.display_name().to_owned(),
                    display_name: format!("{} Mobile Threat Defense", vendor.display_name()),
                    compliance_enabled: Some(platforms),
                    ..Default::default()
                }),
            })
            .await
            .with_context(|| format!("registering connector {}", vendor.connector_id()))?;
    }

    let mut policies = api::policy_service_client::PolicyServiceClient::new(channel.clone());
    policies
        .create_compliance_policy(api::CompliancePolicy {
            policy_id: POLICY_ID.to_owned(),
            display_name: "Device threat level at or under Low".to_owned(),
            assignment: Some(api::Assignment {
                all_devices: true,
                ..Default::default()
            }),
            max_threat_level: api::ThreatLevel::Low as i32,
            ..Default::default()
        })
        .await
        .context("creating the compliance policy")?;
    for resource in RESOURCES {
        policies
            .put_resource(api::Resource {
                name: resource.to_owned(),
                rules: vec![api::AccessRule {
                    require_compliant_device: true,
                    ..Default::default()
                }],
                ..Default::default()
            })
            .await
            .with_context(|| format!("creating resource {resource}"))?;
    }
    Ok(())
}

/// Starts one connector host per vendor, each with its plugin pinned by SHA-256 and a config that
/// points it at the simulator.
pub(crate) async fn start_hosts(
    processes: &Processes,
    binaries: &Binaries,
    data_dir: &Path,
    core: &Started,
    tokens: &DemoTokens,
    sim_url: &str,
    out: &Out,
) -> anyhow::Result<Vec<Started>> {
    let config_dir = data_dir.join("config");
    std::fs::create_dir_all(&config_dir)
        .with_context(|| format!("cannot create {}", config_dir.display()))?;
    let mut hosts = Vec::new();
    for vendor in [Vendor::Lookout, Vendor::Zimperium] {
        let (plugin, config) = match vendor {
            Vendor::Lookout => (
                &binaries.lookout_plugin,
                // plugins/lookout/README.md: initial REST sync, then the live event stream.
                json!({
                    "base_url": sim_url,
                    "application_key": "sim-lookout-app-key",
                    "backoff_initial_ms": 200,
                    "backoff_max_ms": 5000,
                }),
            ),
            Vendor::Zimperium => (
                &binaries.zimperium_plugin,
                // plugins/zimperium/README.md: Zimperium is polled; poll every half second so the
                // demo reacts promptly. The simulator has no indexing delay to settle.
                json!({
                    "base_url": sim_url,
                    "client_id": "sim-zimperium-client",
                    "secret": "sim-zimperium-secret",
                    "poll_interval_ms": 500,
                    "settle_ms": 0,
                    "device_sync_interval_ms": 5000,
                    "checkpoint_interval_ms": 5000,
                    "max_backoff_ms": 5000,
                }),
            ),
        };
        let config_path = config_dir.join(format!("{}.json", vendor.connector_id()));
        std::fs::write(&config_path, config.to_string())
            .with_context(|| format!("cannot write {}", config_path.display()))?;
        let mut command = Command::new(&binaries.host);
        command
            .arg("run")
            .args(["--core", &core.url, "--connector-id", vendor.connector_id()])
            .arg("--plugin")
            .arg(plugin)
            .args(["--sha256", &sha256_hex(plugin)?])
            .arg("--config")
            .arg(&config_path)
            .arg("--token-file")
            .arg(tokens.write_connector_token(vendor, &config_dir)?)
            .args(["--heartbeat-interval", "5s", "--pull-timeout", "200ms"])
            .args(["--stop-deadline", "5s"]);
        let name = format!("{} host", vendor.connector_id());
        let host = processes.start_host(&name, command, data_dir).await?;
        out.line(&format!(
            "started {name} pid={} ({} plugin)",
            host.pid,
            plugin.display()
        ));
        hosts.push(host);
    }
    Ok(hosts)
}

/// Waits until both connectors are ENABLED: their hosts are up and have sent a heartbeat.
pub(crate) async fn wait_connectors_enabled(
    channel: &CoreChannel,
    within: Duration,
) -> anyhow::Result<()> {
    let mut connectors =
        api::connector_service_client::ConnectorServiceClient::new(channel.clone());
    let deadline = tokio::time::Instant::now() + within;
    for vendor in [Vendor::Lookout, Vendor::Zimperium] {
        let mut state = api::ConnectorState::Unspecified;
        while state != api::ConnectorState::Enabled {
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "connector {} is {} after {within:?}, not ENABLED; see its host's log",
                vendor.connector_id(),
                state.as_str_name()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
            let connector = connectors
                .get_connector(api::GetConnectorRequest {
                    connector_id: vendor.connector_id().to_owned(),
                })
                .await?
                .into_inner();
            state = api::ConnectorState::try_from(connector.state)
                .unwrap_or(api::ConnectorState::Unspecified);
        }
    }
    Ok(())
}
