//! The plugin conformance suite: runs each scenario of [`crate::probe`] in its own
//! `riskgate-connector-host probe` process against a built plugin, so the plugin is loaded by the
//! real host and a crash fails only its scenario. Used by the `riskgate-conformance` binary.

use std::{
    fmt,
    io::Read,
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use riskgate_host_protocol::describe;

use crate::{loader::sha256_hex, probe::SCENARIOS};

/// How long one scenario process may run.
pub const SCENARIO_TIMEOUT: Duration = Duration::from_secs(60);

/// What to check.
#[derive(Debug, Clone)]
pub struct SuiteOptions {
    /// The `riskgate-connector-host` binary.
    pub host_bin: PathBuf,
    /// The plugin under test.
    pub plugin: PathBuf,
    /// A valid configuration for it (empty if none).
    pub config: Option<PathBuf>,
}

/// One scenario's result.
#[derive(Debug, Clone)]
pub struct ScenarioResult {
    /// The scenario.
    pub name: &'static str,
    /// What it checks.
    pub checks: &'static str,
    /// Whether it passed.
    pub passed: bool,
    /// Details or the failure's cause.
    pub detail: String,
    /// What the scenario's host process wrote on stderr: its log and the plugin's own output.
    pub host_stderr: String,
}

/// The suite's results.
#[derive(Debug, Clone)]
pub struct Report {
    /// The plugin's SHA-256, to pin in the host's configuration.
    pub sha256: String,
    /// Per scenario.
    pub results: Vec<ScenarioResult>,
}

impl Report {
    /// Whether every scenario passed.
    pub fn passed(&self) -> bool {
        self.results.iter().all(|r| r.passed)
    }

    /// The result of one scenario.
    pub fn scenario(&self, name: &str) -> Option<&ScenarioResult> {
        self.results.iter().find(|r| r.name == name)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for result in &self.results {
            let verdict = if result.passed { "PASS" } else { "FAIL" };
            writeln!(
                f,
                "{verdict} {:<15} {} — {}",
                result.name, result.checks, result.detail
            )?;
        }
        let passed = self.results.iter().filter(|r| r.passed).count();
        writeln!(f, "sha256 {}", self.sha256)?;
        write!(f, "{passed} passed, {} failed", self.results.len() - passed)
    }
}

/// Why the suite could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    /// The plugin file cannot be read.
    #[error("cannot read plugin {path}: {source}")]
    Read {
        /// The plugin.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// Runs every scenario against the plugin.
pub fn run_suite(options: &SuiteOptions) -> Result<Report, SuiteError> {
    let bytes = std::fs::read(&options.plugin).map_err(|source| SuiteError::Read {
        path: options.plugin.clone(),
        source,
    })?;
    let sha256 = sha256_hex(&bytes);
    let results = SCENARIOS
        .iter()
        .map(|(name, checks)| {
            let run = run_scenario(options, &sha256, name);
            ScenarioResult {
                name,
                checks,
                passed: run.passed,
                detail: run.detail,
                host_stderr: run.stderr,
            }
        })
        .collect();
    Ok(Report { sha256, results })
}

/// How one scenario process went.
struct ScenarioRun {
    passed: bool,
    detail: String,
    stderr: String,
}

fn run_scenario(options: &SuiteOptions, sha256: &str, scenario: &str) -> ScenarioRun {
    let mut command = Command::new(&options.host_bin);
    command
        .arg("probe")
        .arg("--plugin")
        .arg(&options.plugin)
        .arg("--sha256")
        .arg(sha256)
        .arg("--scenario")
        .arg(scenario)
        .env("RUST_LOG", "warn");
    if let Some(config) = &options.config {
        command.arg("--config").arg(config);
    }
    let output = match run_with_timeout(command, SCENARIO_TIMEOUT) {
        Ok(output) => output,
        Err((detail, stderr)) => {
            return ScenarioRun {
                passed: false,
                detail,
                stderr,
            }
        }
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let result = stdout.lines().find_map(|line| line.strip_prefix("RESULT "));
    let (passed, detail) = match result {
        Some(line) => {
            let (verdict, detail) = line.split_once(' ').unwrap_or((line, ""));
            (
                verdict == "pass" && output.status.success(),
                detail.to_owned(),
            )
        }
        None => {
            let last = stderr
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            (
                false,
                format!(
                    "the host process died: {}; last output: {last}",
                    describe(output.status)
                ),
            )
        }
    };
    ScenarioRun {
        passed,
        detail,
        stderr,
    }
}

/// Runs `command` to its end, at most `timeout`; its output is read while it runs, so a chatty
/// process never blocks on a full pipe. On timeout the process is killed, and the error comes with
/// the stderr it wrote so far.
fn run_with_timeout(
    mut command: Command,
    timeout: Duration,
) -> Result<std::process::Output, (String, String)> {
    let mut child = command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| (format!("cannot start the host: {e}"), String::new()))?;
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if started.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!(
                    "the scenario did not finish within {timeout:?} (the plugin hangs)"
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => break Err(e.to_string()),
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    match status {
        Ok(status) => Ok(std::process::Output {
            status,
            stdout,
            stderr,
        }),
        Err(message) => Err((message, String::from_utf8_lossy(&stderr).into_owned())),
    }
}

/// Reads a child's pipe to its end on a thread of its own.
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// Whether `path` looks like a plugin file (for the CLI's messages).
pub fn looks_like_plugin(path: &Path) -> bool {
    path.extension()
        .is_some_and(|ext| ext == "so" || ext == "dylib")
}
