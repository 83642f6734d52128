//! The demo runs the core as production would: every RPC needs a bearer token. At each start it makes
//! fresh random tokens (one `admin` token for its own calls, one `connector:<id>` token per connector
//! host, one `gateway` token for Envoy), gives the core only their SHA-256 (`[[tokens]]`,
//! docs/configuration.md), and hands each host its own token in a file, so a host can write only its
//! own connector's data. The core's configuration also turns on the gateway listener Envoy asks.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use rand::RngCore as _;
use riskgate_proto::bearer::{Authed, BearerToken};
use sha2::{Digest as _, Sha256};

use crate::vendor::Vendor;

/// A channel to the core whose every call carries the demo's admin token.
pub(crate) type CoreChannel = Authed;

/// The tokens of one demo run.
#[derive(Debug)]
pub(crate) struct DemoTokens {
    admin: String,
    gateway: String,
    console: String,
    connectors: Vec<(Vendor, String)>,
}

impl DemoTokens {
    /// Fresh random tokens for the admin and for each vendor's connector.
    pub(crate) fn generate() -> Self {
        DemoTokens {
            admin: random_token(),
            gateway: random_token(),
            console: random_token(),
            connectors: [Vendor::Lookout, Vendor::Zimperium]
                .into_iter()
                .map(|vendor| (vendor, random_token()))
                .collect(),
        }
    }

    /// Writes the core's configuration (the hashed tokens and their roles, and the gateway listener) to
    /// `dir/core.toml`.
    pub(crate) fn write_core_config(&self, dir: &Path) -> anyhow::Result<PathBuf> {
        let mut toml = format!(
            "# Written by riskgate-demo: hashed tokens only (docs/configuration.md).\n\n{}",
            token_entry("demo-admin", &self.admin, "admin")
        );
        for (vendor, token) in &self.connectors {
            let id = vendor.connector_id();
            toml.push_str(&token_entry(
                &format!("{id}-host"),
                token,
                &format!("connector:{id}"),
            ));
        }
        toml.push_str(&token_entry("envoy", &self.gateway, "gateway"));
        toml.push_str(&token_entry("console", &self.console, "subscriber"));
        toml.push_str(&format!(
            "[gateway]\nlisten = \"127.0.0.1:0\"\ndevice_principal = \"{}\"\n",
            crate::enforcement::PRINCIPAL_PATTERN
        ));
        let path = dir.join("core.toml");
        std::fs::write(&path, toml).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(path)
    }

    /// Writes `vendor`'s connector token to `dir/<id>.token` for its host's `--token-file`.
    pub(crate) fn write_connector_token(
        &self,
        vendor: Vendor,
        dir: &Path,
    ) -> anyhow::Result<PathBuf> {
        let (_, token) = self
            .connectors
            .iter()
            .find(|(candidate, _)| *candidate == vendor)
            .context("no token for this connector")?;
        let path = dir.join(format!("{}.token", vendor.connector_id()));
        std::fs::write(&path, token).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(path)
    }

    /// Writes the console's own token (role `subscriber`) to `dir/console.token`, and the admin's to
    /// `dir/admin.token` for the console's one-time sign-in link; returns the two paths.
    pub(crate) fn write_console_tokens(&self, dir: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
        let write = |name: &str, token: &str| {
            let path = dir.join(name);
            std::fs::write(&path, token)
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok::<_, anyhow::Error>(path)
        };
        Ok((
            write("console.token", &self.console)?,
            write("admin.token", &self.admin)?,
        ))
    }

    /// The admin token, for the console check's sign-in.
    pub(crate) fn admin_token(&self) -> &str {
        &self.admin
    }

    /// The token Envoy sends to the core's gateway listener.
    pub(crate) fn gateway_token(&self) -> &str {
        &self.gateway
    }

    /// The interceptor that authenticates the demo's own calls as admin.
    pub(crate) fn admin_bearer(&self) -> anyhow::Result<BearerToken> {
        BearerToken::new(&self.admin).context("the admin token is not ASCII")
    }
}

/// 32 random bytes, hex.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// One `[[tokens]]` entry holding the token's SHA-256, never the token.
fn token_entry(name: &str, token: &str, role: &str) -> String {
    let sha256 = hex(&Sha256::digest(token.as_bytes()));
    format!("[[tokens]]\nname = \"{name}\"\nsha256 = \"{sha256}\"\nroles = [\"{role}\"]\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_core_config_holds_each_tokens_hash_and_role_but_never_the_token() {
        let tokens = DemoTokens::generate();
        let dir = tempfile::tempdir().expect("tempdir");
        let config = std::fs::read_to_string(tokens.write_core_config(dir.path()).expect("write"))
            .expect("read");
        assert!(!config.contains(&tokens.admin));
        assert!(config.contains(&hex(&Sha256::digest(tokens.admin.as_bytes()))));
        assert!(config.contains("roles = [\"admin\"]"));
        assert!(!config.contains(&tokens.gateway));
        assert!(config.contains("roles = [\"gateway\"]"));
        assert!(config.contains("[gateway]"));
        for (vendor, token) in &tokens.connectors {
            assert!(!config.contains(token.as_str()));
            assert!(config.contains(&format!(
                "roles = [\"connector:{}\"]",
                vendor.connector_id()
            )));
        }
    }
}
