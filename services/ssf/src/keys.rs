//! The transmitter's signing keys. SETs are signed RS256 with keys of at least 2048 bits (the CAEP
//! interoperability profile); riskgate makes a 2048-bit key at first start in its data dir, or reads an
//! operator's PKCS#8 file. Keys rotate by command or on a configured age; a retired key stays in the
//! JWKS for a configured overlap, so receivers can still verify SETs signed just before the rotation.
//!
//! Each key is a file `keys/<created unix seconds>-<kid>.p8` (PKCS#8 DER), written to a temporary name,
//! synced and renamed, so a crash never leaves half a key. The key id is the key's JWK thumbprint
//! (RFC 7638). ring signs; it cannot generate RSA keys, so the `rsa` crate generates them (and is used
//! for nothing else; see deny.toml).

use std::{
    fs,
    io::Write as _,
    path::{Path, PathBuf},
};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use ring::{
    digest,
    rsa::PublicKeyComponents,
    signature::{RsaKeyPair, RSA_PKCS1_SHA256},
};
use rsa::pkcs8::EncodePrivateKey as _;
use serde_json::{json, Value};

/// The size of the keys riskgate makes, the interop profile's minimum.
pub const KEY_BITS: usize = 2048;

/// What can go wrong with keys.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading or writing a key file.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A key file that is not a usable RSA PKCS#8 key.
    #[error("{path}: not an RSA private key in PKCS#8 DER of at least {KEY_BITS} bits: {reason}")]
    Rejected {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Generating or signing failed.
    #[error("{0}")]
    Crypto(String),
    /// The key is the operator's file (`[keys] file`), which riskgate does not rotate.
    #[error("the signing key is the operator's file ([keys] file): replace the file and restart to rotate")]
    OperatorKey,
}

/// One signing key.
#[derive(Debug)]
pub struct SigningKey {
    /// The JWK thumbprint (RFC 7638), the `kid` of the SETs it signs.
    pub kid: String,
    /// When it was made, Unix seconds.
    pub created: u64,
    pair: RsaKeyPair,
}

impl SigningKey {
    fn from_pkcs8(der: &[u8], created: u64, path: &Path) -> Result<Self, KeyError> {
        let rejected = |reason: String| KeyError::Rejected {
            path: path.to_owned(),
            reason,
        };
        let pair = RsaKeyPair::from_pkcs8(der).map_err(|err| rejected(err.to_string()))?;
        if pair.public().modulus_len() * 8 < KEY_BITS {
            return Err(rejected(format!(
                "{} bits",
                pair.public().modulus_len() * 8
            )));
        }
        let kid = thumbprint(&components(&pair));
        Ok(Self { kid, created, pair })
    }

    /// The public key as a JWK (`kty`, `n`, `e`, `kid`, `alg`, `use`).
    pub fn jwk(&self) -> Value {
        let public = components(&self.pair);
        json!({
            "kty": "RSA",
            "n": URL_SAFE_NO_PAD.encode(&public.n),
            "e": URL_SAFE_NO_PAD.encode(&public.e),
            "kid": self.kid,
            "alg": "RS256",
            "use": "sig",
        })
    }

    /// The RS256 signature (RSASSA-PKCS1-v1_5 with SHA-256) of `message`.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut signature = vec![0; self.pair.public().modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|_| KeyError::Crypto("RS256 signing failed".to_owned()))?;
        Ok(signature)
    }
}

fn components(pair: &RsaKeyPair) -> PublicKeyComponents<Vec<u8>> {
    PublicKeyComponents::<Vec<u8>>::from(pair.public())
}

/// RFC 7638: the SHA-256 of `{"e":…,"kty":"RSA","n":…}` (members in that order, no spaces), base64url.
fn thumbprint(public: &PublicKeyComponents<Vec<u8>>) -> String {
    let canonical = format!(
        r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
        URL_SAFE_NO_PAD.encode(&public.e),
        URL_SAFE_NO_PAD.encode(&public.n)
    );
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, canonical.as_bytes()))
}

/// The keys in a directory, oldest first; the newest signs.
#[derive(Debug)]
pub struct KeyRing {
    dir: Option<PathBuf>,
    keys: Vec<SigningKey>,
}

