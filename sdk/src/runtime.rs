//! The plugin's own async runtime.
//!
//! A plugin is a separate copy of tokio with its own statics, so it can never use the host's runtime
//! (`tokio::spawn` from plugin code outside a plugin runtime panics with "no reactor running").
//! The SDK therefore gives every connector instance its own runtime on threads the plugin owns; the
//! host only ever makes blocking calls with timeouts. [`build`] is that helper, public so connectors
//! that need a second runtime (for example for a blocking vendor client) build it the same way.

use std::io;

/// Builds a multi-threaded tokio runtime with `worker_threads` workers (at least 1) named
/// `riskgate-plugin-<name>`, with I/O and timers enabled.
pub fn build(name: &str, worker_threads: usize) -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads.max(1))
        .thread_name(format!("riskgate-plugin-{name}"))
        .enable_all()
        .build()
}
