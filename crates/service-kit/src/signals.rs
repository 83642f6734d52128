//! Waiting for the signals that ask a process to stop.

/// The signal that asked the process to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// SIGINT (Ctrl-C).
    Interrupted,
    /// SIGTERM.
    Terminated,
}

impl Stop {
    /// The signal in words, for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Stop::Interrupted => "interrupted",
            Stop::Terminated => "terminated",
        }
    }
}

/// Resolves on SIGINT or SIGTERM, naming which. If SIGTERM cannot be listened for, says so in the log
/// and waits for SIGINT only.
pub async fn shutdown_signal() -> Stop {
    use tokio::signal::unix::{signal, SignalKind};

    let mut terminate = match signal(SignalKind::terminate()) {
        Ok(terminate) => terminate,
        Err(err) => {
            tracing::warn!("cannot listen for SIGTERM, only Ctrl-C stops this process: {err}");
            let _ = tokio::signal::ctrl_c().await;
            return Stop::Interrupted;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => Stop::Interrupted,
        _ = terminate.recv() => Stop::Terminated,
    }
}
