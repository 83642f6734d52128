//! The `probe` mode: one conformance scenario, run against a plugin loaded by this host's own
//! loader, without a core. It prints one line, `RESULT pass|fail <detail>`, and exits 0 or 1.
//! A plugin that crashes the process fails the scenario through the exit signal, which the runner in
//! [`crate::conformance`] reports; that is why every scenario runs in its own process.

use std::{
    collections::HashSet,
    time::{Duration, Instant, SystemTime},
};

use riskgate_sdk::{pb, validate};

use crate::{
    config::ProbeArgs,
    host::read_config,
    loader::{CallError, Failure, Instance, NextBatch, Plugin},
};

/// The scenarios, in the order the suite runs them, with what each checks.
pub const SCENARIOS: [(&str, &str); 5] = [
    ("abi", "entry symbol, ABI version and manifest"),
    (
        "invalid_config",
        "an invalid configuration gives a config error, not a crash",
    ),
    (
        "lifecycle",
        "start and stop within deadlines; valid batches; checkpoints move forward",
    ),
    (
        "slow_core",
        "memory stays bounded and stop works while the core does not pull",
    ),
    (
        "misuse",
        "out-of-order and undecodable calls are refused with a status, never a panic or crash",
    ),
];

/// Deadline for `create`, `start` and `stop`.
pub const CALL_DEADLINE: Duration = Duration::from_secs(5);
/// How long the lifecycle scenario waits for batches.
const BATCH_WAIT: Duration = Duration::from_secs(15);
/// Most memory a plugin may grow by while nobody pulls its batches.
const MAX_IDLE_GROWTH_BYTES: u64 = 64 * 1024 * 1024;

type Outcome = Result<String, String>;

/// Runs `args.scenario`; returns the exit code.
pub fn run(args: &ProbeArgs) -> i32 {
    let outcome = scenario(args);
    let (verdict, detail, code) = match outcome {
        Ok(detail) => ("pass", detail, 0),
        Err(detail) => ("fail", detail, 1),
    };
    #[allow(clippy::print_stdout)]
    {
        println!("RESULT {verdict} {}", detail.replace('\n', " "));
    }
    code
}

fn scenario(args: &ProbeArgs) -> Outcome {
    let plugin =
        Plugin::load(&args.plugin.plugin, &args.plugin.sha256).map_err(|e| e.to_string())?;
    let config = read_config(args.plugin.config.as_deref())?;
    match args.scenario.as_str() {
        "abi" => abi(&plugin),
        "invalid_config" => invalid_config(&plugin),
        "lifecycle" => lifecycle(&plugin, &config),
        "slow_core" => slow_core(&plugin, &config),
        "misuse" => misuse(&plugin, &config),
        other => Err(format!("unknown scenario {other:?}")),
    }
}

fn start_message(config: &[u8], checkpoint: Option<Vec<u8>>) -> pb::PluginStart {
    pb::PluginStart {
        connector_id: "conformance".to_owned(),
        config: config.to_vec(),
        has_checkpoint: checkpoint.is_some(),
        checkpoint: checkpoint.unwrap_or_default(),
        last_batch_seq: 0,
    }
}

fn timed<T>(
    what: &str,
    deadline: Duration,
    f: impl FnOnce() -> Result<T, CallError>,
) -> Result<T, String> {
    let started = Instant::now();
    let result = f().map_err(|e| format!("{what}: {e}"))?;
    let took = started.elapsed();
    if took > deadline {
        return Err(format!(
            "{what} took {took:?}, above the deadline of {deadline:?}"
        ));
    }
    Ok(result)
}

fn started(
    plugin: &Plugin,
    config: &[u8],
    checkpoint: Option<Vec<u8>>,
) -> Result<Instance, String> {
    let mut instance = timed("create", CALL_DEADLINE, || {
        plugin.create(&start_message(config, checkpoint))
    })?;
    timed("start", CALL_DEADLINE, || instance.start())?;
    Ok(instance)
}

