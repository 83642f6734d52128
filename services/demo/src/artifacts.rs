//! The programs the demo runs: built with cargo (showing progress) or taken from `--bin-dir`.
//!
//! The build is the exact command the test harness runs (`riskgate_tests::binary`):
//! `cargo build --workspace --bins --lib --examples --profile P --message-format=json-render-diagnostics`.
//! Same flags, same feature set, so the demo and the tests reuse each other's artifacts instead of
//! rebuilding shared dependencies.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Instant,
};

use anyhow::Context as _;
use tokio::{
    io::{AsyncBufReadExt as _, AsyncReadExt as _, BufReader},
    process::Command,
};

use crate::out::Out;

/// Binary names, as cargo builds them.
const CORE: &str = "riskgate-core";
const SIM: &str = "riskgate-vendor-sim";
const HOST: &str = "riskgate-connector-host";
const CONSOLE: &str = "riskgate-console";
/// Library target names of the two connector plugins (`lib<name>.so`).
const LOOKOUT: &str = "riskgate_lookout";
const ZIMPERIUM: &str = "riskgate_zimperium";

/// Paths of everything the demo starts or loads.
#[derive(Debug, Clone)]
pub(crate) struct Binaries {
    pub(crate) core: PathBuf,
    pub(crate) sim: PathBuf,
    pub(crate) host: PathBuf,
    pub(crate) console: PathBuf,
    pub(crate) lookout_plugin: PathBuf,
    pub(crate) zimperium_plugin: PathBuf,
}

impl Binaries {
    /// Takes the binaries and plugins from `dir` (a cargo profile directory such as `target/debug`).
    pub(crate) fn from_dir(dir: &Path) -> anyhow::Result<Self> {
        let file = |name: String| {
            let path = dir.join(&name);
            anyhow::ensure!(
                path.is_file(),
                "--bin-dir {}: no {name} there (build the workspace first)",
                dir.display()
            );
            Ok(path)
        };
        Ok(Self {
            core: file(CORE.to_owned())?,
            sim: file(SIM.to_owned())?,
            host: file(HOST.to_owned())?,
            console: file(CONSOLE.to_owned())?,
            lookout_plugin: file(shared_object_name(LOOKOUT))?,
            zimperium_plugin: file(shared_object_name(ZIMPERIUM))?,
        })
    }
}

impl Binaries {
    /// Where tools the demo installs go (Envoy): `tools/` beside the profile directory the binaries are
    /// in, which is where the test harness puts them too (`target/tools`).
    pub(crate) fn tools_dir(&self) -> PathBuf {
        self.core
            .parent()
            .and_then(Path::parent)
            .map_or_else(|| PathBuf::from("target"), Path::to_path_buf)
            .join("tools")
    }
}

