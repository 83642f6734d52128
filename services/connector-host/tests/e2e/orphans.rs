//! No orphans (issue 14, point 11): a connector host ends with the supervisor that started it,
//! however the supervisor ends (`kill -9` included), and a SIGHUP, which used to kill the supervisor
//! and leave its host running, is ignored.

use nix::{
    sys::signal::{kill, Signal},
    unistd::Pid,
};
use riskgate_tests::child::process_ended;
use tokio::process::Command;

use crate::support::{artifacts, config_file, sha256_file, wait_until, Core, Proc, WAIT};

/// A supervisor with one connector whose host is streaming into a core.
struct Supervised {
    core: Core,
    supervisor: Proc,
    host_pid: i32,
    _dir: tempfile::TempDir,
}

/// How many hosts the supervisor started, from its `started connector host` log lines.
fn hosts_started(output: &str) -> usize {
    output
        .lines()
        .filter(|line| line.contains("started connector host"))
        .count()
}

/// The pid of the first host the supervisor started (`pid=N` on its `started connector host` line).
fn first_host_pid(output: &str) -> Option<i32> {
    let line = output
        .lines()
        .find(|line| line.contains("started connector host"))?;
    let (_, rest) = line.split_once("pid=")?;
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

async fn supervise_one_streaming_connector() -> anyhow::Result<Supervised> {
    let core = Core::start().await?;
    core.create_connector("healthy").await?;
    let dir = tempfile::tempdir()?;
    let demo = artifacts().plugin("demo_connector");
    let config = config_file(
        dir.path(),
        "healthy.json",
        r#"{"devices": 3, "batch_size": 2, "interval_ms": 20}"#,
    );
    let toml = format!(
        r#"
core = "{core}"
host_bin = "{host}"

[[connectors]]
id = "healthy"
plugin = "{demo}"
sha256 = "{demo_sha}"
config = "{config}"
host_args = ["--pull-timeout", "200ms", "--heartbeat-interval", "1s", "--stop-deadline", "3s"]
"#,
        core = core.url,
        host = artifacts().host.display(),
        demo = demo.display(),
        demo_sha = sha256_file(demo),
        config = config.display(),
    );
    let supervisor_config = config_file(dir.path(), "supervisor.toml", &toml);
    let mut command = Command::new(&artifacts().supervisor);
    command.arg("--config").arg(&supervisor_config);
    let supervisor = Proc::spawn(command, "supervisor")?;
    wait_until(WAIT, "the connector host streams", || async {
        core.batch_seq("healthy").await > 0
    })
    .await?;
    let host_pid = first_host_pid(&supervisor.output.text())
        .ok_or_else(|| anyhow::anyhow!("no host pid in:\n{}", supervisor.output.text()))?;
    Ok(Supervised {
        core,
        supervisor,
        host_pid,
        _dir: dir,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_supervisor_takes_its_connector_host_with_it() -> anyhow::Result<()> {
    let Supervised {
        mut supervisor,
        host_pid,
        ..
    } = supervise_one_streaming_connector().await?;
    assert!(
        !process_ended(host_pid),
        "host pid {host_pid} is not running"
    );

    supervisor.kill().await?;

    wait_until(
        WAIT,
        &format!("host pid {host_pid} ends with its supervisor"),
        || async { process_ended(host_pid) },
    )
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_leaves_the_supervisor_and_its_one_host_running() -> anyhow::Result<()> {
    let Supervised {
        core,
        mut supervisor,
        host_pid,
        ..
    } = supervise_one_streaming_connector().await?;
    let supervisor_pid = Pid::from_raw(i32::try_from(
        supervisor.child.id().expect("the supervisor runs"),
    )?);

    kill(supervisor_pid, Signal::SIGHUP)?;

    wait_until(WAIT, "the supervisor logs the ignored SIGHUP", || async {
        supervisor.output.text().contains("SIGHUP ignored")
    })
    .await?;
    // The same host keeps streaming: no restart, no second host.
    let before = core.batch_seq("healthy").await;
    wait_until(WAIT, "the connector keeps streaming", || async {
        core.batch_seq("healthy").await > before + 2
    })
    .await?;
    assert!(supervisor.is_running(), "{}", supervisor.output.text());
    assert!(!process_ended(host_pid), "host pid {host_pid} ended");
    let output = supervisor.output.text();
    assert_eq!(hosts_started(&output), 1, "{output}");
    // And it still stops cleanly.
    let (status, _) = supervisor.terminate(WAIT).await?;
    assert_eq!(status.code(), Some(0), "{}", supervisor.output.text());
    Ok(())
}
