//! `riskgate-bench`: measures riskgate against its floors and peers and prints the figures as tables.
//! Run it with `just bench` or `cargo run --release -p riskgate-bench -- all`; `--quick` is the CI smoke mode,
//! which checks that the harness works, not the speed.

use clap::{Parser, Subcommand};

mod stats;
mod subscribe;

/// Benchmarks.
#[derive(Debug, Parser)]
#[command(name = "riskgate-bench", about = "riskgate benchmarks")]
struct Args {
    /// Small sample sizes: a smoke test of the harness, not a measurement.
    #[arg(long, global = true)]
    quick: bool,
    #[command(subcommand)]
    bench: Option<Bench>,
}

#[derive(Debug, Clone, Copy, Subcommand)]
enum Bench {
    /// Ingest-to-subscriber latency with 1 and with 1,000 subscribers.
    Subscribe,
    /// Every benchmark.
    All,
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // The servers under test are built optimised, whatever profile this harness was built with, unless
    // RISKGATE_BUILD_PROFILE says otherwise (a quick smoke run can use the debug build).
    if std::env::var_os(riskgate_tests::binary::BUILD_PROFILE_ENV).is_none() {
        riskgate_tests::binary::use_profile("release");
    }
    match args.bench.unwrap_or(Bench::All) {
        Bench::Subscribe | Bench::All => subscribe::run(args.quick).await?,
    }
    Ok(())
}
