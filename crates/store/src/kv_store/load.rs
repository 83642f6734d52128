//! Reading a whole store back at start: the configuration objects, and every device paired with its memo.

use std::{cmp::Ordering, iter::Peekable, ops::Bound};

use riskgate_policy::{
    domain::{
        policy::{
            AppProtectionPolicy, CompliancePolicy, Connector, PolicyConfig, Resource,
            TenantSettings,
        },
        DeviceRecord,
    },
    view::ComplianceMemo,
};

use crate::{
    backend::Scan,
    codec::decode,
    commit::ConfigEntry,
    engine::{Keyspace, KvEngine, KvIter, StoreError, StoreResult},
    keys,
};

/// Every configuration object of the Config keyspace.
pub(super) fn config(engine: &dyn KvEngine) -> StoreResult<PolicyConfig> {
    let mut config = PolicyConfig::default();
    for item in engine.range(Keyspace::Config, Bound::Unbounded, Bound::Unbounded) {
        let (key, value) = item?;
        config_entry(&key, &value)?.insert_into(&mut config);
    }
    Ok(config)
}

/// Decodes one Config value by the object kind its key starts with (`keys::config`).
fn config_entry(key: &[u8], value: &[u8]) -> StoreResult<ConfigEntry> {
    let kind = key.first().copied().unwrap_or_default();
    let entry = match kind {
        keys::CONFIG_CONNECTOR => {
            ConfigEntry::Connector(decode::<Connector>(Keyspace::Config, value)?)
        }
        keys::CONFIG_COMPLIANCE_POLICY => {
            ConfigEntry::CompliancePolicy(decode::<CompliancePolicy>(Keyspace::Config, value)?)
        }
        keys::CONFIG_RESOURCE => {
            ConfigEntry::Resource(decode::<Resource>(Keyspace::Config, value)?)
        }
        keys::CONFIG_APP_PROTECTION_POLICY => {
            ConfigEntry::AppProtectionPolicy(decode::<AppProtectionPolicy>(
                Keyspace::Config,
                value,
            )?)
        }
        keys::CONFIG_TENANT_SETTINGS => {
            ConfigEntry::TenantSettings(decode::<TenantSettings>(Keyspace::Config, value)?)
        }
        _ => {
            return Err(StoreError::Corrupt {
                keyspace: Keyspace::Config,
                reason: "unknown object kind".into(),
            })
        }
    };
    Ok(entry)
}

/// Every device with its memo. Devices and memos are keyed alike (`keys::compliance`), so one ordered pass
/// over each keyspace pairs them; a point read per device would descend the tree a million times, and a
/// restarted core must serve again within seconds with a million devices.
pub(super) fn devices_with_memos(
    engine: &dyn KvEngine,
) -> Scan<'_, (DeviceRecord, Option<ComplianceMemo>)> {
    let mut memos = engine
        .range(Keyspace::Compliance, Bound::Unbounded, Bound::Unbounded)
        .peekable();
    let devices = engine.range(Keyspace::Devices, Bound::Unbounded, Bound::Unbounded);
    Box::new(devices.map(move |item| {
        let (key, value) = item?;
        let record: DeviceRecord = decode(Keyspace::Devices, &value)?;
        let memo = next_memo_for(&mut memos, &key)?;
        Ok((record, memo))
    }))
}

/// Advances the ordered memo iterator to `device_key` and takes its memo, if it has one.
fn next_memo_for(
    memos: &mut Peekable<KvIter<'_>>,
    device_key: &[u8],
) -> StoreResult<Option<ComplianceMemo>> {
    loop {
        let ordering = match memos.peek() {
            None => return Ok(None),
            Some(Ok((memo_key, _))) => memo_key.as_slice().cmp(device_key),
            Some(Err(_)) => Ordering::Less,
        };
        match ordering {
            Ordering::Greater => return Ok(None),
            Ordering::Less => {
                // A memo of no device (or a read error, which `?` returns).
                memos.next().transpose()?;
            }
            Ordering::Equal => {
                let memo = memos.next().transpose()?;
                return memo
                    .map(|(_, bytes)| decode(Keyspace::Compliance, &bytes))
                    .transpose();
            }
        }
    }
}
