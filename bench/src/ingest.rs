//! `ingest`: durable, acknowledged ingest through riskgate-core's gRPC Ingest stream, batched as connectors
//! send it (one batch, then its acknowledgement), against raw sled 0.34.7 writing the very same records.
//!
//! The raw side replays the core's own store: after the core run, the core is stopped and its sled store is
//! read back, so the raw writes have exactly the core's keys and values (event log, device records, per-device
//! event index, dedup, compliance memo, head metadata), in batches holding as many reports as the core's.
//! Each raw batch is one `apply_batch` plus `flush`, and with `fsync` also an fsync of every file and the
//! directory — what the core's sled adapter does at each group commit (redb's benchmark and sled issues #1351/#1452:
//! sled's flush alone uses `sync_file_range`). The difference is riskgate's own cost: gRPC, validation,
//! evaluation, the writer thread.

use std::{
    collections::BTreeMap,
    fs::File,
    path::Path,
    time::{Duration, Instant},
};

use anyhow::{ensure, Context as _};
use riskgate_proto::v1::{HealthState, Platform};
use riskgate_tests::{batch, now, register_connector, report, rpc::IngestSession, CoreProcess};

use crate::{
    seed::expect_ack_applied,
    stats::{print_line, print_table, rate, ratio},
    summary::Goal,
};

const CONNECTOR: &str = "bench-ingest";

/// sled's tags of the keyspaces an ingest writes (riskgate-core `store::engine::Keyspace::tag`); the
/// configuration, checkpoints and the store's one-off metadata are left out, except the head metadata.
const META_TAG: u8 = 1;
const REPORT_TAGS: [u8; 5] = [2, 3, 4, 5, 8];
const PER_COMMIT_META: [&[u8]; 3] = [b"head", b"device_count", b"first_retained"];

/// How durable an acknowledged write is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Durability {
    Flush,
    Fsync,
}

impl Durability {
    fn name(self) -> &'static str {
        match self {
            Durability::Flush => "flush",
            Durability::Fsync => "fsync",
        }
    }
}

/// Runs the benchmark, prints the table and the ratios, and returns the goals it measures.
pub(crate) async fn run(quick: bool) -> anyhow::Result<Vec<Goal>> {
    let reports: u64 = if quick { 1_000 } else { 30_000 };
    let mut rows = Vec::new();
    let mut ratios = Vec::new();
    let mut goals = Vec::new();
    for durability in [Durability::Fsync, Durability::Flush] {
        for batch_size in [100u64, 1_000] {
            let dir = tempfile::tempdir()?;
            let core_rate =
                ingest_through_core(dir.path(), durability, reports, batch_size).await?;
            let batches = read_back(&dir.path().join("store"), reports)?;
            let raw_dir = tempfile::tempdir()?;
            let raw_rate = tokio::task::spawn_blocking({
                let path = raw_dir.path().to_owned();
                move || raw_sled(&path, durability, &batches, batch_size, reports)
            })
            .await??;
            let share = ratio(core_rate, raw_rate);
            rows.push(vec![
                durability.name().to_owned(),
                batch_size.to_string(),
                rate(core_rate),
                rate(raw_rate),
                format!("{share:.2}"),
            ]);
            ratios.push(format!(
                "ratio core/raw sled, durability {}, batch {batch_size}: {share:.2}",
                durability.name()
            ));
            if durability == Durability::Fsync {
                goals.push(Goal::new(
                    if batch_size == 100 {
                        "ingest vs raw sled, fsync, batch 100"
                    } else {
                        "ingest vs raw sled, fsync, batch 1000"
                    },
                    ">= 80% of raw sled",
                    format!(
                        "{:.0}% ({} vs {} events/s)",
                        share * 100.0,
                        rate(core_rate),
                        rate(raw_rate)
                    ),
                    share >= 0.8,
                ));
            }
        }
    }
    print_table(
        &format!(
            "Durable acknowledged ingest, events/s ({reports} reports per run, one device each)"
        ),
        &[
            "durability",
            "reports per batch",
            "riskgate-core (gRPC Ingest)",
            "raw sled (same records)",
            "core/raw",
        ],
        &rows,
    );
    for line in &ratios {
        print_line(line);
    }
    Ok(goals)
}

