//! What the Zimperium end-to-end tests share: building the plugin `.so`, the connector host and the
//! vendor simulator once, starting `riskgate-vendor-sim` and `riskgate-connector-host` (with the
//! plugin's SHA-256 pinned) on `127.0.0.1` port 0, driving the simulator's admin API, and reading
//! output. The core is started through the `riskgate-tests` harness (`CoreProcess`).

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use anyhow::Context as _;
use riskgate_tests::{wait_until, CoreProcess};
use sha2::{Digest, Sha256};
use tokio::{
    io::{AsyncBufReadExt, AsyncRead, BufReader},
    process::{Child, Command},
};

/// Generous bound for anything the tests wait for.
pub(crate) const WAIT: Duration = Duration::from_secs(30);

/// The built plugin and host.
#[derive(Debug)]
pub(crate) struct Artifacts {
    /// `libriskgate_zimperium.so`.
    pub(crate) plugin: PathBuf,
    /// Its lowercase hex SHA-256, pinned on the host's command line.
    pub(crate) sha256: String,
    /// `riskgate-connector-host`.
    pub(crate) host: PathBuf,
    /// `riskgate-vendor-sim`.
    pub(crate) sim: PathBuf,
}

/// Builds the plugin and the host once per test process.
pub(crate) fn artifacts() -> &'static Artifacts {
    static ARTIFACTS: OnceLock<Result<Artifacts, String>> = OnceLock::new();
    match ARTIFACTS.get_or_init(build) {
        Ok(artifacts) => artifacts,
        Err(message) => panic!("{message}"),
    }
}

fn build() -> Result<Artifacts, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .ok_or("plugins/zimperium is two levels below the root")?
        .to_path_buf();
    let output = std::process::Command::new(&cargo)
        .arg("build")
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .args([
            "-p",
            "riskgate-zimperium",
            "-p",
            "riskgate-connector-host",
            "-p",
            "riskgate-vendor-sim",
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
    let mut plugin = None;
    let mut host = None;
    let mut sim = None;
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        if let Some(exe) = msg["executable"].as_str() {
            if msg["target"]["name"] == "riskgate-connector-host" {
                host = Some(PathBuf::from(exe));
            } else if msg["target"]["name"] == "riskgate-vendor-sim" {
                sim = Some(PathBuf::from(exe));
            }
        }
        if msg["target"]["name"] == "riskgate_zimperium" {
            plugin = msg["filenames"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f.as_str())
                .find(|f| f.ends_with(".so"))
                .map(PathBuf::from)
                .or(plugin);
        }
    }
    let plugin = plugin.ok_or("cargo built no libriskgate_zimperium.so")?;
    let bytes = std::fs::read(&plugin).map_err(|e| format!("reading {}: {e}", plugin.display()))?;
    let sha256 = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(Artifacts {
        plugin,
        sha256,
        host: host.ok_or("cargo built no riskgate-connector-host")?,
        sim: sim.ok_or("cargo built no riskgate-vendor-sim")?,
    })
}

/// Lines a child wrote, shared with the reader tasks.
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

/// A running `riskgate-connector-host`, killed on drop.
#[derive(Debug)]
pub(crate) struct Host {
    child: Child,
    /// Its stdout and stderr (which holds the plugin's log lines).
    pub(crate) output: Captured,
}

impl Host {
    /// Starts the host for `connector_id` with the Zimperium plugin and the config file `config`.
    pub(crate) fn start(
        core: &CoreProcess,
        connector_id: &str,
        config: &Path,
    ) -> anyhow::Result<Host> {
        let artifacts = artifacts();
        let mut command = Command::new(&artifacts.host);
        command
            .arg("run")
            .arg("--core")
            .arg(format!("http://{}", core.grpc_addr()))
            .arg("--connector-id")
            .arg(connector_id)
            .arg("--plugin")
            .arg(&artifacts.plugin)
            .arg("--sha256")
            .arg(&artifacts.sha256)
            .arg("--config")
            .arg(config)
            .args([
                "--pull-timeout",
                "100ms",
                "--heartbeat-interval",
                "1s",
                "--stop-deadline",
                "3s",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .context("spawning riskgate-connector-host")?;
        let output = Captured::default();
        let tag = format!("host {connector_id} {}", child.id().unwrap_or(0));
        forward(
            child.stdout.take().context("stdout")?,
            tag.clone(),
            output.clone(),
        );
        forward(child.stderr.take().context("stderr")?, tag, output.clone());
        Ok(Host { child, output })
    }

    /// Whether the host is still running.
    pub(crate) fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Kills the host (SIGKILL) and waits for it.
    pub(crate) async fn kill(&mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        Ok(())
    }
}

/// A running `riskgate-vendor-sim`, killed on drop.
#[derive(Debug)]
pub(crate) struct Sim {
    _child: Child,
    /// Its output.
    pub(crate) output: Captured,
    /// `http://127.0.0.1:PORT`.
    pub(crate) url: String,
    http: reqwest::Client,
}

impl Sim {
    /// Starts the simulator on port 0 and waits for its READY line.
    pub(crate) async fn start() -> anyhow::Result<Sim> {
        let mut command = Command::new(&artifacts().sim);
        command
            .args(["--listen", "127.0.0.1:0", "--seed", "1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().context("spawning riskgate-vendor-sim")?;
        let output = Captured::default();
        let tag = format!("sim {}", child.id().unwrap_or(0));
        forward(
            child.stdout.take().context("stdout")?,
            tag.clone(),
            output.clone(),
        );
        forward(child.stderr.take().context("stderr")?, tag, output.clone());
        let mut url = None;
        wait_until(WAIT, "the simulator prints READY", || {
            url = output
                .text()
                .lines()
                .find_map(|line| line.strip_prefix("READY http="))
                .map(|addr| format!("http://{}", addr.trim()));
            let found = url.is_some();
            async move { found }
        })
        .await
        .with_context(|| format!("simulator output:\n{}", output.text()))?;
        Ok(Sim {
            _child: child,
            output,
            url: url.context("no READY line")?,
            http: reqwest::Client::new(),
        })
    }

    /// POSTs `body` to `/_admin/<call>` and returns the answer, failing on a non-2xx status.
    pub(crate) async fn admin(
        &self,
        call: &str,
        body: serde_json::Value,
    ) -> anyhow::Result<serde_json::Value> {
        let response = self
            .http
            .post(format!("{}/_admin/{call}", self.url))
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        let answer: serde_json::Value = response.json().await?;
        anyhow::ensure!(
            status.is_success(),
            "/_admin/{call} {body}: {status} {answer}"
        );
        Ok(answer)
    }

    /// GETs `/_admin/<call>`.
    pub(crate) async fn get(&self, call: &str) -> anyhow::Result<serde_json::Value> {
        Ok(self
            .http
            .get(format!("{}/_admin/{call}", self.url))
            .send()
            .await?
            .json()
            .await?)
    }
}
