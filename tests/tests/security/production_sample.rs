//! The production sample config (`docs/examples/production/riskgate.toml`) is real: the core starts
//! with that very file, serves only mutual-TLS clients, and honours its hashed tokens and roles.

use riskgate_proto::v1::{
    connector_service_client::ConnectorServiceClient, CreateConnectorRequest,
};
use riskgate_tests::{admin::connector, binary::workspace_root, CoreProcess};

use crate::{
    support::{with_token, Pki},
    tls::{store_info_over, tls_channel},
};

/// The placeholder tokens whose hashes the sample holds.
const SAMPLE_ADMIN: &str = "replace-me-admin-token";
const SAMPLE_READER: &str = "replace-me-reader-token";

/// Starts the core on the sample config, its `/etc/riskgate` and `/var/lib/riskgate` paths moved into
/// `dir`, where a freshly generated PKI is written under the names the sample uses.
async fn start_sample(dir: &std::path::Path, pki: &Pki) -> anyhow::Result<CoreProcess> {
    let sample_path = workspace_root().join("docs/examples/production/riskgate.toml");
    let sample = std::fs::read_to_string(&sample_path)?;
    let etc = dir.join("etc");
    std::fs::create_dir_all(etc.join("tls"))?;
    for (name, pem) in [
        ("server.pem", &pki.server_cert_pem),
        ("server.key", &pki.server_key_pem),
        ("client-ca.pem", &pki.ca_pem),
    ] {
        std::fs::write(etc.join("tls").join(name), pem)?;
    }
    let config = sample
        .replace("/etc/riskgate", &etc.to_string_lossy())
        .replace("/var/lib/riskgate", &dir.join("data").to_string_lossy());
    let config_path = dir.join("riskgate.toml");
    std::fs::write(&config_path, config)?;
    // The harness's flags move the listeners to 127.0.0.1:0; everything else is the sample's.
    CoreProcess::try_start(
        &dir.join("data"),
        &["--config", &config_path.to_string_lossy()],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_sample_config_serves_mutual_tls_with_tokens() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let pki = Pki::generate()?;
    let core = start_sample(dir.path(), &pki).await?;

    // Without a client certificate the TLS handshake is refused.
    let without_cert = tls_channel(&core, &pki, false).await?;
    assert!(store_info_over(without_cert).await.is_err());

    // With one, the reader token may read but not administer, and the admin token may.
    let channel = tls_channel(&core, &pki, true).await?;
    let mut connectors = ConnectorServiceClient::new(channel);
    let create = |token: &str| {
        with_token(
            CreateConnectorRequest {
                connector: Some(connector("lookout")),
            },
            token,
        )
    };
    let refused = connectors
        .create_connector(create(SAMPLE_READER))
        .await
        .expect_err("a reader may not create connectors");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    connectors.create_connector(create(SAMPLE_ADMIN)).await?;
    Ok(())
}
