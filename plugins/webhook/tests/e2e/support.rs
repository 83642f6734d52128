//! What the webhook end-to-end tests share: building the plugin `.so` and the connector host once,
//! starting `riskgate-connector-host` on it with a pinned SHA-256, and reading its output.
//! The core is started through the `riskgate-tests` harness (`CoreProcess`).

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
    /// `libriskgate_webhook.so`.
    pub(crate) plugin: PathBuf,
    /// Its lowercase hex SHA-256, pinned on the host's command line.
    pub(crate) sha256: String,
    /// `riskgate-connector-host`.
    pub(crate) host: PathBuf,
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
        .ok_or("plugins/webhook is two levels below the root")?
        .to_path_buf();
    let output = std::process::Command::new(&cargo)
        .arg("build")
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .args([
            "-p",
            "riskgate-webhook",
            "-p",
            "riskgate-connector-host",
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
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        if msg["target"]["name"] == "riskgate-connector-host" {
            if let Some(exe) = msg["executable"].as_str() {
                host = Some(PathBuf::from(exe));
            }
        }
        if msg["target"]["name"] == "riskgate_webhook" {
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
    let plugin = plugin.ok_or("cargo built no libriskgate_webhook.so")?;
    let bytes = std::fs::read(&plugin).map_err(|e| format!("reading {}: {e}", plugin.display()))?;
    let sha256 = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(Artifacts {
        plugin,
        sha256,
        host: host.ok_or("cargo built no riskgate-connector-host")?,
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
    /// Starts the host for `connector_id` with the webhook plugin and the config file `config`.
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

/// Waits for the plugin to write its bound address to `path`.
pub(crate) async fn read_address(path: &Path, host: &Host) -> anyhow::Result<String> {
    wait_until(WAIT, "the webhook plugin writes its address", || async {
        path.is_file()
    })
    .await
    .with_context(|| format!("host output:\n{}", host.output.text()))?;
    Ok(std::fs::read_to_string(path)?.trim().to_owned())
}
