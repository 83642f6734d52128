//! Running the real `riskgate-core` binary: start it and wait for its `READY` line, connect gRPC
//! clients, stop it with SIGTERM or SIGKILL, or run it to completion (for startup errors).
//!
//! The server's stderr is forwarded line by line to the test's stderr (prefixed with the pid, and
//! captured by the test harness like any test output) and also kept in memory, so a failure can
//! include what the server logged.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{ExitStatus, Stdio},
    time::Duration,
};

use anyhow::{anyhow, bail, Context as _};
use nix::{
    sys::signal::{kill, Signal},
    unistd::Pid,
};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};
use tonic::transport::{Channel, Endpoint};

use crate::{
    binary::ensure_built,
    child::{forward_lines, Captured},
    rpc::{DeviceClient, IngestClient},
};

/// How long the server may take to print its `READY` line.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long the server may take to exit after a signal, or to fail at startup.
pub const EXIT_TIMEOUT: Duration = Duration::from_secs(15);

/// Environment variables the server reads; they are cleared so the developer's environment cannot
/// leak into a test.
pub const CORE_ENV_VARS: [&str; 4] = [
    "RISKGATE_DATA_DIR",
    "RISKGATE_LISTEN",
    "RISKGATE_METRICS_LISTEN",
    "RISKGATE_CONFIG",
];

/// One running `riskgate-core` process, killed (SIGKILL) when dropped.
#[derive(Debug)]
pub struct CoreProcess {
    child: Child,
    pid: u32,
    grpc_addr: SocketAddr,
    metrics_addr: SocketAddr,
    gateway_addr: Option<SocketAddr>,
    data_dir: PathBuf,
    stderr: Captured,
    extra_stdout: Captured,
    /// The throw-away data dir of [`CoreProcess::start_temp`], removed when the process is dropped.
    _temp_dir: Option<tempfile::TempDir>,
}

impl CoreProcess {
    /// Starts the server on `data_dir` with gRPC and metrics on `127.0.0.1:0`, plus `extra_args`,
    /// and waits for its `READY` line. Panics (with the server's stderr) if it does not get ready
    /// within [`READY_TIMEOUT`].
    pub async fn start(data_dir: &Path, extra_args: &[&str]) -> CoreProcess {
        match Self::try_start(data_dir, extra_args).await {
            Ok(process) => process,
            Err(e) => panic!("riskgate-core did not start: {e:#}"),
        }
    }

    /// Starts the server like [`CoreProcess::try_start`] on a new temporary data dir that lives as long
    /// as the returned process.
    pub async fn start_temp(extra_args: &[&str]) -> anyhow::Result<CoreProcess> {
        let temp_dir = tempfile::tempdir().context("creating a temporary data dir")?;
        let mut process = Self::try_start(temp_dir.path(), extra_args).await?;
        process._temp_dir = Some(temp_dir);
        Ok(process)
    }

