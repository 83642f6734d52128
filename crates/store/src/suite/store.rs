//! The [`StoreBackend`] contract: what the writer and the readers above rely on, checked part by part with
//! the fixed samples of every stored type (`samples.rs`).

use std::sync::Arc;

use riskgate_policy::domain::{
    policy::{CompliancePolicy, PolicyConfig},
    Checkpoint, ConfigObject, ConnectorId, DeviceId, DeviceRecord, Event,
};

use super::samples::{
    app_policy, checkpoint, compliance_memo, compliance_policy, connector, connector_states,
    device_id, device_record, events, lookout, resource, tenant,
};
use crate::{
    backend::StoreBackend,
    commit::{Commit, Compacted, ConfigChange, ConfigEntry, DedupEntry},
};

/// Where the suite gets its stores.
pub trait SuiteStores {
    /// Opens the store called `name`, creating it empty on first use. Opening a name again once every
    /// handle to it is dropped must reopen the same stored data (an in-memory store may hand back the same
    /// store).
    fn open(&self, name: &str) -> Arc<dyn StoreBackend>;
}

/// Every behaviour of a [`StoreBackend`] the risk store relies on. Each check opens a store of its own name.
pub fn store_suite(stores: &dyn SuiteStores) {
    a_new_store_has_fresh_metadata_that_reopening_keeps(stores);
    a_commit_reads_back_part_by_part(stores);
    a_flushed_commit_survives_reopening(stores);
    later_commits_replace_and_delete(stores);
    compaction_removes_events_their_index_and_released_dedup(stores);
    ids_that_prefix_each_other_stay_apart(stores);
}

fn a_new_store_has_fresh_metadata_that_reopening_keeps(stores: &dyn SuiteStores) {
    let store = stores.open("fresh");
    let meta = store.open().unwrap();
    assert_eq!(
        (meta.head, meta.device_count, meta.first_retained),
        (0, 0, 1)
    );
    assert_eq!(store.open().unwrap(), meta, "opening again keeps the epoch");
    assert_eq!(store.config().unwrap(), PolicyConfig::default());
    assert!(store.events(1, u64::MAX).next().is_none());
    assert!(store.devices_after(None).next().is_none());
    drop(store);
    let reopened = stores.open("fresh");
    assert_eq!(reopened.open().unwrap(), meta, "the metadata is durable");
    let other = stores.open("fresh-other");
    assert_ne!(
        other.open().unwrap().epoch,
        meta.epoch,
        "each store has its own epoch"
    );
}

fn a_commit_reads_back_part_by_part(stores: &dyn SuiteStores) {
    let store = stores.open("commit");
    let created = store.open().unwrap();
    store.apply(&full_commit()).unwrap();
    store.flush().unwrap();
    assert_full_commit_reads_back(store.as_ref());
    let meta = store.open().unwrap();
    assert_eq!(
        (meta.epoch, meta.cursor_key),
        (created.epoch, created.cursor_key)
    );
    assert_eq!(
        (meta.head, meta.device_count, meta.first_retained),
        (7, 2, 1)
    );
}

fn a_flushed_commit_survives_reopening(stores: &dyn SuiteStores) {
    let store = stores.open("reopen");
    let created = store.open().unwrap();
    store.apply(&full_commit()).unwrap();
    store.flush().unwrap();
    drop(store);
    let reopened = stores.open("reopen");
    let meta = reopened.open().unwrap();
    assert_eq!((meta.epoch, meta.head), (created.epoch, 7));
    assert_full_commit_reads_back(reopened.as_ref());
}

