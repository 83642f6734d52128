//! Certificates for an Envoy that identifies devices by their client certificate: a CA, the
//! listener's certificate (for `localhost` and `127.0.0.1`), and one certificate per device whose URI
//! SAN carries its id, such as `spiffe://example.org/device/phone-1`. Envoy passes that SAN to riskgate
//! as the request's `source.principal`, and riskgate's `gateway.device_principal` pattern reads the id
//! back out of it.

use std::path::Path;

use rcgen::{
    string::Ia5String, BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName,
    DnType, IsCa, KeyPair, SanType,
};

use crate::{bootstrap::ListenerTls, EnvoyError};

/// A certificate and its private key, PEM.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The certificate.
    pub cert_pem: String,
    /// Its private key (PKCS#8).
    pub key_pem: String,
}

/// A throw-away CA that issues the listener's and the devices' certificates.
#[derive(Debug)]
pub struct Pki {
    ca: CertifiedIssuer<'static, KeyPair>,
    listener: Identity,
}

impl Pki {
    /// A new CA and a listener certificate for `localhost` and `127.0.0.1`.
    pub fn generate() -> Result<Pki, EnvoyError> {
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name = common_name("riskgate test device CA");
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;
        let key = KeyPair::generate()?;
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
        params.distinguished_name = common_name("localhost");
        let certificate = params.signed_by(&key, &ca)?;
        let listener = Identity {
            cert_pem: certificate.pem(),
            key_pem: key.serialize_pem(),
        };
        Ok(Pki { ca, listener })
    }

    /// The CA certificate, which clients trust for the listener and Envoy trusts for devices.
    pub fn ca_pem(&self) -> String {
        self.ca.pem()
    }

    /// A device certificate whose only SAN is the URI `principal`.
    pub fn device(&self, principal: &str) -> Result<Identity, EnvoyError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name = common_name(principal);
        params
            .subject_alt_names
            .push(SanType::URI(Ia5String::try_from(principal)?));
        let key = KeyPair::generate()?;
        let certificate = params.signed_by(&key, &self.ca)?;
        Ok(Identity {
            cert_pem: certificate.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// Writes the listener's certificate and key and the CA to `dir`, for Envoy's bootstrap.
    pub fn write_listener_files(&self, dir: &Path) -> Result<ListenerTls, EnvoyError> {
        let tls = ListenerTls {
            certificate: dir.join("envoy-cert.pem"),
            private_key: dir.join("envoy-key.pem"),
            client_ca: dir.join("device-ca.pem"),
        };
        for (path, pem) in [
            (&tls.certificate, &self.listener.cert_pem),
            (&tls.private_key, &self.listener.key_pem),
            (&tls.client_ca, &self.ca_pem()),
        ] {
            std::fs::write(path, pem)
                .map_err(EnvoyError::io(format!("writing {}", path.display())))?;
        }
        Ok(tls)
    }
}

/// A subject of just a common name. Every certificate needs its own: rcgen's default subject is the same
/// for all, and a device certificate whose subject equals its issuer's looks self-signed to a verifier.
fn common_name(name: &str) -> DistinguishedName {
    let mut subject = DistinguishedName::new();
    subject.push(DnType::CommonName, name);
    subject
}
