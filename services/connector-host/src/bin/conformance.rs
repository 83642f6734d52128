//! `riskgate-conformance PLUGIN.so [--config FILE] [--verbose]`: runs the plugin conformance suite
//! against a built connector plugin, through the real `riskgate-connector-host`, and prints one line
//! per scenario; with `--verbose`, the host's stderr of each failed scenario follows on stderr.
//! Exits 0 if every scenario passed, 1 otherwise, 64 on a usage error.

use std::path::PathBuf;

use riskgate_connector_host::conformance::{self, SuiteOptions};

/// Checks a riskgate connector plugin against the ABI and behaviour the host relies on.
#[derive(Debug, clap::Parser)]
#[command(name = "riskgate-conformance", version, about)]
struct Args {
    /// The built plugin (`lib<name>.so`).
    plugin: PathBuf,
    /// A valid configuration for the plugin (for example its test fixture).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The `riskgate-connector-host` binary; by default the one next to this program.
    #[arg(long)]
    host: Option<PathBuf>,
    /// After the report, show on stderr what the host (and the plugin) wrote on stderr in each
    /// failed scenario.
    #[arg(long, short)]
    verbose: bool,
}

fn main() {
    let args: Args = riskgate_service_kit::args::parse_or_exit();
    let Some(host_bin) = args.host.or_else(riskgate_host_protocol::sibling_host_bin) else {
        eprintln!("riskgate-conformance: cannot find riskgate-connector-host next to this program; pass --host");
        std::process::exit(64);
    };
    if !conformance::looks_like_plugin(&args.plugin) {
        eprintln!(
            "riskgate-conformance: warning: {} does not look like a shared library",
            args.plugin.display()
        );
    }
    let options = SuiteOptions {
        host_bin,
        plugin: args.plugin,
        config: args.config,
    };
    match conformance::run_suite(&options) {
        Ok(report) => {
            #[allow(clippy::print_stdout)]
            {
                println!("{report}");
            }
            if args.verbose {
                for failed in report.results.iter().filter(|r| !r.passed) {
                    eprintln!(
                        "--- stderr of the host in scenario {} ---\n{}--- end of {} ---",
                        failed.name, failed.host_stderr, failed.name
                    );
                }
            }
            std::process::exit(if report.passed() { 0 } else { 1 });
        }
        Err(err) => {
            eprintln!("riskgate-conformance: {err}");
            std::process::exit(64);
        }
    }
}
