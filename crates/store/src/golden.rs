//! Golden-bytes tests: one fixed sample of every value type the store persists, and the exact bytes each
//! format version wrote for it (`golden/v<N>/<name>.hex`).
//!
//! - The current version's files pin the encoding: a change to a stored type that changes its bytes fails
//!   here, so it cannot ship without a format-version bump and a migration in `codec.rs`.
//! - Older versions' files are the bytes earlier releases wrote. They must still decode, through the
//!   migration, to the same sample, so a store written by an earlier release stays readable.
//!
//! After a deliberate format change, write the new version's files with `RISKGATE_BLESS_GOLDEN=1 cargo test
//! -p riskgate-core golden` and commit them next to the old ones; never rewrite an older version's files.

use std::{fmt::Debug, ops::Bound, path::PathBuf, sync::Arc, time::Duration};

use serde::{de::DeserializeOwned, Serialize};

use super::{
    codec::{self, Stored, FORMAT_VERSION},
    engine::{Keyspace, KvEngine, WriteBatch},
    MemoryEngine, RiskStore, WriterConfig,
};
use crate::{observer::NoObserver, suite::samples::*, KvStore};
use riskgate_policy::{
    admin::AdminCommand,
    domain::{
        policy::{
            AccessRule, Assignment, CompliancePolicy, FeedHealth, FeedState, MissingDataMode,
            Resource, TenantSettings, UnknownDeviceAccess,
        },
        DeviceId, DeviceReport, EventKind, HealthState, ManualClock, ReportBatch, ThreatLevel,
        Timestamp,
    },
};

const BLESS: &str = "RISKGATE_BLESS_GOLDEN";

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn from_hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16).expect("hex digits"))
        .collect()
}

fn dir(version: u8) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("src/golden")
        .join(format!("v{version}"))
}

/// Checks one sample against every version's file: the current version's bytes exactly, older versions'
/// bytes through the migration.
fn check<T: Stored + Serialize + DeserializeOwned + PartialEq + Debug>(name: &str, sample: T) {
    let current = dir(FORMAT_VERSION).join(format!("{name}.hex"));
    let encoded = to_hex(&codec::encode(&sample));
    if std::env::var_os(BLESS).is_some() {
        std::fs::create_dir_all(current.parent().unwrap()).unwrap();
        std::fs::write(&current, format!("{encoded}\n")).unwrap();
    }
    let pinned = std::fs::read_to_string(&current).unwrap_or_else(|err| {
        panic!(
            "{}: {err}; run with {BLESS}=1 to write it",
            current.display()
        )
    });
    assert_eq!(
        pinned.trim(),
        encoded,
        "{name}: the encoding changed; bump the format version and migrate (store/codec.rs)"
    );
    for version in 1..=FORMAT_VERSION {
        let file = dir(version).join(format!("{name}.hex"));
        let Ok(old) = std::fs::read_to_string(&file) else {
            continue;
        };
        let bytes = from_hex(old.trim());
        assert_eq!(bytes[0], version, "{}", file.display());
        let decoded: T = codec::decode(Keyspace::Meta, &bytes)
            .unwrap_or_else(|err| panic!("{}: {err}", file.display()));
        assert_eq!(
            decoded, sample,
            "{name}: version {version} does not migrate to the sample"
        );
    }
}

#[test]
fn every_persisted_value_type_has_pinned_bytes() {
    check("device_record", device_record());
    check("checkpoint", checkpoint());
    check("connector", connector());
    check("compliance_policy", compliance_policy());
    check("resource", resource());
    check("app_protection_policy", app_policy());
    check("tenant_settings", tenant());
    check("connector_states", connector_states());
    check("compliance_memo", compliance_memo());
    for (name, event) in events() {
        check(name, event);
    }
    // Values only this format can hold: each new field away from its migration default.
    let mut record = device_record();
    let report = record.reports.get_mut(&lookout()).unwrap();
    report.health_state = HealthState::Misconfigured;
    report.known_risk = Some(known_risk());
    check("v2_device_record_with_known_risk", record);
    let mut intune = connector();
    intune.settings.missing_data = MissingDataMode::Intune;
    check("v2_connector_intune_missing_data", intune);
    let mut disconnected = connector();
    disconnected.feed = FeedHealth {
        state: FeedState::Disconnected,
        reason: "HTTP 503 from the vendor".into(),
        since: Some(at(1_700_000_040)),
        last_vendor_sync: Some(at(1_700_000_030)),
    };
    check("v2_connector_with_feed_health", disconnected);
    check(
        "v2_resource_allowing_unknown_devices",
        Resource {
            unknown_device: UnknownDeviceAccess::Allow,
            ..resource()
        },
    );
    check(
        "v2_tenant_settings_with_enrollment_grace",
        TenantSettings {
            enrollment_grace: Duration::from_secs(86_400),
            ..tenant()
        },
    );
    check(
        "v2_event_known_risk_cleared",
        event(
            8,
            EventKind::KnownRiskCleared {
                connector_id: lookout(),
                risk: known_risk(),
            },
        ),
    );
    check("meta_u64", 1_234_567u64);
    check("meta_epoch", 0x0123_4567_89ab_cdef_0011_2233_4455_6677u128);
    check("meta_cursor_key", [7u8; 32]);
}

const KEYSPACES: [Keyspace; 8] = [
    Keyspace::Meta,
    Keyspace::Events,
    Keyspace::Devices,
    Keyspace::DeviceEvents,
    Keyspace::Dedup,
    Keyspace::Checkpoints,
    Keyspace::Config,
    Keyspace::Compliance,
];

