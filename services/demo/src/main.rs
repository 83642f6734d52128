//! `riskgate-demo` (`cargo demo`): the product's seed scenario, live, in one command.
//!
//! It builds the workspace, starts the core, the vendor-cloud simulator and one connector host per
//! vendor (Lookout, Zimperium), applies the sample policy, puts a real Envoy in front of two sample
//! apps, "exchange" and "sharepoint", asking the core before every request, then plays the story of
//! the seed: a device's MTD app reports a threat, its level exceeds what the admin allows, access to
//! Exchange and SharePoint is revoked while it is compromised and granted again once it is remediated.
//! A table shows every device's threat level, compliance and decisions as the core publishes them,
//! beside the HTTP status each device gets through Envoy. The web console follows the same core; the
//! demo prints its URL with a one-time sign-in link.
//!
//! `--headless` plays the same story without pacing or redrawing and exits 0 only if every
//! expected decision flip happened, every device got the matching status through Envoy, and the web
//! console showed every device's level and compliance after each step (CI runs it, `tests/headless.rs`).

#![forbid(unsafe_code)]

mod artifacts;
mod auth;
mod board;
mod console;
mod devices;
mod enforcement;
mod live;
mod out;
mod processes;
mod resources;
mod scenario;
mod setup;
mod vendor;
mod view;

use std::{path::PathBuf, process::ExitCode, time::Duration};

use anyhow::Context as _;
use clap::Parser as _;
use tokio::sync::watch;

use crate::{
    board::Board,
    out::Out,
    processes::{Processes, Started},
    scenario::Outcome,
};

/// Marker file that makes a data dir ours to wipe: the demo never deletes a directory it did not create.
const DATA_DIR_MARKER: &str = ".riskgate-demo";

/// Exit code after Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
const EXIT_INTERRUPTED: u8 = 130;

/// `riskgate-demo`: Mobile Threat Defense risk revoking and restoring access, live.
#[derive(Debug, clap::Parser)]
#[command(name = "riskgate-demo", version, about)]
struct Args {
    /// Play without pacing or redrawing; exit 0 only if every expected decision flip happened and every
    /// device got the matching HTTP status through Envoy.
    #[arg(long)]
    headless: bool,
    /// Take the binaries and plugin `lib*.so` files from this directory instead of building.
    #[arg(long, value_name = "DIR")]
    bin_dir: Option<PathBuf>,
    /// Cargo profile to build with (default: the profile this demo was built with).
    #[arg(long, value_name = "PROFILE", conflicts_with = "bin_dir")]
    profile: Option<String>,
    /// Where the core's store, the processes' logs and the connector configs go; wiped at start.
    #[arg(long, value_name = "DIR", default_value = "./riskgate-demo-data")]
    data_dir: PathBuf,
    /// Pause between steps, for humans to follow (ignored with --headless).
    #[arg(long, value_name = "DURATION", default_value = "3s", value_parser = humantime::parse_duration)]
    step_delay: Duration,
    /// How long each step may take to produce its expected decisions.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = humantime::parse_duration)]
    step_timeout: Duration,
}