/// Sends `reports` reports for as many devices in batches of `batch_size`, each batch after the previous
/// acknowledgement, and returns acknowledged reports per second. Stops the core (SIGTERM) at the end.
async fn ingest_through_core(
    data_dir: &Path,
    durability: Durability,
    reports: u64,
    batch_size: u64,
) -> anyhow::Result<f64> {
    let mut core = CoreProcess::try_start(data_dir, &["--durability", durability.name()]).await?;
    register_connector(&core, CONNECTOR).await?;
    let batches: Vec<_> = (0..reports)
        .step_by(batch_size as usize)
        .enumerate()
        .map(|(index, start)| {
            let end = (start + batch_size).min(reports);
            let reports = (start..end)
                .map(|device| {
                    report(
                        &format!("ingest-device-{device:07}"),
                        Platform::Android,
                        HealthState::Secured,
                        now(),
                    )
                })
                .collect();
            batch(CONNECTOR, index as u64 + 1, b"checkpoint", reports)
        })
        .collect();
    let mut session = IngestSession::open(&mut core.ingest_client().await?, Vec::new()).await?;
    let started = Instant::now();
    for batch in batches {
        let (seq, size) = (batch.batch_seq, batch.reports.len());
        session.send(batch).await?;
        expect_ack_applied(&mut session, seq, size).await?;
    }
    let elapsed = started.elapsed();
    drop(session);
    core.terminate().await?;
    Ok(reports as f64 / elapsed.as_secs_f64())
}

/// Key-value pairs, in key order.
type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// The records one report wrote, per keyspace, and the per-commit metadata.
#[derive(Debug)]
struct Records {
    /// For each report keyspace, its entries in key order (which is ingest order for the zero-padded ids).
    per_keyspace: Vec<Entries>,
    /// The metadata every commit rewrites.
    meta: Entries,
}

/// Reads the stopped core's store and groups its records by keyspace.
fn read_back(store: &Path, reports: u64) -> anyhow::Result<Records> {
    let db = sled::open(store).with_context(|| format!("opening {}", store.display()))?;
    let mut per_keyspace: BTreeMap<u8, Entries> = BTreeMap::new();
    let mut meta = Vec::new();
    for item in db.iter() {
        let (key, value) = item?;
        let Some(&tag) = key.first() else { continue };
        if REPORT_TAGS.contains(&tag) {
            per_keyspace
                .entry(tag)
                .or_default()
                .push((key.to_vec(), value.to_vec()));
        } else if tag == META_TAG && PER_COMMIT_META.contains(&&key[1..]) {
            meta.push((key.to_vec(), value.to_vec()));
        }
    }
    let events = per_keyspace.get(&2).map_or(0, Vec::len) as u64;
    ensure!(
        events >= reports,
        "the core's store holds {events} events for {reports} reports"
    );
    Ok(Records {
        per_keyspace: per_keyspace.into_values().collect(),
        meta,
    })
}

/// Writes `records` into a fresh sled store in batches of `batch_size` reports' worth, each applied and
/// made durable like a core commit, and returns reports per second.
fn raw_sled(
    path: &Path,
    durability: Durability,
    records: &Records,
    batch_size: u64,
    reports: u64,
) -> anyhow::Result<f64> {
    // The same configuration as riskgate-core's sled adapter: no background flush.
    let db = sled::Config::new().path(path).flush_every_ms(None).open()?;
    let started = Instant::now();
    let mut first = 0usize;
    while (first as u64) < reports {
        let last = (first + batch_size as usize).min(reports as usize);
        let mut batch = sled::Batch::default();
        for keyspace in &records.per_keyspace {
            // A keyspace with fewer entries than reports (one entry per device for several reports) is
            // spread evenly.
            let scale = keyspace.len() as f64 / reports as f64;
            let from = ((first as f64) * scale) as usize;
            let to = ((last as f64) * scale) as usize;
            for (key, value) in &keyspace[from..to.min(keyspace.len())] {
                batch.insert(key.as_slice(), value.as_slice());
            }
        }
        for (key, value) in &records.meta {
            batch.insert(key.as_slice(), value.as_slice());
        }
        db.apply_batch(batch)?;
        db.flush()?;
        if durability == Durability::Fsync {
            fsync_tree(path)?;
        }
        first = last;
    }
    let elapsed = started.elapsed().max(Duration::from_nanos(1));
    Ok(reports as f64 / elapsed.as_secs_f64())
}

/// fsyncs every file under `dir` and the directories themselves, as riskgate-core's sled adapter does.
fn fsync_tree(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let file_type = entry.file_type()?;
        if file_type.is_dir() {
            fsync_tree(&entry.path())?;
        } else if file_type.is_file() {
            File::open(entry.path())?.sync_all()?;
        }
    }
    File::open(dir)?.sync_all()
}
