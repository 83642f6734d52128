//! CI smoke test of the benchmark harness: `riskgate-bench all --quick` on the debug artifacts the test build
//! already has must exit 0 and print every section with its ratio and the goals table. It checks that the
//! harness works, not the speed.

use std::process::Command;

#[test]
fn all_quick_runs_every_benchmark_and_prints_its_ratio() {
    let output = Command::new(env!("CARGO_BIN_EXE_riskgate-bench"))
        .args(["all", "--quick"])
        // The servers under test are the debug builds that `cargo test` already made (tests/src/binary.rs).
        .env(riskgate_tests::binary::BUILD_PROFILE_ENV, "dev")
        .output()
        .expect("running riskgate-bench");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "riskgate-bench all --quick failed ({})\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        output.status
    );
    for expected in [
        "### CheckAccess vs bare tonic echo",
        "ratio check/echo at 1 in flight",
        "ratio check/echo at 10 in flight",
        "ratio check/echo at 100 in flight",
        "### Decision evaluation in process",
        "ratio cedar/riskgate median",
        "### Durable acknowledged ingest",
        "ratio core/raw sled, durability fsync, batch 100",
        "ratio core/raw sled, durability flush, batch 1000",
        "### Ingest-to-subscriber latency",
        "### Scale",
        "scale: 10,000 devices, VmRSS",
        "### Enforcement: ext_authz Check vs bare tonic echo",
        "ratio ext_authz/echo at 100 in flight",
        "### Enforcement: from the simulator's vendor event to the status Envoy returns",
        "time to block p99",
        "### SSF push: from the core's commit to the receiver's 202",
        "### Console: from the core's commit of a compliance flip to the open page showing it",
        "### Goals of issues #9, #17, #18 and #19 (QUICK MODE",
    ] {
        assert!(
            stdout.contains(expected),
            "stdout lacks {expected:?}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
        );
    }
    let verdicts = stdout
        .lines()
        .filter(|line| line.ends_with("| MET |") || line.ends_with("| MISSED |"))
        .count();
    // Issue #9's eight goals, issue #17's three (ext_authz Check vs echo, time to block, time to restore)
    // issue #18's two (SSF push p99 with 1 and with 100 streams) and issue #19's one (console
    // flip-to-screen p99).
    assert_eq!(verdicts, 14, "expected 14 goals in the summary\n{stdout}");
}
