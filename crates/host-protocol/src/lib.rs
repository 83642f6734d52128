//! What a connector host (`riskgate-connector-host`) and the programs that start it (the supervisor,
//! the conformance suite) agree on, without linking the host itself (libloading, the plugin ABI):
//!
//! - [`HostExit`]: the host's exit codes, and which of them restarting cannot fix.
//! - [`describe`]: an exit status in words, naming the signal that killed the process.
//! - [`sibling_host_bin`]: the host binary installed next to the running program.
//!
//! A small shared crate, so that no service depends on another service.

mod exit;
mod status;

pub use exit::HostExit;
pub use status::{describe, signal_name};

use std::path::PathBuf;

/// The connector host's binary name.
pub const HOST_BIN: &str = "riskgate-connector-host";

/// The host binary next to the running executable (they are built and installed together).
pub fn sibling_host_bin() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let candidate = exe.parent()?.join(HOST_BIN);
    candidate.is_file().then_some(candidate)
}
