use super::*;

const MINIMAL: &str = r#"
data_dir = "/var/lib/riskgate-ssf"
[core]
url = "http://127.0.0.1:50051"
"#;

#[test]
fn a_minimal_file_takes_the_documented_defaults() {
    let config = Config::parse(MINIMAL).unwrap();
    assert_eq!(config.listen, "127.0.0.1:8443".parse().unwrap());
    assert_eq!(config.default_subjects, DefaultSubjectsSetting::All);
    assert_eq!(config.min_verification_interval, Duration::from_secs(15));
    assert_eq!(config.keys.overlap, Duration::from_secs(7 * 24 * 3600));
    assert_eq!(config.delivery.max_outstanding, 1000);
    assert!(config.tokens.is_empty());
}

#[test]
fn durations_and_tokens_are_read() {
    let text = format!(
        "{MINIMAL}\n[keys]\nrotate_after = \"90d\"\noverlap = \"1h\"\n[delivery]\nmax_backoff = \"5s\"\n\
         [[tokens]]\nname = \"okta\"\nsha256 = \"00\"\nroles = [\"ssf.manage\"]\naudience = \"https://okta.example\"\n"
    );
    let config = Config::parse(&text).unwrap();
    assert_eq!(
        config.keys.rotate_after,
        Some(Duration::from_secs(90 * 24 * 3600))
    );
    assert_eq!(config.keys.overlap, Duration::from_secs(3600));
    assert_eq!(config.delivery.max_backoff, Duration::from_secs(5));
    assert_eq!(
        config.tokens[0].audience.as_deref(),
        Some("https://okta.example")
    );
}

#[test]
fn an_unknown_key_is_refused_by_name() {
    let err = Config::parse(&format!("{MINIMAL}\n[delivery]\nmax_backof = \"5s\"\n")).unwrap_err();
    assert!(err.contains("max_backof"), "{err}");
}

#[test]
fn a_bad_duration_names_its_value() {
    let err =
        Config::parse(&format!("min_verification_interval = \"soon\"\n{MINIMAL}")).unwrap_err();
    assert!(err.contains("soon"), "{err}");
}
