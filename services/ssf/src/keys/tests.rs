use ring::signature::{RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256};

use super::*;

fn verify(jwk: &Value, message: &[u8], signature: &[u8]) -> bool {
    let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
    let e = URL_SAFE_NO_PAD.decode(jwk["e"].as_str().unwrap()).unwrap();
    RsaPublicKeyComponents { n, e }
        .verify(&RSA_PKCS1_2048_8192_SHA256, message, signature)
        .is_ok()
}

#[test]
fn the_first_open_makes_a_2048_bit_key_and_the_next_reads_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let first = KeyRing::open(dir.path(), 100).unwrap();
    let kid = first.current().kid.clone();
    assert_eq!(first.current().pair.public().modulus_len() * 8, 2048);
    let again = KeyRing::open(dir.path(), 200).unwrap();
    assert_eq!(again.current().kid, kid);
    assert_eq!(again.current().created, 100);
}

#[test]
fn a_signature_verifies_with_the_published_jwk() {
    let dir = tempfile::tempdir().unwrap();
    let ring = KeyRing::open(dir.path(), 100).unwrap();
    let signature = ring.current().sign(b"hello").unwrap();
    let jwks = ring.jwks(0, 100);
    assert!(verify(&jwks["keys"][0], b"hello", &signature));
    assert!(!verify(&jwks["keys"][0], b"hullo", &signature));
    assert_eq!(jwks["keys"][0]["kid"], ring.current().kid.as_str());
}

#[test]
fn a_rotated_key_stays_in_the_jwks_for_the_overlap_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut ring = KeyRing::open(dir.path(), 100).unwrap();
    let old = ring.current().kid.clone();
    assert!(!ring.rotate_if_older(1000, 500).unwrap());
    assert!(ring.rotate_if_older(1000, 1200).unwrap());
    let new = ring.current().kid.clone();
    assert_ne!(old, new);
    let kids = |jwks: Value| -> Vec<String> {
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|key| key["kid"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(kids(ring.jwks(600, 1300)), vec![old.clone(), new.clone()]);
    assert_eq!(kids(ring.jwks(600, 1900)), vec![new.clone()]);
    // Reopened, the newest key signs.
    assert_eq!(KeyRing::open(dir.path(), 2000).unwrap().current().kid, new);
}

#[test]
fn a_file_that_is_not_a_key_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("operator.p8");
    std::fs::write(&path, b"not a key").unwrap();
    let err = KeyRing::from_pkcs8_file(&path).unwrap_err();
    assert!(err.to_string().contains("operator.p8"), "{err}");
}

#[test]
fn an_operators_key_is_read_as_der_or_pem_and_made_keys_are_private() {
    use std::os::unix::fs::PermissionsExt as _;

    let dir = tempfile::tempdir().unwrap();
    let made = KeyRing::open(dir.path(), 1).unwrap();
    let file = only_file(dir.path());
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let der = std::fs::read(&file).unwrap();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(&der)
    );
    let pem_path = dir.path().join("operator.pem");
    std::fs::write(&pem_path, pem).unwrap();
    for path in [&file, &pem_path] {
        let ring = KeyRing::from_pkcs8_file(path).unwrap();
        assert_eq!(ring.current().kid, made.current().kid, "{}", path.display());
    }
}

#[test]
fn an_operators_key_is_not_rotated() {
    let dir = tempfile::tempdir().unwrap();
    KeyRing::open(dir.path(), 1).unwrap();
    let file = only_file(dir.path());
    let mut ring = KeyRing::from_pkcs8_file(&file).unwrap();
    assert!(matches!(ring.rotate(2), Err(KeyError::OperatorKey)));
    assert!(
        !ring.rotate_if_older(0, 100).unwrap(),
        "an age never rotates it either"
    );
}

/// The one file in `dir`.
fn only_file(dir: &std::path::Path) -> std::path::PathBuf {
    let mut entries = std::fs::read_dir(dir).unwrap();
    let file = entries.next().unwrap().unwrap().path();
    assert!(entries.next().is_none(), "one file in {}", dir.display());
    file
}
