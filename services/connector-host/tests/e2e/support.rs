//! What the connector-host end-to-end tests share: building the real binaries and plugins once,
//! starting `riskgate-core`, `riskgate-connector-host` and `riskgate-supervisor` as real processes on
//! `127.0.0.1` port 0 with temporary directories, and polling conditions against deadlines.

use std::{
    collections::HashMap,
    future::Future,
    path::{Path, PathBuf},
    process::{ExitStatus, Stdio},
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, Instant},
};

use anyhow::{anyhow, bail, Context as _};
use riskgate_proto::v1 as api;
use tokio::{
    io::{AsyncBufReadExt, AsyncRead, BufReader},
    process::{Child, Command},
};
use tonic::transport::{Channel, Endpoint};

/// Generous bound for anything the tests wait for.
pub(crate) const WAIT: Duration = Duration::from_secs(30);

/// Paths of everything the tests run.
#[derive(Debug)]
pub(crate) struct Artifacts {
    /// `riskgate-core`.
    pub(crate) core: PathBuf,
    /// `riskgate-connector-host`.
    pub(crate) host: PathBuf,
    /// `riskgate-conformance`.
    pub(crate) conformance: PathBuf,
    /// `riskgate-supervisor`.
    pub(crate) supervisor: PathBuf,
    /// Plugins by example name (`demo_connector`, `faulty_connector`, ...).
    pub(crate) plugins: HashMap<String, PathBuf>,
    /// The target directory the workspace builds into.
    pub(crate) target_dir: PathBuf,
}

impl Artifacts {
    /// The plugin built from the example `name`.
    pub(crate) fn plugin(&self, name: &str) -> &Path {
        self.plugins.get(name).unwrap_or_else(|| {
            panic!(
                "plugin {name} was not built; have {:?}",
                self.plugins.keys()
            )
        })
    }
}

/// The workspace root.
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("services/connector-host is two levels below the root")
        .to_path_buf()
}

/// Builds the binaries and plugins once per test process (`$CARGO build`, dev profile).
pub(crate) fn artifacts() -> &'static Artifacts {
    static ARTIFACTS: OnceLock<Result<Artifacts, String>> = OnceLock::new();
    match ARTIFACTS.get_or_init(build) {
        Ok(artifacts) => artifacts,
        Err(message) => panic!("{message}"),
    }
}

fn build() -> Result<Artifacts, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = std::process::Command::new(&cargo)
        .arg("build")
        .arg("--manifest-path")
        .arg(workspace_root().join("Cargo.toml"))
        .args([
            "-p",
            "riskgate-core",
            "-p",
            "riskgate-connector-host",
            "-p",
            "riskgate-supervisor",
            "-p",
            "riskgate-sdk",
            "-p",
            "riskgate-test-plugins",
            "--bins",
            "--examples",
            "--message-format=json-render-diagnostics",
        ])
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo build failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let mut bins = HashMap::new();
    let mut plugins = HashMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let name = msg["target"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let kinds: Vec<&str> = msg["target"]["kind"]
            .as_array()
            .map(|k| k.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        if let Some(exe) = msg["executable"].as_str() {
            if kinds.contains(&"bin") {
                bins.insert(name.clone(), PathBuf::from(exe));
            }
        }
        if kinds.contains(&"example") {
            let so = msg["filenames"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f.as_str())
                .find(|f| f.ends_with(".so"));
            if let Some(so) = so {
                plugins.insert(name, PathBuf::from(so));
            }
        }
    }
    let bin = |name: &str| {
        bins.get(name)
            .cloned()
            .ok_or_else(|| format!("cargo built no {name}"))
    };
    let core = bin("riskgate-core")?;
    let target_dir = core
        .parent()
        .and_then(Path::parent)
        .ok_or("unexpected binary location")?
        .to_path_buf();
    Ok(Artifacts {
        core,
        host: bin("riskgate-connector-host")?,
        conformance: bin("riskgate-conformance")?,
        supervisor: bin("riskgate-supervisor")?,
        plugins,
        target_dir,
    })
}

/// Lowercase hex SHA-256 of a file.
pub(crate) fn sha256_file(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    riskgate_connector_host::loader::sha256_hex(&bytes)
}

/// Polls `condition` until it holds, failing after `within`.
pub(crate) async fn wait_until<F, Fut>(
    within: Duration,
    what: &str,
    mut condition: F,
) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    let mut interval = Duration::from_millis(10);
    loop {
        if condition().await {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("timed out after {within:?} waiting until {what}");
        }
        tokio::time::sleep(interval).await;
        interval = (interval * 2).min(Duration::from_millis(100));
    }
}

/// Lines a child wrote, shared with the reader task.
#[derive(Debug, Clone, Default)]
pub(crate) struct Captured(Arc<Mutex<String>>);

