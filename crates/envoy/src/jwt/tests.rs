use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};

use super::*;

fn decode(part: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(part).unwrap()
}

#[test]
fn token_verifies_with_the_jwks_key_and_carries_the_claims() {
    let issuer = JwtIssuer::generate("https://idp.test").unwrap();
    let token = issuer
        .token(&json!({"email": "alice@corp.example"}))
        .unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);

    let jwks: Value = serde_json::from_str(&issuer.jwks()).unwrap();
    let key = &jwks["keys"][0];
    let mut point = vec![4u8];
    point.extend(decode(key["x"].as_str().unwrap()));
    point.extend(decode(key["y"].as_str().unwrap()));
    let signed = format!("{}.{}", parts[0], parts[1]);
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
        .verify(signed.as_bytes(), &decode(parts[2]))
        .expect("the signature verifies with the published key");

    let header: Value = serde_json::from_slice(&decode(parts[0])).unwrap();
    assert_eq!(
        (header["alg"].as_str(), header["kid"].as_str()),
        (Some("ES256"), key["kid"].as_str())
    );
    let claims: Value = serde_json::from_slice(&decode(parts[1])).unwrap();
    assert_eq!(claims["email"], "alice@corp.example");
    assert_eq!(claims["iss"], "https://idp.test");
    assert!(claims["exp"].as_u64().unwrap() > claims["iat"].as_u64().unwrap());
}
