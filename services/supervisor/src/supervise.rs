//! One supervision loop per connector: start its host, classify how it exited, restart it with
//! backoff, or quarantine it and report the cause to the core.

use std::{
    path::{Path, PathBuf},
    process::{ExitStatus, Stdio},
    time::{Duration, Instant},
};

use riskgate_host_protocol::{describe, HostExit};
use riskgate_proto::v1 as api;
use tokio::{process::Command, sync::watch};

use crate::{
    backoff::{jittered_delay, CrashWindow},
    config::{ConnectorEntry, RestartPolicy},
};

/// How one connector's supervision ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The supervisor is shutting down; the host was stopped.
    ShutDown,
    /// The plugin ended its feed.
    Finished,
    /// The host failed in a way restarting cannot fix; not restarted.
    Stopped(String),
    /// Too many crashes within the window; not restarted.
    Quarantined(String),
}

/// Everything a supervision loop needs.
#[derive(Debug, Clone)]
pub struct Supervision {
    /// The connector.
    pub entry: ConnectorEntry,
    /// The core's endpoint.
    pub core: String,
    /// The host binary.
    pub host_bin: PathBuf,
    /// The restart policy.
    pub policy: RestartPolicy,
    /// Where the host writes its failure cause.
    pub status_dir: PathBuf,
}

