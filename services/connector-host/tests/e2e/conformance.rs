//! The conformance suite (`riskgate-conformance`) run as a vendor would: on built `.so` files,
//! through the real connector host.

use std::{path::Path, process::Output};

use crate::support::{artifacts, config_file};

fn conformance(plugin: &Path, config: &Path) -> anyhow::Result<Output> {
    Ok(std::process::Command::new(&artifacts().conformance)
        .arg(plugin)
        .arg("--config")
        .arg(config)
        .output()?)
}

fn line<'a>(stdout: &'a str, scenario: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(scenario))
        .unwrap_or_else(|| panic!("no line for {scenario} in:\n{stdout}"))
}

#[test]
fn demo_plugin_passes_every_scenario_and_the_report_gives_its_hash() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = config_file(dir.path(), "demo.json", r#"{"interval_ms": 0}"#);
    let plugin = artifacts().plugin("demo_connector");
    let output = conformance(plugin, &config)?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for scenario in ["abi", "invalid_config", "lifecycle", "slow_core", "misuse"] {
        assert!(line(&stdout, scenario).starts_with("PASS"), "{stdout}");
    }
    assert!(
        stdout.contains(&crate::support::sha256_file(plugin)),
        "{stdout}"
    );
    assert!(stdout.contains("5 passed, 0 failed"), "{stdout}");
    Ok(())
}

#[test]
fn a_panicking_plugin_fails_lifecycle_with_the_panic_contained() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = config_file(
        dir.path(),
        "faulty.json",
        r#"{"fault": "panic_in_next_batch", "good_batches": 1}"#,
    );
    let output = conformance(artifacts().plugin("faulty_connector"), &config)?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    let lifecycle = line(&stdout, "lifecycle");
    assert!(
        lifecycle.starts_with("FAIL") && lifecycle.contains("panicked in run"),
        "{lifecycle}"
    );
    assert!(
        !lifecycle.contains("died"),
        "the panic must be contained: {lifecycle}"
    );
    assert!(line(&stdout, "abi").starts_with("PASS"), "{stdout}");
    Ok(())
}

#[test]
fn an_aborting_plugin_fails_only_the_scenarios_it_crashes() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = config_file(
        dir.path(),
        "faulty.json",
        r#"{"fault": "abort", "good_batches": 1}"#,
    );
    let output = conformance(artifacts().plugin("faulty_connector"), &config)?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        line(&stdout, "lifecycle").contains("killed by signal SIGABRT"),
        "{stdout}"
    );
    assert!(
        line(&stdout, "invalid_config").starts_with("PASS"),
        "{stdout}"
    );
    Ok(())
}

#[test]
fn a_plugin_of_another_abi_fails_the_abi_scenario() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = config_file(dir.path(), "empty.json", "{}");
    let output = conformance(artifacts().plugin("wrong_abi_connector"), &config)?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        line(&stdout, "abi").contains("incompatible ABI"),
        "{stdout}"
    );
    Ok(())
}
