//! The SSF transmitter (`riskgate-ssf`) and an independent receiver, for the Shared Signals tests.
//!
//! The receiver is `tests/ssf/receiver.py`: Python with PyJWT, sharing no code with the transmitter. It
//! fetches the transmitter's metadata and JWKS at run time and verifies every SET (typ, kid, iss, aud,
//! signature); PyJWT is installed on first use into a virtual environment under the target directory,
//! as Envoy is. The receiver prints one `SET {…}` line per verified SET, which [`Receiver::sets`] reads.

use std::{
    path::{Path, PathBuf},
    sync::OnceLock,
    time::Duration,
};

use anyhow::Context as _;
use serde::Deserialize;
use serde_json::Value;
use tokio::process::Command;

use crate::{
    auth::token_entry, binary::artifacts, binary::workspace_root, child::ChildProcess,
    enforcement::SSF_CORE_TOKEN, envoy::tools_dir, wait_until,
};

/// The issuer of every SET, fixed so it survives restarts on another port.
pub const ISSUER: &str = "https://ssf.riskgate.test";
/// The first receiver's token (`ssf.manage`), name `okta`.
pub const OKTA_TOKEN: &str = "ssf-okta-receiver-token";
/// The `aud` of the first receiver's SETs.
pub const OKTA_AUDIENCE: &str = "https://okta.riskgate.test";
/// A second receiver's token (`ssf.manage`), name `keycloak`.
pub const KEYCLOAK_TOKEN: &str = "ssf-keycloak-receiver-token";
/// A read-only receiver token (`ssf.read`), name `viewer`.
pub const VIEWER_TOKEN: &str = "ssf-viewer-token";
/// The admin token (`admin`), name `ops`.
pub const OPS_TOKEN: &str = "ssf-ops-token";
/// The `tenant` member of device subjects.
pub const TENANT: &str = "corp";

/// The PyJWT release the receiver is tested with.
const PYJWT: &str = "PyJWT[crypto]==2.10.1";

/// The receiver's Python, with PyJWT (installed on first use).
pub fn receiver_python() -> anyhow::Result<&'static Path> {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let home = tools_dir().join("ssf-receiver-pyjwt-2.10.1");
            let python = home.join("bin/python");
            if !python.is_file() {
                riskgate_envoy::provision::pip_venv(&tools_dir(), &home, &[PYJWT], |home| {
                    home.join("bin/python").is_file()
                })
                .map_err(|err| err.to_string())?;
            }
            Ok(python)
        })
        .as_deref()
        .map_err(|err| anyhow::anyhow!("provisioning PyJWT for the SSF receiver: {err}"))
}

/// A running transmitter.
#[derive(Debug)]
pub struct SsfProcess {
    /// The process (killed on drop).
    pub process: ChildProcess,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    config: PathBuf,
    _dir: tempfile::TempDir,
}

