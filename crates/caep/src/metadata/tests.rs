use super::*;

#[test]
fn metadata_carries_every_member_the_interop_profile_requires() {
    let metadata = metadata(
        "https://riskgate.example",
        "https://riskgate.example",
        DefaultSubjects::All,
    );
    for member in [
        "spec_version",
        "issuer",
        "jwks_uri",
        "delivery_methods_supported",
        "configuration_endpoint",
        "status_endpoint",
        "add_subject_endpoint",
        "remove_subject_endpoint",
        "verification_endpoint",
        "authorization_schemes",
        "default_subjects",
    ] {
        assert!(
            metadata.get(member).is_some(),
            "{member} missing: {metadata}"
        );
    }
    assert_eq!(metadata["delivery_methods_supported"], json!([PUSH, POLL]));
    assert_eq!(
        metadata["authorization_schemes"][0]["spec_urn"],
        "urn:ietf:rfc:6749"
    );
    assert_eq!(
        metadata["jwks_uri"],
        "https://riskgate.example/ssf/jwks.json"
    );
}
