//! `riskgate-ssf`: serves the transmitter's metadata and keys (the rest of issue 18 is to come).
//! Prints `READY http=ADDR` once it listens.

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use anyhow::Context as _;
use riskgate_ssf::{
    http::{router, unix_now, Transmitter},
    keys::KeyRing,
};

/// riskgate's OpenID Shared Signals transmitter.
#[derive(Debug, clap::Parser)]
#[command(name = "riskgate-ssf", version, about)]
struct Args {
    /// Where to listen (plain HTTP: loopback only until TLS is configured).
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    /// Where the keys and the stream store live.
    #[arg(long, default_value = "./riskgate-ssf-data")]
    data_dir: PathBuf,
    /// The issuer of every SET; also the base URL receivers reach the endpoints at.
    #[arg(long)]
    issuer: String,
    /// How long a retired signing key stays in the JWKS.
    #[arg(long, default_value = "7d", value_parser = humantime::parse_duration)]
    key_overlap: std::time::Duration,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Args = riskgate_service_kit::args::parse_or_exit();
    riskgate_service_kit::logging::init(riskgate_service_kit::logging::LogFormat::Text, "info");
    anyhow::ensure!(
        args.listen.ip().is_loopback(),
        "--listen {}: plain HTTP is allowed only on loopback",
        args.listen
    );
    let keys = KeyRing::open(&args.data_dir.join("keys"), unix_now())?;
    let transmitter = Arc::new(Transmitter {
        base_url: args.issuer.trim_end_matches('/').to_owned(),
        issuer: args.issuer,
        keys: parking_lot::RwLock::new(keys),
        key_overlap_secs: args.key_overlap.as_secs(),
    });
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    #[allow(clippy::print_stdout)] // the one READY line other programs wait for
    {
        println!("READY http={}", listener.local_addr()?);
    }
    axum::serve(listener, router(transmitter))
        .with_graceful_shutdown(async {
            riskgate_service_kit::signals::shutdown_signal().await;
        })
        .await?;
    Ok(())
}
