//! The child processes: starting them (each in its own process group, its output in a log file),
//! reading their `READY` lines, and stopping them all in reverse order.
//!
//! Each child gets its own process group so that a Ctrl-C at the terminal reaches only the demo,
//! which then stops the children in order (hosts, simulator, core), each with SIGTERM and a
//! deadline before SIGKILL. `kill_on_drop` kills them if the demo unwinds without stopping them,
//! and each gets SIGTERM from the kernel if the demo itself dies, `kill -9` included
//! (`riskgate_process_guard`).

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use anyhow::Context as _;
use nix::{
    sys::signal::{kill, killpg, Signal},
    unistd::Pid,
};
use tokio::{
    io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader},
    process::{Child, ChildStdout, Command},
    sync::Mutex,
};

use crate::{artifacts::Binaries, out::Out};

/// How long a child may take to print its READY line.
const READY_WITHIN: Duration = Duration::from_secs(60);
/// How long a child may take to exit after SIGTERM before it is killed. The core's own shutdown
/// grace is 10 s by default.
const STOP_WITHIN: Duration = Duration::from_secs(15);

/// A started child, as the rest of the demo knows it.
#[derive(Debug, Clone)]
pub(crate) struct Started {
    /// Short name, such as `core` or `lookout host`.
    pub(crate) name: String,
    pub(crate) pid: u32,
    /// `http://ADDR` of its READY line; empty for a host (it prints none).
    pub(crate) url: String,
    /// The core's gateway listener (`ADDR`, Envoy's ext_authz target); empty for the others.
    pub(crate) gateway: String,
}

/// Every child the demo started, in start order.
#[derive(Debug, Default)]
pub(crate) struct Processes {
    children: Mutex<Vec<Managed>>,
}

#[derive(Debug)]
struct Managed {
    name: String,
    pid: u32,
    child: Child,
}

impl Processes {
    /// Starts the core on the sled store in `data_dir/core`, port 0, with the configuration file
    /// `config` (its tokens), and waits for its READY line.
    pub(crate) async fn start_core(
        &self,
        binaries: &Binaries,
        data_dir: &Path,
        config: &Path,
        out: &Out,
    ) -> anyhow::Result<Started> {
        let mut command = Command::new(&binaries.core);
        command
            .arg("--config")
            .arg(config)
            .arg("--data-dir")
            .arg(data_dir.join("core"))
            .args(["--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"])
            // The demo's store is thrown away at the next start: surviving a process crash is enough.
            .args(["--durability", "flush"]);
        // The core reads RISKGATE_* variables; the demo decides its configuration alone.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("RISKGATE_") {
                command.env_remove(name);
            }
        }
        let (started, stdout) = self.spawn("core", command, data_dir).await?;
        let [ready] = read_ready(stdout, ["READY grpc="], &started, data_dir).await?;
        // `READY grpc=ADDR metrics=ADDR gateway=ADDR`; the part after the prefix.
        let mut words = ready.split_whitespace();
        let grpc = words.next().unwrap_or_default().to_owned();
        let value = |key: &str, words: &mut std::str::SplitWhitespace<'_>| {
            words
                .find_map(|word| word.strip_prefix(key))
                .unwrap_or_default()
                .to_owned()
        };
        let metrics = value("metrics=", &mut words);
        let gateway = value("gateway=", &mut words);
        out.line(&format!(
            "started core pid={} grpc={grpc} metrics={metrics} gateway={gateway} (sled store in {}, bearer tokens required)",
            started.pid,
            data_dir.join("core").display()
        ));
        Ok(Started {
            url: format!("http://{grpc}"),
            gateway,
            ..started
        })
    }

    /// Starts Envoy (`command` from `riskgate_envoy::launch`); its output goes to its log file. It prints
    /// no READY line: the caller waits on its admin interface.
    pub(crate) async fn start_envoy(
        &self,
        command: Command,
        data_dir: &Path,
    ) -> anyhow::Result<Started> {
        self.start_host("envoy", command, data_dir).await
    }

    /// Starts the vendor-cloud simulator on port 0 and waits for its READY line.
    pub(crate) async fn start_sim(
        &self,
        binaries: &Binaries,
        data_dir: &Path,
        out: &Out,
    ) -> anyhow::Result<Started> {
        let mut command = Command::new(&binaries.sim);
        command.args(["--listen", "127.0.0.1:0"]);
        let (started, stdout) = self.spawn("vendor-sim", command, data_dir).await?;
        let [ready] = read_ready(stdout, ["READY http="], &started, data_dir).await?;
        out.line(&format!(
            "started vendor-sim pid={} http={ready} (Lookout and Zimperium clouds)",
            started.pid
        ));
        Ok(Started {
            url: format!("http://{ready}"),
            ..started
        })
    }

    /// Starts the web console with `config` and a one-time sign-in link for the token in
    /// `link_token_file`; returns it started (its `url`) and the link.
    pub(crate) async fn start_console(
        &self,
        binaries: &Binaries,
        data_dir: &Path,
        config: &Path,
        link_token_file: &Path,
    ) -> anyhow::Result<(Started, String)> {
        let mut command = Command::new(&binaries.console);
        command
            .arg("--config")
            .arg(config)
            .arg("--signin-link-token-file")
            .arg(link_token_file);
        let (started, stdout) = self.spawn("console", command, data_dir).await?;
        let [link, ready] =
            read_ready(stdout, ["SIGNIN-LINK ", "READY http="], &started, data_dir).await?;
        Ok((
            Started {
                url: format!("http://{ready}"),
                ..started
            },
            link,
        ))
    }

    /// Starts a child that prints no READY line (a connector host, `riskgate-connector-host run ...`
    /// in `command`); its logs go to its log file.
    pub(crate) async fn start_host(
        &self,
        name: &str,
        command: Command,
        data_dir: &Path,
    ) -> anyhow::Result<Started> {
        let (started, stdout) = self.spawn(name, command, data_dir).await?;
        let log = log_path(data_dir, name);
        tokio::spawn(copy_to_log(BufReader::new(stdout), log));
        Ok(started)
    }

    /// Spawns `command` with stdin closed, stderr to `data_dir/logs/<name>.log`, and stdout piped.
    async fn spawn(
        &self,
        name: &str,
        mut command: Command,
        data_dir: &Path,
    ) -> anyhow::Result<(Started, ChildStdout)> {
        let log = log_path(data_dir, name);
        if let Some(dir) = log.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        // Append mode for every writer of the log (the child's stderr, the copy of its stdout), so
        // that their lines interleave instead of overwriting each other.
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file))
            .process_group(0)
            .kill_on_drop(true);
        let mut child = riskgate_process_guard::spawn(command)
            .await
            .with_context(|| format!("cannot start {name}"))?;
        let pid = child.id().context("the child has no pid")?;
        let stdout = child.stdout.take().context("the child's stdout")?;
        tracing::info!(name, pid, log = %log.display(), "started");
        self.children.lock().await.push(Managed {
            name: name.to_owned(),
            pid,
            child,
        });
        Ok((
            Started {
                name: name.to_owned(),
                pid,
                url: String::new(),
                gateway: String::new(),
            },
            stdout,
        ))
    }

    /// Stops every child, the last started first: SIGTERM, then SIGKILL to its process group after
    /// [`STOP_WITHIN`]. Prints a line per child.
    pub(crate) async fn stop_all(&self, out: &Out) {
        let mut children = self.children.lock().await;
        while let Some(mut managed) = children.pop() {
            let Managed { name, pid, child } = &mut managed;
            let group = Pid::from_raw(i32::try_from(*pid).unwrap_or(i32::MAX));
            if let Ok(Some(status)) = child.try_wait() {
                out.line(&format!("{name} pid={pid} had already exited ({status})"));
                continue;
            }
            let _ = kill(group, Signal::SIGTERM);
            match tokio::time::timeout(STOP_WITHIN, child.wait()).await {
                Ok(Ok(status)) => out.line(&format!("stopped {name} pid={pid} ({status})")),
                _ => {
                    let _ = killpg(group, Signal::SIGKILL);
                    let status = child.wait().await;
                    out.line(&format!(
                        "killed {name} pid={pid}: no exit within {STOP_WITHIN:?} of SIGTERM ({status:?})"
                    ));
                }
            }
            // Anything the child left behind in its group goes with it. The group is usually empty
            // by now, and then this fails harmlessly.
            let _ = killpg(group, Signal::SIGKILL);
        }
    }
}