fn later_commits_replace_and_delete(stores: &dyn SuiteStores) {
    let store = stores.open("replace");
    store.open().unwrap();
    store.apply(&full_commit()).unwrap();
    let mut moved = device_record();
    moved.position = 8;
    let stricter = CompliancePolicy {
        version: 3,
        ..compliance_policy()
    };
    let mut memo = compliance_memo();
    memo.episodes.clear();
    let later_checkpoint = Checkpoint {
        batch_seq: 10,
        ..checkpoint()
    };
    store
        .apply(&Commit {
            events: vec![event_about(8, Some(device_id()))],
            devices: vec![moved.clone()],
            memos: vec![(device_id(), memo.clone())],
            checkpoints: vec![(lookout(), later_checkpoint.clone())],
            config: vec![
                ConfigChange::put(ConfigEntry::CompliancePolicy(stricter.clone())),
                ConfigChange::Delete {
                    object: ConfigObject::Resource,
                    id: resource().name,
                },
            ],
            head: 8,
            device_count: 2,
            ..Commit::default()
        })
        .unwrap();
    store.flush().unwrap();
    assert_eq!(store.device(&device_id()).unwrap(), Some(moved));
    assert_eq!(
        store.checkpoint(&lookout()).unwrap(),
        Some(later_checkpoint)
    );
    let config = store.config().unwrap();
    assert_eq!(config.policies[&stricter.policy_id], stricter);
    assert!(config.resources.is_empty(), "the resource is deleted");
    assert_eq!(config.connectors.len(), 1, "untouched objects stay");
    let paired: Vec<_> = store.devices_with_memos().map(Result::unwrap).collect();
    assert_eq!(paired[0].1, Some(memo));
    let positions = positions(store.device_events(&device_id(), 1, 8));
    assert_eq!(positions, vec![1, 2, 3, 4, 5, 8]);
    assert_eq!(store.open().unwrap().head, 8);
}

fn compaction_removes_events_their_index_and_released_dedup(stores: &dyn SuiteStores) {
    let store = stores.open("compaction");
    store.open().unwrap();
    store.apply(&full_commit()).unwrap();
    store
        .apply(&Commit {
            compaction: Some(Compacted {
                events: vec![(1, Some(device_id())), (2, Some(device_id()))],
                released_dedup: vec![(lookout(), "e-1".into())],
                first_retained: 3,
            }),
            head: 7,
            device_count: 2,
            ..Commit::default()
        })
        .unwrap();
    store.flush().unwrap();
    assert_eq!(positions(store.events(1, 7)), vec![3, 4, 5, 6, 7]);
    assert_eq!(
        positions(store.device_events(&device_id(), 1, 7)),
        vec![3, 4, 5]
    );
    assert_eq!(store.dedup_position(&lookout(), "e-1").unwrap(), None);
    assert_eq!(store.open().unwrap().first_retained, 3);
    assert!(
        store.device(&device_id()).unwrap().is_some(),
        "devices outlive their events"
    );
}

fn ids_that_prefix_each_other_stay_apart(stores: &dyn SuiteStores) {
    let store = stores.open("prefixes");
    store.open().unwrap();
    let (short, long) = (
        DeviceId::parse("d").unwrap(),
        DeviceId::parse("d1").unwrap(),
    );
    let (a, ab) = (
        ConnectorId::parse("a").unwrap(),
        ConnectorId::parse("ab").unwrap(),
    );
    let record = |device_id: &DeviceId| DeviceRecord {
        device_id: device_id.clone(),
        ..device_record()
    };
    let dedup = |connector_id: &ConnectorId, vendor_event_id: &str, position| DedupEntry {
        connector_id: connector_id.clone(),
        vendor_event_id: vendor_event_id.into(),
        position,
    };
    store
        .apply(&Commit {
            events: vec![
                event_about(1, Some(short.clone())),
                event_about(2, Some(long.clone())),
            ],
            devices: vec![record(&long), record(&short)],
            dedup: vec![dedup(&a, "bx", 1), dedup(&ab, "x", 2)],
            head: 2,
            device_count: 2,
            ..Commit::default()
        })
        .unwrap();
    assert_eq!(positions(store.device_events(&short, 1, 2)), vec![1]);
    assert_eq!(positions(store.device_events(&long, 1, 2)), vec![2]);
    let after_short: Vec<DeviceId> = store
        .devices_after(Some(&short))
        .map(|device| device.unwrap().device_id)
        .collect();
    assert_eq!(after_short, vec![long]);
    assert_eq!(store.dedup_position(&a, "bx").unwrap(), Some(1));
    assert_eq!(store.dedup_position(&ab, "x").unwrap(), Some(2));
    assert_eq!(store.dedup_position(&a, "b").unwrap(), None);
}

