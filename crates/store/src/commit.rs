//! What one commit group writes, in domain terms: the unit a [`StoreBackend`](crate::StoreBackend) applies
//! atomically.

use riskgate_policy::{
    admin::Changed,
    domain::{
        policy::{
            AppProtectionPolicy, CompliancePolicy, Connector, PolicyConfig, Resource,
            TenantSettings,
        },
        Checkpoint, ConfigObject, ConnectorId, DeviceId, DeviceRecord, Event,
    },
    evaluate::ConnectorStates,
    view::ComplianceMemo,
};

/// Everything one commit group changes. The writer thread fills it; a backend stores all of it or none.
#[derive(Debug, Clone, Default)]
pub struct Commit {
    /// New events, with contiguous positions following the previous head, in position order.
    pub events: Vec<Event>,
    /// The new state of every device the group changed (one entry per device).
    pub devices: Vec<DeviceRecord>,
    /// Compliance memos that changed (one entry per device).
    pub memos: Vec<(DeviceId, ComplianceMemo)>,
    /// Vendor events applied, each with the position of the event that applied it.
    pub dedup: Vec<DedupEntry>,
    /// Checkpoints acknowledged with this group (one entry per connector).
    pub checkpoints: Vec<(ConnectorId, Checkpoint)>,
    /// Configuration objects written or deleted, in order: a later change to the same object wins.
    pub config: Vec<ConfigChange>,
    /// The connector states after the group, when they changed.
    pub connector_states: Option<ConnectorStates>,
    /// Events compaction removed, with the dedup entries they owned.
    pub compaction: Option<Compacted>,
    /// Position of the newest event after the group.
    pub head: u64,
    /// Devices known after the group.
    pub device_count: u64,
}

impl Commit {
    /// Whether the group changed nothing that is stored (a tick that changed no decision).
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
            && self.devices.is_empty()
            && self.memos.is_empty()
            && self.dedup.is_empty()
            && self.checkpoints.is_empty()
            && self.config.is_empty()
            && self.connector_states.is_none()
            && self.compaction.is_none()
    }
}

/// One vendor event id a connector's report applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DedupEntry {
    /// The connector that sent it.
    pub connector_id: ConnectorId,
    /// The vendor's id of the event.
    pub vendor_event_id: String,
    /// The position of the event that applied it (for a refresh without an event, the device's position).
    pub position: u64,
}

/// What one compaction chunk removed from the front of the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Compacted {
    /// The removed events: position, and the device each was about.
    pub events: Vec<(u64, Option<DeviceId>)>,
    /// Dedup entries whose applying event was removed: connector and vendor event id.
    pub released_dedup: Vec<(ConnectorId, String)>,
    /// The oldest position still in the log after it.
    pub first_retained: u64,
}

/// A configuration object written or deleted.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigChange {
    /// Create or replace the object.
    Put(Box<ConfigEntry>),
    /// Delete the object.
    Delete {
        /// Its kind.
        object: ConfigObject,
        /// Its id.
        id: String,
    },
}

impl ConfigChange {
    /// Create or replace `entry`.
    pub fn put(entry: ConfigEntry) -> Self {
        ConfigChange::Put(Box::new(entry))
    }

    /// The stored change for an admin command's `changed` object, as it stands in `config` after it: a
    /// write if the object is there, a deletion if it is not.
    pub fn of(config: &PolicyConfig, changed: &Changed) -> Self {
        let id = &changed.id;
        let entry = match changed.object {
            ConfigObject::Connector => ConnectorId::parse(id)
                .ok()
                .and_then(|id| config.connectors.get(&id))
                .cloned()
                .map(ConfigEntry::Connector),
            ConfigObject::CompliancePolicy => config
                .policies
                .get(id)
                .cloned()
                .map(ConfigEntry::CompliancePolicy),
            ConfigObject::Resource => config.resources.get(id).cloned().map(ConfigEntry::Resource),
            ConfigObject::AppProtectionPolicy => config
                .app_policies
                .get(id)
                .cloned()
                .map(ConfigEntry::AppProtectionPolicy),
            ConfigObject::TenantSettings => {
                Some(ConfigEntry::TenantSettings(config.tenant.clone()))
            }
        };
        entry.map_or_else(
            || ConfigChange::Delete {
                object: changed.object,
                id: id.clone(),
            },
            ConfigChange::put,
        )
    }
}

/// One configuration object with its value.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigEntry {
    /// A connector, by its id.
    Connector(Connector),
    /// A compliance policy, by its id.
    CompliancePolicy(CompliancePolicy),
    /// A resource, by its name.
    Resource(Resource),
    /// An app-protection policy, by its id.
    AppProtectionPolicy(AppProtectionPolicy),
    /// The tenant settings (one object, id empty).
    TenantSettings(TenantSettings),
}

impl ConfigEntry {
    /// The object's kind and id.
    pub fn key(&self) -> (ConfigObject, String) {
        match self {
            ConfigEntry::Connector(connector) => (
                ConfigObject::Connector,
                connector.connector_id.as_str().to_owned(),
            ),
            ConfigEntry::CompliancePolicy(policy) => {
                (ConfigObject::CompliancePolicy, policy.policy_id.clone())
            }
            ConfigEntry::Resource(resource) => (ConfigObject::Resource, resource.name.clone()),
            ConfigEntry::AppProtectionPolicy(policy) => {
                (ConfigObject::AppProtectionPolicy, policy.policy_id.clone())
            }
            ConfigEntry::TenantSettings(_) => (ConfigObject::TenantSettings, String::new()),
        }
    }

    /// Adds the object to `config`, replacing one with the same key.
    pub fn insert_into(self, config: &mut PolicyConfig) {
        match self {
            ConfigEntry::Connector(connector) => {
                config
                    .connectors
                    .insert(connector.connector_id.clone(), connector);
            }
            ConfigEntry::CompliancePolicy(policy) => {
                config.policies.insert(policy.policy_id.clone(), policy);
            }
            ConfigEntry::Resource(resource) => {
                config.resources.insert(resource.name.clone(), resource);
            }
            ConfigEntry::AppProtectionPolicy(policy) => {
                config.app_policies.insert(policy.policy_id.clone(), policy);
            }
            ConfigEntry::TenantSettings(tenant) => config.tenant = tenant,
        }
    }
}