fn main() -> ExitCode {
    let args = Args::parse();
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            tracing::error!("cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(args))
}

/// Runs the demo until it ends or a signal arrives, then stops every child process.
async fn run(args: Args) -> ExitCode {
    let out = Out::new(args.headless);
    let processes = Processes::default();
    let result = tokio::select! {
        result = demo(&args, &out, &processes) => Some(result),
        signal = riskgate_service_kit::signals::shutdown_signal() => {
            out.line(&format!("{}: stopping", signal.as_str()));
            None
        }
    };
    processes.stop_all(&out).await;
    match result {
        None => ExitCode::from(EXIT_INTERRUPTED),
        Some(Ok(Outcome::Passed)) => ExitCode::SUCCESS,
        Some(Ok(Outcome::Failed)) => ExitCode::FAILURE,
        Some(Err(err)) => {
            out.line(&format!("riskgate-demo failed: {err:#}"));
            ExitCode::FAILURE
        }
    }
}

/// Everything but the shutdown: build, start, configure, play.
async fn demo(args: &Args, out: &Out, processes: &Processes) -> anyhow::Result<Outcome> {
    let data_dir = prepare_data_dir(&args.data_dir)?;
    let binaries = match &args.bin_dir {
        Some(dir) => artifacts::Binaries::from_dir(dir)?,
        None => {
            let profile = args.profile.clone().unwrap_or_else(artifacts::own_profile);
            artifacts::build(&profile, out).await?
        }
    };

    let tokens = auth::DemoTokens::generate();
    let core_config = tokens.write_core_config(&data_dir)?;
    let core = processes
        .start_core(&binaries, &data_dir, &core_config, out)
        .await?;
    let sim_process = processes.start_sim(&binaries, &data_dir, out).await?;
    let sim = scenario::SimAdmin::new(&sim_process.url)?;
    scenario::enroll_devices(&sim).await?;
    setup::check_tokens_required(&core.url).await?;
    out.line("checked: the core refuses a call without a token (UNAUTHENTICATED); the demo and each connector host use their own token");
    let channel = setup::connect(&core.url, tokens.admin_bearer()?).await?;
    setup::configure(&channel).await?;
    out.line("configured: connectors lookout (iOS) and zimperium (Android), policy \"device threat level at or under LOW\", resources exchange and sharepoint (compliant device required)");

    let (board_tx, board_rx) = watch::channel(Board::new(devices::DEVICES.iter()));
    let subscription = live::subscribe(&channel, &board_tx).await?;
    let hosts = setup::start_hosts(
        processes, &binaries, &data_dir, &core, &tokens, &sim.url, out,
    )
    .await?;
    setup::wait_connectors_enabled(&channel, args.step_timeout).await?;
    let gateway = core
        .gateway
        .parse()
        .context("the core's READY line names no gateway listener")?;
    let envoy = enforcement::start(
        processes,
        &binaries.tools_dir(),
        &data_dir,
        gateway,
        tokens.gateway_token(),
        out,
    )
    .await?;
    let console = console::start(processes, &binaries, &data_dir, &core.url, &tokens, out).await?;
    board_tx.send_modify(|board| {
        board.set_processes(process_summary(
            &core,
            &sim_process,
            &hosts,
            &envoy,
            &console,
        ));
    });
    let console_check = if args.headless {
        Some(console::ConsoleCheck::sign_in(&console.url, tokens.admin_token()).await?)
    } else {
        None
    };

    let pacing = (!args.headless).then_some(args.step_delay);
    let outcome = tokio::select! {
        result = live::observe(subscription, channel.clone(), &board_tx) => match result {
            Ok(()) => Err(anyhow::anyhow!("the core ended the risk stream")),
            Err(err) => Err(err.context("watching the core's risk stream")),
        },
        never = out.render(board_rx) => match never {},
        never = envoy.probe(&board_tx) => match never {},
        outcome = scenario::play(
            &sim,
            &board_tx,
            pacing,
            args.step_timeout,
            console_check.as_ref(),
            out,
        ) => outcome,
    };
    // The last changes may not have been drawn yet.
    out.show(&board_tx.borrow());
    outcome
}

/// One line naming every process, for the view's header.
fn process_summary(
    core: &Started,
    sim: &Started,
    hosts: &[Started],
    envoy: &enforcement::Enforcement,
    console: &Started,
) -> String {
    let hosts: Vec<String> = hosts
        .iter()
        .map(|host| format!("{} pid {}", host.name, host.pid))
        .collect();
    format!(
        "core pid {} grpc={} · vendor-sim pid {} · {} · envoy pid {} {} · console pid {} {}",
        core.pid,
        core.url.trim_start_matches("http://"),
        sim.pid,
        hosts.join(", "),
        envoy.pid,
        envoy.url,
        console.pid,
        console.url
    )
}

/// Wipes the data dir (only one the demo made, recognised by its marker) and recreates it.
fn prepare_data_dir(dir: &std::path::Path) -> anyhow::Result<PathBuf> {
    if dir.exists() {
        let is_empty = std::fs::read_dir(dir)
            .with_context(|| format!("--data-dir {}: cannot read it", dir.display()))?
            .next()
            .is_none();
        anyhow::ensure!(
            is_empty || dir.join(DATA_DIR_MARKER).exists(),
            "--data-dir {}: not empty and not a riskgate-demo data dir (no {DATA_DIR_MARKER}); refusing to wipe it",
            dir.display()
        );
        std::fs::remove_dir_all(dir)
            .with_context(|| format!("--data-dir {}: cannot wipe it", dir.display()))?;
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("--data-dir {}: cannot create it", dir.display()))?;
    std::fs::write(
        dir.join(DATA_DIR_MARKER),
        "riskgate-demo data; wiped at every start\n",
    )
    .with_context(|| format!("--data-dir {}: cannot write to it", dir.display()))?;
    let dir = std::fs::canonicalize(dir)
        .with_context(|| format!("--data-dir {}: cannot resolve it", dir.display()))?;
    Ok(dir)
}

/// Logs go to stderr (warnings only unless `RUST_LOG` says otherwise), so they do not tear the view.
fn init_tracing() {
    riskgate_service_kit::logging::init(riskgate_service_kit::logging::LogFormat::Text, "warn");
}