/// A commit with one sample of every part: seven events (five about `device-1`), two devices, a memo, a
/// dedup entry, a checkpoint, every kind of configuration object and the connector states.
fn full_commit() -> Commit {
    Commit {
        events: events().into_iter().map(|(_, event)| event).collect(),
        devices: vec![device_record(), second_device()],
        memos: vec![(device_id(), compliance_memo())],
        dedup: vec![DedupEntry {
            connector_id: lookout(),
            vendor_event_id: "e-1".into(),
            position: 1,
        }],
        checkpoints: vec![(lookout(), checkpoint())],
        config: vec![
            ConfigChange::put(ConfigEntry::Connector(connector())),
            ConfigChange::put(ConfigEntry::CompliancePolicy(compliance_policy())),
            ConfigChange::put(ConfigEntry::Resource(resource())),
            ConfigChange::put(ConfigEntry::AppProtectionPolicy(app_policy())),
            ConfigChange::put(ConfigEntry::TenantSettings(tenant())),
        ],
        connector_states: Some(connector_states()),
        compaction: None,
        head: 7,
        device_count: 2,
    }
}

fn second_device() -> DeviceRecord {
    DeviceRecord {
        device_id: DeviceId::parse("device-2").unwrap(),
        ..device_record()
    }
}

fn assert_full_commit_reads_back(store: &dyn StoreBackend) {
    let all: Vec<Event> = events().into_iter().map(|(_, event)| event).collect();
    let read =
        |from, through| -> Vec<Event> { store.events(from, through).map(Result::unwrap).collect() };
    assert_eq!(read(1, 7), all, "the log in position order");
    assert_eq!(read(3, 4), all[2..4].to_vec(), "a range of the log");
    assert!(read(8, 100).is_empty(), "nothing past the head");
    let about_device: Vec<Event> = store
        .device_events(&device_id(), 1, 7)
        .map(Result::unwrap)
        .collect();
    assert_eq!(about_device, all[..5].to_vec(), "the device's own events");
    assert_eq!(
        positions(store.device_events(&device_id(), 2, 3)),
        vec![2, 3]
    );

    assert_eq!(store.device(&device_id()).unwrap(), Some(device_record()));
    let missing = DeviceId::parse("missing").unwrap();
    assert_eq!(store.device(&missing).unwrap(), None);
    let listed: Vec<DeviceRecord> = store.devices_after(None).map(Result::unwrap).collect();
    assert_eq!(listed, vec![device_record(), second_device()], "id order");
    let after_first: Vec<DeviceRecord> = store
        .devices_after(Some(&device_id()))
        .map(Result::unwrap)
        .collect();
    assert_eq!(after_first, vec![second_device()]);
    let paired: Vec<_> = store.devices_with_memos().map(Result::unwrap).collect();
    assert_eq!(
        paired,
        vec![
            (device_record(), Some(compliance_memo())),
            (second_device(), None)
        ]
    );

    assert_eq!(store.dedup_position(&lookout(), "e-1").unwrap(), Some(1));
    assert_eq!(store.dedup_position(&lookout(), "e-2").unwrap(), None);
    assert_eq!(store.checkpoint(&lookout()).unwrap(), Some(checkpoint()));
    let other = ConnectorId::parse("other").unwrap();
    assert_eq!(store.checkpoint(&other).unwrap(), None);
    assert_eq!(store.dedup_position(&other, "e-1").unwrap(), None);

    let mut config = PolicyConfig::default();
    for change in full_commit().config {
        if let ConfigChange::Put(entry) = change {
            (*entry).insert_into(&mut config);
        }
    }
    assert_eq!(store.config().unwrap(), config);
    assert_eq!(store.connector_states().unwrap(), connector_states());
}

/// An event at `position`, about `device_id`.
fn event_about(position: u64, device_id: Option<DeviceId>) -> Event {
    Event {
        position,
        device_id,
        ..events()[0].1.clone()
    }
}

fn positions(scan: crate::backend::Scan<'_, Event>) -> Vec<u64> {
    scan.map(|event| event.unwrap().position).collect()
}