    /// Like [`CoreProcess::start`], but returns the failure instead of panicking.
    pub async fn try_start(data_dir: &Path, extra_args: &[&str]) -> anyhow::Result<CoreProcess> {
        let bin = ensure_built();
        let mut command = Command::new(bin);
        command
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"])
            .args(extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for var in CORE_ENV_VARS {
            command.env_remove(var);
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("spawning {}", bin.display()))?;
        let pid = child.id().context("child has no pid")?;

        let stderr = Captured::default();
        let stderr_task = forward_lines(
            child.stderr.take().context("no stderr pipe")?,
            format!("riskgate-core {pid} stderr"),
            stderr.clone(),
        );
        let mut stdout = BufReader::new(child.stdout.take().context("no stdout pipe")?).lines();

        let ready = tokio::time::timeout(READY_TIMEOUT, async {
            match stdout.next_line().await {
                Ok(Some(line)) => parse_ready(&line),
                Ok(None) => Err(anyhow!("stdout closed before the READY line")),
                Err(e) => Err(anyhow!("reading stdout: {e}")),
            }
        })
        .await
        .unwrap_or_else(|_| Err(anyhow!("no READY line within {READY_TIMEOUT:?}")));

        let ReadyLine {
            grpc: grpc_addr,
            metrics: metrics_addr,
            gateway: gateway_addr,
        } = match ready {
            Ok(addrs) => addrs,
            Err(e) => {
                // Stop the process (if still running) and collect everything it wrote on stderr.
                let _ = child.start_kill();
                let status = tokio::time::timeout(EXIT_TIMEOUT, child.wait()).await;
                let _ = tokio::time::timeout(EXIT_TIMEOUT, stderr_task).await;
                let status = match status {
                    Ok(Ok(status)) => status.to_string(),
                    _ => "unknown exit status".to_owned(),
                };
                bail!(
                    "{e} (process {pid}: {status}); args: {extra_args:?}\n--- stderr ---\n{}",
                    stderr.text()
                );
            }
        };

        // Anything after READY is unexpected, but must be drained so the server never blocks on it.
        let extra_stdout = Captured::default();
        {
            let extra_stdout = extra_stdout.clone();
            tokio::spawn(async move {
                while let Ok(Some(line)) = stdout.next_line().await {
                    eprintln!("[riskgate-core {pid} stdout] {line}");
                    extra_stdout.push_line(&line);
                }
            });
        }

        Ok(CoreProcess {
            child,
            pid,
            grpc_addr,
            metrics_addr,
            gateway_addr,
            data_dir: data_dir.to_path_buf(),
            stderr,
            extra_stdout,
            _temp_dir: None,
        })
    }

    /// The bound gRPC address from the `READY` line.
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    /// The bound metrics (HTTP) address from the `READY` line.
    pub fn metrics_addr(&self) -> SocketAddr {
        self.metrics_addr
    }

    /// The bound address of Envoy's external authorization (`gateway=` in the `READY` line), when the
    /// core was configured with `[gateway]`.
    pub fn gateway_addr(&self) -> Option<SocketAddr> {
        self.gateway_addr
    }

    /// The data dir the process was started on.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Everything the server wrote on stderr so far.
    pub fn stderr_text(&self) -> String {
        self.stderr.text()
    }

    /// Lines the server wrote on stdout after its `READY` line (the contract says there are none).
    pub fn extra_stdout(&self) -> String {
        self.extra_stdout.text()
    }

    /// The server's gRPC URL, `http://GRPC_ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.grpc_addr)
    }

    /// A new gRPC channel to the server (`http://GRPC_ADDR`).
    pub async fn channel(&self) -> anyhow::Result<Channel> {
        let url = self.url();
        Endpoint::from_shared(url.clone())?
            .connect_timeout(Duration::from_secs(10))
            .connect()
            .await
            .with_context(|| format!("connecting to {url}"))
    }

    /// An `IngestService` client on a new channel.
    pub async fn ingest_client(&self) -> anyhow::Result<IngestClient> {
        Ok(IngestClient::new(self.channel().await?))
    }

    /// A `DeviceService` client on a new channel.
    pub async fn device_client(&self) -> anyhow::Result<DeviceClient> {
        Ok(DeviceClient::new(self.channel().await?))
    }

    /// Sends SIGKILL and waits for the process to die.
    pub async fn kill9(&mut self) -> anyhow::Result<ExitStatus> {
        self.signal(Signal::SIGKILL)?;
        self.wait_exit("SIGKILL").await
    }

    /// Sends SIGTERM and waits (at most [`EXIT_TIMEOUT`]) for the process to exit; returns its exit
    /// status. On timeout the process is killed and an error with its stderr is returned.
    pub async fn terminate(&mut self) -> anyhow::Result<ExitStatus> {
        self.stop_with(Signal::SIGTERM).await
    }

    /// Sends `signal` and waits (at most [`EXIT_TIMEOUT`]) for the process to exit; returns its
    /// exit status. On timeout the process is killed and an error with its stderr is returned.
    pub async fn stop_with(&mut self, signal: Signal) -> anyhow::Result<ExitStatus> {
        self.signal(signal)?;
        self.wait_exit(signal.as_str()).await
    }

    fn signal(&mut self, signal: Signal) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "riskgate-core {} had already exited ({status}) before {signal}\n--- stderr ---\n{}",
                self.pid,
                self.stderr_text()
            );
        }
        let pid = Pid::from_raw(i32::try_from(self.pid).context("pid fits in i32")?);
        kill(pid, signal).with_context(|| format!("sending {signal} to {}", self.pid))
    }

    async fn wait_exit(&mut self, after: &str) -> anyhow::Result<ExitStatus> {
        match tokio::time::timeout(EXIT_TIMEOUT, self.child.wait()).await {
            Ok(status) => Ok(status?),
            Err(_) => {
                let _ = self.child.kill().await;
                bail!(
                    "riskgate-core {} did not exit within {EXIT_TIMEOUT:?} after {after}\n--- stderr ---\n{}",
                    self.pid,
                    self.stderr_text()
                )
            }
        }
    }
}

