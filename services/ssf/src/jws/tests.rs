use ring::signature::{RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256};
use serde_json::json;

use super::*;
use crate::keys::KeyRing;

#[test]
fn a_signed_set_has_three_parts_and_verifies_with_the_jwks() {
    let dir = tempfile::tempdir().unwrap();
    let keys = KeyRing::open(dir.path(), 1).unwrap();
    let header = json!({"alg": "RS256", "typ": "secevent+jwt", "kid": keys.current().kid});
    let claims = json!({"iss": "https://riskgate.example", "jti": "s.1.0"});
    let token = sign(&header, &claims, keys.current()).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&decode(parts[0])).unwrap(),
        header
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&decode(parts[1])).unwrap(),
        claims
    );
    let jwk = &keys.jwks(0, 1)["keys"][0];
    let public = RsaPublicKeyComponents {
        n: URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap(),
        e: URL_SAFE_NO_PAD.decode(jwk["e"].as_str().unwrap()).unwrap(),
    };
    let signed = format!("{}.{}", parts[0], parts[1]);
    assert!(public
        .verify(
            &RSA_PKCS1_2048_8192_SHA256,
            signed.as_bytes(),
            &decode(parts[2])
        )
        .is_ok());
}