/// The instant the fixture store was written at; reading it back at the same instant keeps every
/// time-driven rule (unresponsiveness, validity period) where it was.
fn fixture_time() -> Timestamp {
    at(1_700_000_000)
}

async fn open_at(engine: Arc<dyn KvEngine>) -> RiskStore {
    RiskStore::open(
        Arc::new(KvStore::new(engine)),
        Arc::new(ManualClock::new(fixture_time())),
        Arc::new(NoObserver),
        WriterConfig::default(),
    )
    .await
    .unwrap()
}

/// A small fleet through the public store API: a connector, a policy, a resource, an app-protection
/// policy, one HIGH and one SECURED device.
async fn write_fixture_fleet(store: &RiskStore) {
    let mut lookout_connector = connector();
    lookout_connector.error_message.clear();
    for command in [
        AdminCommand::CreateConnector(lookout(), lookout_connector.settings),
        AdminCommand::Heartbeat {
            connector_id: lookout(),
            error_message: String::new(),
            feed: None,
        },
        AdminCommand::CreatePolicy(CompliancePolicy {
            grace_period: Duration::ZERO,
            actions: Vec::new(),
            assignment: Assignment {
                all_devices: true,
                ..Assignment::default()
            },
            ..compliance_policy()
        }),
        AdminCommand::PutResource(Resource {
            rules: vec![AccessRule {
                platforms: Vec::new(),
                require_compliant_device: true,
                max_threat_level: None,
            }],
            ..resource()
        }),
        AdminCommand::PutAppPolicy(app_policy()),
    ] {
        store.admin(command).await.unwrap();
    }
    let record = device_record();
    let report = |device: &str, health_state, event: &str| DeviceReport {
        device_id: DeviceId::parse(device).unwrap(),
        info: record.info.clone(),
        health_state,
        threats: vec![threat()],
        observed_at: at(1_699_999_990),
        vendor_event_id: event.into(),
    };
    store
        .submit(ReportBatch {
            connector_id: lookout(),
            batch_seq: 1,
            checkpoint: b"oid=2".to_vec(),
            reports: vec![
                report("high", HealthState::HighSeverity, "e-1"),
                report("secured", HealthState::Secured, "e-2"),
            ],
        })
        .await
        .unwrap();
}

/// Every key and value of every keyspace, one `tag key value` line each, in hex.
fn dump(engine: &dyn KvEngine) -> String {
    let mut lines = String::new();
    for keyspace in KEYSPACES {
        for entry in engine.range(keyspace, Bound::Unbounded, Bound::Unbounded) {
            let (key, value) = entry.unwrap();
            lines += &format!("{} {} {}\n", keyspace.tag(), to_hex(&key), to_hex(&value));
        }
    }
    lines
}

fn load(dump: &str) -> Arc<dyn KvEngine> {
    let engine = MemoryEngine::new();
    let mut batch = WriteBatch::default();
    for line in dump.lines() {
        let mut fields = line.split(' ');
        let tag: u8 = fields.next().unwrap().parse().unwrap();
        let keyspace = KEYSPACES
            .into_iter()
            .find(|keyspace| keyspace.tag() == tag)
            .unwrap();
        let key = from_hex(fields.next().unwrap());
        let value = from_hex(fields.next().unwrap_or(""));
        batch.put(keyspace, key, value);
    }
    engine.apply(batch).unwrap();
    Arc::new(engine)
}

/// The fixture store each format version wrote (`golden/v<N>/store.dump`) opens under this build, and
/// its devices, configuration and decisions read back.
#[tokio::test]
async fn stores_written_by_every_format_version_open_and_read() {
    if std::env::var_os(BLESS).is_some() {
        let engine: Arc<dyn KvEngine> = Arc::new(MemoryEngine::new());
        let store = open_at(engine.clone()).await;
        write_fixture_fleet(&store).await;
        store.shutdown().await.unwrap();
        std::fs::write(dir(FORMAT_VERSION).join("store.dump"), dump(&*engine)).unwrap();
    }
    let mut versions_read = 0;
    for version in 1..=FORMAT_VERSION {
        let Ok(fixture) = std::fs::read_to_string(dir(version).join("store.dump")) else {
            continue;
        };
        let store = open_at(load(&fixture)).await;
        store.tick(true).await.unwrap();
        let high = DeviceId::parse("high").unwrap();
        let record = store.device(&high).unwrap().expect("the HIGH device");
        assert_eq!(record.level(), Some(ThreatLevel::High), "version {version}");
        assert_eq!(record.reports[&lookout()].threats, vec![threat()]);
        let checkpoint = store.checkpoint(&lookout()).unwrap().unwrap();
        assert_eq!(checkpoint.cursor, b"oid=2");
        {
            let view = store.view();
            assert!(view.config.resources["exchange"].rules[0].require_compliant_device);
            assert!(view.config.connectors.contains_key(&lookout()));
            assert_eq!(
                view.devices[&high].access.get("exchange"),
                Some(false),
                "version {version}"
            );
            let secured = DeviceId::parse("secured").unwrap();
            assert_eq!(
                view.devices[&secured].access.get("exchange"),
                Some(true),
                "version {version}"
            );
        }
        let history = store.device_history(&high, 0, 100).unwrap();
        assert!(history.len() >= 2, "version {version}: {history:?}");
        store.shutdown().await.unwrap();
        versions_read += 1;
    }
    assert!(versions_read >= 1, "no fixture store; run with {BLESS}=1");
}
