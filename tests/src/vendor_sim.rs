//! Running `riskgate-vendor-sim`, the Lookout and Zimperium cloud simulator, from a test, and
//! driving it through its JSON admin API (`/_admin/...`, documented in services/vendor-sim/README.md).

use anyhow::{ensure, Context as _};
use serde_json::{json, Value};
use tokio::process::Command;

use crate::{binary::artifacts, child::ChildProcess};

/// A running simulator on `127.0.0.1` port 0, with an HTTP client for its admin API.
#[derive(Debug)]
pub struct SimProcess {
    /// The process (killed on drop).
    pub process: ChildProcess,
    /// `http://127.0.0.1:PORT`, the base URL of both vendor APIs and the admin API.
    pub url: String,
    http: reqwest::Client,
}

impl SimProcess {
    /// Starts the simulator with `args` (such as `--seed 1` or `--heartbeat-ms 200`) and waits for its
    /// `READY http=ADDR` line.
    pub async fn start(args: &[&str]) -> anyhow::Result<SimProcess> {
        let mut command = Command::new(artifacts().bin("riskgate-vendor-sim"));
        command.args(["--listen", "127.0.0.1:0"]).args(args);
        let process = ChildProcess::spawn(command, "sim")?;
        let addr = process.ready_value("READY http=").await?;
        Ok(SimProcess {
            process,
            url: format!("http://{addr}"),
            http: reqwest::Client::new(),
        })
    }

    /// Everything the simulator wrote so far.
    pub fn output_text(&self) -> String {
        self.process.output.text()
    }

    /// POSTs `body` to `/_admin/<call>` and returns the answer, failing on a non-2xx status.
    pub async fn admin(&self, call: &str, body: Value) -> anyhow::Result<Value> {
        let response = self
            .http
            .post(format!("{}/_admin/{call}", self.url))
            .json(&body)
            .send()
            .await
            .with_context(|| format!("POST /_admin/{call}"))?;
        let status = response.status();
        let answer: Value = response.json().await?;
        ensure!(
            status.is_success(),
            "/_admin/{call} {body}: {status} {answer}"
        );
        Ok(answer)
    }

    /// GETs `/_admin/<call>`.
    pub async fn get(&self, call: &str) -> anyhow::Result<Value> {
        let response = self
            .http
            .get(format!("{}/_admin/{call}", self.url))
            .send()
            .await
            .with_context(|| format!("GET /_admin/{call}"))?;
        Ok(response.json().await?)
    }

    /// Adds a device on `platform` (`ios`, `android`, ...).
    pub async fn add_device(&self, id: &str, platform: &str) -> anyhow::Result<()> {
        self.admin("devices", json!({"id": id, "platform": platform}))
            .await
            .map(drop)
    }

    /// A counter from `/_admin/counters` by dotted path, such as `stream_connections` or
    /// `tokens_issued.lookout`; 0 if it is missing or the simulator does not answer.
    pub async fn counter(&self, path: &str) -> u64 {
        let counters = self.get("counters").await.unwrap_or_default();
        path.split('.')
            .fold(&counters, |value, key| &value[key])
            .as_u64()
            .unwrap_or(0)
    }
}
