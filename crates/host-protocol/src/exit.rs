//! The host's exit codes: how it tells its supervisor whether restarting can help.

/// Why a connector host exited. The numeric code is the process exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostExit {
    /// Stopped on request (SIGTERM/SIGINT), or the plugin ended its feed and everything was acknowledged.
    Done,
    /// Bad command line or unreadable connector config file (`EX_USAGE`).
    Usage,
    /// The plugin file does not match its pinned SHA-256, or cannot be read.
    Integrity,
    /// The plugin cannot be loaded: missing symbol, wrong ABI, broken manifest.
    Incompatible,
    /// The plugin refused its configuration (`ERR_CONFIG`).
    PluginConfig,
    /// The core does not know the connector.
    CoreRefused,
    /// The plugin failed: panic, fatal error, garbage, invalid or oversized batch, hang.
    PluginFailed,
    /// The plugin reported a transient failure.
    Transient,
}

impl HostExit {
    /// The process exit status.
    pub fn code(self) -> i32 {
        match self {
            HostExit::Done => 0,
            HostExit::Usage => 64,
            HostExit::Integrity => 65,
            HostExit::Incompatible => 66,
            HostExit::PluginConfig => 67,
            HostExit::CoreRefused => 68,
            HostExit::PluginFailed => 70,
            HostExit::Transient => 75,
        }
    }

    /// The exit for a process status, if it is one of the host's codes.
    pub fn from_code(code: i32) -> Option<HostExit> {
        [
            HostExit::Done,
            HostExit::Usage,
            HostExit::Integrity,
            HostExit::Incompatible,
            HostExit::PluginConfig,
            HostExit::CoreRefused,
            HostExit::PluginFailed,
            HostExit::Transient,
        ]
        .into_iter()
        .find(|exit| exit.code() == code)
    }

    /// Whether restarting the same host with the same configuration cannot help.
    pub fn is_permanent(self) -> bool {
        matches!(
            self,
            HostExit::Usage
                | HostExit::Integrity
                | HostExit::Incompatible
                | HostExit::PluginConfig
                | HostExit::CoreRefused
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_as_its_exit() {
        for code in 0..=255 {
            if let Some(exit) = HostExit::from_code(code) {
                assert_eq!(exit.code(), code);
            }
        }
        assert_eq!(HostExit::from_code(70), Some(HostExit::PluginFailed));
        assert_eq!(HostExit::from_code(1), None);
        assert!(HostExit::Integrity.is_permanent());
        assert!(!HostExit::Transient.is_permanent());
    }
}
