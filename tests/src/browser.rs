//! A real headless Chromium for the console's tests: Debian's `chromium`, driven over WebDriver by
//! Debian's `chromedriver` through `fantoccini`. When they are missing, the harness installs the two
//! packages with apt (which needs root) (as it provisions Envoy), so a fresh Debian machine needs no
//! set-up; otherwise it fails saying what to install. Browser tests are never skipped.
//!
//! Each [`Browser`] is its own chromedriver and Chromium with a throw-away profile, sized like a desktop
//! (1280 px) or a phone (390 px). Screenshots go under `<target>/screenshots/`.

use std::{
    path::{Path, PathBuf},
    process::Command as StdCommand,
    sync::OnceLock,
};

use anyhow::Context as _;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use tokio::process::Command;

use crate::{child::ChildProcess, envoy::tools_dir};

/// Debian's Chromium.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Debian's ChromeDriver, from package `chromium-driver`.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Installs `chromium` and `chromium-driver` with apt when they are missing (once per test process).
pub fn provision() -> anyhow::Result<()> {
    static PROVISIONED: OnceLock<Result<(), String>> = OnceLock::new();
    PROVISIONED
        .get_or_init(|| install_if_missing().map_err(|err| format!("{err:#}")))
        .clone()
        .map_err(|err| anyhow::anyhow!("provisioning Chromium: {err}"))
}

fn install_if_missing() -> anyhow::Result<()> {
    if Path::new(CHROMIUM).is_file() && Path::new(CHROMEDRIVER).is_file() {
        return Ok(());
    }
    let missing = "install Debian's packages chromium and chromium-driver (apt-get needs root)";
    let install = || {
        StdCommand::new("apt-get")
            .args(["install", "-y", "-qq", "chromium", "chromium-driver"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
    };
    // The package lists may be missing or stale on a fresh machine: update once, then try again.
    if !install().with_context(|| missing.to_owned())?.success() {
        let updated = StdCommand::new("apt-get")
            .args(["update", "-qq"])
            .status()?;
        anyhow::ensure!(updated.success(), "apt-get update failed: {missing}");
        anyhow::ensure!(install()?.success(), "apt-get install failed: {missing}");
    }
    Ok(())
}

/// How wide the window is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    /// 1280 × 900.
    Desktop,
    /// 390 × 844, a phone.
    Phone,
}

/// A headless Chromium and its driver (both stopped on drop).
#[derive(Debug)]
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    _driver: ChildProcess,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver on a free port and a headless Chromium session of `width`.
    pub async fn start(width: Width) -> anyhow::Result<Browser> {
        Self::launch(width, true).await
    }

    /// [`Browser::start`] with JavaScript turned off, for pages that must work without it.
    pub async fn start_without_javascript(width: Width) -> anyhow::Result<Browser> {
        Self::launch(width, false).await
    }

    async fn launch(width: Width, javascript: bool) -> anyhow::Result<Browser> {
        tokio::task::spawn_blocking(provision).await??;
        let mut command = Command::new(CHROMEDRIVER);
        command.arg("--port=0");
        let driver = ChildProcess::spawn(command, "chromedriver")?;
        let port = driver
            .ready_value("ChromeDriver was started successfully on port ")
            .await?
            .trim_end_matches('.')
            .to_owned();
        let profile = tempfile::tempdir()?;
        // Headless Chromium keeps windows at least 500 px wide; a phone's viewport is emulated instead.
        let (size, phone) = match width {
            Width::Desktop => ("--window-size=1280,900", None),
            Width::Phone => (
                "--window-size=500,844",
                Some(json!({"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 2.0}})),
            ),
        };
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    // The tests may run as root, where Chromium's sandbox cannot start.
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    size,
                    format!("--user-data-dir={}", profile.path().display()),
                    format!("--blink-settings=scriptEnabled={javascript}"),
                ],
            },
        });
        let mut capabilities = capabilities;
        if let Some(phone) = phone {
            capabilities["goog:chromeOptions"]["mobileEmulation"] = phone;
        }
        let serde_json::Value::Object(capabilities) = capabilities else {
            anyhow::bail!("capabilities are an object");
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .with_context(|| format!("a Chromium session through chromedriver on port {port}"))?;
        Ok(Browser {
            client,
            _driver: driver,
            _profile: profile,
        })
    }

    /// Opens `url`.
    pub async fn open(&self, url: &str) -> anyhow::Result<()> {
        self.client
            .goto(url)
            .await
            .with_context(|| format!("opening {url}"))
    }

    /// The rendered text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> anyhow::Result<String> {
        let element = self
            .client
            .find(Locator::Css(css))
            .await
            .with_context(|| format!("no element {css:?}"))?;
        Ok(element.text().await?)
    }

    /// Runs `script` in the page (its `arguments` are `args`) and returns what it returns.
    pub async fn run(
        &self,
        script: &str,
        args: Vec<serde_json::Value>,
    ) -> anyhow::Result<serde_json::Value> {
        Ok(self.client.execute(script, args).await?)
    }

    /// Runs asynchronous `script`, which calls its last argument with the result.
    pub async fn run_async(
        &self,
        script: &str,
        args: Vec<serde_json::Value>,
    ) -> anyhow::Result<serde_json::Value> {
        Ok(self.client.execute_async(script, args).await?)
    }

    /// Whether an element matches `css`.
    pub async fn has(&self, css: &str) -> anyhow::Result<bool> {
        Ok(!self.client.find_all(Locator::Css(css)).await?.is_empty())
    }

    /// Saves a PNG of the window as `<target>/screenshots/<name>.png` and returns its path.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        let png = self.client.screenshot().await?;
        let dir = screenshots_dir();
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// Ends the session (Chromium exits); the driver stops when dropped.
    pub async fn close(self) -> anyhow::Result<()> {
        self.client.close().await?;
        Ok(())
    }
}

/// `<target>/screenshots`, beside the tools directory.
pub fn screenshots_dir() -> PathBuf {
    tools_dir()
        .parent()
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf)
        .join("screenshots")
}
