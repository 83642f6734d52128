//! The SDK outside this repository (issue 14, point 13): `sdk/Cargo.toml` inherits nothing from the
//! workspace, and the packaged crate, unpacked in a directory of its own, builds a connector that
//! passes `riskgate-conformance`, the way a vendor would use it before it is published.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{ensure, Context as _};

use crate::support::{artifacts, config_file, workspace_root};

/// A connector as small as a vendor's first one: one report per device every 20 ms until stopped,
/// its checkpoint the number of rounds sent. Its configuration is the device count as text. It uses
/// a tokio feature the SDK's re-export lacks, enabled by depending on tokio itself.
const CONNECTOR_LIB: &str = r#"
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use riskgate_sdk::{
    pb, prost_types, Batch, BatchSink, Connector, ConnectorError, Manifest, Shutdown, StartContext,
};

struct Tiny {
    devices: u32,
    round: u64,
}

impl Connector for Tiny {
    fn manifest() -> Manifest {
        Manifest {
            name: "tiny".to_owned(),
            vendor: "outside".to_owned(),
            version: "0.1.0".to_owned(),
        }
    }

    fn create(start: &StartContext) -> Result<Self, ConnectorError> {
        let text = std::str::from_utf8(&start.config)
            .map_err(|_| ConnectorError::Config("not UTF-8 text".to_owned()))?;
        let devices = match text.trim() {
            "" => 2,
            count => count
                .parse()
                .map_err(|_| ConnectorError::Config(format!("{count:?} is not a device count")))?,
        };
        let round = match &start.checkpoint {
            None => 0,
            Some(raw) => std::str::from_utf8(raw)
                .ok()
                .and_then(|text| text.parse().ok())
                .ok_or_else(|| ConnectorError::Fatal("unreadable checkpoint".to_owned()))?,
        };
        Ok(Tiny { devices, round })
    }

    async fn run(mut self, sink: BatchSink, shutdown: Shutdown) -> Result<(), ConnectorError> {
        // `fs` is not among the features of the SDK's tokio: it comes from this crate's own tokio
        // dependency, which cargo unifies with the re-exported one (sdk/README.md).
        riskgate_sdk::tokio::fs::metadata(".")
            .await
            .map_err(|e| ConnectorError::Fatal(format!("the working directory: {e}")))?;
        while !shutdown.is_shutdown() {
            self.round += 1;
            let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
            let reports = (0..self.devices)
                .map(|device| pb::DeviceReport {
                    device_id: format!("tiny-{device}"),
                    platform: pb::Platform::Android as i32,
                    health_state: pb::HealthState::Secured as i32,
                    observed_at: Some(prost_types::Timestamp {
                        seconds: now.as_secs() as i64,
                        nanos: 0,
                    }),
                    vendor_event_id: format!("tiny-{}-{device}", self.round),
                    ..Default::default()
                })
                .collect();
            let batch = Batch {
                checkpoint: self.round.to_string().into_bytes(),
                reports,
            };
            if sink.send(batch).await.is_err() {
                return Ok(());
            }
            riskgate_sdk::tokio::select! {
                () = riskgate_sdk::tokio::time::sleep(Duration::from_millis(20)) => {}
                () = shutdown.wait() => {}
            }
        }
        Ok(())
    }
}

riskgate_sdk::export_connector!(Tiny);
"#;