fn abi(plugin: &Plugin) -> Outcome {
    let manifest = plugin.manifest().map_err(|e| e.to_string())?;
    if manifest.abi_major != riskgate_sdk::abi::ABI_MAJOR {
        return Err(format!(
            "manifest says ABI major {}, the table says 1",
            manifest.abi_major
        ));
    }
    if manifest.name.is_empty() || manifest.name.len() > 128 {
        return Err(format!(
            "manifest name {:?} must be 1 to 128 bytes",
            manifest.name
        ));
    }
    if manifest.proto_version != riskgate_sdk::abi::PROTO_VERSION {
        return Err(format!(
            "manifest proto_version {} is not {}",
            manifest.proto_version,
            riskgate_sdk::abi::PROTO_VERSION
        ));
    }
    Ok(format!(
        "{} {} by {:?}, sdk {}, ABI {}.{} (table {}.{})",
        manifest.name,
        manifest.version,
        manifest.vendor,
        manifest.sdk_version,
        manifest.abi_major,
        manifest.abi_minor,
        riskgate_sdk::abi::ABI_MAJOR,
        plugin.abi_minor()
    ))
}

fn invalid_config(plugin: &Plugin) -> Outcome {
    let garbage = b"\xff\xfe this is not a configuration \x00 {[".to_vec();
    match plugin.create(&start_message(&garbage, None)) {
        Err(CallError {
            failure: Failure::Config,
            message,
            ..
        }) => Ok(format!("config error: {message}")),
        Err(err) => Err(format!("expected a config error, got: {err}")),
        Ok(_) => Err("accepted an invalid configuration".to_owned()),
    }
}

/// How many batches to pull, and for how long.
#[derive(Debug, Clone, Copy)]
struct Pull {
    /// Fewer than this when `within` runs out fails.
    at_least: usize,
    /// Pulling ends once this many arrived.
    at_most: usize,
    /// How long to wait for `at_most`.
    within: Duration,
    /// Pulling also ends at the first wait of [`PULL_TIMEOUT`] without a batch once `at_least`
    /// arrived: a feed that is caught up has nothing more to give.
    until_idle: bool,
}

/// One `next_batch` wait.
const PULL_TIMEOUT: Duration = Duration::from_millis(500);

/// Pulls batches as `pull` says, or until the feed ends, checking each and acknowledging it.
fn pull_checked(
    instance: &mut Instance,
    pull: Pull,
    seen_events: &mut HashSet<String>,
) -> Result<Vec<pb::PluginBatch>, String> {
    let deadline = Instant::now() + pull.within;
    let mut batches: Vec<pb::PluginBatch> = Vec::new();
    while batches.len() < pull.at_most && Instant::now() < deadline {
        match instance
            .next_batch(PULL_TIMEOUT)
            .map_err(|e| e.to_string())?
        {
            NextBatch::Batch(batch) => {
                validate::batch(&batch, &validate::Limits::default(), SystemTime::now())
                    .map_err(|e| format!("batch {} is invalid: {e}", batch.batch_id))?;
                if let Some(previous) = batches.last() {
                    if batch.batch_id <= previous.batch_id {
                        return Err(format!(
                            "batch id {} follows {}",
                            batch.batch_id, previous.batch_id
                        ));
                    }
                }
                for report in &batch.reports {
                    if !seen_events.insert(report.vendor_event_id.clone()) {
                        return Err(format!(
                            "vendor_event_id {:?} was emitted twice",
                            report.vendor_event_id
                        ));
                    }
                }
                instance.ack(batch.batch_id).map_err(|e| e.to_string())?;
                batches.push(batch);
            }
            NextBatch::Timeout if pull.until_idle && batches.len() >= pull.at_least => break,
            NextBatch::Timeout => {}
            NextBatch::End => break,
        }
    }
    if batches.len() < pull.at_least {
        return Err(format!(
            "{} batch(es) within {:?}, expected at least {}",
            batches.len(),
            pull.within,
            pull.at_least
        ));
    }
    Ok(batches)
}