impl Captured {
    /// Everything so far.
    pub(crate) fn text(&self) -> String {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

fn forward<R: AsyncRead + Unpin + Send + 'static>(reader: R, tag: String, captured: Captured) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(reader).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            eprintln!("[{tag}] {line}");
            let mut text = captured.0.lock().unwrap_or_else(|e| e.into_inner());
            text.push_str(&line);
            text.push('\n');
        }
    });
}

/// A running child process whose stdout and stderr are captured; killed on drop.
#[derive(Debug)]
pub(crate) struct Proc {
    /// The child.
    pub(crate) child: Child,
    /// Its stdout and stderr, interleaved.
    pub(crate) output: Captured,
    /// Its name for messages.
    pub(crate) tag: String,
}

impl Proc {
    /// Starts `command` with captured output.
    pub(crate) fn spawn(mut command: Command, tag: &str) -> anyhow::Result<Proc> {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().with_context(|| format!("spawning {tag}"))?;
        let output = Captured::default();
        let tag = format!("{tag} {}", child.id().unwrap_or(0));
        forward(
            child.stdout.take().context("stdout")?,
            tag.clone(),
            output.clone(),
        );
        forward(
            child.stderr.take().context("stderr")?,
            tag.clone(),
            output.clone(),
        );
        Ok(Proc { child, output, tag })
    }

    /// Waits for the process to exit on its own.
    pub(crate) async fn wait_exit(&mut self, within: Duration) -> anyhow::Result<ExitStatus> {
        match tokio::time::timeout(within, self.child.wait()).await {
            Ok(status) => Ok(status?),
            Err(_) => bail!(
                "{} did not exit within {within:?}; output:\n{}",
                self.tag,
                self.output.text()
            ),
        }
    }

    /// Sends SIGTERM and returns the exit status and how long the exit took.
    pub(crate) async fn terminate(
        &mut self,
        within: Duration,
    ) -> anyhow::Result<(ExitStatus, Duration)> {
        let pid = self.child.id().context("already exited")?;
        let started = Instant::now();
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(i32::try_from(pid)?),
            nix::sys::signal::Signal::SIGTERM,
        )?;
        let status = self.wait_exit(within).await?;
        Ok((status, started.elapsed()))
    }
}

/// A running `riskgate-core` on a temporary data dir.
#[derive(Debug)]
pub(crate) struct Core {
    /// The process (kept so it is killed when the test ends).
    _proc: Proc,
    /// Its gRPC endpoint, `http://127.0.0.1:PORT`.
    pub(crate) url: String,
    _data_dir: tempfile::TempDir,
}

impl Core {
    /// Starts the core and waits for its READY line.
    pub(crate) async fn start() -> anyhow::Result<Core> {
        Self::start_with(&[]).await
    }

    /// Starts the core with `extra` flags (such as `--config FILE`) and waits for its READY line.
    pub(crate) async fn start_with(extra: &[&str]) -> anyhow::Result<Core> {
        let data_dir = tempfile::tempdir()?;
        let mut command = Command::new(&artifacts().core);
        command.arg("--data-dir").arg(data_dir.path()).args([
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
            "--durability",
            "flush",
        ]);
        command.args(extra);
        for var in [
            "RISKGATE_DATA_DIR",
            "RISKGATE_LISTEN",
            "RISKGATE_METRICS_LISTEN",
            "RISKGATE_CONFIG",
        ] {
            command.env_remove(var);
        }
        let proc = Proc::spawn(command, "riskgate-core")?;
        let mut url = None;
        wait_until(WAIT, "the core prints READY", || {
            let text = proc.output.text();
            url = text
                .lines()
                .find_map(|line| line.strip_prefix("READY grpc="))
                .and_then(|rest| rest.split_whitespace().next())
                .map(|addr| format!("http://{addr}"));
            let found = url.is_some();
            async move { found }
        })
        .await
        .with_context(|| format!("core output:\n{}", proc.output.text()))?;
        Ok(Core {
            _proc: proc,
            url: url.ok_or_else(|| anyhow!("no READY line"))?,
            _data_dir: data_dir,
        })
    }

    /// The core's gRPC URL.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// A channel to the core.
    pub(crate) async fn channel(&self) -> anyhow::Result<Channel> {
        Ok(Endpoint::from_shared(self.url.clone())?.connect().await?)
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
    let mut command = Command::new(&artifacts().host);
    command
        .arg("run")
        .arg("--core")
        .arg(&core.url)
        .arg("--connector-id")
        .arg(connector_id)
        .arg("--plugin")
        .arg(plugin)
        .arg("--sha256")
        .arg(sha256)
        .arg("--config")
        .arg(config)
        .args([
            "--pull-timeout",
            "200ms",
            "--heartbeat-interval",
            "1s",
            "--stop-deadline",
            "3s",
        ])
        .args(extra);
    Proc::spawn(command, &format!("host {connector_id}"))
}
