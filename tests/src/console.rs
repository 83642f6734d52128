//! The web console (`riskgate-console`) for the browser tests: started against a core with the console's
//! own token, and signed into from a real headless Chromium.

use std::time::Duration;

use anyhow::Context as _;
use fantoccini::Locator;
use tokio::process::Command;

use crate::{
    binary::artifacts, browser::Browser, child::ChildProcess, enforcement::CONSOLE_CORE_TOKEN,
    wait_until,
};

/// How long a browser test waits for what the page shows (a generous deadline: latency is the
/// bench's business).
pub const PAGE_DEADLINE: Duration = Duration::from_secs(30);

/// A running console.
#[derive(Debug)]
pub struct ConsoleProcess {
    /// The process (killed on drop).
    pub process: ChildProcess,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The one-time sign-in link, when started with one.
    pub signin_link: Option<String>,
    _dir: tempfile::TempDir,
}

impl ConsoleProcess {
    /// Starts a console following the core at `core_url` with the console's token, plus `extra`
    /// top-level configuration lines; with `link_token`, it prints a one-time sign-in link for it.
    pub async fn start(
        core_url: &str,
        extra: &str,
        link_token: Option<&str>,
    ) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let token_file = dir.path().join("console.token");
        std::fs::write(&token_file, CONSOLE_CORE_TOKEN)?;
        let config = dir.path().join("console.toml");
        std::fs::write(
            &config,
            format!(
                "listen = \"127.0.0.1:0\"\n{extra}\n[core]\nurl = \"{core_url}\"\ntoken_file = \"{}\"\n",
                token_file.display()
            ),
        )?;
        let mut command = Command::new(artifacts().bin("riskgate-console"));
        command.arg("--config").arg(&config).env("RUST_LOG", "info");
        if let Some(token) = link_token {
            let link_file = dir.path().join("signin.token");
            std::fs::write(&link_file, token)?;
            command.arg("--signin-link-token-file").arg(link_file);
        }
        let process = ChildProcess::spawn(command, "riskgate-console")?;
        let signin_link = match link_token {
            Some(_) => Some(process.ready_value("SIGNIN-LINK ").await?),
            None => None,
        };
        let address = process.ready_value("READY http=").await?;
        Ok(Self {
            process,
            url: format!("http://{address}"),
            signin_link,
            _dir: dir,
        })
    }

    /// The console's URL of `path`.
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }
}

/// Signs `browser` in at `console` with `token` through the sign-in form.
pub async fn sign_in(
    browser: &Browser,
    console: &ConsoleProcess,
    token: &str,
) -> anyhow::Result<()> {
    browser.open(&console.at("/signin")).await?;
    let form = browser
        .client
        .form(Locator::Css("#signin"))
        .await
        .context("the sign-in form")?;
    form.set_by_name("token", token).await?;
    form.submit().await?;
    Ok(())
}

/// Signs `browser` in at `console` with `token` and waits for the overview, where a sign-in lands.
pub async fn sign_in_to_overview(
    browser: &Browser,
    console: &ConsoleProcess,
    token: &str,
) -> anyhow::Result<()> {
    sign_in(browser, console, token).await?;
    wait_for_text(browser, "main h1", "the overview", |text| {
        text == "Overview"
    })
    .await
}

/// Waits until the text of the first element matching `css` satisfies `wanted`.
pub async fn wait_for_text(
    browser: &Browser,
    css: &str,
    what: &str,
    wanted: impl Fn(&str) -> bool,
) -> anyhow::Result<()> {
    wait_until(PAGE_DEADLINE, what, || async {
        browser.text(css).await.is_ok_and(|text| wanted(&text))
    })
    .await
}
