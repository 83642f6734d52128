//! What the Lookout end-to-end tests share: building the binaries and the plugin once, starting the
//! simulator, the core and a connector host as real processes on `127.0.0.1` port 0, driving the
//! simulator's admin API, reading the core, and polling with deadlines (never sleeping to synchronise).

use std::{
    collections::HashMap,
    future::Future,
    path::{Path, PathBuf},
    process::Stdio,
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, Instant},
};

use anyhow::{bail, Context as _};
use riskgate_proto::v1 as api;
use serde_json::{json, Value};
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
    pub(crate) core: PathBuf,
    pub(crate) host: PathBuf,
    pub(crate) sim: PathBuf,
    pub(crate) plugin: PathBuf,
    pub(crate) plugin_sha256: String,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("plugins/lookout is two levels below the root")
        .to_path_buf()
}

/// Builds the binaries and the plugin once per test process.
pub(crate) fn artifacts() -> &'static Artifacts {
    static ARTIFACTS: OnceLock<Result<Artifacts, String>> = OnceLock::new();
    match ARTIFACTS.get_or_init(build) {
        Ok(a) => a,
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
            "riskgate-vendor-sim",
            "-p",
            "riskgate-lookout",
            "--bins",
            "--lib",
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
    let mut plugin = None;
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let name = msg["target"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if let Some(exe) = msg["executable"].as_str() {
            bins.insert(name.clone(), PathBuf::from(exe));
        }
        if name == "riskgate_lookout" {
            plugin = msg["filenames"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .find(|f| f.ends_with(".so"))
                .map(PathBuf::from);
        }
    }
    let bin = |name: &str| {
        bins.get(name)
            .cloned()
            .ok_or_else(|| format!("cargo built no {name}"))
    };
    let plugin = plugin.ok_or("cargo built no libriskgate_lookout.so")?;
    let bytes = std::fs::read(&plugin).map_err(|e| e.to_string())?;
    Ok(Artifacts {
        core: bin("riskgate-core")?,
        host: bin("riskgate-connector-host")?,
        sim: bin("riskgate-vendor-sim")?,
        plugin_sha256: sha256_hex(&bytes),
        plugin,
    })
}

/// Lowercase hex SHA-256.
fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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

/// Output a child wrote, shared with its reader tasks.
#[derive(Debug, Clone, Default)]
pub(crate) struct Captured(Arc<Mutex<String>>);

impl Captured {
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

/// A child process with captured output, killed on drop.
#[derive(Debug)]
pub(crate) struct Proc {
    child: Child,
    pub(crate) output: Captured,
}

impl Proc {
    fn spawn(mut command: Command, tag: &str) -> anyhow::Result<Proc> {
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
        forward(child.stderr.take().context("stderr")?, tag, output.clone());
        Ok(Proc { child, output })
    }

    async fn ready_line(&self, prefix: &str) -> anyhow::Result<String> {
        let mut found = None;
        wait_until(WAIT, &format!("the process prints {prefix}"), || {
            found = self
                .output
                .text()
                .lines()
                .find_map(|l| l.strip_prefix(prefix))
                .and_then(|r| r.split_whitespace().next())
                .map(str::to_owned);
            let ok = found.is_some();
            async move { ok }
        })
        .await
        .with_context(|| format!("output:\n{}", self.output.text()))?;
        found.context("no ready line")
    }

    /// Sends SIGTERM and waits for the exit.
    pub(crate) async fn terminate(&mut self) -> anyhow::Result<()> {
        if let Some(pid) = self.child.id() {
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(i32::try_from(pid)?),
                nix::sys::signal::Signal::SIGTERM,
            )?;
        }
        tokio::time::timeout(WAIT, self.child.wait())
            .await
            .context("no exit after SIGTERM")??;
        Ok(())
    }
}

/// The running simulator and an HTTP client for its admin API.
#[derive(Debug)]
pub(crate) struct Sim {
    _proc: Proc,
    pub(crate) url: String,
    http: reqwest::Client,
}

impl Sim {
    /// Starts the simulator with `args` (heartbeats every 200 ms).
    pub(crate) async fn start(args: &[&str]) -> anyhow::Result<Sim> {
        let mut command = Command::new(&artifacts().sim);
        command
            .args(["--listen", "127.0.0.1:0", "--heartbeat-ms", "200"])
            .args(args);
        let proc = Proc::spawn(command, "sim")?;
        let addr = proc.ready_line("READY http=").await?;
        Ok(Sim {
            _proc: proc,
            url: format!("http://{addr}"),
            http: reqwest::Client::new(),
        })
    }

    /// POSTs JSON to an admin path and returns the answer, failing on an error status.
    pub(crate) async fn admin(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let response = self
            .http
            .post(format!("{}/_admin/{path}", self.url))
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await?;
        anyhow::ensure!(status.is_success(), "admin {path}: {status} {body}");
        Ok(body)
    }

    /// GETs an admin path.
    pub(crate) async fn get(&self, path: &str) -> anyhow::Result<Value> {
        Ok(self
            .http
            .get(format!("{}/_admin/{path}", self.url))
            .send()
            .await?
            .json()
            .await?)
    }

    /// Adds a device.
    pub(crate) async fn add_device(&self, id: &str, platform: &str) -> anyhow::Result<()> {
        self.admin("devices", json!({"id": id, "platform": platform}))
            .await
            .map(drop)
    }

    /// A counter from `/_admin/counters`, such as `stream_connections` or `tokens_issued.lookout`.
    pub(crate) async fn counter(&self, path: &str) -> u64 {
        let counters = self.get("counters").await.unwrap_or_default();
        path.split('.')
            .fold(&counters, |v, k| &v[k])
            .as_u64()
            .unwrap_or(0)
    }
}

/// A running `riskgate-core` on a temporary data dir.
#[derive(Debug)]
pub(crate) struct Core {
    _proc: Proc,
    pub(crate) url: String,
    _data_dir: tempfile::TempDir,
}

impl Core {
    /// Starts the core.
    pub(crate) async fn start() -> anyhow::Result<Core> {
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
        for var in [
            "RISKGATE_DATA_DIR",
            "RISKGATE_LISTEN",
            "RISKGATE_METRICS_LISTEN",
            "RISKGATE_CONFIG",
        ] {
            command.env_remove(var);
        }
        let proc = Proc::spawn(command, "core")?;
        let addr = proc.ready_line("READY grpc=").await?;
        Ok(Core {
            _proc: proc,
            url: format!("http://{addr}"),
            _data_dir: data_dir,
        })
    }

    pub(crate) async fn channel(&self) -> anyhow::Result<Channel> {
        Ok(Endpoint::from_shared(self.url.clone())?.connect().await?)
    }

    /// Registers a connector whose data counts for compliance on every platform.
    pub(crate) async fn create_compliance_connector(&self, id: &str) -> anyhow::Result<()> {
        let toggles = api::PlatformToggles {
            android: true,
            ios: true,
            windows: true,
            macos: true,
        };
        let mut client =
            api::connector_service_client::ConnectorServiceClient::new(self.channel().await?);
        client
            .create_connector(api::CreateConnectorRequest {
                connector: Some(api::Connector {
                    connector_id: id.to_owned(),
                    vendor: "Lookout".to_owned(),
                    compliance_enabled: Some(toggles),
                    ..Default::default()
                }),
            })
            .await?;
        Ok(())
    }

    /// The device, if the core knows it.
    pub(crate) async fn device(&self, id: &str) -> Option<api::Device> {
        let mut client =
            api::device_service_client::DeviceServiceClient::new(self.channel().await.ok()?);
        client
            .get_device(api::GetDeviceRequest {
                device_id: id.to_owned(),
            })
            .await
            .ok()
            .map(|r| r.into_inner())
    }

    /// The health state the device's latest report from `connector` carries.
    pub(crate) async fn health(&self, id: &str) -> Option<api::HealthState> {
        let device = self.device(id).await?;
        device
            .reports
            .first()
            .and_then(|r| api::HealthState::try_from(r.health_state).ok())
    }

    /// Every `device_reported` event of a device, oldest first.
    pub(crate) async fn reports(&self, id: &str) -> anyhow::Result<Vec<api::DeviceReported>> {
        let mut client =
            api::device_service_client::DeviceServiceClient::new(self.channel().await?);
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let page = client
                .device_history(api::DeviceHistoryRequest {
                    device_id: id.to_owned(),
                    page_size: 1000,
                    page_token: token,
                })
                .await?
                .into_inner();
            for event in page.events {
                if let Some(api::event::Kind::DeviceReported(r)) = event.kind {
                    out.push(r);
                }
            }
            if page.next_page_token.is_empty() {
                return Ok(out);
            }
            token = page.next_page_token;
        }
    }
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
    pub(crate) proc: Proc,
    _dir: tempfile::TempDir,
}

impl Host {
    /// Starts `riskgate-connector-host run` with the plugin and `config`.
    pub(crate) fn start(core: &Core, connector_id: &str, config: &Value) -> anyhow::Result<Host> {
        let dir = tempfile::tempdir()?;
        let config_path = dir.path().join("lookout.json");
        std::fs::write(&config_path, config.to_string())?;
        let a = artifacts();
        let mut command = Command::new(&a.host);
        command
            .arg("run")
            .args(["--core", &core.url, "--connector-id", connector_id])
            .arg("--plugin")
            .arg(&a.plugin)
            .args(["--sha256", &a.plugin_sha256])
            .arg("--config")
            .arg(&config_path)
            .args([
                "--pull-timeout",
                "200ms",
                "--heartbeat-interval",
                "1s",
                "--stop-deadline",
                "5s",
            ]);
        Ok(Host {
            proc: Proc::spawn(command, &format!("host {connector_id}"))?,
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
