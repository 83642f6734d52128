//! The production sample (`docs/examples/production/supervisor.toml`) is a valid supervisor config:
//! every connector pinned, linked to the core over mutual TLS, with its own token file.

use std::path::Path;

use riskgate_supervisor::config::Config;

#[test]
fn production_sample_supervisor_config_loads() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/examples/production/supervisor.toml");
    let config = Config::load(&sample).expect("the sample loads");
    assert!(config.core.starts_with("https://"), "the core link is TLS");
    assert_eq!(config.connectors.len(), 2);
    for connector in &config.connectors {
        assert_eq!(connector.sha256.len(), 64, "{} is pinned", connector.id);
        assert!(
            connector.token_file.is_some(),
            "{} has a token",
            connector.id
        );
        for flag in ["--core-ca", "--client-cert", "--client-key"] {
            assert!(
                connector.host_args.iter().any(|arg| arg == flag),
                "{} links to the core with {flag}",
                connector.id
            );
        }
    }
}