impl Supervision {
    fn plugin_file(&self) -> String {
        self.entry.plugin.file_name().map_or_else(
            || self.entry.plugin.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }

    /// Runs until shutdown, a permanent failure, the end of the feed, or quarantine.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) -> Outcome {
        let id = self.entry.id.clone();
        let mut crashes = CrashWindow::default();
        let mut attempt = 0u32;
        loop {
            let status_file = self.status_dir.join(format!("{id}.status"));
            let _ = std::fs::remove_file(&status_file);
            let started = Instant::now();
            let mut child = match self.spawn(&status_file).await {
                Ok(child) => child,
                Err(e) => {
                    let cause = format!(
                        "cannot start riskgate-connector-host for plugin {}: {e}",
                        self.plugin_file()
                    );
                    return self.give_up(Outcome::Stopped(cause)).await;
                }
            };
            tracing::info!(connector = %id, pid = child.id().unwrap_or(0), "started connector host (attempt {})", attempt + 1);
            let status = tokio::select! {
                status = child.wait() => status,
                () = stopped(&mut shutdown) => {
                    self.stop_child(&mut child).await;
                    return Outcome::ShutDown;
                }
            };
            let status = match status {
                Ok(status) => status,
                Err(e) => {
                    return self
                        .give_up(Outcome::Stopped(format!("cannot wait for the host: {e}")))
                        .await
                }
            };
            let cause = self.cause(&status_file, status);
            let exit = status.code().and_then(HostExit::from_code);
            match exit {
                Some(HostExit::Done) => {
                    tracing::info!(connector = %id, "connector host finished");
                    return Outcome::Finished;
                }
                Some(exit) if exit.is_permanent() => {
                    return self.give_up(Outcome::Stopped(cause)).await
                }
                _ => {}
            }
            if started.elapsed() >= self.policy.healthy_after {
                attempt = 0;
                crashes.clear();
            }
            let recent = crashes.record(Instant::now(), self.policy.crash_loop_window);
            if recent >= self.policy.crash_loop_crashes {
                let window = humantime::format_duration(self.policy.crash_loop_window);
                let reason = format!("{cause} ({recent} crashes within {window})");
                return self.give_up(Outcome::Quarantined(reason)).await;
            }
            let delay = jittered_delay(&self.policy, attempt);
            attempt = attempt.saturating_add(1);
            tracing::warn!(connector = %id, "connector host crashed: {cause}; restarting in {delay:?}");
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = stopped(&mut shutdown) => return Outcome::ShutDown,
            }
        }
    }

    /// Starts the host in its own process group (a terminal's Ctrl-C or hangup reaches only the
    /// supervisor, which stops its hosts in order) and bound to the supervisor's life: it gets SIGTERM
    /// when the supervisor ends, `kill -9` included (`riskgate_process_guard`).
    async fn spawn(&self, status_file: &Path) -> std::io::Result<tokio::process::Child> {
        let mut command = Command::new(&self.host_bin);
        command
            .arg("run")
            .arg("--core")
            .arg(&self.core)
            .arg("--connector-id")
            .arg(&self.entry.id)
            .arg("--plugin")
            .arg(&self.entry.plugin)
            .arg("--sha256")
            .arg(&self.entry.sha256)
            .arg("--status-file")
            .arg(status_file)
            .args(&self.entry.host_args)
            .stdin(Stdio::null())
            .process_group(0)
            .kill_on_drop(true)
            // The plugin process gets its own config and token file, nothing else: no inherited secrets.
            .env_clear();
        for kept in ["PATH", "RUST_LOG", "RUST_BACKTRACE", "TZ", "LANG"] {
            if let Some(value) = std::env::var_os(kept) {
                command.env(kept, value);
            }
        }
        if let Some(config) = &self.entry.config {
            command.arg("--config").arg(config);
        }
        if let Some(token_file) = &self.entry.token_file {
            command.arg("--token-file").arg(token_file);
        }
        riskgate_process_guard::spawn(command).await
    }

    /// The host's own account of its failure, or the exit status naming the plugin.
    fn cause(&self, status_file: &Path, status: ExitStatus) -> String {
        match std::fs::read_to_string(status_file) {
            Ok(text) if !text.trim().is_empty() => text.trim().to_owned(),
            _ => format!(
                "plugin {}: connector-host {}",
                self.plugin_file(),
                describe(status)
            ),
        }
    }

    async fn stop_child(&self, child: &mut tokio::process::Child) {
        if let Some(pid) = child.id().and_then(|pid| i32::try_from(pid).ok()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
        if tokio::time::timeout(self.policy.stop_timeout, child.wait())
            .await
            .is_err()
        {
            tracing::warn!(connector = %self.entry.id, "host did not stop within {:?}; killing it", self.policy.stop_timeout);
            let _ = child.kill().await;
        }
    }

    /// Logs and reports a connector the supervisor will not restart.
    async fn give_up(&self, outcome: Outcome) -> Outcome {
        let message = match &outcome {
            Outcome::Quarantined(reason) => format!("quarantined: {reason}"),
            Outcome::Stopped(reason) => format!("stopped: {reason}"),
            Outcome::ShutDown | Outcome::Finished => return outcome,
        };
        tracing::error!(connector = %self.entry.id, "{message}");
        if let Err(e) = self.report(&message).await {
            tracing::warn!(connector = %self.entry.id, "cannot report to the core: {e}");
        }
        outcome
    }

    async fn report(&self, message: &str) -> anyhow::Result<()> {
        let mut last_error = None;
        for _ in 0..5 {
            let result = async {
                let channel = tonic::transport::Endpoint::from_shared(self.core.clone())?
                    .connect_timeout(Duration::from_secs(5))
                    .connect()
                    .await?;
                let mut client =
                    api::connector_service_client::ConnectorServiceClient::new(channel);
                let mut request = tonic::Request::new(api::HeartbeatRequest {
                    connector_id: self.entry.id.clone(),
                    error_message: message.to_owned(),
                    feed: None,
                });
                // The report is a heartbeat for this connector, so it carries this connector's own token.
                if let Some(path) = &self.entry.token_file {
                    let token = std::fs::read_to_string(path)?;
                    request
                        .metadata_mut()
                        .insert("authorization", format!("Bearer {}", token.trim()).parse()?);
                }
                client.heartbeat(request).await?;
                anyhow::Ok(())
            }
            .await;
            match result {
                Ok(()) => return Ok(()),
                Err(e) => last_error = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("no attempt made")))
    }
}

/// Resolves once the supervisor shuts down.
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}