fn lifecycle(plugin: &Plugin, config: &[u8]) -> Outcome {
    let mut seen = HashSet::new();
    let mut instance = started(plugin, config, None)?;
    // At least one batch; up to three, unless the feed ends or goes quiet first.
    let first_run = Pull {
        at_least: 1,
        at_most: 3,
        within: BATCH_WAIT,
        until_idle: true,
    };
    let first = pull_checked(&mut instance, first_run, &mut seen)?;
    timed("stop", CALL_DEADLINE, || instance.stop(CALL_DEADLINE))?;
    drop(instance);
    let checkpoint = first
        .last()
        .map(|b| b.checkpoint.clone())
        .unwrap_or_default();

    // A new instance resumes after the acknowledged checkpoint: nothing acknowledged comes again.
    // A feed that was caught up may have nothing new, so no batch is required here.
    let mut instance = started(plugin, config, Some(checkpoint))?;
    let after_restart = Pull {
        at_least: 0,
        at_most: 1,
        within: BATCH_WAIT,
        until_idle: false,
    };
    let resumed = pull_checked(&mut instance, after_restart, &mut seen)
        .map_err(|e| format!("after restarting from the acknowledged checkpoint: {e}"))?;
    timed("stop", CALL_DEADLINE, || instance.stop(CALL_DEADLINE))?;
    let restart = if resumed.is_empty() {
        "restart from the checkpoint gave no new batch (the feed was caught up) and repeated nothing"
            .to_owned()
    } else {
        format!(
            "restart resumed after the checkpoint with {} new batch(es)",
            resumed.len()
        )
    };
    Ok(format!(
        "{} batch(es) valid and acknowledged, {restart}, start and stop within {CALL_DEADLINE:?}",
        first.len(),
    ))
}

fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn slow_core(plugin: &Plugin, config: &[u8]) -> Outcome {
    let mut instance = started(plugin, config, None)?;
    let mut seen = HashSet::new();
    let one = Pull {
        at_least: 1,
        at_most: 1,
        within: BATCH_WAIT,
        until_idle: false,
    };
    pull_checked(&mut instance, one, &mut seen)?;
    let before = rss_bytes().unwrap_or(0);
    // The core is slow: nobody pulls for a while.
    std::thread::sleep(Duration::from_secs(2));
    let after = rss_bytes().unwrap_or(0);
    let growth = after.saturating_sub(before);
    if growth > MAX_IDLE_GROWTH_BYTES {
        return Err(format!(
            "memory grew by {} MiB while nobody pulled",
            growth / (1024 * 1024)
        ));
    }
    // Fill the queue again (not pulling), then stop while the connector waits on it.
    std::thread::sleep(Duration::from_millis(500));
    timed("stop while blocked on a full queue", CALL_DEADLINE, || {
        instance.stop(CALL_DEADLINE)
    })?;
    Ok(format!(
        "memory grew {} KiB in 2s unpulled, stopped while blocked",
        growth / 1024
    ))
}

fn misuse(plugin: &Plugin, config: &[u8]) -> Outcome {
    let expect_refused = |what: &str, result: Result<(), CallError>| -> Result<(), String> {
        match result {
            Ok(()) => Ok(()),
            Err(CallError {
                failure: Failure::Panic,
                message,
                ..
            }) => Err(format!("{what}: panicked: {message}")),
            Err(CallError {
                failure: Failure::UnknownStatus(code),
                ..
            }) => Err(format!("{what}: unknown status {code}")),
            Err(_) => Ok(()),
        }
    };
    if let Err(err) = plugin.create_raw(b"\x0a\xff\xff\xff\xff\xff") {
        if err.failure == Failure::Panic {
            return Err(format!("undecodable PluginStart: {err}"));
        }
    }
    let mut instance = timed("create", CALL_DEADLINE, || {
        plugin.create(&start_message(config, None))
    })?;
    expect_refused(
        "next_batch before start",
        instance.next_batch(Duration::from_millis(10)).map(|_| ()),
    )?;
    expect_refused("ack before start", instance.ack(1))?;
    timed("start", CALL_DEADLINE, || instance.start())?;
    expect_refused("start twice", instance.start())?;
    expect_refused("ack of an unknown batch", instance.ack(u64::MAX))?;
    timed("stop", CALL_DEADLINE, || instance.stop(CALL_DEADLINE))?;
    expect_refused("stop twice", instance.stop(CALL_DEADLINE))?;
    expect_refused(
        "next_batch after stop",
        instance.next_batch(Duration::from_millis(10)).map(|_| ()),
    )?;
    expect_refused("ack after stop", instance.ack(1))?;
    Ok("every out-of-order call returned a status".to_owned())
}
