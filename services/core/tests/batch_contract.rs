//! One batch contract: what the plugin SDK's `validate::batch` accepts is exactly what the core's
//! Ingest parse (`ingest_contract::parse_report_batch`) accepts, and a refused batch is refused with the same
//! field path and reason. Batches are generated around every limit (counts, byte lengths, enum
//! ranges, timestamps at the epoch and at now plus the allowed skew) and with bad fields.

// test code
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, UNIX_EPOCH};

use proptest::prelude::*;
use riskgate_core::{ingest_contract::parse_report_batch, CoreError};
use riskgate_policy::{domain::Timestamp, error::DomainError};
use riskgate_proto::v1::{DeviceReport, PluginBatch, ReportBatch, Threat};
use riskgate_sdk::validate::{self, Limits};

const NANOS: i64 = 1_000_000_000;
const SKEW: Duration = Duration::from_secs(300);

/// A timestamp field, placed relative to the `now` of the case it is checked in.
#[derive(Debug, Clone)]
enum Time {
    Missing,
    /// Raw seconds and nanos, around the epoch, out of range or beyond `i64` nanoseconds.
    Raw(i64, i32),
    /// This many nanoseconds after now plus the allowed skew (the latest accepted instant).
    FromLatest(i64),
}

impl Time {
    fn at(&self, now: i64) -> Option<prost_types::Timestamp> {
        match *self {
            Time::Missing => None,
            Time::Raw(seconds, nanos) => Some(prost_types::Timestamp { seconds, nanos }),
            Time::FromLatest(delta) => {
                let at = now + i64::try_from(SKEW.as_nanos()).unwrap() + delta;
                Some(prost_types::Timestamp {
                    seconds: at.div_euclid(NANOS),
                    nanos: i32::try_from(at.rem_euclid(NANOS)).unwrap(),
                })
            }
        }
    }
}

fn time() -> impl Strategy<Value = Time> {
    prop_oneof![
        12 => (-400 * NANOS..=-NANOS).prop_map(Time::FromLatest),
        2 => (-2i64..=2).prop_map(Time::FromLatest),
        1 => Just(Time::Missing),
        1 => (-2i64..=2, -1i32..=1).prop_map(|(s, n)| Time::Raw(s, n)),
        1 => Just(Time::Raw(1_700_000_000, 1_000_000_000)),
        1 => prop_oneof![Just(i64::MAX), Just(i64::MIN), Just(i64::MAX / NANOS + 1)]
            .prop_map(|s| Time::Raw(s, 0)),
    ]
}

/// Text around a byte limit: empty, short, at the limit, one byte over, multi-byte characters
/// over it, control characters.
fn text(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        12 => "[a-z0-9-]{1,12}",
        1 => Just(String::new()),
        1 => Just("x".repeat(max)),
        1 => Just("x".repeat(max + 1)),
        1 => Just("é".repeat(max / 2 + 1)),
        1 => Just("bad\u{7}bell".to_owned()),
        1 => Just("tab\tnewline\n".to_owned()),
    ]
}

/// An enum field: mostly a known value, sometimes UNSPECIFIED or unknown.
fn enumeration() -> impl Strategy<Value = i32> {
    prop_oneof![12 => 1i32..=3, 1 => -1i32..=12, 1 => any::<i32>()]
}

/// A list of `item`s, sometimes padded with `filler` to around `max` entries.
fn list<T: Clone + std::fmt::Debug>(
    item: impl Strategy<Value = T>,
    filler: T,
    max: usize,
) -> impl Strategy<Value = Vec<T>> {
    let pad = prop_oneof![8 => Just(0usize), 1 => (max - 2)..=(max + 1)];
    (prop::collection::vec(item, 0..3), pad).prop_map(move |(mut items, pad)| {
        items.resize(items.len().max(pad), filler.clone());
        items
    })
}

#[derive(Debug, Clone)]
struct ThreatCase {
    threat: Threat,
    detected_at: Time,
    resolved_at: Option<Time>,
}

fn threat() -> impl Strategy<Value = ThreatCase> {
    let fields = (
        text(256),
        enumeration(),
        text(256),
        enumeration(),
        enumeration(),
    );
    let times = (time(), prop::option::weighted(0.3, time()), text(4096));
    (fields, times).prop_map(
        |((id, category, class, severity, status), (d, r, desc))| ThreatCase {
            threat: Threat {
                vendor_threat_id: id,
                category,
                classification: class,
                severity,
                status,
                description: desc,
                ..Threat::default()
            },
            detected_at: d,
            resolved_at: r,
        },
    )
}

#[derive(Debug, Clone)]
struct ReportCase {
    report: DeviceReport,
    observed_at: Time,
    threats: Vec<ThreatCase>,
}

