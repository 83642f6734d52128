//! Supervision (issue 5, point 3): `riskgate-supervisor` starts one host per connector, restarts
//! crashed hosts with backoff, quarantines crash loops with the cause shown as the connector's error,
//! does not restart permanent failures, and keeps healthy connectors streaming throughout.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use crate::support::{
    artifacts, config_file, sha256_file, start_supervisor, supervisor_config, wait_until, Core,
    Proc, Supervised, WAIT,
};
use riskgate_proto::v1 as api;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_loops_are_quarantined_with_their_cause_while_healthy_connectors_keep_streaming(
) -> anyhow::Result<()> {
    let core = Core::start().await?;
    for id in ["abort-loop", "segv-loop", "healthy", "tampered"] {
        core.create_connector(id).await?;
    }
    let dir = tempfile::tempdir()?;
    let mut supervisor = start_supervisor(&four_connectors(dir.path(), &core))?;

    for (id, signal) in [("abort-loop", "SIGABRT"), ("segv-loop", "SIGSEGV")] {
        check_quarantined(&core, &supervisor, id, signal).await?;
    }
    check_tampered_is_stopped(&core).await?;

    // The healthy connector kept streaming through all of it, and the core kept serving.
    let before = core.batch_seq("healthy").await;
    wait_until(WAIT, "the healthy connector keeps streaming", || async {
        core.batch_seq("healthy").await > before + 3
    })
    .await?;
    let healthy = core.connector("healthy").await?;
    assert!(healthy.error_message.is_empty(), "{healthy:?}");
    core.assert_serving().await?;

    // SIGTERM stops the supervisor and its hosts within the hosts' stop deadline.
    let (status, took) = supervisor.terminate(WAIT).await?;
    assert_eq!(status.code(), Some(0), "{}", supervisor.output.text());
    assert!(
        took < Duration::from_secs(8),
        "supervisor took {took:?} to stop"
    );
    let log = supervisor.output.text();
    assert_eq!(
        log.lines()
            .filter(|l| l.contains("started connector host") && l.contains("connector=tampered"))
            .count(),
        1,
        "a permanent failure is not restarted:\n{log}"
    );
    Ok(())
}

/// The supervisor's configuration: two plugins that crash after one good batch (SIGABRT, SIGSEGV), a
/// healthy demo connector, and the demo plugin under a wrong pin.
fn four_connectors(dir: &Path, core: &Core) -> PathBuf {
    let faulty = artifacts().plugin("faulty_connector");
    let demo = artifacts().plugin("demo_connector");
    let abort = config_file(
        dir,
        "abort.json",
        r#"{"fault": "abort", "good_batches": 1}"#,
    );
    let segv = config_file(
        dir,
        "segv.json",
        r#"{"fault": "segfault", "good_batches": 1}"#,
    );
    let healthy = config_file(
        dir,
        "healthy.json",
        r#"{"devices": 3, "batch_size": 2, "interval_ms": 20}"#,
    );
    let supervised = |id, plugin, sha256, config| Supervised {
        id,
        plugin,
        sha256,
        config,
    };
    supervisor_config(
        dir,
        core,
        &[
            supervised("abort-loop", faulty, sha256_file(faulty), &abort),
            supervised("segv-loop", faulty, sha256_file(faulty), &segv),
            supervised("healthy", demo, sha256_file(demo), &healthy),
            supervised("tampered", demo, "0".repeat(64), &healthy),
        ],
    )
}

/// Waits until `id` is quarantined, then checks its error names the plugin, the signal and the
/// crash count, and that every restart resumed from the checkpoint.
async fn check_quarantined(
    core: &Core,
    supervisor: &Proc,
    id: &str,
    signal: &str,
) -> anyhow::Result<()> {
    let last = std::sync::Mutex::new(api::Connector::default());
    wait_until(WAIT, &format!("{id} is quarantined"), || async {
        let connector = core.connector(id).await.unwrap_or_default();
        let quarantined = connector.error_message.starts_with("quarantined:");
        *last.lock().unwrap() = connector;
        quarantined
    })
    .await
    .map_err(|e| {
        anyhow::anyhow!(
            "{e}; last state {:?}\n{}",
            last.lock().unwrap(),
            supervisor.output.text()
        )
    })?;
    let last = last.into_inner().unwrap();
    assert_eq!(last.state, api::ConnectorState::Error as i32);
    for needle in ["libfaulty_connector.so", signal, "3 crashes within 1m"] {
        assert!(
            last.error_message.contains(needle),
            "{id}: {:?} lacks {needle:?}",
            last.error_message
        );
    }
    // Each of the three runs resumed from the checkpoint and had its one good batch acknowledged.
    assert_eq!(
        core.batch_seq(id).await,
        3,
        "{id}: restarts must resume and keep acknowledged batches"
    );
    Ok(())
}

/// A tampered plugin is a permanent failure: reported once, never restarted.
async fn check_tampered_is_stopped(core: &Core) -> anyhow::Result<()> {
    let tampered = core.connector("tampered").await?;
    assert_eq!(tampered.state, api::ConnectorState::Error as i32);
    assert!(
        tampered.error_message.starts_with("stopped: "),
        "{:?}",
        tampered.error_message
    );
    assert!(
        tampered.error_message.contains("tampered with or replaced"),
        "{:?}",
        tampered.error_message
    );
    assert_eq!(core.batch_seq("tampered").await, 0);
    Ok(())
}
