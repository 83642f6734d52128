//! The toolkit (`riskgate_sdk::toolkit`): backoff and `Retry-After`, RFC 3339 timestamps, secrets,
//! typed configuration.

use std::{
    collections::BTreeSet,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use riskgate_sdk::toolkit::{
    config, from_json, from_json_or_toml,
    retry::{retry_after_at, Backoff, Jitter, RetryPolicy},
    time, ConfigError, Secret, SecretSource,
};
use serde::Deserialize;

// === retry ===

#[test]
fn equal_jitter_backoff_grows_up_to_the_cap_and_resets() {
    let policy = RetryPolicy::new(Duration::from_millis(100), Duration::from_millis(1000))
        .with_jitter(Jitter::Equal);
    let mut backoff = Backoff::new(policy);
    let delays: Vec<Duration> = (0..8).filter_map(|_| backoff.next_delay()).collect();
    assert!(delays[0] >= Duration::from_millis(50) && delays[0] <= Duration::from_millis(100));
    assert!(delays[3] >= Duration::from_millis(400) && delays[3] <= Duration::from_millis(800));
    assert!(delays.iter().all(|d| *d <= Duration::from_millis(1000)));
    assert!(delays[7] >= Duration::from_millis(500));
    backoff.reset();
    assert!(backoff.next_delay().unwrap() <= Duration::from_millis(100));
}

#[test]
fn each_attempt_stays_within_its_exponential_ceiling_and_jitter_varies_the_delay() {
    let base = Duration::from_millis(200);
    let cap = Duration::from_secs(10);
    for jitter in [Jitter::Full, Jitter::Equal] {
        let policy = RetryPolicy::new(base, cap).with_jitter(jitter);
        for attempt in 0..12 {
            let ceiling = (base * (1 << attempt)).min(cap);
            assert_eq!(policy.ceiling(attempt), ceiling);
            let floor = if jitter == Jitter::Full {
                Duration::ZERO
            } else {
                ceiling / 2
            };
            for _ in 0..20 {
                let wait = policy.next_delay(attempt).unwrap();
                assert!(
                    wait >= floor && wait <= ceiling,
                    "{jitter:?} {attempt}: {wait:?}"
                );
            }
        }
        let samples: BTreeSet<Duration> = (0..20).filter_map(|_| policy.next_delay(6)).collect();
        assert!(samples.len() > 1, "jitter varies the pause");
    }
    // A huge attempt number neither overflows nor exceeds the cap.
    assert_eq!(RetryPolicy::new(base, cap).ceiling(u32::MAX), cap);
}

#[test]
fn a_bounded_policy_gives_up_after_its_attempts() {
    let policy =
        RetryPolicy::new(Duration::from_millis(1), Duration::from_millis(10)).with_max_attempts(3);
    assert!((0..3).all(|attempt| policy.next_delay(attempt).is_some()));
    assert_eq!(policy.next_delay(3), None);
    let mut backoff = Backoff::new(policy);
    assert_eq!((0..5).filter_map(|_| backoff.next_delay()).count(), 3);
}

#[test]
fn retry_after_is_read_in_seconds_or_as_an_http_date() {
    let now = UNIX_EPOCH + Duration::from_secs(1_445_412_470); // Wed, 21 Oct 2015 07:27:50 GMT
    assert_eq!(retry_after_at("2", now), Some(Duration::from_secs(2)));
    assert_eq!(retry_after_at(" 120 ", now), Some(Duration::from_secs(120)));
    assert_eq!(retry_after_at("0.5", now), Some(Duration::from_millis(500)));
    // The three date formats of RFC 9110 §5.6.7.
    for date in [
        "Wed, 21 Oct 2015 07:28:00 GMT",
        "Wednesday, 21-Oct-15 07:28:00 GMT",
        "Wed Oct 21 07:28:00 2015",
    ] {
        assert_eq!(
            retry_after_at(date, now),
            Some(Duration::from_secs(10)),
            "{date}"
        );
    }
    // A date already past: retry now.
    assert_eq!(
        retry_after_at("Wed, 21 Oct 2015 07:00:00 GMT", now),
        Some(Duration::ZERO)
    );
    for junk in ["", "soon", "-1", "1e400", "Wed, 32 Oct 2015 07:28:00 GMT"] {
        assert_eq!(retry_after_at(junk, now), None, "{junk:?}");
    }
}

// === time ===

const MS: u64 = 1_740_391_144_734; // 2025-02-24T09:59:04.734Z

#[test]
fn rfc3339_with_any_offset_parses_to_utc() {
    for text in [
        "2025-02-24T09:59:04.734Z",
        "2025-02-24T09:59:04.734+00:00",
        "2025-02-24T11:59:04.734+02:00",
        "2025-02-24T05:29:04.734-04:30",
        "2025-02-24t09:59:04.734z",
        "2025-02-24 09:59:04.734Z",
        // No offset at all is read as UTC.
        "2025-02-24T09:59:04.734",
        " 2025-02-24T09:59:04.734Z\n",
        "2025-02-24T09:59:04.734000001Z",
    ] {
        assert_eq!(time::parse_rfc3339_ms(text), Ok(MS), "{text}");
    }
    assert_eq!(time::parse_rfc3339_ms("2025-02-24T09:59:04Z"), Ok(MS - 734));
    let parsed = time::parse_rfc3339("2025-02-24T11:59:04.734+02:00").unwrap();
    assert_eq!(parsed.offset(), ::time::UtcOffset::UTC);
    assert_eq!(
        time::parse_rfc3339_system("2025-02-24T09:59:04.734Z"),
        Ok(UNIX_EPOCH + Duration::from_millis(MS))
    );
}

#[test]
fn a_bad_timestamp_names_the_input() {
    for text in [
        "yesterday",
        "2025-02-30T00:00:00Z",
        "2025-02-24T09:59:04+2:00",
        "1740391144734",
        "",
    ] {
        let err = time::parse_rfc3339(text).unwrap_err();
        assert_eq!(err.to_string(), format!("{text:?} is not an RFC 3339 time"));
    }
    let err = time::parse_rfc3339_ms("1969-12-31T23:59:59Z").unwrap_err();
    assert_eq!(err.input, "1969-12-31T23:59:59Z");
}

#[test]
fn formats_rfc3339_utc_and_epoch_milliseconds() {
    let at = time::from_unix_ms(MS);
    assert_eq!(time::format_rfc3339_millis(at), "2025-02-24T09:59:04.734Z");
    assert_eq!(time::format_unix_ms(MS - 734), "2025-02-24T09:59:04.000Z");
    assert_eq!(time::format_rfc3339(at), "2025-02-24T09:59:04.734Z");
    assert_eq!(time::format_rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
    assert_eq!(time::unix_ms(at), MS);
    assert_eq!(time::unix_ms(UNIX_EPOCH - Duration::from_secs(1)), 0);
    assert_eq!(time::parse_rfc3339_ms(&time::format_unix_ms(MS)), Ok(MS));
    let now = time::now_unix_ms();
    let clock = time::unix_ms(SystemTime::now());
    assert!(clock >= now && clock - now < 60_000);
}

// === secrets ===

fn source(
    literal: Option<&str>,
    env: Option<&str>,
    file: Option<std::path::PathBuf>,
) -> SecretSource {
    SecretSource {
        key: "secret",
        literal: literal.map(Secret::new),
        env: env.map(str::to_owned),
        file,
    }
}

fn fake_env(var: &str) -> Option<String> {
    (var == "ACME_SECRET").then(|| "from-env".to_owned())
}

#[test]
fn a_secret_comes_from_the_config_the_environment_or_a_file() {
    let literal = source(Some("given"), None, None).resolve(fake_env).unwrap();
    assert_eq!(literal.expose(), "given");
    let from_env = source(None, Some("ACME_SECRET"), None)
        .resolve(fake_env)
        .unwrap();
    assert_eq!(from_env.expose(), "from-env");
    let dir = tempfile::tempdir().unwrap();
    for (content, expected) in [
        ("s3cret\n", "s3cret"),
        ("s3cret\r\n", "s3cret"),
        ("s3cret", "s3cret"),
        ("two\n\n", "two\n"),
    ] {
        let path = dir.path().join("key");
        std::fs::write(&path, content).unwrap();
        let secret = source(None, None, Some(path)).resolve(fake_env).unwrap();
        assert_eq!(secret.expose(), expected, "{content:?}");
    }
}

#[test]
fn a_secret_error_names_the_key_and_debug_never_shows_the_value() {
    let err = |source: SecretSource| source.resolve(fake_env).unwrap_err().0;
    assert_eq!(
        err(source(None, Some("UNSET"), None)),
        "secret_env: environment variable UNSET is not set"
    );
    assert!(err(source(None, None, None)).starts_with("secret: required (or secret_env"));
    assert_eq!(
        err(source(Some("a"), Some("ACME_SECRET"), None)),
        "secret, secret_env: give only one"
    );
    assert!(err(source(None, None, Some("/nonexistent/key".into())))
        .starts_with("secret_file: cannot read /nonexistent/key"));
    let secret = Secret::new("hunter2");
    assert!(!format!("{secret:?}").contains("hunter2"));
    let parsed: Wrapper = from_json(br#"{"key": "hunter2"}"#).unwrap();
    assert_eq!(parsed.key.expose(), "hunter2");
    assert!(!format!("{parsed:?}").contains("hunter2"));
}

#[derive(Debug, Deserialize)]
struct Wrapper {
    key: Secret,
}

// === typed configuration ===

#[derive(Debug, Deserialize, PartialEq)]
struct Acme {
    base_url: Option<String>,
    poll_interval_ms: Option<u64>,
    #[serde(default)]
    labels: Vec<Label>,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Label {
    name: String,
}

#[test]
fn json_and_toml_configurations_read_into_a_struct() {
    let json: Acme =
        from_json_or_toml(br#"{"base_url": "https://x", "labels": [{"name": "a"}]}"#).unwrap();
    let toml: Acme =
        from_json_or_toml(b"base_url = \"https://x\"\n[[labels]]\nname = \"a\"\n").unwrap();
    assert_eq!(json, toml);
    assert_eq!(json.poll_interval_ms, None);
}

#[test]
fn configuration_errors_name_the_key() {
    let json = |raw: &str| from_json::<Acme>(raw.as_bytes()).unwrap_err().0;
    assert!(
        json(r#"{"poll_interval_ms": "x"}"#)
            .starts_with(r#"poll_interval_ms: invalid type: string "x", expected u64"#),
        "{}",
        json(r#"{"poll_interval_ms": "x"}"#)
    );
    assert!(json(r#"{"labels": [{"name": 1}]}"#).starts_with("labels[0].name: invalid type"));
    assert_eq!(
        json(r#"{"base_url": "x", "colour": 1}"#),
        "colour: unknown key"
    );
    assert_eq!(
        json(r#"{"labels": [{"name": "a", "size": 2}]}"#),
        "labels[0].size: unknown key"
    );
    assert!(json(r#"{"base_url": "#).starts_with("not valid JSON: "));
    assert!(json(r#"{} {}"#).starts_with("not valid JSON: "));
    assert!(
        json("1").starts_with("configuration: invalid type: integer"),
        "{}",
        json("1")
    );
    let toml = |raw: &str| from_json_or_toml::<Acme>(raw.as_bytes()).unwrap_err().0;
    assert!(toml("poll_interval_ms = \"x\"").starts_with("poll_interval_ms: invalid type"));
    assert_eq!(toml("colour = 1"), "colour: unknown key");
    assert!(toml("base_url = ").starts_with("not valid TOML: "));
    assert_eq!(
        from_json_or_toml::<Acme>(b"\xff").unwrap_err().0,
        "configuration: must be UTF-8"
    );
}

#[test]
fn range_checks_name_the_key_and_apply_defaults() {
    assert_eq!(config::in_range("page_size", None, 100, 1..=1000), Ok(100));
    assert_eq!(
        config::in_range("page_size", Some(5000), 100, 1..=1000),
        Err(ConfigError(
            "page_size: must be an integer from 1 to 1000".to_owned()
        ))
    );
    assert_eq!(
        config::millis("settle_ms", Some(20), 0, 0..=100),
        Ok(Duration::from_millis(20))
    );
    assert_eq!(
        config::seconds("lookback_secs", None, 60, 0..=100),
        Ok(Duration::from_secs(60))
    );
    assert_eq!(config::in_range_usize("max", Some(7), 1, 1..=10), Ok(7));
    assert_eq!(
        config::required("base_url", None::<String>).unwrap_err().0,
        "base_url: required"
    );
}

#[test]
fn the_keys_connectors_share_have_one_default_and_range() {
    assert_eq!(config::max_batch_reports(None), Ok(500));
    assert_eq!(config::max_batch_reports(Some(1000)), Ok(1000));
    assert_eq!(
        config::max_batch_reports(Some(0)).unwrap_err().0,
        "max_batch_reports: must be an integer from 1 to 1000"
    );
    assert_eq!(config::request_timeout(None), Ok(Duration::from_secs(30)));
    assert_eq!(
        config::request_timeout(Some(50)).unwrap_err().0,
        "request_timeout_ms: must be an integer from 100 to 600000"
    );
}

#[test]
fn a_secret_resolves_from_its_three_fields_in_one_call() {
    let from_env = riskgate_sdk::toolkit::secret::resolve(
        "api_key",
        None,
        Some("ACME_SECRET".to_owned()),
        None,
        fake_env,
    )
    .unwrap();
    assert_eq!(from_env.expose(), "from-env");
    let both = riskgate_sdk::toolkit::secret::resolve(
        "api_key",
        Some(Secret::new("given")),
        Some("ACME_SECRET".to_owned()),
        None,
        fake_env,
    );
    assert_eq!(both.unwrap_err().0, "api_key, api_key_env: give only one");
}
