//! Plugin logging (ABI minor 1): a plugin's `tracing` and `log` records appear in the host's stderr
//! with their level and target, in the host's text and JSON formats, inside the span naming the
//! plugin; and a plugin built for ABI 1.0 (no `set_host`) still loads and streams.

use std::path::Path;

use crate::support::{artifacts, config_file, sha256_file, start_host, wait_until, Core, WAIT};

/// Runs the faulty connector (no fault) with `extra` host flags until the core acknowledged its two
/// good batches and it logged them, stops the host and returns its output.
async fn faulty_host_output(plugin: &Path, extra: &[&str], logs: bool) -> anyhow::Result<String> {
    let core = Core::start().await?;
    core.create_connector("faulty").await?;
    let dir = tempfile::tempdir()?;
    let sha = sha256_file(plugin);
    let config = config_file(
        dir.path(),
        "faulty.json",
        r#"{"fault": "none", "good_batches": 2}"#,
    );
    let mut host = start_host(&core, "faulty", plugin, &sha, &config, extra)?;
    wait_until(WAIT, "the core acknowledges three batches", || async {
        core.batch_seq("faulty").await >= 3
    })
    .await?;
    if logs {
        wait_until(WAIT, "the host logs the second good batch", || async {
            host.output.text().matches("sent a good batch").count() >= 2
        })
        .await?;
    }
    let (status, _) = host.terminate(WAIT).await?;
    let output = host.output.text();
    assert_eq!(status.code(), Some(0), "host output:\n{output}");
    Ok(output)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_records_appear_in_the_host_text_log_with_their_level_and_target(
) -> anyhow::Result<()> {
    let plugin = artifacts().plugin("faulty_connector");
    let output = faulty_host_output(plugin, &["--log-format", "text"], true).await?;
    let created = output
        .lines()
        .find(|line| line.contains("faulty connector created"))
        .unwrap_or_else(|| panic!("no plugin record in the host output:\n{output}"));
    assert!(created.contains(" INFO "), "{created}");
    assert!(created.contains(" lookout::sync: "), "{created}");
    assert!(
        created.contains("fault=\"none\" good_batches=2"),
        "{created}"
    );
    // Marked as the plugin's: the span naming it (recorded once the manifest is read).
    let batch = output
        .lines()
        .find(|line| line.contains("sent a good batch"))
        .unwrap_or_else(|| panic!("no batch record in the host output:\n{output}"));
    assert!(
        batch.contains("plugin{plugin=faulty}: lookout::sync: "),
        "{batch}"
    );
    assert!(batch.contains(" INFO "), "{batch}");
    // The `log` crate's records too, with their own level and target.
    let legacy = output
        .lines()
        .find(|line| line.contains("a record through the log crate"))
        .unwrap_or_else(|| panic!("no log-crate record in the host output:\n{output}"));
    assert!(legacy.contains(" WARN "), "{legacy}");
    assert!(legacy.contains(" lookout::legacy: "), "{legacy}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_records_appear_in_the_host_json_log_with_their_level_and_target(
) -> anyhow::Result<()> {
    let plugin = artifacts().plugin("faulty_connector");
    let output = faulty_host_output(plugin, &["--log-format", "json"], true).await?;
    let records: Vec<serde_json::Value> = output
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}\n{output}"))
        })
        .collect();
    let batch = records
        .iter()
        .find(|r| r["fields"]["message"].as_str() == Some("sent a good batch cursor=3"))
        .unwrap_or_else(|| panic!("no plugin record in the host output:\n{output}"));
    assert_eq!(batch["level"], "INFO", "{batch}");
    assert_eq!(batch["target"], "lookout::sync", "{batch}");
    assert_eq!(batch["span"]["name"], "plugin", "{batch}");
    assert_eq!(batch["span"]["plugin"], "faulty", "{batch}");
    // (The JSON formatter also keeps tracing-log's `log.target` field, the same target.)
    let legacy = records
        .iter()
        .find(|r| {
            r["fields"]["message"].as_str()
                == Some("faulty connector: a record through the log crate")
        })
        .unwrap_or_else(|| panic!("no log-crate record in the host output:\n{output}"));
    assert_eq!(legacy["level"], "WARN", "{legacy}");
    assert_eq!(legacy["target"], "lookout::legacy", "{legacy}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_built_for_abi_1_0_loads_and_streams_in_a_newer_host() -> anyhow::Result<()> {
    let plugin = artifacts().plugin("abi_1_0_connector");
    let output = faulty_host_output(plugin, &[], false).await?;
    assert!(
        output.contains("abi=1.0"),
        "the manifest says 1.0:\n{output}"
    );
    // It logs through `tracing` too, but without set_host its records go nowhere.
    assert!(!output.contains("lookout::sync"), "{output}");
    Ok(())
}
