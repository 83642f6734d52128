//! Running `riskctl` against a core, and a core with a reporting connector and two devices.

use std::{path::PathBuf, process::Stdio, time::Duration};

use riskgate_tests::{
    admin::compliance_connector,
    api::{DeviceReport, HealthState, Platform, ThreatCategory, ThreatLevel},
    batch, ingest, now, register_connector_with, report, threat, CoreProcess,
};

/// How long one riskctl run may take.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// The connector the fixture reports through (its data counts for compliance on every platform).
pub(crate) const CONNECTOR: &str = "lookout";

/// A device the fixture reports at high severity, with one open threat.
pub(crate) const RISKY: &str = "dev-risky";

/// A device the fixture reports as secured.
pub(crate) const SAFE: &str = "dev-safe";

/// The open threat on [`RISKY`].
pub(crate) const THREAT: &str = "thr-trojan-1";

/// How one riskctl run ended.
#[derive(Debug)]
pub(crate) struct Run {
    /// The exit code (-1 if killed by a signal).
    pub(crate) code: i32,
    /// Everything on stdout.
    pub(crate) stdout: String,
    /// Everything on stderr.
    pub(crate) stderr: String,
}

impl Run {
    /// Panics with the whole output unless the run succeeded; returns stdout.
    pub(crate) fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "riskctl failed: {self:#?}");
        &self.stdout
    }

    /// Panics unless the run exited with `code` and one line on stderr containing `needle`.
    pub(crate) fn fails_with(&self, code: i32, needle: &str) {
        assert_eq!(self.code, code, "unexpected exit code: {self:#?}");
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}: {self:#?}"
        );
        assert_eq!(self.stderr.lines().count(), 1, "not one line: {self:#?}");
    }

    /// Stdout parsed as one JSON document.
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.ok()).unwrap_or_else(|e| panic!("not JSON ({e}): {self:#?}"))
    }
}

/// A riskctl invocation: arguments and extra environment.
#[derive(Debug, Default, Clone)]
pub(crate) struct Riskctl {
    args: Vec<String>,
    envs: Vec<(String, String)>,
}

impl Riskctl {
    /// `riskctl --server http://ADDR` for `core`.
    pub(crate) fn at(core: &CoreProcess) -> Self {
        Self::at_url(&format!("http://{}", core.grpc_addr()))
    }

    /// `riskctl --server URL`.
    pub(crate) fn at_url(url: &str) -> Self {
        Self::default().args(&["--server", url])
    }

    /// Adds arguments.
    pub(crate) fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|a| (*a).to_owned()));
        self
    }

    /// Sets an environment variable for the run.
    pub(crate) fn env(mut self, key: &str, value: &str) -> Self {
        self.envs.push((key.to_owned(), value.to_owned()));
        self
    }

    /// The command, with the caller's RISKCTL_* variables removed so they cannot leak in.
    pub(crate) fn command(&self, extra: &[&str]) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_riskctl"));
        command
            .args(&self.args)
            .args(extra)
            .env_remove("RISKCTL_SERVER")
            .env_remove("RISKCTL_TOKEN")
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    }

    /// Runs `riskctl ARGS EXTRA` to completion.
    pub(crate) async fn run(&self, extra: &[&str]) -> Run {
        let output = tokio::time::timeout(RUN_TIMEOUT, self.command(extra).output())
            .await
            .unwrap_or_else(|_| panic!("riskctl {:?} {extra:?} did not exit", self.args))
            .expect("riskctl runs");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// A core with [`CONNECTOR`] registered, and [`RISKY`] and [`SAFE`] reported through it.
#[derive(Debug)]
pub(crate) struct Fixture {
    pub(crate) core: CoreProcess,
    _dir: tempfile::TempDir,
    next_batch: u64,
}

impl Fixture {
    pub(crate) async fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let core = CoreProcess::start(&dir.path().join("data"), &[]).await;
        register_connector_with(&core, compliance_connector(CONNECTOR))
            .await
            .expect("register the connector");
        let mut fixture = Self {
            core,
            _dir: dir,
            next_batch: 1,
        };
        let mut risky = report(RISKY, Platform::Ios, HealthState::HighSeverity, now());
        risky.os_version = "17.4".to_owned();
        risky.owner_user_id = "alice@example.com".to_owned();
        risky.threats = vec![threat(
            THREAT,
            ThreatCategory::Application,
            ThreatLevel::High,
        )];
        let safe = report(SAFE, Platform::Android, HealthState::Secured, now());
        fixture.ingest(vec![risky, safe]).await;
        fixture
    }

    /// Ingests one batch of reports through [`CONNECTOR`].
    pub(crate) async fn ingest(&mut self, reports: Vec<DeviceReport>) {
        let mut client = self.core.ingest_client().await.expect("ingest client");
        let seq = self.next_batch;
        self.next_batch += 1;
        ingest(&mut client, vec![batch(CONNECTOR, seq, b"cp", reports)])
            .await
            .expect("ingest");
    }

    /// Reports `device` (iOS) in `health` now.
    pub(crate) async fn report(&mut self, device: &str, health: HealthState) {
        self.ingest(vec![report(device, Platform::Ios, health, now())])
            .await;
    }

    /// riskctl pointed at this core.
    pub(crate) fn riskctl(&self) -> Riskctl {
        Riskctl::at(&self.core)
    }
}

/// The repository's root (for docs/examples).
pub(crate) fn repo_root() -> PathBuf {
    riskgate_tests::binary::workspace_root()
}