impl SsfProcess {
    /// Starts a transmitter following the core at `core_url`, with the test tokens and `extra`
    /// configuration lines (top-level keys, then tables; a `[tls]` table makes it HTTPS).
    pub async fn start(core_url: &str, extra: &str) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let token_file = dir.path().join("core.token");
        std::fs::write(&token_file, SSF_CORE_TOKEN)?;
        let config = dir.path().join("ssf.toml");
        let text = format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = \"{}\"\nissuer = \"{ISSUER}\"\ntenant = \"{TENANT}\"\n{extra}\n\
             [delivery]\ninitial_backoff = \"50ms\"\nmax_backoff = \"500ms\"\nlong_poll = \"5s\"\n\
             [core]\nurl = \"{core_url}\"\ntoken_file = \"{}\"\n\n{}{}{}{}",
            dir.path().join("data").display(),
            token_file.display(),
            okta_token_entry(),
            token_entry("keycloak", KEYCLOAK_TOKEN, &["ssf.manage"]),
            token_entry("viewer", VIEWER_TOKEN, &["ssf.read"]),
            token_entry("ops", OPS_TOKEN, &["admin"]),
        );
        std::fs::write(&config, text)?;
        let (process, mut url) = spawn(&config).await?;
        if extra.contains("[tls]") {
            url = url.replacen("http://", "https://", 1);
        }
        Ok(Self {
            process,
            url,
            config,
            _dir: dir,
        })
    }

    /// Kills the transmitter with SIGKILL and starts it again on the same address and data.
    pub async fn kill_and_restart(&mut self) -> anyhow::Result<()> {
        self.process.kill().await?;
        let address = self.url.trim_start_matches("http://").to_owned();
        let text = std::fs::read_to_string(&self.config)?.replacen(
            "listen = \"127.0.0.1:0\"",
            &format!("listen = \"{address}\""),
            1,
        );
        std::fs::write(&self.config, text)?;
        let (process, url) = spawn(&self.config).await?;
        anyhow::ensure!(url == self.url, "restarted on {url}, not {}", self.url);
        self.process = process;
        Ok(())
    }

    /// The metadata's URL.
    pub fn metadata_url(&self) -> String {
        format!("{}/.well-known/ssf-configuration", self.url)
    }

    /// One management request: `(status, JSON body or Null)`.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let mut request = reqwest::Client::new().request(method, format!("{}{path}", self.url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)
                .with_context(|| format!("{path} answered {status} {text}"))?
        };
        Ok((status, body))
    }

    /// `GET path` as `token`.
    pub async fn get(&self, path: &str, token: Option<&str>) -> anyhow::Result<(u16, Value)> {
        self.call(reqwest::Method::GET, path, token, None).await
    }

    /// `POST path` with a JSON `body` as `token`.
    pub async fn post(
        &self,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> anyhow::Result<(u16, Value)> {
        self.call(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    /// The stream's status document, as `token` sees it.
    pub async fn status(&self, token: &str, stream_id: &str) -> anyhow::Result<Value> {
        let (code, status) = self
            .get(&format!("/ssf/status?stream_id={stream_id}"), Some(token))
            .await?;
        anyhow::ensure!(code == 200, "status of {stream_id}: {code} {status}");
        Ok(status)
    }

    /// Creates a stream as `token`; the configuration the transmitter answers.
    pub async fn create_stream(&self, token: &str, body: &Value) -> anyhow::Result<Value> {
        let (status, config) = self
            .call(
                reqwest::Method::POST,
                "/ssf/streams",
                Some(token),
                Some(body),
            )
            .await?;
        anyhow::ensure!(status == 201, "creating a stream: {status} {config}");
        Ok(config)
    }

    /// Sets a stream's status as `token`.
    pub async fn set_status(
        &self,
        token: &str,
        stream_id: &str,
        status: &str,
    ) -> anyhow::Result<()> {
        let body = serde_json::json!({ "stream_id": stream_id, "status": status });
        let (code, answer) = self
            .call(
                reqwest::Method::POST,
                "/ssf/status",
                Some(token),
                Some(&body),
            )
            .await?;
        anyhow::ensure!(code == 200, "setting status {status}: {code} {answer}");
        Ok(())
    }
}

fn okta_token_entry() -> String {
    format!(
        "{}\naudience = \"{OKTA_AUDIENCE}\"\n\n",
        token_entry("okta", OKTA_TOKEN, &["ssf.manage"]).trim_end()
    )
}

async fn spawn(config: &Path) -> anyhow::Result<(ChildProcess, String)> {
    let mut command = Command::new(artifacts().bin("riskgate-ssf"));
    command.arg("--config").arg(config).env("RUST_LOG", "info");
    let process = ChildProcess::spawn(command, "riskgate-ssf")?;
    let address = process.ready_value("READY http=").await?;
    Ok((process, format!("http://{address}")))
}

/// A SET the receiver verified.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ReceivedSet {
    /// `jti`.
    pub jti: String,
    /// `txn`, the core's log position.
    pub txn: Option<String>,
    /// The JOSE header's `kid`.
    pub kid: String,
    /// The event type URI.
    pub event: String,
    /// The event's members.
    pub body: Value,
    /// `sub_id`.
    pub sub_id: Value,
    /// When a push receiver accepted it (Unix seconds).
    #[serde(default)]
    pub at: Option<f64>,
}

impl ReceivedSet {
    /// The last segment of the event type (`session-revoked`).
    pub fn name(&self) -> &str {
        self.event.rsplit('/').next().unwrap_or_default()
    }

    /// `txn` as a log position.
    pub fn position(&self) -> Option<u64> {
        self.txn.as_deref().and_then(|txn| txn.parse().ok())
    }

    /// The device the SET is about (`sub_id.device.id`).
    pub fn device(&self) -> Option<&str> {
        self.sub_id["device"]["id"].as_str()
    }
}

/// A running receiver.
#[derive(Debug)]
pub struct Receiver {
    /// The Python process (killed on drop).
    pub process: ChildProcess,
    /// For push: the URL to give the transmitter.
    pub endpoint_url: Option<String>,
}

impl Receiver {
    /// A push receiver (RFC 8935) on `listen` (`127.0.0.1:0` for any port) for SETs to `audience`.
    pub async fn push(ssf: &SsfProcess, audience: &str, listen: &str) -> anyhow::Result<Self> {
        Self::push_with(ssf, audience, listen, &[]).await
    }

    /// A push receiver with more options (`--throttle N`).
    pub async fn push_with(
        ssf: &SsfProcess,
        audience: &str,
        listen: &str,
        options: &[&str],
    ) -> anyhow::Result<Self> {
        let mut args = vec!["push", "--listen", listen];
        args.extend_from_slice(options);
        let process = receiver(ssf, audience, &args).await?;
        let address = process.ready_value("READY http=").await?;
        Ok(Self {
            process,
            endpoint_url: Some(format!("http://{address}/events")),
        })
    }

    /// A poll receiver (RFC 8936) of `poll_url` with `token`.
    pub async fn poll(
        ssf: &SsfProcess,
        audience: &str,
        poll_url: &str,
        token: &str,
    ) -> anyhow::Result<Self> {
        let process = receiver(
            ssf,
            audience,
            &["poll", "--url", poll_url, "--token", token],
        )
        .await?;
        process.ready_value("READY ").await?;
        Ok(Self {
            process,
            endpoint_url: None,
        })
    }

    /// Every SET verified so far, in arrival order.
    pub fn sets(&self) -> Vec<ReceivedSet> {
        self.lines("SET ")
            .iter()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// The reasons of every refused SET.
    pub fn rejects(&self) -> Vec<String> {
        self.lines("REJECT ")
    }

    /// When the receiver answered 429 (`--throttle`), Unix seconds.
    pub fn throttled(&self) -> Vec<f64> {
        self.lines("THROTTLED ")
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter_map(|record| record["at"].as_f64())
            .collect()
    }

    fn lines(&self, prefix: &str) -> Vec<String> {
        self.process
            .output
            .text()
            .lines()
            .filter_map(|line| line.split_once(prefix).map(|(_, rest)| rest.to_owned()))
            .collect()
    }

    /// Waits until a SET satisfies `found`, and returns it.
    pub async fn wait_for(
        &self,
        what: &str,
        within: Duration,
        found: impl Fn(&ReceivedSet) -> bool,
    ) -> anyhow::Result<ReceivedSet> {
        wait_until(within, what, || {
            let seen = self.sets().iter().any(&found);
            async move { seen }
        })
        .await
        .with_context(|| {
            format!(
                "received so far: {:#?}\nrejected: {:?}",
                self.sets(),
                self.rejects()
            )
        })?;
        self.sets()
            .into_iter()
            .find(|set| found(set))
            .context("the SET went away")
    }
}

async fn receiver(ssf: &SsfProcess, audience: &str, args: &[&str]) -> anyhow::Result<ChildProcess> {
    let python = tokio::task::spawn_blocking(receiver_python).await??;
    let script = workspace_root().join("tests/ssf/receiver.py");
    let mut command = Command::new(python);
    command
        .arg("-u")
        .arg(script)
        .args(&args[..1])
        .args(["--metadata", &ssf.metadata_url(), "--audience", audience])
        .args(&args[1..]);
    ChildProcess::spawn(command, "ssf-receiver")
}
