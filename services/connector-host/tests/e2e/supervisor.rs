//! Supervision (issue 5, point 3): `riskgate-supervisor` starts one host per connector, restarts
//! crashed hosts with backoff, quarantines crash loops with the cause shown as the connector's error,
//! does not restart permanent failures, and keeps healthy connectors streaming throughout.

use std::time::Duration;

use crate::support::{
    artifacts, config_file, sha256_file, start_supervisor, supervisor_config, wait_until, Core,
    Supervised, WAIT,
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
    let faulty = artifacts().plugin("faulty_connector");
    let demo = artifacts().plugin("demo_connector");
    let abort = config_file(
        dir.path(),
        "abort.json",
        r#"{"fault": "abort", "good_batches": 1}"#,
    );
    let segv = config_file(
        dir.path(),
        "segv.json",
        r#"{"fault": "segfault", "good_batches": 1}"#,
    );
    let healthy = config_file(
        dir.path(),
        "healthy.json",
        r#"{"devices": 3, "batch_size": 2, "interval_ms": 20}"#,
    );
    let config = supervisor_config(
        dir.path(),
        &core,
        &[
            Supervised {
                id: "abort-loop",
                plugin: faulty,
                sha256: sha256_file(faulty),
                config: &abort,
            },
            Supervised {
                id: "segv-loop",
                plugin: faulty,
                sha256: sha256_file(faulty),
                config: &segv,
            },
            Supervised {
                id: "healthy",
                plugin: demo,
                sha256: sha256_file(demo),
                config: &healthy,
            },
            Supervised {
                id: "tampered",
                plugin: demo,
                sha256: "0".repeat(64),
                config: &healthy,
            },
        ],
    );
    let mut supervisor = start_supervisor(&config)?;

    for (id, signal) in [("abort-loop", "SIGABRT"), ("segv-loop", "SIGSEGV")] {
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
    }

    // A tampered plugin is a permanent failure: reported once, never restarted.
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
