//! The plugin conformance suite: runs each scenario of [`crate::probe`] in its own
//! `riskgate-connector-host probe` process against a built plugin, so the plugin is loaded by the
//! real host and a crash fails only its scenario. Used by the `riskgate-conformance` binary.

use std::{
    fmt,
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

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
            let (passed, detail) = run_scenario(options, &sha256, name);
            ScenarioResult {
                name,
                checks,
                passed,
                detail,
            }
        })
        .collect();
    Ok(Report { sha256, results })
}

fn run_scenario(options: &SuiteOptions, sha256: &str, scenario: &str) -> (bool, String) {
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
        Err(message) => return (false, message),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let result = stdout.lines().find_map(|line| line.strip_prefix("RESULT "));
    match result {
        Some(line) => {
            let (verdict, detail) = line.split_once(' ').unwrap_or((line, ""));
            (
                verdict == "pass" && output.status.success(),
                detail.to_owned(),
            )
        }
        None => {
            let stderr = String::from_utf8_lossy(&output.stderr);
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
    }
}

/// A process status in words, naming the signal if it was killed by one.
pub fn describe(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(signal)) => format!("killed by signal {}", signal_name(signal)),
        _ => status.to_string(),
    }
}

/// The conventional name of a signal number.
pub fn signal_name(signal: i32) -> String {
    match signal {
        4 => "SIGILL".to_owned(),
        6 => "SIGABRT".to_owned(),
        7 => "SIGBUS".to_owned(),
        8 => "SIGFPE".to_owned(),
        9 => "SIGKILL".to_owned(),
        11 => "SIGSEGV".to_owned(),
        15 => "SIGTERM".to_owned(),
        other => format!("signal {other}"),
    }
}

fn run_with_timeout(
    mut command: Command,
    timeout: Duration,
) -> Result<std::process::Output, String> {
    let mut child = command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the host: {e}"))?;
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return child.wait_with_output().map_err(|e| e.to_string()),
            Ok(None) if started.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "the scenario did not finish within {timeout:?} (the plugin hangs)"
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// The host binary next to the running executable (both are built together).
pub fn sibling_host_bin() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    let candidate = dir.join("riskgate-connector-host");
    candidate.is_file().then_some(candidate)
}

/// Whether `path` looks like a plugin file (for the CLI's messages).
pub fn looks_like_plugin(path: &Path) -> bool {
    path.extension()
        .is_some_and(|ext| ext == "so" || ext == "dylib")
}
