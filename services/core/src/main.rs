//! The `riskgate-core` binary: reads configuration, sets up logging, and runs the server until SIGINT or
//! SIGTERM.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use riskgate_core::{serve, Args, Config};
use riskgate_service_kit::{logging, signals::shutdown_signal};

/// Exit code for a bad command line or configuration (BSD `EX_USAGE`).
const EX_USAGE: u8 = 64;

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(EX_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let config = match Config::resolve(args) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("riskgate-core: {err}");
            return ExitCode::from(EX_USAGE);
        }
    };
    logging::init(config.log_format, "info");
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("riskgate-core: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(serve(
        config,
        |addrs| {
            // The one line on stdout: scripts and tests wait for it to learn the bound ports.
            #[allow(clippy::print_stdout)]
            {
                let gateway = addrs
                    .gateway
                    .map(|addr| format!(" gateway={addr}"))
                    .unwrap_or_default();
                println!(
                    "READY grpc={} metrics={}{gateway}",
                    addrs.grpc, addrs.metrics
                );
            }
        },
        async {
            shutdown_signal().await;
        },
    ));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "riskgate-core failed");
            eprintln!("riskgate-core: {err}");
            ExitCode::FAILURE
        }
    }
}
