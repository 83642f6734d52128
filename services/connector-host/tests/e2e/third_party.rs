//! Issue 5, point 5: third-party development. A fresh crate outside the workspace, depending only on
//! `riskgate-sdk` (by path, as it would from crates.io), is built as a `cdylib`, passes the
//! conformance suite, and streams into a running core through the connector host.

use std::path::PathBuf;

use crate::support::{artifacts, config_file, sha256_file, start_host, workspace_root, Core, WAIT};

const CONNECTOR_SOURCE: &str = r#"//! Acme's riskgate connector: `N` batches of one report each, `N` being its whole configuration.

use std::time::{SystemTime, UNIX_EPOCH};

use riskgate_sdk::{pb, prost_types, Batch, BatchSink, Connector, ConnectorError, Manifest, Shutdown, StartContext};

pub struct AcmeConnector {
    total: u64,
    next: u64,
}

impl Connector for AcmeConnector {
    fn manifest() -> Manifest {
        Manifest { name: "acme".into(), vendor: "Acme Mobile Security".into(), version: "1.2.3".into() }
    }

    fn create(start: &StartContext) -> Result<Self, ConnectorError> {
        let total = std::str::from_utf8(&start.config)
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .ok_or_else(|| ConnectorError::Config("the configuration must be a batch count".into()))?;
        let next = match &start.checkpoint {
            Some(raw) => String::from_utf8_lossy(raw).parse().map_err(|_| ConnectorError::Fatal("bad checkpoint".into()))?,
            None => 0,
        };
        Ok(AcmeConnector { total, next })
    }

    async fn run(mut self, sink: BatchSink, _shutdown: Shutdown) -> Result<(), ConnectorError> {
        while self.next < self.total {
            let seconds = SystemTime::now().duration_since(UNIX_EPOCH).map_or(1, |d| d.as_secs() as i64);
            let report = pb::DeviceReport {
                device_id: format!("acme-{}", self.next % 3),
                platform: pb::Platform::Ios as i32,
                health_state: pb::HealthState::LowSeverity as i32,
                observed_at: Some(prost_types::Timestamp { seconds, nanos: 0 }),
                vendor_event_id: format!("acme-event-{}", self.next),
                ..Default::default()
            };
            self.next += 1;
            let batch = Batch { checkpoint: self.next.to_string().into_bytes(), reports: vec![report] };
            if sink.send(batch).await.is_err() {
                return Ok(());
            }
        }
        Ok(())
    }
}

riskgate_sdk::export_connector!(AcmeConnector);
"#;

/// Creates and builds the crate; returns its `.so`.
fn build_third_party_crate(dir: &std::path::Path) -> anyhow::Result<PathBuf> {
    let sdk = workspace_root().join("sdk");
    std::fs::create_dir_all(dir.join("src"))?;
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            r#"[package]
name = "acme-riskgate-connector"
version = "1.2.3"
edition = "2021"

[lib]
crate-type = ["cdylib"]

[dependencies]
riskgate-sdk = {{ path = "{}" }}

# Same as the riskgate workspace, so the SDK's dependencies are reused from its target dir.
[profile.dev.package."*"]
opt-level = 1

[workspace]
"#,
            sdk.display()
        ),
    )?;
    std::fs::write(dir.join("src/lib.rs"), CONNECTOR_SOURCE)?;
    // Start from the workspace's lock file so the same dependency versions are used (and no
    // registry access is needed).
    std::fs::copy(workspace_root().join("Cargo.lock"), dir.join("Cargo.lock"))?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = std::process::Command::new(cargo)
        .current_dir(dir)
        .args([
            "build",
            "--offline",
            "--message-format=json-render-diagnostics",
        ])
        .env("CARGO_TARGET_DIR", &artifacts().target_dir)
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "building the third-party crate failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let so = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|msg| {
            msg["reason"] == "compiler-artifact"
                && msg["target"]["name"] == "acme_riskgate_connector"
        })
        .flat_map(|msg| msg["filenames"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f.as_str().map(PathBuf::from))
        .find(|f| f.extension().is_some_and(|e| e == "so"));
    so.ok_or_else(|| anyhow::anyhow!("cargo reported no .so for the third-party crate"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crate_outside_the_workspace_builds_passes_conformance_and_streams_into_the_core(
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let crate_dir = dir.path().join("acme-riskgate-connector");
    let plugin = build_third_party_crate(&crate_dir)?;
    assert!(!plugin.starts_with(workspace_root().join("sdk")));

    let conformance_config = config_file(dir.path(), "conformance.cfg", "100000");
    let output = std::process::Command::new(&artifacts().conformance)
        .arg(&plugin)
        .arg("--config")
        .arg(&conformance_config)
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "conformance failed:\n{stdout}");
    assert!(
        stdout.contains("acme 1.2.3") && stdout.contains("5 passed, 0 failed"),
        "{stdout}"
    );

    let core = Core::start().await?;
    core.create_connector("acme").await?;
    let config = config_file(dir.path(), "acme.cfg", "7");
    let mut host = start_host(&core, "acme", &plugin, &sha256_file(&plugin), &config, &[])?;
    let status = host.wait_exit(WAIT).await?;
    assert_eq!(status.code(), Some(0), "{}", host.output.text());
    let checkpoint = core.checkpoint("acme").await?.expect("a checkpoint");
    assert_eq!(
        (checkpoint.batch_seq, checkpoint.checkpoint.as_slice()),
        (7, b"7".as_slice())
    );
    assert_eq!(
        core.device("acme-0").await?.reports[0].vendor_event_id,
        "acme-event-6"
    );
    Ok(())
}
