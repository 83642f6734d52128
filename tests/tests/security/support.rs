//! Helpers: a core configured with tokens (and optionally TLS), requests carrying a bearer token, and
//! generated certificates.

use std::path::Path;

use riskgate_proto::v1::{
    connector_service_client::ConnectorServiceClient, CreateConnectorRequest, HeartbeatRequest,
};
use riskgate_tests::{admin::connector, CoreProcess};
use sha2::{Digest, Sha256};
use tonic::{metadata::MetadataValue, Request};

/// The tokens every security test configures, by role.
pub(crate) const ADMIN: &str = "admin-token-0123456789";
pub(crate) const READER: &str = "reader-token-0123456789";
pub(crate) const SUBSCRIBER: &str = "subscriber-token-0123456789";
pub(crate) const LOOKOUT: &str = "lookout-token-0123456789";
pub(crate) const EXPIRED: &str = "expired-token-0123456789";

fn sha256_hex(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `[[tokens]]` section: admin, reader, subscriber, `connector:lookout`, and an expired admin token.
pub(crate) fn tokens_toml() -> String {
    let entry = |name: &str, token: &str, role: &str, expires: Option<&str>| {
        let expires = expires
            .map(|at| format!("expires_at = \"{at}\"\n"))
            .unwrap_or_default();
        format!(
            "[[tokens]]\nname = \"{name}\"\nsha256 = \"{}\"\nroles = [\"{role}\"]\n{expires}\n",
            sha256_hex(token)
        )
    };
    [
        entry("ops", ADMIN, "admin", None),
        entry("dashboard", READER, "reader", None),
        entry("gateway", SUBSCRIBER, "subscriber", None),
        entry("lookout-host", LOOKOUT, "connector:lookout", None),
        entry("old-admin", EXPIRED, "admin", Some("2020-01-01T00:00:00Z")),
    ]
    .concat()
}

/// Starts a core with `config` written to a file in `dir`, plus `extra_args`.
pub(crate) async fn start_with_config(
    dir: &Path,
    config: &str,
    extra_args: &[&str],
) -> anyhow::Result<CoreProcess> {
    let path = dir.join("riskgate.toml");
    std::fs::write(&path, config)?;
    let path = path.to_string_lossy().into_owned();
    let mut args = vec!["--config", path.as_str()];
    args.extend_from_slice(extra_args);
    CoreProcess::try_start(&dir.join("data"), &args).await
}

/// A request carrying `token` as a bearer token.
pub(crate) fn with_token<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    let value: MetadataValue<_> = format!("Bearer {token}").parse().expect("ascii token");
    request.metadata_mut().insert("authorization", value);
    request
}

/// Creates connector `id` (as admin) and sends its first heartbeat (as admin).
pub(crate) async fn register_as_admin(core: &CoreProcess, id: &str) -> anyhow::Result<()> {
    let mut client = ConnectorServiceClient::new(core.channel().await?);
    client
        .create_connector(with_token(
            CreateConnectorRequest {
                connector: Some(connector(id)),
            },
            ADMIN,
        ))
        .await?;
    client
        .heartbeat(with_token(
            HeartbeatRequest {
                connector_id: id.into(),
                error_message: String::new(),
                feed: None,
            },
            ADMIN,
        ))
        .await?;
    Ok(())
}

/// A test PKI: a CA, a server certificate for localhost and 127.0.0.1, and a client certificate.
pub(crate) struct Pki {
    pub(crate) ca_pem: String,
    pub(crate) server_cert_pem: String,
    pub(crate) server_key_pem: String,
    pub(crate) client_cert_pem: String,
    pub(crate) client_key_pem: String,
}

impl Pki {
    pub(crate) fn generate() -> anyhow::Result<Self> {
        use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;
        let server_key = KeyPair::generate()?;
        let server = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?
            .signed_by(&server_key, &ca)?;
        let client_key = KeyPair::generate()?;
        let client =
            CertificateParams::new(vec!["lookout-host".to_owned()])?.signed_by(&client_key, &ca)?;
        Ok(Self {
            ca_pem: ca.pem(),
            server_cert_pem: server.pem(),
            server_key_pem: server_key.serialize_pem(),
            client_cert_pem: client.pem(),
            client_key_pem: client_key.serialize_pem(),
        })
    }
}
