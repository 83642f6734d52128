//! `riskctl watch`: one line per event, the cursor saved to a file and resumed from without repeating
//! events, and a clear stop when the saved cursor is out of range.

use std::{path::Path, time::Duration};

use riskgate_tests::{api::HealthState, wait_until, CoreProcess};

use crate::support::{Fixture, Riskctl};

/// The device the watch tests report about.
const WATCHED: &str = "dev-watched";

/// The positions of the event lines (`#N ...`) of a text run.
fn event_positions(stdout: &str) -> Vec<u64> {
    stdout
        .lines()
        .filter_map(|line| line.strip_prefix('#'))
        .filter_map(|rest| rest.split(' ').next()?.parse().ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_prints_events_and_resumes_from_the_saved_cursor_without_repeats() {
    let mut fixture = Fixture::start().await;
    fixture.report(WATCHED, HealthState::Secured).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let cursor_file = dir.path().join("watch.cursor");
    let cursor = cursor_file.to_str().expect("utf-8");
    let watch = fixture.riskctl().args(&[
        "watch",
        "--cursor-file",
        cursor,
        "--device",
        WATCHED,
        "--kind",
        "device_reported",
    ]);

    // First run: a snapshot, then the three reports made while it runs.
    let first = watch
        .command(&["--max-events", "3"])
        .spawn()
        .expect("spawn riskctl watch");
    wait_until(
        Duration::from_secs(20),
        "watch saved its first cursor",
        || {
            let exists = cursor_file.exists();
            async move { exists }
        },
    )
    .await
    .expect("the snapshot ends with a saved cursor");
    for health in [
        HealthState::HighSeverity,
        HealthState::MediumSeverity,
        HealthState::LowSeverity,
    ] {
        fixture.report(WATCHED, health).await;
    }
    let first = tokio::time::timeout(Duration::from_secs(60), first.wait_with_output())
        .await
        .expect("watch exits after --max-events")
        .expect("output");
    let stdout = String::from_utf8_lossy(&first.stdout).into_owned();
    assert!(first.status.success(), "{first:?}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with(&format!("snapshot {WATCHED} platform=ios level=secured")),
        "{stdout}"
    );
    assert!(lines[1].starts_with("snapshot_end position="), "{stdout}");
    let seen = event_positions(&stdout);
    assert_eq!(seen.len(), 3, "{stdout}");
    assert!(
        lines[2].contains("device_reported lookout health=high_severity level secured -> high"),
        "{stdout}"
    );

    // Two more reports while nobody watches.
    fixture.report(WATCHED, HealthState::Secured).await;
    fixture.report(WATCHED, HealthState::HighSeverity).await;

    // Second run resumes right after the last event printed: no snapshot, no repeats. JSON lines.
    let second = watch.run(&["--max-events", "2", "--json"]).await;
    let events: Vec<serde_json::Value> = second
        .ok()
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    assert_eq!(events.len(), 2, "{second:#?}");
    assert!(events.iter().all(|e| e["type"] == "event"), "{second:#?}");
    let resumed: Vec<u64> = events
        .iter()
        .filter_map(|e| e["position"].as_u64())
        .collect();
    assert!(resumed[0] > seen[2], "{resumed:?} repeats {seen:?}");
    assert_eq!(events[0]["device_reported"]["current_level"], "secured");
    assert_eq!(events[1]["device_reported"]["current_level"], "high");

    // Third run: everything was printed, so nothing is printed again before it goes idle.
    let third = watch.run(&["--exit-after-idle", "2s"]).await;
    assert_eq!(third.ok(), "", "{third:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_from_another_store_exits_8_and_reset_starts_over() {
    let fixture = Fixture::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let cursor_file = dir.path().join("watch.cursor");
    let cursor = cursor_file.to_str().expect("utf-8");
    let first = fixture
        .riskctl()
        .run(&[
            "watch",
            "--cursor-file",
            cursor,
            "--device",
            WATCHED,
            "--exit-after-idle",
            "1s",
        ])
        .await;
    assert!(
        first.ok().starts_with("snapshot_end position="),
        "{first:#?}"
    );
    assert!(cursor_file.exists());

    let other_dir = tempfile::tempdir().expect("temp dir");
    let other = CoreProcess::start(&other_dir.path().join("data"), &[]).await;
    let watch_other = Riskctl::at(&other).args(&["watch", "--cursor-file", cursor]);
    let refused = watch_other.run(&["--exit-after-idle", "1s"]).await;
    refused.fails_with(
        8,
        &format!("cannot resume from the cursor saved in {cursor}"),
    );
    assert!(refused.stderr.contains("--reset"), "{refused:#?}");

    let reset = watch_other
        .run(&["--reset", "--exit-after-idle", "1s"])
        .await;
    assert!(reset.ok().contains("snapshot_end position="), "{reset:#?}");
    // The file now holds the new store's cursor.
    watch_other.run(&["--exit-after-idle", "1s"]).await.ok();
    assert!(Path::new(cursor).exists());
}
