//! Building the workspace binaries once per test process and locating `riskgate-core`.
//!
//! `cargo test -p riskgate-tests` does not build other packages' binaries, so the harness runs
//! `$CARGO build --workspace --bins` itself (debug profile) the first time a test needs the server.
//! Cargo reports where it put each executable (`--message-format=json`), so the binary is found
//! wherever the target dir is (`CARGO_TARGET_DIR`, `build.target-dir`, ...).
//!
//! Setting `RISKGATE_CORE_BIN` to a path skips the build and uses that binary instead, and
//! `RISKGATE_BUILD_PROFILE` picks the cargo profile (`dev` by default; benchmarks use `release`).

use std::{
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
/// the first [`ensure_built`]; later calls have no effect.
pub fn use_profile(profile: &str) {
    let _ = PROFILE.set(profile.to_owned());
}

/// Builds the workspace binaries (once per process) and returns the path of `riskgate-core`.
///
/// Panics with cargo's output if the build fails or the binary is not among its artifacts. Every
/// caller after a failure gets the same panic message without building again.
pub fn ensure_built() -> &'static Path {
    static CORE_BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match CORE_BIN.get_or_init(build_core) {
        Ok(path) => path,
        Err(message) => panic!("{message}"),
    }
}

fn build_core() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(CORE_BIN_ENV) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("{CORE_BIN_ENV}={} is not a file", path.display()))
        };
    }

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let manifest = workspace_root().join("Cargo.toml");
    let profile = PROFILE
        .get()
        .cloned()
        .or_else(|| std::env::var(BUILD_PROFILE_ENV).ok())
        .unwrap_or_else(|| "dev".to_owned());
    let output = Command::new(&cargo)
        .arg("build")
        .arg("--manifest-path")
        .arg(&manifest)
        .args(["--workspace", "--bins", "--profile", &profile])
        .arg("--message-format=json-render-diagnostics")
        .output()
        .map_err(|e| format!("could not run {cargo:?} build: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!(
            "`{cargo:?} build --workspace --bins` failed ({}):\n{stderr}",
            output.status
        ));
    }
    find_executable(&stdout, CORE_BIN_NAME).ok_or_else(|| {
        format!(
            "`cargo build --workspace --bins` succeeded but reported no `{CORE_BIN_NAME}` executable.\n\
             cargo stderr:\n{stderr}"
        )
    })
}

/// The workspace root: the parent of this crate's manifest dir (`<root>/tests`).
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// Finds the `executable` of the binary target `name` among cargo's JSON messages.
fn find_executable(json_lines: &str, name: &str) -> Option<PathBuf> {
    json_lines
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|msg| msg["reason"] == "compiler-artifact")
        .filter(|msg| msg["target"]["name"] == name)
        .filter(|msg| {
            msg["target"]["kind"]
                .as_array()
                .is_some_and(|kinds| kinds.iter().any(|k| k == "bin"))
        })
        .filter_map(|msg| msg["executable"].as_str().map(PathBuf::from))
        .next_back()
}

#[cfg(test)]
mod tests {
    use super::find_executable;
    use std::path::PathBuf;

    #[test]
    fn finds_bin_artifact_among_cargo_messages() {
        let lines = concat!(
            r#"{"reason":"compiler-artifact","target":{"name":"riskgate_proto","kind":["lib"]},"executable":null}"#,
            "\n",
            r#"{"reason":"compiler-artifact","target":{"name":"riskgate-core","kind":["lib"]},"executable":null}"#,
            "\n",
            r#"{"reason":"compiler-artifact","target":{"name":"riskgate-core","kind":["bin"]},"executable":"/t/debug/riskgate-core"}"#,
            "\n",
            r#"{"reason":"build-finished","success":true}"#,
        );
        assert_eq!(
            find_executable(lines, "riskgate-core"),
            Some(PathBuf::from("/t/debug/riskgate-core"))
        );
        assert_eq!(find_executable(lines, "other"), None);
    }
}
