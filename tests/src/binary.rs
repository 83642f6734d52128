//! Building the workspace's binaries and plugins once per test process, and finding them.
//!
//! `cargo test -p X` does not build other packages' binaries or cdylibs, so the harness runs one
//! command the first time a test needs an artifact:
//! `$CARGO build --workspace --bins --lib --examples --profile P`. Every test binary of every crate
//! runs exactly that command, so after the first it is a no-op; `--examples` pulls in the
//! dev-dependencies, which keeps the feature set close to `cargo test`'s and avoids rebuilding
//! shared dependencies. Cargo reports where it put each artifact (`--message-format=json`), so
//! they are found wherever the target dir is (`CARGO_TARGET_DIR`, `build.target-dir`, ...).
//!
//! Setting `RISKGATE_CORE_BIN` to a path makes [`ensure_built`] use that server binary without
//! building, and `RISKGATE_BUILD_PROFILE` picks the cargo profile (`dev` by default; benchmarks use
//! `release`).

use std::{
    collections::HashMap,
    ffi::OsString,
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
};

/// The name of the server binary.
pub const CORE_BIN_NAME: &str = "riskgate-core";

/// Environment variable that, when set, names a prebuilt `riskgate-core` to use without building.
pub const CORE_BIN_ENV: &str = "RISKGATE_CORE_BIN";

/// Environment variable naming the cargo profile the binaries are built with (default `dev`).
pub const BUILD_PROFILE_ENV: &str = "RISKGATE_BUILD_PROFILE";

static PROFILE: OnceLock<String> = OnceLock::new();

/// Builds the binaries with this cargo profile instead of `dev` (benchmarks use `release`). Call it before
/// the first [`ensure_built`] or [`artifacts`]; later calls have no effect.
pub fn use_profile(profile: &str) {
    let _ = PROFILE.set(profile.to_owned());
}

/// The cargo profile artifacts are built with: [`use_profile`], else `RISKGATE_BUILD_PROFILE`, else `dev`.
pub fn profile() -> String {
    PROFILE
        .get()
        .cloned()
        .or_else(|| std::env::var(BUILD_PROFILE_ENV).ok())
        .unwrap_or_else(|| "dev".to_owned())
}

/// Everything the workspace builds that a test may start or load.
#[derive(Debug)]
pub struct Artifacts {
    /// Executables by binary target name (`riskgate-core`, `riskgate-connector-host`, ...).
    bins: HashMap<String, PathBuf>,
    /// Shared libraries by target name (`riskgate_lookout`, and the examples of `plugins/testing`).
    cdylibs: HashMap<String, PathBuf>,
}

impl Artifacts {
    /// The executable of binary target `name`. Panics, naming what was built, if there is none.
    pub fn bin(&self, name: &str) -> &Path {
        Self::get(&self.bins, "binary", name)
    }

    /// The `.so` of the cdylib (library or example) target `name`, for example `riskgate_lookout`.
    /// Panics, naming what was built, if there is none.
    pub fn cdylib(&self, name: &str) -> &Path {
        Self::get(&self.cdylibs, "cdylib", name)
    }

    fn get<'a>(map: &'a HashMap<String, PathBuf>, kind: &str, name: &str) -> &'a Path {
        match map.get(name) {
            Some(path) => path,
            None => {
                let mut built: Vec<&String> = map.keys().collect();
                built.sort();
                panic!("cargo built no {kind} named {name:?}; it built {built:?}")
            }
        }
    }

    /// Reads the artifacts out of cargo's `--message-format=json` output.
    fn from_cargo_messages(json_lines: &str) -> Self {
        let mut bins = HashMap::new();
        let mut cdylibs = HashMap::new();
        let messages = json_lines
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|msg| msg["reason"] == "compiler-artifact");
        for msg in messages {
            let name = msg["target"]["name"].as_str().unwrap_or_default();
            if let Some(exe) = msg["executable"].as_str() {
                bins.insert(name.to_owned(), PathBuf::from(exe));
            }
            let shared_object = msg["filenames"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(serde_json::Value::as_str)
                .find(|file| file.ends_with(std::env::consts::DLL_SUFFIX));
            if let Some(so) = shared_object {
                cdylibs.insert(name.to_owned(), PathBuf::from(so));
            }
        }
        Self { bins, cdylibs }
    }
}

