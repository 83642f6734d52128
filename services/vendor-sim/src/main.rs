//! The `riskgate-vendor-sim` binary: serves the simulated Lookout and Zimperium APIs and the admin
//! API on one HTTP address and prints `READY http=ADDR` on stdout once it accepts connections.
//! SIGTERM or SIGINT stops it with exit status 0, like every riskgate binary.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::Context as _;
use clap::Parser;
use riskgate_vendor_sim::{actions::FleetSpec, scenario::Scenario, Sim};
use tokio::signal::unix::{signal, SignalKind};

/// How long open requests (event streams never end on their own) may run after a stop signal.
const STOP_GRACE: Duration = Duration::from_secs(1);

/// Vendor-cloud simulator: Lookout Mobile Risk API v2 and Zimperium on localhost.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address to serve on (port 0 picks a free port; the READY line names it).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Scenario file, TOML or JSON (see the README).
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Seed of generated ids and of the random fleet (overrides the scenario's).
    #[arg(long)]
    seed: Option<u64>,
    /// Add a random fleet of this many devices (after the scenario's).
    #[arg(long)]
    fleet: Option<usize>,
    /// Share (0 to 1) of the `--fleet` devices that start with an open threat.
    #[arg(long, default_value_t = 0.0)]
    infected: f64,
    /// Lookout stream heartbeat interval, in milliseconds (overrides the scenario's).
    #[arg(long)]
    heartbeat_ms: Option<u64>,
    /// Log as JSON lines.
    #[arg(long)]
    log_json: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if args.log_json {
        builder.json().init();
    } else {
        builder.init();
    }

    let scenario = match &args.scenario {
        Some(path) => Scenario::load(path)?,
        None => Scenario::default(),
    };
    let seed = args.seed.or(scenario.seed).unwrap_or(0);
    let mut settings = scenario.settings.clone().unwrap_or_default();
    if let Some(ms) = args.heartbeat_ms {
        settings.heartbeat_ms = ms;
    }
    let sim = Sim::new(settings.clone(), seed);
    let scenario = Scenario {
        seed: Some(seed),
        settings: Some(settings),
        ..scenario
    };
    sim.load_scenario(&scenario)?;
    if let Some(count) = args.fleet {
        sim.apply(&riskgate_vendor_sim::actions::Action::Fleet(FleetSpec {
            count,
            seed: Some(seed),
            infected: args.infected,
            prefix: "fleet-".to_owned(),
            ..FleetSpec::default()
        }))?;
    }

    // Listen for the stop signals before READY, so a signal sent right after it is not fatal.
    let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("listening for SIGINT")?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, seed, "vendor simulator serving");
    #[allow(clippy::print_stdout)]
    {
        println!("READY http={addr}");
    }
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let mut server = tokio::spawn(sim.serve(listener, async {
        let _ = stop_rx.await;
    }));
    tokio::select! {
        served = &mut server => return Ok(served??),
        _ = terminate.recv() => tracing::info!("SIGTERM: stopping"),
        _ = interrupt.recv() => tracing::info!("SIGINT: stopping"),
    }
    let _ = stop_tx.send(());
    // A Lookout event stream lasts as long as its token, so a graceful stop could wait for hours:
    // open requests get STOP_GRACE, then the process exits anyway.
    match tokio::time::timeout(STOP_GRACE, server).await {
        Ok(served) => served??,
        Err(_) => tracing::info!("open requests did not end within {STOP_GRACE:?}; closing them"),
    }
    Ok(())
}