/// `data_dir/logs/<name>.log`, with spaces in the name as dashes.
pub(crate) fn log_path(data_dir: &Path, name: &str) -> PathBuf {
    data_dir
        .join("logs")
        .join(format!("{}.log", name.replace(' ', "-")))
}

/// Reads the child's stdout until it printed a line starting with each of `prefixes`, in order, and
/// returns the rest of each; the remaining output is copied to the child's log. Fails, with the log's
/// end, if the child exits or stays silent for [`READY_WITHIN`].
async fn read_ready<const N: usize>(
    stdout: ChildStdout,
    prefixes: [&str; N],
    started: &Started,
    data_dir: &Path,
) -> anyhow::Result<[String; N]> {
    let log = log_path(data_dir, &started.name);
    let mut reader = BufReader::new(stdout);
    let mut found: [String; N] = std::array::from_fn(|_| String::new());
    let mut next = 0;
    let read = tokio::time::timeout(READY_WITHIN, async {
        let mut line = String::new();
        while next < N {
            line.clear();
            if reader.read_line(&mut line).await? == 0 {
                return Ok(false);
            }
            if let Some(rest) = line.trim_end().strip_prefix(prefixes[next]) {
                found[next] = rest.to_owned();
                next += 1;
            }
        }
        Ok::<_, std::io::Error>(true)
    })
    .await;
    let waiting_for = prefixes.get(next).copied().unwrap_or_default();
    match read {
        Ok(Ok(true)) => {
            tokio::spawn(copy_to_log(reader, log));
            Ok(found)
        }
        Ok(Ok(false)) => anyhow::bail!(
            "{} pid={} exited before printing {waiting_for}…; the end of {}:\n{}",
            started.name,
            started.pid,
            log.display(),
            log_tail(&log)
        ),
        Ok(Err(err)) => Err(err).context(format!("reading {}'s output", started.name)),
        Err(_) => anyhow::bail!(
            "{} pid={} printed no {waiting_for}… within {READY_WITHIN:?}; the end of {}:\n{}",
            started.name,
            started.pid,
            log.display(),
            log_tail(&log)
        ),
    }
}

/// Appends what the child still writes on stdout to its log file, until it closes stdout.
async fn copy_to_log(mut reader: BufReader<ChildStdout>, log: PathBuf) {
    let file = tokio::fs::OpenOptions::new().append(true).open(&log).await;
    let Ok(mut file) = file else {
        return;
    };
    let mut line = String::new();
    while reader.read_line(&mut line).await.is_ok_and(|n| n > 0) {
        let _ = file.write_all(line.as_bytes()).await;
        line.clear();
    }
}

/// The last lines of a log, for error messages.
fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
