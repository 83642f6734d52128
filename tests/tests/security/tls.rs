//! TLS on the gRPC listener, and mutual TLS refusing clients without a certificate.

use riskgate_proto::v1::{device_service_client::DeviceServiceClient, GetStoreInfoRequest};
use riskgate_tests::CoreProcess;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

use crate::support::{start_with_config, tokens_toml, with_token, Pki, READER};

async fn start_tls(dir: &std::path::Path, pki: &Pki, mutual: bool) -> anyhow::Result<CoreProcess> {
    let write = |name: &str, pem: &str| -> anyhow::Result<String> {
        let path = dir.join(name);
        std::fs::write(&path, pem)?;
        Ok(path.to_string_lossy().into_owned())
    };
    let mut tls = format!(
        "[tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\n",
        write("server.pem", &pki.server_cert_pem)?,
        write("server.key", &pki.server_key_pem)?
    );
    if mutual {
        tls.push_str(&format!(
            "client_ca_file = \"{}\"\n",
            write("ca.pem", &pki.ca_pem)?
        ));
    }
    start_with_config(dir, &format!("{}{tls}", tokens_toml()), &[]).await
}

pub(crate) async fn store_info_over(channel: Channel) -> Result<(), tonic::Status> {
    DeviceServiceClient::new(channel)
        .get_store_info(with_token(GetStoreInfoRequest {}, READER))
        .await
        .map(drop)
}

pub(crate) async fn tls_channel(
    core: &CoreProcess,
    pki: &Pki,
    with_client_cert: bool,
) -> anyhow::Result<Channel> {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&pki.ca_pem))
        .domain_name("localhost");
    if with_client_cert {
        tls = tls.identity(Identity::from_pem(
            &pki.client_cert_pem,
            &pki.client_key_pem,
        ));
    }
    Ok(
        Channel::from_shared(format!("https://{}", core.grpc_addr()))?
            .tls_config(tls)?
            .connect_lazy(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_tls_configured_plain_connections_fail_and_tls_clients_are_served(
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let pki = Pki::generate()?;
    let core = start_tls(dir.path(), &pki, false).await?;
    let plain = Channel::from_shared(format!("http://{}", core.grpc_addr()))?.connect_lazy();
    assert!(
        store_info_over(plain).await.is_err(),
        "plain text must not be served"
    );
    store_info_over(tls_channel(&core, &pki, false).await?).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_refuses_clients_without_a_certificate() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let pki = Pki::generate()?;
    let core = start_tls(dir.path(), &pki, true).await?;
    let refused = store_info_over(tls_channel(&core, &pki, false).await?).await;
    assert!(
        refused.is_err(),
        "a client without a certificate must be refused"
    );
    store_info_over(tls_channel(&core, &pki, true).await?).await?;
    Ok(())
}
