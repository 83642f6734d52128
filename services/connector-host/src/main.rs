//! The `riskgate-connector-host` binary: `run` one plugin into the core until SIGTERM, or `probe` a
//! plugin for the conformance suite. Its stdout and stderr are its logs.

use std::time::Duration;

use clap::Parser as _;
use riskgate_connector_host::{
    config::{Cli, Command, LogFormat},
    host, probe,
};
use riskgate_host_protocol::HostExit;
use tokio::sync::watch;

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            std::process::exit(if err.use_stderr() {
                HostExit::Usage.code()
            } else {
                0
            });
        }
    };
    init_tracing(cli.log_format);
    let code = match cli.command {
        Command::Run(args) => run(*args),
        Command::Probe(args) => probe::run(&args),
    };
    // Exit without unwinding the plugin's threads: the library is never unloaded, and whatever
    // the plugin still runs ends with the process.
    std::process::exit(code);
}

fn run(args: riskgate_connector_host::config::RunArgs) -> i32 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            tracing::error!("cannot start the async runtime: {err}");
            return HostExit::PluginFailed.code();
        }
    };
    let stop_deadline = args.stop_deadline;
    let (stop_tx, mut stop_rx) = watch::channel(false);
    runtime.spawn(async move {
        riskgate_service_kit::signals::shutdown_signal().await;
        let _ = stop_tx.send(true);
        // The hard deadline: whatever the plugin is doing, the host is gone shortly after it.
        tokio::time::sleep(stop_deadline + Duration::from_secs(1)).await;
        tracing::warn!("stop deadline of {stop_deadline:?} exceeded; exiting now");
        std::process::exit(HostExit::Done.code());
    });
    let exit = runtime.block_on(host::run(args, async move {
        let _ = stop_rx.wait_for(|stop| *stop).await;
    }));
    exit.code()
}

/// Logs to stderr as `--log-format` says, filtered by `RUST_LOG` (default `info`). Set up before the
/// plugin is loaded: the plugin's records (ABI minor 1) come out of this same subscriber, in the
/// same format, and the level it records is the `max_level` the plugin is given (`plugin_log`).
fn init_tracing(format: LogFormat) {
    riskgate_service_kit::logging::init(format, "info");
}