/// Parses `READY grpc=127.0.0.1:PORT metrics=127.0.0.1:PORT` into (grpc, metrics).
pub fn parse_ready_line(line: &str) -> anyhow::Result<(SocketAddr, SocketAddr)> {
    parse_ready(line).map(|ready| (ready.grpc, ready.metrics))
}

/// The addresses a `READY` line announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadyLine {
    /// `grpc=`.
    pub grpc: SocketAddr,
    /// `metrics=`.
    pub metrics: SocketAddr,
    /// `gateway=`, present when the core serves Envoy's external authorization.
    pub gateway: Option<SocketAddr>,
}

/// Parses `READY grpc=ADDR metrics=ADDR [gateway=ADDR]`.
pub fn parse_ready(line: &str) -> anyhow::Result<ReadyLine> {
    let rest = line
        .strip_prefix("READY ")
        .ok_or_else(|| anyhow!("first stdout line is not a READY line: {line:?}"))?;
    let (mut grpc, mut metrics, mut gateway) = (None, None, None);
    for token in rest.split_whitespace() {
        let (key, value) = token
            .split_once('=')
            .ok_or_else(|| anyhow!("bad token {token:?} in READY line {line:?}"))?;
        let addr: SocketAddr = value
            .parse()
            .with_context(|| format!("bad address {value:?} in READY line {line:?}"))?;
        if addr.port() == 0 {
            bail!("READY line reports port 0: {line:?}");
        }
        match key {
            "grpc" => grpc = Some(addr),
            "metrics" => metrics = Some(addr),
            "gateway" => gateway = Some(addr),
            _ => bail!("unknown key {key:?} in READY line {line:?}"),
        }
    }
    match (grpc, metrics) {
        (Some(grpc), Some(metrics)) => Ok(ReadyLine {
            grpc,
            metrics,
            gateway,
        }),
        _ => bail!("READY line lacks grpc= or metrics=: {line:?}"),
    }
}

/// How a process run to completion ended.
#[derive(Debug, Clone)]
pub struct ExitOutput {
    /// Its exit status.
    pub status: ExitStatus,
    /// Everything it wrote on stdout.
    pub stdout: String,
    /// Everything it wrote on stderr.
    pub stderr: String,
}

/// Runs `riskgate-core ARGS` with extra environment `envs` (the `RISKGATE_*` variables are cleared
/// first) and waits for it to exit on its own, at most [`EXIT_TIMEOUT`]; for startup failures.
pub async fn run_core_to_exit(args: &[&str], envs: &[(&str, &str)]) -> anyhow::Result<ExitOutput> {
    let bin = ensure_built();
    let mut command = Command::new(bin);
    command.args(args).stdin(Stdio::null()).kill_on_drop(true);
    for var in CORE_ENV_VARS {
        command.env_remove(var);
    }
    command.envs(envs.iter().copied());
    let output = tokio::time::timeout(EXIT_TIMEOUT, command.output())
        .await
        .map_err(|_| anyhow!("riskgate-core {args:?} did not exit within {EXIT_TIMEOUT:?}"))?
        .with_context(|| format!("running {}", bin.display()))?;
    Ok(ExitOutput {
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::parse_ready_line;

    #[test]
    fn parses_ready_line() {
        let (grpc, metrics) =
            parse_ready_line("READY grpc=127.0.0.1:4000 metrics=127.0.0.1:4001").expect("valid");
        assert_eq!(grpc.to_string(), "127.0.0.1:4000");
        assert_eq!(metrics.to_string(), "127.0.0.1:4001");
        assert!(parse_ready_line("READY grpc=127.0.0.1:4000").is_err());
        assert!(parse_ready_line("listening on 127.0.0.1:4000").is_err());
        assert!(parse_ready_line("READY grpc=127.0.0.1:0 metrics=127.0.0.1:4001").is_err());
    }

    #[test]
    fn ready_line_may_name_the_gateway_listener() {
        let ready = super::parse_ready(
            "READY grpc=127.0.0.1:4000 metrics=127.0.0.1:4001 gateway=127.0.0.1:4002",
        )
        .expect("valid");
        assert_eq!(ready.gateway.map(|addr| addr.port()), Some(4002));
        let without =
            super::parse_ready("READY grpc=127.0.0.1:4000 metrics=127.0.0.1:4001").expect("valid");
        assert_eq!(without.gateway, None);
    }
}
