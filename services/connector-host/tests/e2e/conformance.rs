//! The conformance suite (`riskgate-conformance`) run as a vendor would: on built `.so` files,
//! through the real connector host.

use std::{path::Path, process::Output};

use crate::support::{artifacts, config_file};

fn conformance(plugin: &Path, config: &Path) -> anyhow::Result<Output> {
    conformance_with(plugin, config, &[])
}

fn conformance_with(plugin: &Path, config: &Path, flags: &[&str]) -> anyhow::Result<Output> {
    Ok(std::process::Command::new(&artifacts().conformance)
        .arg(plugin)
        .arg("--config")
        .arg(config)
        .args(flags)
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

#[test]
fn verbose_shows_the_host_stderr_of_each_failed_scenario() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = config_file(
        dir.path(),
        "faulty.json",
        r#"{"fault": "panic_in_next_batch", "good_batches": 1}"#,
    );
    let plugin = artifacts().plugin("faulty_connector");
    let panic_text = "deliberate panic in next_batch";

    let quiet = conformance(plugin, &config)?;
    let quiet_stderr = String::from_utf8_lossy(&quiet.stderr);
    assert!(!quiet_stderr.contains(panic_text), "{quiet_stderr}");

    let verbose = conformance_with(plugin, &config, &["--verbose"])?;
    let stdout = String::from_utf8_lossy(&verbose.stdout);
    let stderr = String::from_utf8_lossy(&verbose.stderr);
    assert_eq!(verbose.status.code(), Some(1), "{stdout}");
    let block = stderr
        .split("--- stderr of the host in scenario lifecycle ---")
        .nth(1)
        .unwrap_or_else(|| panic!("no lifecycle block on stderr:\n{stderr}"));
    let block = block.split("--- end of lifecycle ---").next().unwrap_or("");
    assert!(block.contains(panic_text), "{stderr}");
    // Passed scenarios get no block.
    assert!(
        line(&stdout, "abi").starts_with("PASS")
            && !stderr.contains("--- stderr of the host in scenario abi ---"),
        "{stdout}\n{stderr}"
    );
    Ok(())
}

#[test]
fn a_caught_up_feed_passes_lifecycle_with_no_batch_after_the_restart() -> anyhow::Result<()> {
    // Two events in one batch, then the feed has nothing more: after the restart from the
    // acknowledged checkpoint there is no new batch to give, which is right.
    let dir = tempfile::tempdir()?;
    let config = config_file(
        dir.path(),
        "caught_up.json",
        r#"{"total_events": 2, "batch_size": 2, "interval_ms": 0}"#,
    );
    let output = conformance(artifacts().plugin("demo_connector"), &config)?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lifecycle = line(&stdout, "lifecycle");
    assert!(lifecycle.starts_with("PASS"), "{stdout}");
    assert!(lifecycle.contains("no new batch"), "{lifecycle}");
    Ok(())
}
