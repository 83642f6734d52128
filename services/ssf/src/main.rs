//! `riskgate-ssf`: riskgate's OpenID Shared Signals transmitter. `riskgate-ssf --config ssf.toml`
//! (docs/ssf.md); prints `READY http=ADDR` once it listens (HTTPS with `[tls]`).

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    sync::Arc,
    time::Duration,
};

use anyhow::Context as _;
use riskgate_caep::metadata::DefaultSubjects;
use riskgate_ssf::{
    auth::Tokens,
    config::{Config, DefaultSubjectsSetting},
    core_client::Core,
    http::router,
    keys::KeyRing,
    store::StreamStore,
    streams::Streams,
    transmitter::{unix_now, Shared, Transmitter},
    worker,
};
use riskgate_web_kit::{config::check_listen, core::CoreLink, serve::serve};

/// riskgate's OpenID Shared Signals transmitter.
#[derive(Debug, clap::Parser)]
#[command(name = "riskgate-ssf", version, about)]
struct Args {
    /// The configuration file (TOML, docs/ssf.md).
    #[arg(long, env = "RISKGATE_SSF_CONFIG")]
    config: PathBuf,
}

fn main() -> ExitCode {
    let args: Args = riskgate_service_kit::args::parse_or_exit();
    riskgate_service_kit::logging::init(riskgate_service_kit::logging::LogFormat::Text, "info");
    // A bad configuration exits with EX_USAGE, as the core does, so a supervisor can tell it from a crash.
    let (config, tokens) = match load(&args.config) {
        Ok(loaded) => loaded,
        Err(err) => {
            eprintln!("riskgate-ssf: {err:#}");
            return riskgate_service_kit::args::usage_error();
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("riskgate-ssf: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config, tokens)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("riskgate-ssf: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The configuration file, checked: its keys, its tokens, and plain HTTP only on loopback.
fn load(path: &Path) -> anyhow::Result<(Config, Tokens)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let config =
        Config::parse(&text).map_err(|err| anyhow::anyhow!("{}: {err}", path.display()))?;
    let tokens = Tokens::from_config(&config.tokens)
        .map_err(|err| anyhow::anyhow!("{}: {err}", path.display()))?;
    check_listen(config.listen, config.tls.as_ref()).map_err(anyhow::Error::msg)?;
    Ok((config, tokens))
}

async fn run(config: Config, tokens: Tokens) -> anyhow::Result<()> {
    let listener = std::net::TcpListener::bind(config.listen)
        .with_context(|| format!("binding {}", config.listen))?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let tls = config.tls.clone();
    let transmitter = Arc::new(transmitter(config, tokens, address).await?);
    start_workers(&transmitter);
    spawn_key_rotation(&transmitter);
    Ok(serve(listener, tls.as_ref(), router(transmitter)).await?)
}

async fn transmitter(
    config: Config,
    tokens: Tokens,
    address: std::net::SocketAddr,
) -> anyhow::Result<Transmitter> {
    let base_url = config
        .base_url
        .clone()
        .unwrap_or_else(|| {
            let scheme = if config.tls.is_some() {
                "https"
            } else {
                "http"
            };
            format!("{scheme}://{address}")
        })
        .trim_end_matches('/')
        .to_owned();
    let keys = match &config.keys.file {
        Some(file) => KeyRing::from_pkcs8_file(file)?,
        None => KeyRing::open(&config.data_dir.join("keys"), unix_now())?,
    };
    let core = Core::new(CoreLink::from_config(&config.core)?);
    let (store, records) = StreamStore::open(&config.data_dir.join("streams"))?;
    let streams = Streams::default();
    for record in records {
        streams.insert(record);
    }
    Ok(Transmitter {
        issuer: config.issuer.clone().unwrap_or_else(|| base_url.clone()),
        base_url,
        tenant: config.tenant.clone(),
        default_subjects: match config.default_subjects {
            DefaultSubjectsSetting::All => DefaultSubjects::All,
            DefaultSubjectsSetting::None => DefaultSubjects::None,
        },
        min_verification_interval: config.min_verification_interval,
        keys: parking_lot::RwLock::new(keys),
        key_overlap_secs: config.keys.overlap.as_secs(),
        tokens,
        store,
        streams,
        core,
        http: reqwest::Client::builder().build()?,
        delivery: config.delivery,
        key_rotate_after: config
            .keys
            .rotate_after
            .filter(|_| config.keys.file.is_none()),
    })
}

fn start_workers(transmitter: &Shared) {
    for handle in transmitter.streams.all() {
        worker::spawn(Arc::clone(transmitter), handle);
    }
}

/// Rotates a made key once it is `rotate_after` old (checked every minute).
fn spawn_key_rotation(transmitter: &Shared) {
    let Some(max_age) = transmitter.key_rotate_after else {
        return;
    };
    let transmitter = Arc::clone(transmitter);
    tokio::spawn(async move {
        loop {
            match transmitter
                .keys
                .write()
                .rotate_if_older(max_age.as_secs(), unix_now())
            {
                Ok(true) => tracing::info!("signing key rotated"),
                Ok(false) => {}
                Err(err) => tracing::error!(error = %err, "rotating the signing key"),
            }
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
    });
}
