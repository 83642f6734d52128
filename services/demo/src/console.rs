//! The web console in the demo: started with its own `subscriber` token and printed with a one-time
//! sign-in link for the demo's admin; with `--headless`, checked after each step to show every device's
//! level and compliance as the core decided them.

use std::{path::Path, time::Duration};

use anyhow::Context as _;
use riskgate_proto::v1 as api;

use crate::{
    artifacts::Binaries,
    auth::DemoTokens,
    board::{compliance_name, level_name, Row},
    out::Out,
    processes::{Processes, Started},
};

/// How often the check asks the console again while it waits.
const POLL: Duration = Duration::from_millis(200);

/// Starts the console following the core at `core_url` and prints where to open it.
pub(crate) async fn start(
    processes: &Processes,
    binaries: &Binaries,
    data_dir: &Path,
    core_url: &str,
    tokens: &DemoTokens,
    out: &Out,
) -> anyhow::Result<Started> {
    let config_dir = data_dir.join("console");
    std::fs::create_dir_all(&config_dir)
        .with_context(|| format!("cannot create {}", config_dir.display()))?;
    let (console_token, admin_token) = tokens.write_console_tokens(&config_dir)?;
    let config = config_dir.join("console.toml");
    std::fs::write(
        &config,
        format!(
            "# Written by riskgate-demo (docs/console.md).\nlisten = \"127.0.0.1:0\"\n\n[core]\nurl = \"{core_url}\"\ntoken_file = \"{}\"\n",
            console_token.display()
        ),
    )
    .with_context(|| format!("cannot write {}", config.display()))?;
    let (started, link) = processes
        .start_console(binaries, data_dir, &config, &admin_token)
        .await?;
    out.line(&format!(
        "started console pid={} {} — open {link} to sign in as the demo's admin (one-time link, 15 minutes)",
        started.pid, started.url
    ));
    Ok(started)
}

/// A signed-in session on the console, for `--headless`'s check.
#[derive(Debug)]
pub(crate) struct ConsoleCheck {
    http: reqwest::Client,
    url: String,
    cookie: String,
}

impl ConsoleCheck {
    /// Signs in at the console at `url` with `token`, through its sign-in form (whose double-submit
    /// token is in a cookie and a hidden field).
    pub(crate) async fn sign_in(url: &str, token: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let form = http.get(format!("{url}/signin")).send().await?;
        let form_cookie = first_cookie(&form).context("the sign-in form set no cookie")?;
        let page = form.text().await?;
        let csrf = page
            .split_once("name=\"csrf\" value=\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(value, _)| value.to_owned())
            .context("the sign-in form has no csrf field")?;
        let response = http
            .post(format!("{url}/signin"))
            .header("cookie", form_cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token={token}&csrf={csrf}"))
            .send()
            .await
            .context("signing in at the console")?;
        let cookie = first_cookie(&response)
            .with_context(|| format!("the console gave no session ({})", response.status()))?;
        Ok(Self {
            http,
            url: url.to_owned(),
            cookie,
        })
    }

    /// Waits up to `within` until the console's page of every device in `rows` shows the row's level
    /// and compliance; returns the rows it did not show by then.
    pub(crate) async fn wait_until_shown(
        &self,
        rows: &[Row],
        within: Duration,
    ) -> anyhow::Result<Vec<String>> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let mut missing = Vec::new();
            for row in rows
                .iter()
                .filter(|row| row.level != api::ThreatLevel::Unspecified)
            {
                if !self.shows(row).await? {
                    missing.push(format!(
                        "{} {} {}",
                        row.device,
                        level_name(row.level),
                        compliance_text(row.compliance)
                    ));
                }
            }
            if missing.is_empty() || tokio::time::Instant::now() >= deadline {
                return Ok(missing);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Whether the device's page states the row's level and compliance.
    async fn shows(&self, row: &Row) -> anyhow::Result<bool> {
        let page = self
            .http
            .get(format!("{}/devices/{}", self.url, row.device))
            .header("cookie", &self.cookie)
            .send()
            .await?
            .text()
            .await?;
        let verdict = page
            .split_once("id=\"verdict\"")
            .and_then(|(_, rest)| rest.split_once("</p>"))
            .map_or("", |(verdict, _)| verdict);
        Ok(verdict.contains(&format!(">{}<", level_name(row.level)))
            && verdict.contains(&format!(">{}<", compliance_text(row.compliance))))
    }
}

/// The `name=value` of the response's first cookie.
fn first_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("set-cookie")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(str::to_owned)
}

/// A compliance status as the console's badges read (`in grace period`).
fn compliance_text(status: api::ComplianceStatus) -> String {
    compliance_name(status)
        .to_ascii_lowercase()
        .replace('_', " ")
}
