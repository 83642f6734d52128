//! A connector host against a core that requires tokens: it streams with its own connector token, and a host
//! holding another connector's token is refused and stores nothing.

use riskgate_proto::v1 as api;
use sha2::{Digest, Sha256};
use tonic::Request;

use crate::support::{artifacts, config_file, sha256_file, start_host, Core, WAIT};

const ADMIN: &str = "admin-token-for-host-tests";
const DEMO: &str = "demo-connector-token";
const OTHER: &str = "other-connector-token";

fn hex(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn admin<T>(message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {ADMIN}").parse().expect("ascii"),
    );
    request
}

async fn core_with_tokens(dir: &std::path::Path) -> anyhow::Result<Core> {
    let toml = format!(
        "[[tokens]]\nname = \"ops\"\nsha256 = \"{}\"\nroles = [\"admin\"]\n\n\
         [[tokens]]\nname = \"demo-host\"\nsha256 = \"{}\"\nroles = [\"connector:demo\"]\n\n\
         [[tokens]]\nname = \"other-host\"\nsha256 = \"{}\"\nroles = [\"connector:other\"]\n",
        hex(ADMIN),
        hex(DEMO),
        hex(OTHER)
    );
    let path = dir.join("core.toml");
    std::fs::write(&path, toml)?;
    let core = Core::start_with(&["--config", &path.to_string_lossy()]).await?;
    let mut connectors =
        api::connector_service_client::ConnectorServiceClient::new(core.channel().await?);
    for id in ["demo", "other"] {
        let connector = api::Connector {
            connector_id: id.into(),
            vendor: "test".into(),
            ..Default::default()
        };
        connectors
            .create_connector(admin(api::CreateConnectorRequest {
                connector: Some(connector),
            }))
            .await?;
    }
    Ok(core)
}

async fn checkpoint(core: &Core, id: &str) -> anyhow::Result<Option<api::Checkpoint>> {
    let mut ingest = api::ingest_service_client::IngestServiceClient::new(core.channel().await?);
    match ingest
        .get_checkpoint(admin(api::GetCheckpointRequest {
            connector_id: id.into(),
        }))
        .await
    {
        Ok(response) => Ok(Some(response.into_inner())),
        Err(status) if status.code() == tonic::Code::NotFound => Ok(None),
        Err(status) => Err(status.into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_streams_with_its_own_connector_token_into_an_authenticated_core(
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let core = core_with_tokens(dir.path()).await?;
    let token_file = config_file(dir.path(), "demo.token", DEMO);
    let config = config_file(
        dir.path(),
        "demo.json",
        r#"{"devices": 2, "batch_size": 2, "interval_ms": 0, "total_events": 6}"#,
    );
    let plugin = artifacts().plugin("demo_connector");
    let token = token_file.to_string_lossy().into_owned();
    let mut host = start_host(
        &core,
        "demo",
        plugin,
        &sha256_file(plugin),
        &config,
        &["--token-file", &token],
    )?;
    let status = host.wait_exit(WAIT).await?;
    assert_eq!(
        status.code(),
        Some(0),
        "host output:\n{}",
        host.output.text()
    );
    assert_eq!(
        checkpoint(&core, "demo").await?.map(|c| c.batch_seq),
        Some(3)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_with_another_connectors_token_is_refused_and_stores_nothing() -> anyhow::Result<()>
{
    let dir = tempfile::tempdir()?;
    let core = core_with_tokens(dir.path()).await?;
    let token_file = config_file(dir.path(), "other.token", OTHER);
    let config = config_file(
        dir.path(),
        "demo.json",
        r#"{"devices": 2, "batch_size": 2, "interval_ms": 0, "total_events": 6}"#,
    );
    let plugin = artifacts().plugin("demo_connector");
    let token = token_file.to_string_lossy().into_owned();
    let mut host = start_host(
        &core,
        "demo",
        plugin,
        &sha256_file(plugin),
        &config,
        &["--token-file", &token],
    )?;
    let status = host.wait_exit(WAIT).await?;
    assert_ne!(
        status.code(),
        Some(0),
        "host output:\n{}",
        host.output.text()
    );
    assert!(
        host.output
            .text()
            .contains("may not act for connector demo"),
        "{}",
        host.output.text()
    );
    assert_eq!(
        checkpoint(&core, "demo").await?,
        None,
        "nothing was stored for demo"
    );
    let _ = core.url();
    Ok(())
}