impl KeyRing {
    /// The keys in `dir`, making the first one (at `now`) when there is none.
    pub fn open(dir: &Path, now: u64) -> Result<KeyRing, KeyError> {
        fs::create_dir_all(dir).map_err(io_error(dir))?;
        let mut keys = Vec::new();
        for entry in fs::read_dir(dir).map_err(io_error(dir))? {
            let path = entry.map_err(io_error(dir))?.path();
            let Some(created) = created_from_name(&path) else {
                continue;
            };
            let der = fs::read(&path).map_err(io_error(&path))?;
            keys.push(SigningKey::from_pkcs8(&der, created, &path)?);
        }
        keys.sort_by_key(|key| key.created);
        let mut ring = KeyRing {
            dir: Some(dir.to_owned()),
            keys,
        };
        if ring.keys.is_empty() {
            ring.rotate(now)?;
        }
        Ok(ring)
    }

    /// The operator's key from a PKCS#8 DER file; it is never rotated by riskgate.
    pub fn from_pkcs8_file(path: &Path) -> Result<KeyRing, KeyError> {
        let bytes = fs::read(path).map_err(io_error(path))?;
        let der = pem_body(&bytes).unwrap_or(bytes);
        Ok(KeyRing {
            dir: None,
            keys: vec![SigningKey::from_pkcs8(&der, 0, path)?],
        })
    }

    /// The key that signs now.
    pub fn current(&self) -> &SigningKey {
        // `open` and `from_pkcs8_file` never leave the ring empty.
        &self.keys[self.keys.len() - 1]
    }

    /// Makes a new key at `now`, which signs from now on. An operator's key cannot be rotated here.
    pub fn rotate(&mut self, now: u64) -> Result<&SigningKey, KeyError> {
        let dir = self.dir.clone().ok_or(KeyError::OperatorKey)?;
        let der = generate_pkcs8()?;
        let staging = dir.join(".new-key.p8.partial");
        write_synced(&staging, &der)?;
        let key = SigningKey::from_pkcs8(&der, now, &staging)?;
        let path = dir.join(format!("{now}-{}.p8", key.kid));
        fs::rename(&staging, &path).map_err(io_error(&path))?;
        sync_dir(&dir)?;
        self.keys.push(key);
        Ok(self.current())
    }

    /// Rotates when the current key is older than `max_age` seconds; whether it did.
    pub fn rotate_if_older(&mut self, max_age: u64, now: u64) -> Result<bool, KeyError> {
        if self.dir.is_none() || now.saturating_sub(self.current().created) <= max_age {
            return Ok(false);
        }
        self.rotate(now)?;
        Ok(true)
    }

    /// The JWKS: the current key and every key retired less than `overlap` seconds ago (a key retires
    /// when the next one is made).
    pub fn jwks(&self, overlap: u64, now: u64) -> Value {
        let keys: Vec<Value> = self
            .keys
            .iter()
            .enumerate()
            .filter(|(index, _)| {
                self.keys
                    .get(index + 1)
                    .is_none_or(|next| now.saturating_sub(next.created) < overlap)
            })
            .map(|(_, key)| key.jwk())
            .collect();
        json!({ "keys": keys })
    }
}

/// A new RSA key, PKCS#8 DER.
fn generate_pkcs8() -> Result<Vec<u8>, KeyError> {
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, KEY_BITS)
        .map_err(|err| KeyError::Crypto(format!("generating an RSA key: {err}")))?;
    let document = key
        .to_pkcs8_der()
        .map_err(|err| KeyError::Crypto(format!("encoding the RSA key: {err}")))?;
    Ok(document.as_bytes().to_vec())
}

/// `<created>-<kid>.p8` → `created`.
fn created_from_name(path: &Path) -> Option<u64> {
    let name = path.file_name()?.to_str()?.strip_suffix(".p8")?;
    name.split_once('-')?.0.parse().ok()
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    let mut file = private_file(path).map_err(io_error(path))?;
    file.write_all(bytes).map_err(io_error(path))?;
    file.sync_all().map_err(io_error(path))
}

fn sync_dir(dir: &Path) -> Result<(), KeyError> {
    fs::File::open(dir)
        .and_then(|handle| handle.sync_all())
        .map_err(io_error(dir))
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The DER inside a PEM `-----BEGIN PRIVATE KEY-----` block, if `bytes` is one.
fn pem_body(bytes: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(bytes).ok()?;
    let body = text
        .split("-----BEGIN PRIVATE KEY-----")
        .nth(1)?
        .split("-----END PRIVATE KEY-----")
        .next()?;
    let base64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(base64)
        .ok()
}

/// A new file only its owner may read: it holds a secret (a private key, a receiver's push credential).
pub fn private_file(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

#[cfg(test)]
mod tests;
