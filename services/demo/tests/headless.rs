//! The demo as CI runs it: `riskgate-demo --headless` plays the seed scenario against the real
//! core, simulator and connector hosts and exits 0 naming every expected access flip; the demo,
//! interrupted while it plays, stops every process it started; and killed (`kill -9`), it leaves
//! none of them running.

// test code
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use nix::{
    errno::Errno,
    sys::signal::{kill, Signal},
    unistd::Pid,
};
use riskgate_tests::{
    binary::artifacts,
    child::{process_ended, ChildProcess},
    wait_until,
};
use tokio::process::Command;

/// Generous bound for the whole headless run (startup and every step) on a loaded CI machine.
const HEADLESS_RUN_WITHIN: Duration = Duration::from_secs(240);
/// How long the demo may take to stop everything after a signal (each child gets 15 s at most).
const STOP_WITHIN: Duration = Duration::from_secs(60);

/// The flips of the scenario, as the demo prints them, each after the line of the step that causes
/// it. (While devices enrol their access flips to ALLOW too, so order matters.)
const EXPECTED_FLIPS: [(&str, &str); 8] = [
    ("STEP 2/7", "FLIP alice-iphone exchange ALLOW -> DENY"),
    ("STEP 2/7", "FLIP alice-iphone sharepoint ALLOW -> DENY"),
    ("STEP 3/7", "FLIP carol-pixel exchange ALLOW -> DENY"),
    ("STEP 3/7", "FLIP carol-pixel sharepoint ALLOW -> DENY"),
    ("STEP 5/7", "FLIP alice-iphone exchange DENY -> ALLOW"),
    ("STEP 5/7", "FLIP alice-iphone sharepoint DENY -> ALLOW"),
    ("STEP 6/7", "FLIP carol-pixel exchange DENY -> ALLOW"),
    ("STEP 6/7", "FLIP carol-pixel sharepoint DENY -> ALLOW"),
];

/// The directory of the workspace's binaries and plugins (built once by the harness, dev profile).
/// What a device gets through Envoy once a step has taken effect: the step and the start of its `ok:` line.
const ENFORCED_STATES: [(&str, &str); 3] = [
    ("STEP 1/7", "ok: alice-iphone is SECURED, COMPLIANT: exchange ALLOW (Envoy answers 200), sharepoint ALLOW (Envoy answers 200)"),
    ("STEP 2/7", "ok: alice-iphone is HIGH, NONCOMPLIANT: exchange DENY (Envoy answers 403), sharepoint DENY (Envoy answers 403)"),
    ("STEP 5/7", "ok: alice-iphone is SECURED, COMPLIANT: exchange ALLOW (Envoy answers 200), sharepoint ALLOW (Envoy answers 200)"),
];

fn bin_dir() -> PathBuf {
    let core = artifacts().bin("riskgate-core");
    core.parent()
        .expect("the core binary is in a directory")
        .to_path_buf()
}

