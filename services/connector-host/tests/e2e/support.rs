//! What the connector-host end-to-end tests share: the artifacts (built once for the whole workspace
//! by the `riskgate-tests` harness), a core on a temporary data dir with the reads these tests make,
//! and starting `riskgate-connector-host run` on a plugin. Processes and polling come from the harness.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::Context as _;
use riskgate_proto::v1 as api;
use riskgate_tests::CoreProcess;
use tonic::transport::Channel;

pub(crate) use riskgate_tests::{
    child::ChildProcess as Proc, connector_host::sha256_file, wait_until,
};

/// Generous bound for anything the tests wait for.
pub(crate) const WAIT: Duration = Duration::from_secs(30);

/// Paths of everything the tests run.
#[derive(Debug)]
pub(crate) struct Artifacts {
    /// `riskgate-connector-host`.
    pub(crate) host: PathBuf,
    /// `riskgate-conformance`.
    pub(crate) conformance: PathBuf,
    /// `riskgate-supervisor`.
    pub(crate) supervisor: PathBuf,
    /// The target directory the workspace builds into (`<target>/<profile>/riskgate-core` is two
    /// levels below it).
    pub(crate) target_dir: PathBuf,
}

impl Artifacts {
    /// The plugin built from the example `name` of `plugins/testing` (`demo_connector`, ...).
    pub(crate) fn plugin(&self, name: &str) -> &Path {
        riskgate_tests::binary::artifacts().cdylib(name)
    }
}

/// The workspace root.
pub(crate) fn workspace_root() -> PathBuf {
    riskgate_tests::binary::workspace_root()
}

/// The binaries and plugins, built once per test process by the harness.
pub(crate) fn artifacts() -> &'static Artifacts {
    static ARTIFACTS: std::sync::OnceLock<Artifacts> = std::sync::OnceLock::new();
    ARTIFACTS.get_or_init(|| {
        let built = riskgate_tests::binary::artifacts();
        let core = built.bin("riskgate-core");
        Artifacts {
            host: built.bin("riskgate-connector-host").to_path_buf(),
            conformance: built.bin("riskgate-conformance").to_path_buf(),
            supervisor: built.bin("riskgate-supervisor").to_path_buf(),
            target_dir: core
                .ancestors()
                .nth(2)
                .expect("binaries are in <target>/<profile>/")
                .to_path_buf(),
        }
    })
}

/// A running `riskgate-core` on a temporary data dir.
#[derive(Debug)]
pub(crate) struct Core {
    process: CoreProcess,
    /// Its gRPC endpoint, `http://127.0.0.1:PORT`.
    pub(crate) url: String,
}

impl Core {
    /// Starts the core and waits for its READY line.
    pub(crate) async fn start() -> anyhow::Result<Core> {
        Self::start_with(&[]).await
    }

    /// Starts the core with `extra` flags (such as `--config FILE`) and waits for its READY line.
    pub(crate) async fn start_with(extra: &[&str]) -> anyhow::Result<Core> {
        let mut args = vec!["--durability", "flush"];
        args.extend_from_slice(extra);
        let process = CoreProcess::start_temp(&args).await?;
        let url = process.url();
        Ok(Core { process, url })
    }

    /// The core's gRPC URL.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// A channel to the core.
    pub(crate) async fn channel(&self) -> anyhow::Result<Channel> {
        self.process.channel().await
    }

    /// Registers a connector.
    pub(crate) async fn create_connector(
        &self,
        connector_id: &str,
    ) -> anyhow::Result<api::Connector> {
        let mut client =
            api::connector_service_client::ConnectorServiceClient::new(self.channel().await?);
        let connector = api::Connector {
            connector_id: connector_id.to_owned(),
            vendor: "tests".to_owned(),
            display_name: format!("test connector {connector_id}"),
            ..Default::default()
        };
        Ok(client
            .create_connector(api::CreateConnectorRequest {
                connector: Some(connector),
            })
            .await?
            .into_inner())
    }

    /// The connector as the core shows it.
    pub(crate) async fn connector(&self, connector_id: &str) -> anyhow::Result<api::Connector> {
        let mut client =
            api::connector_service_client::ConnectorServiceClient::new(self.channel().await?);
        Ok(client
            .get_connector(api::GetConnectorRequest {
                connector_id: connector_id.to_owned(),
            })
            .await?
            .into_inner())
    }

