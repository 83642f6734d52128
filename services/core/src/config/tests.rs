//! Unit tests of configuration merging and validation.

use std::io::Write;

use super::*;

fn file(contents: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(contents.as_bytes()).unwrap();
    file
}

#[test]
fn no_configuration_at_all_gives_the_documented_defaults() {
    let config = Config::resolve(Args::default()).unwrap();
    assert_eq!(config.data_dir, PathBuf::from("./riskgate-data"));
    assert_eq!(config.listen, "127.0.0.1:50051".parse().unwrap());
    assert_eq!(config.durability, Durability::Fsync);
    assert_eq!(config.max_batch_reports, 1000);
    assert_eq!(config.max_clock_skew, Duration::from_secs(300));
}

#[test]
fn flags_override_the_file_and_the_file_overrides_defaults() {
    let toml =
        file("listen = \"127.0.0.1:7000\"\nmax_batch_reports = 50\ndurability = \"flush\"\n");
    let args = Args {
        config: Some(toml.path().to_owned()),
        listen: Some("127.0.0.1:8000".into()),
        ..Args::default()
    };
    let config = Config::resolve(args).unwrap();
    assert_eq!(config.listen, "127.0.0.1:8000".parse().unwrap());
    assert_eq!(config.max_batch_reports, 50);
    assert_eq!(config.durability, Durability::Flush);
}

#[test]
fn every_bad_value_names_its_key() {
    let cases: [(&str, Args); 5] = [
        (
            "listen",
            Args {
                listen: Some("nope".into()),
                ..Args::default()
            },
        ),
        (
            "metrics_listen",
            Args {
                metrics_listen: Some("1.2.3.4".into()),
                ..Args::default()
            },
        ),
        (
            "durability",
            Args {
                durability: Some("maybe".into()),
                ..Args::default()
            },
        ),
        (
            "max_batch_reports",
            Args {
                max_batch_reports: Some("0".into()),
                ..Args::default()
            },
        ),
        (
            "max_clock_skew",
            Args {
                max_clock_skew: Some("soon".into()),
                ..Args::default()
            },
        ),
    ];
    for (key, args) in cases {
        let err = Config::resolve(args).unwrap_err();
        assert_eq!(err.key, key, "{err}");
        assert!(err.to_string().contains(key));
    }
}

#[test]
fn file_errors_name_the_key_for_unknown_keys_and_wrong_types() {
    for (contents, key) in [
        ("lissen = \"x\"\n", "lissen"),
        ("data_dir = \"d\"\nlisten = 5\n", "listen"),
    ] {
        let toml = file(contents);
        let args = Args {
            config: Some(toml.path().to_owned()),
            ..Args::default()
        };
        let err = Config::resolve(args).unwrap_err();
        assert_eq!(err.key, key, "{err}");
    }
}
