//! HTTPS clients for the listener: a device presents its certificate, and trusts only the test CA.

use crate::{pki::Identity, EnvoyError};

/// A client that trusts `ca_pem` alone and presents `device` (none: no client certificate, which the
/// listener refuses). HTTP/1.1 with keep-alive, as a mail client would talk to Exchange.
pub fn https_client(
    ca_pem: &str,
    device: Option<&Identity>,
) -> Result<reqwest::Client, EnvoyError> {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes())?)
        .http1_only();
    if let Some(device) = device {
        let pem = format!("{}{}", device.cert_pem, device.key_pem);
        builder = builder.identity(reqwest::Identity::from_pem(pem.as_bytes())?);
    }
    Ok(builder.build()?)
}