/// `libriskgate_lookout.so` on Linux.
fn shared_object_name(target: &str) -> String {
    format!(
        "{}{target}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

/// The cargo profile this executable was built with, read from its directory (`target/debug` is
/// `dev`, `target/<name>` is profile `<name>`); `release` if that says nothing.
pub(crate) fn own_profile() -> String {
    let dir_name = std::env::current_exe().ok().and_then(|exe| {
        exe.parent()
            .and_then(Path::file_name)
            .map(|name| name.to_string_lossy().into_owned())
    });
    match dir_name.as_deref() {
        Some("debug") => "dev".to_owned(),
        Some(name) if name != "deps" && name != "bin" => name.to_owned(),
        _ => "release".to_owned(),
    }
}

/// The workspace root, where `cargo build` runs (this crate is `services/demo`).
fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .ancestors()
        .nth(2)
        .unwrap_or(manifest_dir)
        .to_path_buf()
}

/// Builds the workspace with `profile`, showing a progress line, and finds the artifacts in cargo's
/// messages. On failure, cargo's diagnostics are in the error.
pub(crate) async fn build(profile: &str, out: &Out) -> anyhow::Result<Binaries> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let started = Instant::now();
    out.line(&format!(
        "building the workspace (profile {profile}); the first build takes a few minutes"
    ));
    let mut command = Command::new(&cargo);
    command
        .current_dir(workspace_root())
        .args(["build", "--workspace", "--bins", "--lib", "--examples"])
        .args(["--profile", profile])
        .arg("--message-format=json-render-diagnostics")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // Like every child of the demo, cargo ends if the demo dies.
    let mut child = riskgate_process_guard::spawn(command)
        .await
        .with_context(|| format!("cannot run {}", cargo.to_string_lossy()))?;

    // Cargo's own stderr (status lines and rendered diagnostics) is kept and shown only on failure,
    // so that it does not scroll the progress line away.
    let mut stderr = child.stderr.take().context("cargo's stderr")?;
    let stderr_text = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });

    let mut found = Found::default();
    let mut compiled = 0_usize;
    let mut lines = BufReader::new(child.stdout.take().context("cargo's stdout")?).lines();
    while let Some(line) = lines.next_line().await? {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if message["reason"] != "compiler-artifact" {
            continue;
        }
        compiled += 1;
        let name = message["target"]["name"].as_str().unwrap_or_default();
        found.note(name, &message);
        out.progress(&format!(
            "building {compiled} crates… {}",
            crate_label(&message)
        ));
    }
    let status = child.wait().await?;
    let stderr_text = stderr_text.await.unwrap_or_default();
    out.progress_done();
    anyhow::ensure!(
        status.success(),
        "`cargo build --workspace --bins --lib --examples --profile {profile}` failed ({status}):\n{stderr_text}"
    );
    out.line(&format!(
        "built {compiled} crates in {:.0?}",
        started.elapsed()
    ));
    found.into_binaries()
}

/// The name to show for an artifact: its target, or for a build script its package's directory
/// (`mio-1.0.2`), since every build script's target is called `build-script-build`.
fn crate_label(message: &serde_json::Value) -> String {
    let target = message["target"]["name"].as_str().unwrap_or_default();
    if target != "build-script-build" {
        return target.to_owned();
    }
    let package = message["manifest_path"]
        .as_str()
        .map(Path::new)
        .and_then(Path::parent)
        .and_then(Path::file_name)
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("{package} (build script)")
}

/// What cargo reported building.
#[derive(Debug, Default)]
struct Found {
    core: Option<PathBuf>,
    sim: Option<PathBuf>,
    host: Option<PathBuf>,
    console: Option<PathBuf>,
    lookout_plugin: Option<PathBuf>,
    zimperium_plugin: Option<PathBuf>,
}