/// Builds the workspace's binaries, libraries and examples (once per process) and returns where they are.
///
/// Panics with cargo's output if the build fails. Every caller after a failure gets the same panic
/// message without building again.
pub fn artifacts() -> &'static Artifacts {
    static ARTIFACTS: OnceLock<Result<Artifacts, String>> = OnceLock::new();
    match ARTIFACTS.get_or_init(build_workspace) {
        Ok(artifacts) => artifacts,
        Err(message) => panic!("{message}"),
    }
}

/// Returns the path of `riskgate-core`: `RISKGATE_CORE_BIN` if set, else the one [`artifacts`] built.
pub fn ensure_built() -> &'static Path {
    static CORE_BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let core = CORE_BIN.get_or_init(|| match std::env::var_os(CORE_BIN_ENV) {
        Some(path) if Path::new(&path).is_file() => Ok(PathBuf::from(path)),
        Some(path) => Err(format!("{CORE_BIN_ENV}={path:?} is not a file")),
        None => Ok(artifacts().bin(CORE_BIN_NAME).to_path_buf()),
    });
    match core {
        Ok(path) => path,
        Err(message) => panic!("{message}"),
    }
}

fn build_workspace() -> Result<Artifacts, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let manifest = workspace_root().join("Cargo.toml");
    let profile = profile();
    let output = Command::new(&cargo)
        .arg("build")
        .arg("--manifest-path")
        .arg(&manifest)
        .args(["--workspace", "--bins", "--lib", "--examples"])
        .args(["--profile", &profile])
        .arg("--message-format=json-render-diagnostics")
        .output()
        .map_err(|e| format!("could not run {cargo:?} build: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`{cargo:?} build --workspace --bins --lib --examples --profile {profile}` failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(Artifacts::from_cargo_messages(&String::from_utf8_lossy(
        &output.stdout,
    )))
}

/// The workspace root: the parent of this crate's manifest dir (`<root>/tests`).
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::Artifacts;
    use std::path::Path;

    #[test]
    fn finds_binaries_and_shared_objects_among_cargo_messages() {
        let lines = concat!(
            r#"{"reason":"compiler-artifact","target":{"name":"riskgate_proto","kind":["lib"]},"filenames":["/t/debug/libriskgate_proto.rlib"],"executable":null}"#,
            "\n",
            r#"{"reason":"compiler-artifact","target":{"name":"riskgate-core","kind":["bin"]},"filenames":["/t/debug/riskgate-core"],"executable":"/t/debug/riskgate-core"}"#,
            "\n",
            r#"{"reason":"compiler-artifact","target":{"name":"riskgate_lookout","kind":["cdylib","rlib"]},"filenames":["/t/debug/libriskgate_lookout.so","/t/debug/libriskgate_lookout.rlib"],"executable":null}"#,
            "\n",
            r#"{"reason":"build-finished","success":true}"#,
        );
        let artifacts = Artifacts::from_cargo_messages(lines);
        assert_eq!(
            artifacts.bin("riskgate-core"),
            Path::new("/t/debug/riskgate-core")
        );
        assert_eq!(
            artifacts.cdylib("riskgate_lookout"),
            Path::new("/t/debug/libriskgate_lookout.so")
        );
        assert!(!artifacts.bins.contains_key("riskgate_proto"));
        assert!(!artifacts.cdylibs.contains_key("riskgate_proto"));
    }

    #[test]
    #[should_panic(expected = "cargo built no binary named \"missing\"")]
    fn a_missing_artifact_panics_naming_it() {
        Artifacts::from_cargo_messages("").bin("missing");
    }
}
