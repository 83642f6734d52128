//! The key layout of each keyspace. Keys sort the way scans need them: positions big-endian, and
//! variable-length ids length-prefixed so that one id is never a prefix of another's key range.

use riskgate_policy::domain::{ConfigObject, ConnectorId, DeviceId};

/// Meta key: the store-wide format version.
pub(crate) const META_FORMAT: &[u8] = b"format";
/// Meta key: the random epoch chosen when the store was created.
pub(crate) const META_EPOCH: &[u8] = b"epoch";
/// Meta key: the position of the newest event.
pub(crate) const META_HEAD: &[u8] = b"head";
/// Meta key: the connector states as of the last evaluation.
pub(crate) const META_CONNECTOR_STATES: &[u8] = b"connector_states";
/// Meta key: the position of the oldest retained event.
pub(crate) const META_FIRST_RETAINED: &[u8] = b"first_retained";
/// Meta key: the secret that signs cursors.
pub(crate) const META_CURSOR_KEY: &[u8] = b"cursor_key";
/// Meta key: the number of devices.
pub(crate) const META_DEVICE_COUNT: &[u8] = b"device_count";

/// Events key: the position, big-endian so that keys sort by position.
pub(crate) fn event(position: u64) -> Vec<u8> {
    position.to_be_bytes().to_vec()
}

/// Reads a position key back.
pub(crate) fn position_from(key: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(key.try_into().ok()?))
}

/// Devices key: the device id.
pub(crate) fn device(device_id: &DeviceId) -> Vec<u8> {
    device_id.as_str().as_bytes().to_vec()
}

/// DeviceEvents key prefix: the device id with its length in front (ids are at most 256 bytes).
pub(crate) fn device_events_prefix(device_id: &DeviceId) -> Vec<u8> {
    let id = device_id.as_str().as_bytes();
    let mut key = Vec::with_capacity(2 + id.len() + 8);
    key.extend_from_slice(&(id.len() as u16).to_be_bytes());
    key.extend_from_slice(id);
    key
}

/// DeviceEvents key: the prefix followed by the position.
pub(crate) fn device_event(device_id: &DeviceId, position: u64) -> Vec<u8> {
    let mut key = device_events_prefix(device_id);
    key.extend_from_slice(&position.to_be_bytes());
    key
}

/// The position at the end of a DeviceEvents key.
pub(crate) fn device_event_position(key: &[u8]) -> Option<u64> {
    position_from(key.get(key.len().checked_sub(8)?..)?)
}

/// Dedup key: the connector id with its length in front, then the vendor event id.
pub(crate) fn dedup(connector_id: &ConnectorId, vendor_event_id: &str) -> Vec<u8> {
    let connector = connector_id.as_str().as_bytes();
    let mut key = Vec::with_capacity(1 + connector.len() + vendor_event_id.len());
    // Connector ids are at most 128 bytes, so the length fits one byte.
    key.push(connector.len() as u8);
    key.extend_from_slice(connector);
    key.extend_from_slice(vendor_event_id.as_bytes());
    key
}

/// Checkpoints key: the connector id.
pub(crate) fn checkpoint(connector_id: &ConnectorId) -> Vec<u8> {
    connector_id.as_str().as_bytes().to_vec()
}

/// Config key kind: a connector.
pub(crate) const CONFIG_CONNECTOR: u8 = 1;
/// Config key kind: a compliance policy.
pub(crate) const CONFIG_COMPLIANCE_POLICY: u8 = 2;
/// Config key kind: a resource.
pub(crate) const CONFIG_RESOURCE: u8 = 3;
/// Config key kind: an app-protection policy.
pub(crate) const CONFIG_APP_PROTECTION_POLICY: u8 = 4;
/// Config key kind: the tenant settings.
pub(crate) const CONFIG_TENANT_SETTINGS: u8 = 5;

/// Config key: a one-byte object kind, then the object's id.
pub(crate) fn config(object: ConfigObject, id: &str) -> Vec<u8> {
    let tag = match object {
        ConfigObject::Connector => CONFIG_CONNECTOR,
        ConfigObject::CompliancePolicy => CONFIG_COMPLIANCE_POLICY,
        ConfigObject::Resource => CONFIG_RESOURCE,
        ConfigObject::AppProtectionPolicy => CONFIG_APP_PROTECTION_POLICY,
        ConfigObject::TenantSettings => CONFIG_TENANT_SETTINGS,
    };
    let mut key = vec![tag];
    key.extend_from_slice(id.as_bytes());
    key
}

/// Compliance key: the device id.
pub(crate) fn compliance(device_id: &DeviceId) -> Vec<u8> {
    device(device_id)
}
