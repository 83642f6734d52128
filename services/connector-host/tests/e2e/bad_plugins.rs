//! Issue 5, point 4: broken plugins, each built by the test suite. For each one the core keeps
//! serving, the connector shows state ERROR with a message naming the plugin and the cause, the host
//! log names them too, and the batches acknowledged before the failure are still in the core.
//!
//! Crashes that kill the host outright (abort, segfault) cannot be reported by the host itself; the
//! supervisor reports them (see `supervisor.rs`).

use std::path::Path;

use riskgate_proto::v1 as api;

use crate::support::{artifacts, config_file, sha256_file, start_host, Core, WAIT};

/// What a bad-plugin run must end with.
struct Expect<'a> {
    exit_code: i32,
    /// Substrings of the connector's error message (and of the host's log).
    cause: &'a [&'a str],
    /// Batches the core must hold after the failure.
    min_batch_seq: u64,
}

/// Seeds the connector with two acknowledged batches from the demo plugin, runs the bad plugin, and
/// checks the outcome.
async fn check_bad_plugin(
    connector_id: &str,
    plugin: &Path,
    sha256: &str,
    config: &str,
    extra: &[&str],
    expect: Expect<'_>,
) -> anyhow::Result<()> {
    let core = Core::start().await?;
    core.create_connector(connector_id).await?;
    let dir = tempfile::tempdir()?;

    let demo = artifacts().plugin("demo_connector");
    let seed = config_file(
        dir.path(),
        "seed.json",
        r#"{"devices": 5, "batch_size": 5, "interval_ms": 0, "total_events": 10}"#,
    );
    let mut host = start_host(&core, connector_id, demo, &sha256_file(demo), &seed, &[])?;
    assert_eq!(
        host.wait_exit(WAIT).await?.code(),
        Some(0),
        "seeding failed:\n{}",
        host.output.text()
    );
    assert_eq!(core.batch_seq(connector_id).await, 2);

    let config = config_file(dir.path(), "bad.json", config);
    let mut host = start_host(&core, connector_id, plugin, sha256, &config, extra)?;
    let status = host.wait_exit(WAIT).await?;
    let log = host.output.text();
    assert_eq!(status.code(), Some(expect.exit_code), "host output:\n{log}");

    core.assert_serving().await?;
    let connector = core.connector(connector_id).await?;
    assert_eq!(
        connector.state,
        api::ConnectorState::Error as i32,
        "connector {connector:?}"
    );
    for needle in expect.cause {
        assert!(
            connector.error_message.contains(needle),
            "error message {:?} lacks {needle:?}",
            connector.error_message
        );
        assert!(log.contains(needle), "host log lacks {needle:?}:\n{log}");
    }
    assert!(
        core.batch_seq(connector_id).await >= expect.min_batch_seq,
        "acknowledged batches were lost"
    );
    assert_eq!(
        core.device("demo-device-0").await?.reports[0].vendor_event_id,
        "demo-event-5"
    );
    Ok(())
}