/// Runs `command`, failing with its output unless it succeeds.
fn run(mut command: Command, what: &str) -> anyhow::Result<String> {
    let output = command
        .output()
        .with_context(|| format!("cannot run {what}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    ensure!(
        output.status.success(),
        "{what} failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(stdout)
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// `cargo package -p riskgate-sdk` into `target_dir`, unpacked into `into`; returns the crate's directory.
fn package_sdk(target_dir: &Path, into: &Path) -> anyhow::Result<PathBuf> {
    let mut package = cargo();
    package
        .arg("package")
        .arg("--manifest-path")
        .arg(workspace_root().join("Cargo.toml"))
        .args([
            "-p",
            "riskgate-sdk",
            "--no-verify",
            "--allow-dirty",
            "--offline",
        ])
        .arg("--target-dir")
        .arg(target_dir);
    run(package, "cargo package -p riskgate-sdk")?;
    let packaged = std::fs::read_dir(target_dir.join("package"))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|ext| ext == "crate"))
        .context("cargo package made no .crate file")?;
    let mut unpack = Command::new("tar");
    unpack.arg("-xzf").arg(&packaged).arg("-C").arg(into);
    run(unpack, "tar -xzf")?;
    let stem = packaged.file_stem().context("the .crate file has a name")?;
    Ok(into.join(stem))
}

#[test]
fn the_packaged_sdk_builds_a_connector_outside_the_workspace_that_passes_conformance(
) -> anyhow::Result<()> {
    let outside = tempfile::tempdir()?;
    let sdk = package_sdk(&outside.path().join("package-target"), outside.path())?;
    // The crate as the SDK's own manifest describes it (cargo keeps it as Cargo.toml.orig): a copy of
    // sdk/ must build without the workspace around it, not only the manifest cargo rewrote.
    std::fs::copy(sdk.join("Cargo.toml.orig"), sdk.join("Cargo.toml"))?;

    let connector = outside.path().join("tiny-connector");
    std::fs::create_dir_all(connector.join("src"))?;
    std::fs::write(
        connector.join("Cargo.toml"),
        format!(
            "[package]\nname = \"tiny-connector\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [lib]\ncrate-type = [\"cdylib\"]\n\n\
             [dependencies]\nriskgate-sdk = {{ path = {:?} }}\n\
             tokio = {{ version = \"1\", features = [\"fs\"] }}\n\n[workspace]\n",
            sdk.display().to_string()
        ),
    )?;
    std::fs::write(connector.join("src/lib.rs"), CONNECTOR_LIB)?;
    // The workspace's lock: the same dependency versions, all already in cargo's cache (offline).
    std::fs::copy(
        workspace_root().join("Cargo.lock"),
        connector.join("Cargo.lock"),
    )?;
    // A target dir that survives the test, so the SDK's dependencies compile once, not every run.
    let target = artifacts().target_dir.join("sdk-outside");
    let mut build = cargo();
    build
        .current_dir(&connector)
        .args(["build", "--offline", "--lib"])
        .arg("--target-dir")
        .arg(&target);
    run(build, "cargo build of the outside connector")?;
    let plugin = target.join("debug/libtiny_connector.so");
    ensure!(plugin.is_file(), "no {}", plugin.display());

    let config = config_file(outside.path(), "tiny.txt", "3");
    let mut conformance = Command::new(&artifacts().conformance);
    conformance.arg(&plugin).arg("--config").arg(&config);
    let report = run(conformance, "riskgate-conformance")?;
    assert!(report.contains("5 passed, 0 failed"), "{report}");
    Ok(())
}

#[test]
fn the_sdk_manifest_inherits_nothing_and_agrees_with_the_workspace() -> anyhow::Result<()> {
    let read = |path: PathBuf| -> anyhow::Result<toml::Table> {
        Ok(std::fs::read_to_string(&path)
            .with_context(|| path.display().to_string())?
            .parse()?)
    };
    let sdk_text = std::fs::read_to_string(workspace_root().join("sdk/Cargo.toml"))?;
    assert!(
        !sdk_text.contains("workspace = true") && !sdk_text.contains(".workspace"),
        "sdk/Cargo.toml inherits from the workspace:\n{sdk_text}"
    );
    let sdk = read(workspace_root().join("sdk/Cargo.toml"))?;
    let root = read(workspace_root().join("Cargo.toml"))?;
    let workspace = &root["workspace"];
    assert_eq!(sdk["lints"], workspace["lints"], "lints differ");
    for field in ["edition", "rust-version", "license", "repository"] {
        assert_eq!(
            sdk["package"][field], workspace["package"][field],
            "package.{field} differs"
        );
    }
    let version = |spec: &toml::Value| match spec {
        toml::Value::String(version) => Some(version.clone()),
        other => other.get("version")?.as_str().map(str::to_owned),
    };
    for table in ["dependencies", "dev-dependencies"] {
        let Some(deps) = sdk.get(table).and_then(toml::Value::as_table) else {
            continue;
        };
        for (name, spec) in deps {
            let shared = &workspace["dependencies"][name.as_str()];
            assert_eq!(
                version(spec),
                version(shared),
                "{table}.{name} requires another version than the workspace's"
            );
        }
    }
    Ok(())
}
