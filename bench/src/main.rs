//! `riskgate-bench`: measures riskgate against its floors and peers and prints the figures as tables.
//! Run it with `just bench` or `cargo run --release -p riskgate-bench -- all`; `--quick` is the CI smoke mode,
//! which checks that the harness works, not the speed. Every comparison runs both sides in the same run, one
//! after the other, and prints their ratio; `all` ends with the goals of issue #9, each MET or MISSED.

use clap::{Parser, Subcommand};

mod check;
mod console;
mod decide;
mod echo;
mod gateway;
mod ingest;
mod load;
mod scale;
mod seed;
mod ssf;
mod stats;
mod subscribe;
mod summary;

/// Benchmarks.
#[derive(Debug, Parser)]
#[command(name = "riskgate-bench", about = "riskgate benchmarks")]
struct Args {
    /// Small sample sizes: a smoke test of the harness, not a measurement.
    #[arg(long, global = true)]
    quick: bool,
    /// Devices the `scale` benchmark seeds (default 1,000,000; 10,000 with `--quick`).
    #[arg(long, global = true)]
    devices: Option<u64>,
    #[command(subcommand)]
    bench: Option<Bench>,
}

#[derive(Debug, Clone, Copy, Subcommand)]
enum Bench {
    /// CheckAccess over gRPC against a bare tonic echo RPC, at 1, 10 and 100 requests in flight.
    Check,
    /// In-process decision evaluation against the cedar-policy crate.
    Decide,
    /// Durable acknowledged ingest against raw sled batched inserts.
    Ingest,
    /// Ingest-to-subscriber latency with 1 and with 1,000 subscribers.
    Subscribe,
    /// Resident memory with many devices, and the time from a restart to a correct CheckAccess.
    Scale,
    /// Envoy ext_authz Check against the echo, and the time from a vendor event to Envoy's 403 and back.
    Gateway,
    /// SSF push latency, from the core's commit to a receiver, with 1 and with 100 streams.
    Ssf,
    /// Web console flip-to-screen: from the core's commit to an open page in Chromium showing the flip.
    Console,
    /// Every benchmark, then the goals (issues #9, #17, #18 and #19).
    All,
    /// Serves the echo RPC of the `check` benchmark and prints `READY grpc=ADDR` (started by the harness).
    #[command(hide = true)]
    EchoServer,
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // The servers under test are built optimised, whatever profile this harness was built with, unless
    // RISKGATE_BUILD_PROFILE says otherwise (a quick smoke run can use the debug build).
    if std::env::var_os(riskgate_tests::binary::BUILD_PROFILE_ENV).is_none() {
        riskgate_tests::binary::use_profile("release");
    }
    let quick = args.quick;
    let goals = match args.bench.unwrap_or(Bench::All) {
        Bench::EchoServer => return echo::serve().await,
        Bench::Check => check::run(quick).await?,
        Bench::Decide => decide::run(quick)?,
        Bench::Ingest => ingest::run(quick).await?,
        Bench::Subscribe => subscribe::run(quick).await?,
        Bench::Scale => scale::run(quick, args.devices).await?,
        Bench::Gateway => gateway::run(quick).await?,
        Bench::Ssf => ssf::run(quick).await?,
        Bench::Console => console::run(quick).await?,
        Bench::All => {
            let mut goals = check::run(quick).await?;
            goals.extend(decide::run(quick)?);
            goals.extend(ingest::run(quick).await?);
            goals.extend(subscribe::run(quick).await?);
            goals.extend(scale::run(quick, args.devices).await?);
            goals.extend(gateway::run(quick).await?);
            goals.extend(ssf::run(quick).await?);
            goals.extend(console::run(quick).await?);
            goals
        }
    };
    summary::print(&goals, quick);
    Ok(())
}
