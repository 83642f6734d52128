//! A [`Commit`] as one atomic write batch over the key layout of `keys.rs`.

use crate::{
    codec::encode,
    commit::{Commit, Compacted, ConfigChange, ConfigEntry},
    engine::{Keyspace, WriteBatch},
    keys,
};

/// The writes of `commit`. Compaction's deletions come first; they never name a key the rest writes
/// (removed positions are below every new one, and a released dedup entry was not re-applied, since the
/// writer saw it still stored and counted its event as a duplicate).
pub(super) fn batch(commit: &Commit) -> WriteBatch {
    let mut batch = WriteBatch::default();
    if let Some(compacted) = &commit.compaction {
        remove_compacted(&mut batch, compacted);
    }
    for event in &commit.events {
        batch.put(Keyspace::Events, keys::event(event.position), encode(event));
        if let Some(device_id) = &event.device_id {
            batch.put(
                Keyspace::DeviceEvents,
                keys::device_event(device_id, event.position),
                Vec::new(),
            );
        }
    }
    for device in &commit.devices {
        batch.put(
            Keyspace::Devices,
            keys::device(&device.device_id),
            encode(device),
        );
    }
    for (device_id, memo) in &commit.memos {
        batch.put(
            Keyspace::Compliance,
            keys::compliance(device_id),
            encode(memo),
        );
    }
    for entry in &commit.dedup {
        let key = keys::dedup(&entry.connector_id, &entry.vendor_event_id);
        batch.put(Keyspace::Dedup, key, encode(&entry.position));
    }
    for (connector_id, checkpoint) in &commit.checkpoints {
        batch.put(
            Keyspace::Checkpoints,
            keys::checkpoint(connector_id),
            encode(checkpoint),
        );
    }
    for change in &commit.config {
        put_config(&mut batch, change);
    }
    put_meta(&mut batch, commit);
    batch
}

fn remove_compacted(batch: &mut WriteBatch, compacted: &Compacted) {
    for (position, device_id) in &compacted.events {
        batch.delete(Keyspace::Events, keys::event(*position));
        if let Some(device_id) = device_id {
            batch.delete(
                Keyspace::DeviceEvents,
                keys::device_event(device_id, *position),
            );
        }
    }
    for (connector_id, vendor_event_id) in &compacted.released_dedup {
        batch.delete(Keyspace::Dedup, keys::dedup(connector_id, vendor_event_id));
    }
}

fn put_config(batch: &mut WriteBatch, change: &ConfigChange) {
    match change {
        ConfigChange::Put(entry) => {
            let (object, id) = entry.key();
            let value = match entry.as_ref() {
                ConfigEntry::Connector(connector) => encode(connector),
                ConfigEntry::CompliancePolicy(policy) => encode(policy),
                ConfigEntry::Resource(resource) => encode(resource),
                ConfigEntry::AppProtectionPolicy(policy) => encode(policy),
                ConfigEntry::TenantSettings(tenant) => encode(tenant),
            };
            batch.put(Keyspace::Config, keys::config(object, &id), value);
        }
        ConfigChange::Delete { object, id } => {
            batch.delete(Keyspace::Config, keys::config(*object, id));
        }
    }
}

/// The head, device count, oldest retained position and connector states the commit moved.
fn put_meta(batch: &mut WriteBatch, commit: &Commit) {
    let mut put = |key: &[u8], value: Vec<u8>| batch.put(Keyspace::Meta, key.to_vec(), value);
    if let Some(states) = &commit.connector_states {
        put(keys::META_CONNECTOR_STATES, encode(states));
    }
    if let Some(compacted) = &commit.compaction {
        put(keys::META_FIRST_RETAINED, encode(&compacted.first_retained));
    }
    put(keys::META_HEAD, encode(&commit.head));
    put(keys::META_DEVICE_COUNT, encode(&commit.device_count));
}
