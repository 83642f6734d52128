//! `riskgate-console`: riskgate's web console. `riskgate-console --config console.toml`
//! (docs/console.md); prints `READY http=ADDR` once it listens (HTTPS with `[tls]`). With
//! `--signin-link-token-file FILE` it first prints `SIGNIN-LINK URL`, a one-time sign-in link for the token
//! in FILE (the demo uses it).

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    sync::Arc,
};

use anyhow::Context as _;
use riskgate_console::{app::App, config::Config, http::router, live, session::Sessions};
use riskgate_web_kit::{config::check_listen, core::CoreLink, serve::serve};

/// riskgate's web console.
#[derive(Debug, clap::Parser)]
#[command(name = "riskgate-console", version, about)]
struct Args {
    /// The configuration file (TOML, docs/console.md).
    #[arg(long, env = "RISKGATE_CONSOLE_CONFIG")]
    config: PathBuf,
    /// Print a one-time sign-in link for the token in this file (valid 15 minutes, once).
    #[arg(long, value_name = "FILE")]
    signin_link_token_file: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args: Args = riskgate_service_kit::args::parse_or_exit();
    riskgate_service_kit::logging::init(riskgate_service_kit::logging::LogFormat::Text, "info");
    // A bad configuration exits with EX_USAGE, as the core does, so a supervisor can tell it from a crash.
    let config = match load(&args.config) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("riskgate-console: {err:#}");
            return riskgate_service_kit::args::usage_error();
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("riskgate-console: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config, args.signin_link_token_file)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("riskgate-console: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The configuration file, checked: its keys, and plain HTTP only on loopback.
fn load(path: &Path) -> anyhow::Result<Config> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let config =
        Config::parse(&text).map_err(|err| anyhow::anyhow!("{}: {err}", path.display()))?;
    check_listen(config.listen, config.tls.as_ref()).map_err(anyhow::Error::msg)?;
    Ok(config)
}

async fn run(config: Config, signin_link_token_file: Option<PathBuf>) -> anyhow::Result<()> {
    let listener = std::net::TcpListener::bind(config.listen)
        .with_context(|| format!("binding {}", config.listen))?;
    let address = listener.local_addr()?;
    let link = CoreLink::from_config(&config.core)?;
    let app = Arc::new(App {
        sessions: Sessions::new(config.session_ttl, config.max_sessions),
        hub: Arc::default(),
        link: link.clone(),
        live: config.live,
        chart_window: config.chart_window,
        secure_cookies: config.tls.is_some(),
    });
    if config.live {
        tokio::spawn(live::run(app.hub.clone(), link));
    }
    if let Some(file) = signin_link_token_file {
        let token = std::fs::read_to_string(&file)
            .with_context(|| format!("--signin-link-token-file {}", file.display()))?;
        let code = app.sessions.link(token.trim().to_owned());
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        announce_link(&format!("{scheme}://{address}/signin/once/{code}"));
    }
    Ok(serve(listener, config.tls.as_ref(), router(app)).await?)
}

#[allow(clippy::print_stdout)]
fn announce_link(url: &str) {
    println!("SIGNIN-LINK {url}");
}