    /// The connector's checkpoint, or `None` if nothing was acknowledged.
    pub(crate) async fn checkpoint(
        &self,
        connector_id: &str,
    ) -> anyhow::Result<Option<api::Checkpoint>> {
        let mut client =
            api::ingest_service_client::IngestServiceClient::new(self.channel().await?);
        match client
            .get_checkpoint(api::GetCheckpointRequest {
                connector_id: connector_id.to_owned(),
            })
            .await
        {
            Ok(response) => Ok(Some(response.into_inner())),
            Err(status) if status.code() == tonic::Code::NotFound => Ok(None),
            Err(status) => Err(status.into()),
        }
    }

    /// The acknowledged batch count of a connector (0 if none).
    pub(crate) async fn batch_seq(&self, connector_id: &str) -> u64 {
        self.checkpoint(connector_id)
            .await
            .ok()
            .flatten()
            .map_or(0, |c| c.batch_seq)
    }

    /// How many devices the core knows.
    pub(crate) async fn device_count(&self) -> anyhow::Result<u64> {
        let mut client =
            api::device_service_client::DeviceServiceClient::new(self.channel().await?);
        Ok(client
            .get_store_info(api::GetStoreInfoRequest {})
            .await?
            .into_inner()
            .device_count)
    }

    /// One device.
    pub(crate) async fn device(&self, device_id: &str) -> anyhow::Result<api::Device> {
        let mut client =
            api::device_service_client::DeviceServiceClient::new(self.channel().await?);
        Ok(client
            .get_device(api::GetDeviceRequest {
                device_id: device_id.to_owned(),
            })
            .await?
            .into_inner())
    }

    /// Checks that the core still answers.
    pub(crate) async fn assert_serving(&self) -> anyhow::Result<()> {
        self.device_count()
            .await
            .context("the core stopped serving")?;
        Ok(())
    }
}

/// A temporary directory with a connector config file.
pub(crate) fn config_file(dir: &Path, name: &str, json: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, json).expect("writing config");
    path
}

/// Starts `riskgate-connector-host run` for `plugin` with `extra` flags.
pub(crate) fn start_host(
    core: &Core,
    connector_id: &str,
    plugin: &Path,
    sha256: &str,
    config: &Path,
    extra: &[&str],
) -> anyhow::Result<Proc> {
    let spec = riskgate_tests::connector_host::HostSpec {
        core_url: &core.url,
        connector_id,
        plugin,
        sha256,
        config,
    };
    riskgate_tests::connector_host::start_host(spec, extra)
}

/// One connector a test supervisor runs.
pub(crate) struct Supervised<'a> {
    /// The connector id.
    pub(crate) id: &'a str,
    /// The plugin `.so`.
    pub(crate) plugin: &'a Path,
    /// The SHA-256 the supervisor pins (pass a wrong one to test tampering).
    pub(crate) sha256: String,
    /// The plugin's config file.
    pub(crate) config: &'a Path,
}

/// A supervisor config in `dir` for `connectors` against `core`: fast restarts (100 ms to 1 s backoff),
/// quarantine after 3 crashes within a minute, hosts with a 200 ms pull timeout, 1 s heartbeats and a 3 s
/// stop deadline.
pub(crate) fn supervisor_config(dir: &Path, core: &Core, connectors: &[Supervised<'_>]) -> PathBuf {
    let host_args =
        r#"["--pull-timeout", "200ms", "--heartbeat-interval", "1s", "--stop-deadline", "3s"]"#;
    let mut toml = format!(
        r#"
core = "{core}"
host_bin = "{host}"

[restart]
initial_backoff = "100ms"
max_backoff = "1s"
jitter = 0.2
crash_loop_crashes = 3
crash_loop_window = "1m"
healthy_after = "1m"
stop_timeout = "5s"
"#,
        core = core.url,
        host = artifacts().host.display(),
    );
    for connector in connectors {
        toml += &format!(
            r#"
[[connectors]]
id = "{id}"
plugin = "{plugin}"
sha256 = "{sha256}"
config = "{config}"
host_args = {host_args}
"#,
            id = connector.id,
            plugin = connector.plugin.display(),
            sha256 = connector.sha256,
            config = connector.config.display(),
        );
    }
    config_file(dir, "supervisor.toml", &toml)
}

/// Starts `riskgate-supervisor` on `config`.
pub(crate) fn start_supervisor(config: &Path) -> anyhow::Result<Proc> {
    let mut command = tokio::process::Command::new(&artifacts().supervisor);
    command.arg("--config").arg(config);
    Proc::spawn(command, "supervisor")
}