impl Found {
    /// Records the executable or shared object of one `compiler-artifact` message.
    fn note(&mut self, target: &str, message: &serde_json::Value) {
        let executable = || message["executable"].as_str().map(PathBuf::from);
        let shared_object = || {
            message["filenames"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(serde_json::Value::as_str)
                .find(|file| file.ends_with(std::env::consts::DLL_SUFFIX))
                .map(PathBuf::from)
        };
        let slot = match target {
            CORE => (&mut self.core, executable()),
            SIM => (&mut self.sim, executable()),
            HOST => (&mut self.host, executable()),
            CONSOLE => (&mut self.console, executable()),
            LOOKOUT => (&mut self.lookout_plugin, shared_object()),
            ZIMPERIUM => (&mut self.zimperium_plugin, shared_object()),
            _ => return,
        };
        if let (slot, Some(path)) = slot {
            *slot = Some(path);
        }
    }

    fn into_binaries(self) -> anyhow::Result<Binaries> {
        let missing = |what: &str| anyhow::anyhow!("cargo built no {what}");
        Ok(Binaries {
            core: self.core.ok_or_else(|| missing(CORE))?,
            sim: self.sim.ok_or_else(|| missing(SIM))?,
            host: self.host.ok_or_else(|| missing(HOST))?,
            console: self.console.ok_or_else(|| missing(CONSOLE))?,
            lookout_plugin: self
                .lookout_plugin
                .ok_or_else(|| missing(&shared_object_name(LOOKOUT)))?,
            zimperium_plugin: self
                .zimperium_plugin
                .ok_or_else(|| missing(&shared_object_name(ZIMPERIUM)))?,
        })
    }
}

/// Lowercase hex SHA-256 of a file: the host pins each plugin by it.
pub(crate) fn sha256_hex(path: &Path) -> anyhow::Result<String> {
    use sha2::Digest as _;
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(hex::encode(sha2::Sha256::digest(&bytes)))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{crate_label, Found};

    fn found(messages: &[&str]) -> Found {
        let mut found = Found::default();
        for line in messages {
            let message: serde_json::Value = serde_json::from_str(line).expect("valid JSON");
            let name = message["target"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            found.note(&name, &message);
        }
        found
    }

    const CORE: &str = r#"{"reason":"compiler-artifact","target":{"name":"riskgate-core"},"filenames":["/t/riskgate-core"],"executable":"/t/riskgate-core"}"#;
    const SIM: &str = r#"{"reason":"compiler-artifact","target":{"name":"riskgate-vendor-sim"},"filenames":["/t/riskgate-vendor-sim"],"executable":"/t/riskgate-vendor-sim"}"#;
    const HOST: &str = r#"{"reason":"compiler-artifact","target":{"name":"riskgate-connector-host"},"filenames":["/t/riskgate-connector-host"],"executable":"/t/riskgate-connector-host"}"#;
    const CONSOLE: &str = r#"{"reason":"compiler-artifact","target":{"name":"riskgate-console"},"filenames":["/t/riskgate-console"],"executable":"/t/riskgate-console"}"#;
    const LOOKOUT: &str = r#"{"reason":"compiler-artifact","target":{"name":"riskgate_lookout"},"filenames":["/t/libriskgate_lookout.so","/t/libriskgate_lookout.rlib"],"executable":null}"#;
    const ZIMPERIUM: &str = r#"{"reason":"compiler-artifact","target":{"name":"riskgate_zimperium"},"filenames":["/t/libriskgate_zimperium.so"],"executable":null}"#;
    const ZIMPERIUM_RLIB_ONLY: &str = r#"{"reason":"compiler-artifact","target":{"name":"riskgate_zimperium"},"filenames":["/t/libriskgate_zimperium.rlib"],"executable":null}"#;

    #[test]
    fn finds_binaries_and_plugins_among_cargo_messages() {
        let binaries = found(&[CORE, SIM, HOST, CONSOLE, LOOKOUT, ZIMPERIUM])
            .into_binaries()
            .expect("everything was built");
        assert_eq!(binaries.core, Path::new("/t/riskgate-core"));
        assert_eq!(binaries.sim, Path::new("/t/riskgate-vendor-sim"));
        assert_eq!(binaries.host, Path::new("/t/riskgate-connector-host"));
        assert_eq!(binaries.console, Path::new("/t/riskgate-console"));
        assert_eq!(
            binaries.lookout_plugin,
            Path::new("/t/libriskgate_lookout.so")
        );
        assert_eq!(
            binaries.zimperium_plugin,
            Path::new("/t/libriskgate_zimperium.so")
        );
    }

    #[test]
    fn a_build_script_is_shown_by_its_package() {
        let message: serde_json::Value = serde_json::from_str(
            r#"{"reason":"compiler-artifact","target":{"name":"build-script-build"},"manifest_path":"/r/mio-1.0.2/Cargo.toml"}"#,
        )
        .expect("valid JSON");
        assert_eq!(crate_label(&message), "mio-1.0.2 (build script)");
        let core: serde_json::Value = serde_json::from_str(CORE).expect("valid JSON");
        assert_eq!(crate_label(&core), "riskgate-core");
    }

    #[test]
    fn a_missing_plugin_is_named() {
        let error = found(&[CORE, SIM, HOST, CONSOLE, LOOKOUT, ZIMPERIUM_RLIB_ONLY])
            .into_binaries()
            .expect_err("no zimperium .so");
        assert_eq!(error.to_string(), "cargo built no libriskgate_zimperium.so");
    }
}
