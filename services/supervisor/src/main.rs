//! The `riskgate-supervisor` binary: `riskgate-supervisor --config supervisor.toml`. Runs one
//! supervision loop per configured connector until SIGTERM/SIGINT, then stops every host. SIGHUP is
//! logged and ignored: a supervisor that dies on a hangup would leave nobody to restart its hosts.

use std::path::PathBuf;

use riskgate_service_kit::{args, logging};
use riskgate_supervisor::{config::Config, supervise::Supervision};
use tokio::{
    signal::unix::{signal, Signal, SignalKind},
    sync::watch,
};

/// Starts and supervises one riskgate-connector-host per configured connector.
#[derive(Debug, clap::Parser)]
#[command(name = "riskgate-supervisor", version, about)]
struct Args {
    /// The TOML configuration file.
    #[arg(long)]
    config: PathBuf,
}

fn main() {
    let args: Args = args::parse_or_exit();
    logging::init(logging::LogFormat::Text, "info");
    let config = match Config::load(&args.config) {
        Ok(config) => config,
        Err(err) => exit(64, &err),
    };
    let host_bin = config
        .host_bin
        .clone()
        .or_else(riskgate_host_protocol::sibling_host_bin);
    let Some(host_bin) = host_bin else {
        exit(
            64,
            "cannot find riskgate-connector-host next to this program; set host_bin",
        );
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => exit(1, format!("cannot start the async runtime: {err}")),
    };
    runtime.block_on(supervise(config, host_bin));
}

/// Prints `message` and exits with `code`.
fn exit(code: i32, message: impl std::fmt::Display) -> ! {
    eprintln!("riskgate-supervisor: {message}");
    std::process::exit(code);
}

/// Runs one supervision loop per connector until SIGTERM or SIGINT, then stops them all.
async fn supervise(config: Config, host_bin: PathBuf) {
    // The handlers are in place before any host starts, so no signal finds the default action.
    let mut signals = match Signals::listen() {
        Ok(signals) => signals,
        Err(err) => exit(1, format!("cannot listen for signals: {err}")),
    };
    let status_dir = match tempfile::Builder::new()
        .prefix("riskgate-supervisor-")
        .tempdir()
    {
        Ok(dir) => dir,
        Err(err) => exit(1, format!("cannot create a status directory: {err}")),
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    for entry in config.connectors {
        let supervision = Supervision {
            entry,
            core: config.core.clone(),
            host_bin: host_bin.clone(),
            policy: config.restart.clone(),
            status_dir: status_dir.path().to_path_buf(),
        };
        let id = supervision.entry.id.clone();
        let stop_rx = stop_rx.clone();
        tasks.spawn(async move { (id, supervision.run(stop_rx).await) });
    }
    tracing::info!("supervising {} connector(s)", tasks.len());
    let signal = signals.stop().await;
    tracing::info!("stopping on {signal}");
    let _ = stop_tx.send(true);
    while let Some(done) = tasks.join_next().await {
        if let Ok((id, outcome)) = done {
            tracing::info!(connector = %id, "supervision ended: {outcome:?}");
        }
    }
}

/// The signals the supervisor handles.
struct Signals {
    terminate: Signal,
    interrupt: Signal,
    hangup: Signal,
}

impl Signals {
    fn listen() -> std::io::Result<Signals> {
        Ok(Signals {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
            hangup: signal(SignalKind::hangup())?,
        })
    }

    /// Resolves on SIGTERM or SIGINT, naming it; logs and ignores every SIGHUP until then. (A
    /// handler, unlike `SIG_IGN`, is not inherited across exec, so the hosts keep the default.)
    async fn stop(&mut self) -> &'static str {
        loop {
            tokio::select! {
                _ = self.terminate.recv() => return "SIGTERM",
                _ = self.interrupt.recv() => return "SIGINT",
                _ = self.hangup.recv() => {
                    tracing::info!("SIGHUP ignored: the supervisor has no configuration reload; restart it to apply changes");
                }
            }
        }
    }
}