fn report() -> impl Strategy<Value = ReportCase> {
    let device = (text(256), enumeration(), text(64), text(256), text(256));
    let rest = (enumeration(), text(256), time());
    let lists = (
        list(text(256), "g".to_owned(), 64),
        list(threat(), valid_threat(), 256),
    );
    (device, rest, lists).prop_map(
        |((id, platform, os, model, owner), (health, event, observed_at), (groups, threats))| {
            ReportCase {
                report: DeviceReport {
                    device_id: id,
                    platform,
                    os_version: os,
                    model,
                    owner_user_id: owner,
                    groups,
                    health_state: health,
                    vendor_event_id: event,
                    ..DeviceReport::default()
                },
                observed_at,
                threats,
            }
        },
    )
}

fn valid_threat() -> ThreatCase {
    ThreatCase {
        threat: Threat {
            vendor_threat_id: "t".to_owned(),
            category: 1,
            severity: 1,
            status: 1,
            ..Threat::default()
        },
        detected_at: Time::FromLatest(-3600 * NANOS),
        resolved_at: None,
    }
}

impl ReportCase {
    fn at(&self, now: i64) -> DeviceReport {
        let threats = self.threats.iter().map(|case| Threat {
            detected_at: case.detected_at.at(now),
            resolved_at: case.resolved_at.as_ref().and_then(|time| time.at(now)),
            ..case.threat.clone()
        });
        DeviceReport {
            observed_at: self.observed_at.at(now),
            threats: threats.collect(),
            ..self.report.clone()
        }
    }
}

#[derive(Debug, Clone)]
struct BatchCase {
    now: i64,
    seq: u64,
    checkpoint_len: usize,
    max_batch_reports: usize,
    reports: Vec<ReportCase>,
}

fn batch() -> impl Strategy<Value = BatchCase> {
    let now = prop_oneof![
        1_600_000_000 * NANOS..1_900_000_000 * NANOS,
        Just(1_700_000_000 * NANOS)
    ];
    let seq = prop_oneof![12 => 1u64..5, 1 => Just(0u64)];
    let checkpoint = prop_oneof![8 => 0usize..16, 1 => (64 * 1024 - 1usize)..=(64 * 1024 + 1)];
    let reports = prop::collection::vec(report(), 0..4);
    (now, seq, checkpoint, 1usize..=3, reports).prop_map(
        |(now, seq, checkpoint_len, max, reports)| BatchCase {
            now,
            seq,
            checkpoint_len,
            max_batch_reports: max,
            reports,
        },
    )
}

/// What the SDK says of the case, and what the core's Ingest parse says.
fn verdicts(
    case: &BatchCase,
) -> (
    Result<(), validate::ValidationError>,
    Result<(), (String, String)>,
) {
    let limits = Limits {
        max_batch_reports: case.max_batch_reports,
        max_clock_skew: SKEW,
    };
    let reports: Vec<DeviceReport> = case.reports.iter().map(|r| r.at(case.now)).collect();
    let checkpoint = vec![7u8; case.checkpoint_len];
    let plugin_batch = PluginBatch {
        batch_id: case.seq,
        checkpoint: checkpoint.clone(),
        reports: reports.clone(),
    };
    let now = UNIX_EPOCH + Duration::from_nanos(u64::try_from(case.now).unwrap());
    let sdk = validate::batch(&plugin_batch, &limits, now);
    let ingest = ReportBatch {
        connector_id: "contract".to_owned(),
        batch_seq: case.seq,
        checkpoint,
        reports,
    };
    let core = match parse_report_batch(ingest, &limits, Timestamp(case.now)) {
        Ok(_) => Ok(()),
        Err(CoreError::Domain(DomainError::InvalidArgument { field, reason })) => {
            Err((field, reason))
        }
        Err(other) => panic!("the ingest parse failed with a non-argument error: {other}"),
    };
    (sdk, core)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_sdk_accepts_exactly_what_the_core_accepts_and_refuses_alike(case in batch()) {
        match verdicts(&case) {
            (Ok(()), Ok(())) => {}
            // The batch number is the one field the two name differently: batch_id, batch_seq.
            (Err(sdk), Err(core)) if case.seq == 0 => {
                prop_assert_eq!((sdk.field.as_str(), core.0.as_str()), ("batch_id", "batch_seq"));
            }
            (Err(sdk), Err(core)) => prop_assert_eq!((sdk.field, sdk.reason), core),
            (sdk, core) => prop_assert!(false, "the SDK says {sdk:?}, the core {core:?}"),
        }
    }
}

#[test]
fn the_generated_batches_include_accepted_and_refused_ones() {
    use proptest::strategy::ValueTree as _;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut accepted, mut refused) = (0, 0);
    for _ in 0..500 {
        let case = batch().new_tree(&mut runner).unwrap().current();
        match verdicts(&case).1 {
            Ok(()) => accepted += 1,
            Err(_) => refused += 1,
        }
    }
    assert!(
        accepted >= 25 && refused >= 25,
        "{accepted} accepted, {refused} refused"
    );
}