/// `riskgate-demo --bin-dir DIR --data-dir DATA` plus `args`.
fn demo_command(data_dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_riskgate-demo"));
    command
        .arg("--bin-dir")
        .arg(bin_dir())
        .arg("--data-dir")
        .arg(data_dir)
        .args(args);
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_demo_exits_zero_after_every_expected_access_flip() -> anyhow::Result<()> {
    let data_dir = tempfile::tempdir()?;
    let mut demo = ChildProcess::spawn(demo_command(data_dir.path(), &["--headless"]), "demo")?;

    let status = demo.wait_exit(HEADLESS_RUN_WITHIN).await?;
    let output = demo.output.text();
    assert!(status.success(), "the demo failed ({status}):\n{output}");
    for (step, flip) in EXPECTED_FLIPS {
        assert_line_after(&output, step, flip);
    }
    assert!(output.contains("RESULT ok"), "no RESULT ok line:\n{output}");
    // Envoy enforces: the HTTP status each device gets through it matches riskgate's decision.
    for (step, state) in ENFORCED_STATES {
        assert_line_after(&output, step, state);
    }
    // The core runs with bearer tokens, as in production, and the demo checked it refuses calls without one.
    assert!(
        output.contains("checked: the core refuses a call without a token (UNAUTHENTICATED)"),
        "the demo did not show that the core requires tokens:\n{output}"
    );
    // The web console follows the same core: the demo prints its one-time sign-in link, and after every
    // step the console's page of each device showed its level and compliance.
    assert!(
        output
            .lines()
            .any(|line| line.starts_with("started console pid=") && line.contains("/signin/once/")),
        "no console line with a sign-in link:\n{output}"
    );
    assert_eq!(
        output
            .matches("CONSOLE shows every device's level and compliance")
            .count(),
        7,
        "the console showed every step:\n{output}"
    );
    // bob-iphone's LOW threat never costs it access: LOW is at or under the policy's level.
    assert!(
        !output.contains("FLIP bob-iphone exchange ALLOW -> DENY"),
        "bob-iphone lost access:\n{output}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_demo_stops_every_process_it_started() -> anyhow::Result<()> {
    let data_dir = tempfile::tempdir()?;
    // A step delay of an hour: the demo is certainly still playing when the signal comes.
    let mut demo = ChildProcess::spawn(
        demo_command(data_dir.path(), &["--step-delay", "1h"]),
        "demo",
    )?;
    demo.ready_value("PLAYING").await?;
    let output = demo.output.text();
    let children = child_pids(&output);
    assert_eq!(
        children.len(),
        6,
        "expected the core, the simulator, two hosts, Envoy and the console among the started lines:\n{output}"
    );

    let demo_pid = Pid::from_raw(i32::try_from(demo.child.id().expect("the demo runs"))?);
    kill(demo_pid, Signal::SIGINT)?;
    let status = demo.wait_exit(STOP_WITHIN).await?;
    let output = demo.output.text();
    assert_eq!(status.code(), Some(130), "exit after SIGINT:\n{output}");

    for (name, pid) in &children {
        // The demo reaped them, so they do not even linger as zombies: the pid is gone.
        wait_until(
            STOP_WITHIN,
            &format!("{name} pid {pid} is gone"),
            || async { kill(Pid::from_raw(*pid), None) == Err(Errno::ESRCH) },
        )
        .await?;
        assert!(
            output.contains(&format!("stopped {name} pid={pid}")),
            "no clean stop of {name} pid={pid}:\n{output}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_demo_leaves_none_of_its_processes_running() -> anyhow::Result<()> {
    let data_dir = tempfile::tempdir()?;
    let mut demo = ChildProcess::spawn(
        demo_command(data_dir.path(), &["--step-delay", "1h"]),
        "demo",
    )?;
    demo.ready_value("PLAYING").await?;
    let output = demo.output.text();
    let children = child_pids(&output);
    assert_eq!(
        children.len(),
        6,
        "expected the core, the simulator, two hosts, Envoy and the console among the started lines:\n{output}"
    );

    demo.kill().await?;

    for (name, pid) in &children {
        wait_until(
            STOP_WITHIN,
            &format!("{name} pid {pid} ends with the demo"),
            || async { process_ended(*pid) },
        )
        .await?;
    }
    Ok(())
}

/// Fails unless `output` has a line starting with `step` and, at or after it, a line starting (after
/// indentation) with `expected`.
fn assert_line_after(output: &str, step: &str, expected: &str) {
    let lines: Vec<&str> = output.lines().collect();
    let step_at = lines
        .iter()
        .position(|line| line.starts_with(step))
        .unwrap_or_else(|| panic!("the output has no {step:?} line:\n{output}"));
    assert!(
        lines[step_at..]
            .iter()
            .any(|line| line.trim_start().starts_with(expected)),
        "the output does not show {expected:?} after {step:?}:\n{output}"
    );
}

/// `(name, pid)` from the demo's `started NAME pid=PID ...` lines.
fn child_pids(output: &str) -> Vec<(String, i32)> {
    output
        .lines()
        .filter_map(|line| line.strip_prefix("started "))
        .filter_map(|rest| {
            let (name, rest) = rest.split_once(" pid=")?;
            let pid = rest.split_whitespace().next()?.parse().ok()?;
            Some((name.to_owned(), pid))
        })
        .collect()
}
