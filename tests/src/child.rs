//! Running any of the workspace's helper processes (connector hosts, the vendor simulator, the
//! supervisor) from a test: stdout and stderr captured and echoed line by line, the `READY` line
//! awaited against a deadline, and the process stopped by signal or killed when dropped.

use std::{
    fmt,
    process::{ExitStatus, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::{bail, Context as _};
use nix::{
    sys::signal::{kill, Signal},
    unistd::Pid,
};
use tokio::{
    io::{AsyncBufReadExt, AsyncRead, BufReader},
    process::{Child, Command},
    task::JoinHandle,
};

use crate::wait::wait_until;

/// How long a helper process may take to print its `READY` line.
pub const READY_WITHIN: Duration = Duration::from_secs(30);

/// Text a child process wrote, shared between its reader tasks and the test.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<String>>);

impl Captured {
    /// Appends one line.
    pub fn push_line(&self, line: &str) {
        let mut text = self.0.lock().unwrap_or_else(|e| e.into_inner());
        text.push_str(line);
        text.push('\n');
    }

    /// Everything captured so far.
    pub fn text(&self) -> String {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl fmt::Debug for Captured {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Captured({} bytes)", self.text().len())
    }
}

/// Reads `reader` line by line until EOF, keeping each line in `captured` and echoing it to the
/// test's stderr as `[tag] line` (the test harness captures it like any test output).
pub fn forward_lines<R>(reader: R, tag: String, captured: Captured) -> JoinHandle<()>
where
    R: AsyncRead + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let mut lines = BufReader::new(reader).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            eprintln!("[{tag}] {line}");
            captured.push_line(&line);
        }
    })
}

/// A running child process whose stdout and stderr are captured together; killed when dropped.
#[derive(Debug)]
pub struct ChildProcess {
    /// The child.
    pub child: Child,
    /// Its stdout and stderr, interleaved by line.
    pub output: Captured,
    /// Its name and pid, for messages.
    pub tag: String,
}

impl ChildProcess {
    /// Starts `command` (stdin closed, output captured, killed on drop), naming it `name` in messages.
    pub fn spawn(mut command: Command, name: &str) -> anyhow::Result<ChildProcess> {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .with_context(|| format!("spawning {name}"))?;
        let output = Captured::default();
        let tag = format!("{name} {}", child.id().unwrap_or(0));
        let stdout = child.stdout.take().context("no stdout pipe")?;
        let stderr = child.stderr.take().context("no stderr pipe")?;
        forward_lines(stdout, tag.clone(), output.clone());
        forward_lines(stderr, tag.clone(), output.clone());
        Ok(ChildProcess { child, output, tag })
    }

    /// Waits (at most [`READY_WITHIN`]) for a line starting with `prefix` and returns the first
    /// word after it: `ready_value("READY http=")` gives the simulator's address.
    pub async fn ready_value(&self, prefix: &str) -> anyhow::Result<String> {
        let mut found = None;
        wait_until(
            READY_WITHIN,
            &format!("{} prints {prefix}", self.tag),
            || {
                found = self
                    .output
                    .text()
                    .lines()
                    .find_map(|line| line.strip_prefix(prefix))
                    .and_then(|rest| rest.split_whitespace().next())
                    .map(str::to_owned);
                let ready = found.is_some();
                async move { ready }
            },
        )
        .await
        .with_context(|| format!("output of {}:\n{}", self.tag, self.output.text()))?;
        found.context("no ready line")
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Kills the process (SIGKILL) and waits for it.
    pub async fn kill(&mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        Ok(())
    }

    /// Waits (at most `within`) for the process to exit on its own.
    pub async fn wait_exit(&mut self, within: Duration) -> anyhow::Result<ExitStatus> {
        match tokio::time::timeout(within, self.child.wait()).await {
            Ok(status) => Ok(status?),
            Err(_) => bail!(
                "{} did not exit within {within:?}; output:\n{}",
                self.tag,
                self.output.text()
            ),
        }
    }

    /// Sends SIGTERM, waits (at most `within`) for the exit and returns its status and how long it took.
    pub async fn terminate(&mut self, within: Duration) -> anyhow::Result<(ExitStatus, Duration)> {
        let pid = self.child.id().context("the process already exited")?;
        let started = Instant::now();
        kill(Pid::from_raw(i32::try_from(pid)?), Signal::SIGTERM)?;
        let status = self.wait_exit(within).await?;
        Ok((status, started.elapsed()))
    }
}

/// Whether process `pid` has ended: it is gone, or it is a zombie nobody has reaped yet (an orphan
/// waits for its new parent to reap it; see proc(5) for the state field of `/proc/PID/stat`).
pub fn process_ended(pid: i32) -> bool {
    if kill(Pid::from_raw(pid), None) == Err(nix::errno::Errno::ESRCH) {
        return true;
    }
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
        // The state follows the command name, which is in parentheses and may contain spaces.
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state == "Z" || state == "X")
    })
}
