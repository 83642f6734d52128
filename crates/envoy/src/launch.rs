//! Starting Envoy on a [`Gateway`] bootstrap. The caller spawns the command (the test harness captures
//! its output, the demo ties it to its own life), then waits with [`ready`].

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use tokio::process::Command;

use crate::{
    admin::Admin,
    bootstrap::{Gateway, LISTENER},
    EnvoyError,
};

/// An Envoy command ready to spawn, and where it will write its admin address.
#[derive(Debug)]
pub struct Launch {
    /// `envoy -c <dir>/envoy.json …`.
    pub command: Command,
    /// The file Envoy writes its admin interface's address to once it listens.
    pub admin_address_path: PathBuf,
}

/// Writes `gateway`'s bootstrap to `dir/envoy.json` and returns the command that runs `binary` on it.
/// Hot restart is off, so several Envoys run side by side without sharing memory; `log_level` is one of
/// Envoy's (`warn`, `info`, `debug`, …).
pub fn command(
    binary: &Path,
    dir: &Path,
    gateway: &Gateway,
    log_level: &str,
) -> Result<Launch, EnvoyError> {
    let bootstrap_path = dir.join("envoy.json");
    let admin_address_path = dir.join("envoy-admin-address");
    std::fs::write(&bootstrap_path, gateway.bootstrap().to_string()).map_err(EnvoyError::io(
        format!("writing {}", bootstrap_path.display()),
    ))?;
    // A stale address from an earlier run would be read before the new Envoy writes its own.
    let _ = std::fs::remove_file(&admin_address_path);
    let mut command = Command::new(binary);
    command
        .arg("-c")
        .arg(&bootstrap_path)
        .arg("--admin-address-path")
        .arg(&admin_address_path)
        .args(["--disable-hot-restart", "--log-level", log_level]);
    Ok(Launch {
        command,
        admin_address_path,
    })
}

/// Once a [`Launch`]'s command was spawned: waits, for at most `within`, until Envoy is ready, and
/// returns its admin client and the address its listener is bound to.
pub async fn ready(
    admin_address_path: &Path,
    within: Duration,
) -> Result<(Admin, SocketAddr), EnvoyError> {
    let admin = Admin::wait_ready(admin_address_path, within).await?;
    let listener = admin.listener_addr(LISTENER).await?;
    Ok((admin, listener))
}
