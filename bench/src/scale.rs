//! `scale`: one core with a million devices (10,000 in quick mode). Measures the resident memory
//! (`VmRSS` from `/proc/<pid>/status`) once every device is stored, then kills the core — SIGKILL, and then
//! SIGTERM — and restarts it on the same data dir, timing from the spawn until CheckAccess answers correctly
//! for a seeded allowed device and a seeded denied one.

use std::{
    path::Path,
    process::Stdio,
    time::{Duration, Instant},
};

use anyhow::{bail, Context as _};
use nix::{
    sys::signal::{kill, Signal},
    unistd::Pid,
};
use riskgate_tests::{
    admin::DecisionClient,
    process::{parse_ready_line, CORE_ENV_VARS},
    CoreProcess,
};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

use crate::{
    load::connect,
    seed,
    stats::{print_line, print_table, rate},
    summary::Goal,
};

/// How long a restarted core may take to answer correctly before the benchmark gives up.
const SERVING_DEADLINE: Duration = Duration::from_secs(300);

/// Runs the benchmark, prints the table and returns the goals it measures.
pub(crate) async fn run(quick: bool, devices: Option<u64>) -> anyhow::Result<Vec<Goal>> {
    let devices: u64 = devices.unwrap_or(if quick { 10_000 } else { 1_000_000 });
    let dir = tempfile::tempdir()?;
    let mut core = CoreProcess::try_start(dir.path(), &[]).await?;
    seed::configure(&core).await?;
    let started = Instant::now();
    seed::ingest_devices(&core, 0..devices, 1_000).await?;
    let ingest_rate = devices as f64 / started.elapsed().as_secs_f64();
    let rss = vm_rss(core.pid())?;
    let on_disk = size_on_disk(dir.path())?;

    core.kill9().await?;
    let (core, after_kill) = restart_until_serving(dir.path(), devices).await?;
    let rss_after_restart = vm_rss(core.pid()?)?;
    core.terminate().await?;
    let (core, after_term) = restart_until_serving(dir.path(), devices).await?;
    core.terminate().await?;

    let rows = vec![
        vec!["devices".to_owned(), rate(devices as f64)],
        vec![
            "seeding rate (batches of 1,000, 4 in flight, fsync)".to_owned(),
            format!("{} devices/s", rate(ingest_rate)),
        ],
        vec!["VmRSS after ingest".to_owned(), mib(rss)],
        vec!["VmRSS after restart".to_owned(), mib(rss_after_restart)],
        vec!["data dir on disk".to_owned(), mib(on_disk)],
        vec![
            "kill -9, restart: spawn to correct CheckAccess".to_owned(),
            seconds(after_kill),
        ],
        vec![
            "SIGTERM, restart: spawn to correct CheckAccess".to_owned(),
            seconds(after_term),
        ],
    ];
    print_table(
        &format!("Scale: {} devices", rate(devices as f64)),
        &["measure", "value"],
        &rows,
    );
    print_line(&format!(
        "scale: {} devices, VmRSS {}, restart to serving {} (kill -9) / {} (SIGTERM)",
        rate(devices as f64),
        mib(rss),
        seconds(after_kill),
        seconds(after_term)
    ));
    let worst_restart = after_kill.max(after_term);
    Ok(vec![
        Goal::new(
            "RSS with 1M devices",
            "< 1 GiB",
            format!("{} ({} devices)", mib(rss), rate(devices as f64)),
            rss < 1 << 30,
        ),
        Goal::new(
            "restart to serving with 1M devices",
            "< 5 s",
            format!(
                "{} ({} devices)",
                seconds(worst_restart),
                rate(devices as f64)
            ),
            worst_restart < Duration::from_secs(5),
        ),
    ])
}

/// A core started directly rather than through [`CoreProcess`], whose 30 s READY timeout is shorter than a
/// large store's start; killed when dropped.
struct RestartedCore {
    child: Child,
}

impl RestartedCore {
    fn pid(&self) -> anyhow::Result<u32> {
        self.child.id().context("the restarted core has exited")
    }

    /// Sends SIGTERM and waits for the exit.
    async fn terminate(mut self) -> anyhow::Result<()> {
        let pid = Pid::from_raw(i32::try_from(self.pid()?)?);
        kill(pid, Signal::SIGTERM)?;
        tokio::time::timeout(SERVING_DEADLINE, self.child.wait())
            .await
            .context("the core did not exit after SIGTERM")??;
        Ok(())
    }
}

/// Starts a core on `data_dir` and polls CheckAccess until it answers correctly for the last seeded device
/// and for the first (allowed and denied); returns the process and the time since the spawn.
async fn restart_until_serving(
    data_dir: &Path,
    devices: u64,
) -> anyhow::Result<(RestartedCore, Duration)> {
    let spawned = Instant::now();
    let mut command = Command::new(riskgate_tests::ensure_built());
    command
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    for var in CORE_ENV_VARS {
        command.env_remove(var);
    }
    let mut child = command.spawn().context("spawning riskgate-core")?;
    let mut stdout = BufReader::new(child.stdout.take().context("no stdout pipe")?).lines();
    let ready = tokio::time::timeout(SERVING_DEADLINE, stdout.next_line())
        .await
        .context("no READY line before the deadline")??
        .context("the core closed stdout before its READY line")?;
    let (grpc, _) = parse_ready_line(&ready)?;
    // Keep draining stdout so the core never blocks on it.
    tokio::spawn(async move { while let Ok(Some(_)) = stdout.next_line().await {} });
    let mut client = DecisionClient::new(connect(grpc).await?);
    let allowed = (0..devices)
        .rev()
        .find(|index| seed::expected_allow(*index))
        .context("no allowed device")?;
    loop {
        let correct = seed::answers_correctly(&mut client, allowed)
            .await
            .unwrap_or(false)
            && seed::answers_correctly(&mut client, 0)
                .await
                .unwrap_or(false);
        if correct {
            return Ok((RestartedCore { child }, spawned.elapsed()));
        }
        if spawned.elapsed() > SERVING_DEADLINE {
            bail!("the restarted core did not answer correctly within {SERVING_DEADLINE:?}");
        }
        // A short pause between polls, so the poll does not compete with the core's loading for the CPU.
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// The resident set size of process `pid`, in bytes.
fn vm_rss(pid: u32) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .with_context(|| format!("no VmRSS line in {path}"))?;
    let kib: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .with_context(|| format!("bad VmRSS line {line:?}"))?;
    Ok(kib * 1024)
}

/// The total size of the files under `dir`.
fn size_on_disk(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let file_type = entry.file_type()?;
        if file_type.is_dir() {
            total += size_on_disk(&entry.path())?;
        } else if file_type.is_file() {
            total += entry.metadata()?.len();
        }
    }
    Ok(total)
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn seconds(duration: Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
}