async fn faulty(
    fault: &str,
    extra: &[&str],
    exit_code: i32,
    cause: &[&str],
    min_batch_seq: u64,
) -> anyhow::Result<()> {
    let plugin = artifacts().plugin("faulty_connector");
    let config = format!(r#"{{"fault": "{fault}", "good_batches": 2}}"#);
    let connector_id = fault.replace('_', "-");
    check_bad_plugin(
        &connector_id,
        plugin,
        &sha256_file(plugin),
        &config,
        extra,
        Expect {
            exit_code,
            cause,
            min_batch_seq,
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panic_in_manifest_is_reported_as_an_incompatible_plugin() -> anyhow::Result<()> {
    let plugin = artifacts().plugin("panic_manifest_connector");
    let cause = [
        "libpanic_manifest_connector.so",
        "panicked in manifest",
        "deliberate panic in manifest",
    ];
    check_bad_plugin(
        "panic-manifest",
        plugin,
        &sha256_file(plugin),
        "{}",
        &[],
        Expect {
            exit_code: 66,
            cause: &cause,
            min_batch_seq: 2,
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panic_in_create_is_contained_and_reported() -> anyhow::Result<()> {
    faulty(
        "panic_in_create",
        &[],
        70,
        &[
            "plugin faulty",
            "panicked in create",
            "deliberate panic in create",
        ],
        2,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panic_in_start_is_contained_and_reported() -> anyhow::Result<()> {
    faulty(
        "panic_in_start",
        &[],
        70,
        &[
            "plugin faulty",
            "panicked in start",
            "deliberate panic in start",
        ],
        2,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panic_in_next_batch_is_contained_and_keeps_acknowledged_batches() -> anyhow::Result<()> {
    faulty(
        "panic_in_next_batch",
        &[],
        70,
        &[
            "plugin faulty",
            // The panic is in the connector's run task; next_batch is only where the host found it.
            "panicked in run (found by next_batch)",
            "deliberate panic in next_batch",
        ],
        4,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panic_on_ack_is_contained_and_keeps_acknowledged_batches() -> anyhow::Result<()> {
    faulty(
        "panic_on_ack",
        &[],
        70,
        &["plugin faulty", "panicked", "deliberate panic on ack"],
        4,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fatal_error_is_reported_with_the_plugins_message() -> anyhow::Result<()> {
    faulty(
        "fatal_error",
        &[],
        70,
        &[
            "plugin faulty",
            "fatal failure in run (found by next_batch)",
            "deliberate fatal error",
        ],
        4,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hang_in_next_batch_is_caught_by_the_watchdog() -> anyhow::Result<()> {
    faulty(
        "hang_in_next_batch",
        &["--hang-after", "1s"],
        70,
        &["plugin faulty", "hung in next_batch"],
        4,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_bytes_from_next_batch_are_refused() -> anyhow::Result<()> {
    faulty(
        "garbage_bytes",
        &[],
        70,
        &["plugin faulty", "returned garbage from next_batch"],
        4,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_batch_is_refused_before_it_reaches_the_core() -> anyhow::Result<()> {
    faulty(
        "huge_batch",
        &[],
        70,
        &[
            "plugin faulty",
            "invalid batch",
            "5000 reports exceed the limit of 1000",
        ],
        4,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_config_is_a_config_error_not_a_crash() -> anyhow::Result<()> {
    faulty(
        "no_such_fault",
        &[],
        67,
        &["plugin faulty", "invalid configuration", "unknown fault"],
        2,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_abi_version_is_refused_before_any_call() -> anyhow::Result<()> {
    let plugin = artifacts().plugin("wrong_abi_connector");
    let cause = ["libwrong_abi_connector.so", "incompatible ABI", "ABI 2.0"];
    check_bad_plugin(
        "wrong-abi",
        plugin,
        &sha256_file(plugin),
        "{}",
        &[],
        Expect {
            exit_code: 66,
            cause: &cause,
            min_batch_seq: 2,
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_entry_symbol_is_refused() -> anyhow::Result<()> {
    let plugin = artifacts().plugin("missing_symbol_connector");
    let cause = [
        "libmissing_symbol_connector.so",
        "does not export `riskgate_connector_entry_v1`",
    ];
    check_bad_plugin(
        "missing-symbol",
        plugin,
        &sha256_file(plugin),
        "{}",
        &[],
        Expect {
            exit_code: 66,
            cause: &cause,
            min_batch_seq: 2,
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_plugin_file_is_refused_before_loading() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let original = artifacts().plugin("demo_connector");
    let pinned = sha256_file(original);
    let tampered = dir.path().join("libdemo_connector.so");
    let mut bytes = std::fs::read(original)?;
    bytes.extend_from_slice(b"tampered");
    std::fs::write(&tampered, bytes)?;
    let cause = [
        "libdemo_connector.so",
        "tampered with or replaced",
        pinned.as_str(),
    ];
    check_bad_plugin(
        "tampered",
        &tampered,
        &pinned,
        "{}",
        &[],
        Expect {
            exit_code: 65,
            cause: &cause,
            min_batch_seq: 2,
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panic_in_stop_is_contained_and_reported_on_sigterm() -> anyhow::Result<()> {
    let core = Core::start().await?;
    core.create_connector("panic-in-stop").await?;
    let dir = tempfile::tempdir()?;
    let plugin = artifacts().plugin("faulty_connector");
    let config = config_file(
        dir.path(),
        "bad.json",
        r#"{"fault": "panic_in_stop", "good_batches": 2}"#,
    );
    let mut host = start_host(
        &core,
        "panic-in-stop",
        plugin,
        &sha256_file(plugin),
        &config,
        &[],
    )?;
    crate::support::wait_until(WAIT, "the good batches are acknowledged", || async {
        core.batch_seq("panic-in-stop").await >= 2
    })
    .await?;
    let (status, took) = host.terminate(WAIT).await?;
    let log = host.output.text();
    assert_eq!(status.code(), Some(70), "{log}");
    assert!(
        took < std::time::Duration::from_secs(4),
        "stop took {took:?}"
    );
    let connector = core.connector("panic-in-stop").await?;
    assert_eq!(connector.state, api::ConnectorState::Error as i32);
    for needle in [
        "plugin faulty",
        "panicked in stop",
        "deliberate panic in stop",
    ] {
        assert!(
            connector.error_message.contains(needle),
            "{:?} lacks {needle:?}",
            connector.error_message
        );
        assert!(log.contains(needle), "host log lacks {needle:?}");
    }
    assert_eq!(core.batch_seq("panic-in-stop").await, 2);
    core.assert_serving().await
}
