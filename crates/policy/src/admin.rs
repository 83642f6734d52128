//! Admin commands as pure changes to a [`PolicyConfig`]: create, update and delete with version checks and
//! the cross-object rules (only one third-party and one Defender partner per platform for app protection).

use std::sync::Arc;

use crate::{
    domain::{
        policy::{
            AppProtectionPolicy, CompliancePolicy, Connector, ConnectorSettings, FeedHealth,
            PartnerKind, PolicyConfig, Resource, TenantSettings,
        },
        ConfigObject, ConnectorId, Timestamp,
    },
    error::{DomainError, DomainResult},
};

/// A change an admin (or a connector's heartbeat) asks for.
#[derive(Debug, Clone)]
pub enum AdminCommand {
    /// Registers a connector.
    CreateConnector(ConnectorId, ConnectorSettings),
    /// Replaces a connector's settings.
    UpdateConnector {
        /// The connector.
        connector_id: ConnectorId,
        /// New settings.
        settings: ConnectorSettings,
        /// 0 or the version the caller read.
        expected_version: u64,
    },
    /// Removes a connector.
    DeleteConnector(ConnectorId),
    /// A connector's heartbeat.
    Heartbeat {
        /// The connector.
        connector_id: ConnectorId,
        /// Empty when healthy.
        error_message: String,
        /// The vendor feed's health, if the host reported it.
        feed: Option<FeedHealth>,
    },
    /// Creates a compliance policy.
    CreatePolicy(CompliancePolicy),
    /// Replaces a compliance policy.
    UpdatePolicy {
        /// The new policy.
        policy: CompliancePolicy,
        /// 0 or the version the caller read.
        expected_version: u64,
    },
    /// Deletes a compliance policy.
    DeletePolicy(String),
    /// Creates or replaces a resource.
    PutResource(Resource),
    /// Deletes a resource.
    DeleteResource(String),
    /// Creates or replaces an app-protection policy.
    PutAppPolicy(AppProtectionPolicy),
    /// Deletes an app-protection policy.
    DeleteAppPolicy(String),
    /// Replaces the tenant settings.
    UpdateTenant(TenantSettings),
}

/// What a command returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminOutcome {
    /// The connector after the change.
    Connector(Connector),
    /// The compliance policy after the change.
    Policy(CompliancePolicy),
    /// The resource after the change.
    Resource(Resource),
    /// The app-protection policy after the change.
    AppPolicy(AppProtectionPolicy),
    /// The tenant settings after the change.
    Tenant(TenantSettings),
    /// The object was deleted.
    Deleted,
}

/// Which object a command changed, so the writer can persist it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    /// The kind of object.
    pub object: ConfigObject,
    /// Its id ("" for the tenant settings).
    pub id: String,
    /// Its new version, 0 if deleted.
    pub version: u64,
}

/// Applies `command` to `config`.
pub fn apply(
    config: &mut Arc<PolicyConfig>,
    command: AdminCommand,
    now: Timestamp,
) -> DomainResult<(AdminOutcome, Changed)> {
    let config = Arc::make_mut(config);
    match command {
        AdminCommand::CreateConnector(connector_id, settings) => {
            create_connector(config, connector_id, settings)
        }
        AdminCommand::UpdateConnector {
            connector_id,
            settings,
            expected_version,
        } => update_connector(config, &connector_id, settings, expected_version),
        AdminCommand::DeleteConnector(connector_id) => {
            remove(&mut config.connectors, &connector_id, "connector")?;
            Ok(deleted(ConfigObject::Connector, connector_id.as_str()))
        }
        AdminCommand::Heartbeat {
            connector_id,
            error_message,
            feed,
        } => heartbeat(config, &connector_id, error_message, feed, now),
        AdminCommand::CreatePolicy(policy) => create_policy(config, policy, now),
        AdminCommand::UpdatePolicy {
            policy,
            expected_version,
        } => update_policy(config, policy, expected_version, now),
        AdminCommand::DeletePolicy(policy_id) => {
            remove(&mut config.policies, &policy_id, "compliance policy")?;
            Ok(deleted(ConfigObject::CompliancePolicy, &policy_id))
        }
        AdminCommand::PutResource(resource) => Ok(put_resource(config, resource)),
        AdminCommand::DeleteResource(name) => {
            remove(&mut config.resources, &name, "resource")?;
            Ok(deleted(ConfigObject::Resource, &name))
        }
        AdminCommand::PutAppPolicy(policy) => Ok(put_app_policy(config, policy)),
        AdminCommand::DeleteAppPolicy(policy_id) => {
            remove(
                &mut config.app_policies,
                &policy_id,
                "app-protection policy",
            )?;
            Ok(deleted(ConfigObject::AppProtectionPolicy, &policy_id))
        }
        AdminCommand::UpdateTenant(tenant) => {
            config.tenant = tenant.clone();
            let changed = Changed {
                object: ConfigObject::TenantSettings,
                id: String::new(),
                version: 1,
            };
            Ok((AdminOutcome::Tenant(tenant), changed))
        }
    }
}

fn create_connector(
    config: &mut PolicyConfig,
    connector_id: ConnectorId,
    settings: ConnectorSettings,
) -> DomainResult<(AdminOutcome, Changed)> {
    if config.connectors.contains_key(&connector_id) {
        return Err(DomainError::AlreadyExists {
            what: "connector",
            id: connector_id.to_string(),
        });
    }
    check_app_protection_partners(config, &connector_id, &settings)?;
    let connector = Connector {
        connector_id: connector_id.clone(),
        settings,
        last_heartbeat: None,
        error_message: String::new(),
        version: 1,
        feed: FeedHealth::default(),
    };
    config.connectors.insert(connector_id, connector.clone());
    Ok(connector_changed(connector))
}

fn update_connector(
    config: &mut PolicyConfig,
    connector_id: &ConnectorId,
    settings: ConnectorSettings,
    expected_version: u64,
) -> DomainResult<(AdminOutcome, Changed)> {
    check_app_protection_partners(config, connector_id, &settings)?;
    let connector = existing_connector(config, connector_id)?;
    check_version("connector", connector.version, expected_version)?;
    connector.settings = settings;
    connector.version += 1;
    Ok(connector_changed(connector.clone()))
}

/// A heartbeat is news from the host, not a configuration change: the version, which version-checked
/// updates compare, stays. Only a healthy heartbeat is a sign of life; a failure report (a crashed or
/// quarantined host) leaves the last one where it was, so a connector whose host does not come back still
/// turns unresponsive.
fn heartbeat(
    config: &mut PolicyConfig,
    connector_id: &ConnectorId,
    error_message: String,
    feed: Option<FeedHealth>,
    now: Timestamp,
) -> DomainResult<(AdminOutcome, Changed)> {
    let connector = existing_connector(config, connector_id)?;
    if error_message.is_empty() {
        connector.last_heartbeat = Some(now);
    }
    connector.error_message = error_message;
    if let Some(feed) = feed {
        connector.feed = feed;
    }
    Ok(connector_changed(connector.clone()))
}

fn create_policy(
    config: &mut PolicyConfig,
    mut policy: CompliancePolicy,
    now: Timestamp,
) -> DomainResult<(AdminOutcome, Changed)> {
    if config.policies.contains_key(&policy.policy_id) {
        return Err(DomainError::AlreadyExists {
            what: "compliance policy",
            id: policy.policy_id,
        });
    }
    policy.version = 1;
    policy.updated_at = now;
    config
        .policies
        .insert(policy.policy_id.clone(), policy.clone());
    Ok(policy_changed(policy))
}

fn update_policy(
    config: &mut PolicyConfig,
    mut policy: CompliancePolicy,
    expected_version: u64,
    now: Timestamp,
) -> DomainResult<(AdminOutcome, Changed)> {
    let current = config
        .policies
        .get(&policy.policy_id)
        .ok_or_else(|| not_found("compliance policy", &policy.policy_id))?;
    check_version("compliance policy", current.version, expected_version)?;
    policy.version = current.version + 1;
    policy.updated_at = now;
    config
        .policies
        .insert(policy.policy_id.clone(), policy.clone());
    Ok(policy_changed(policy))
}

/// Creates or replaces a resource; its version counts the puts.
fn put_resource(config: &mut PolicyConfig, mut resource: Resource) -> (AdminOutcome, Changed) {
    resource.version = config
        .resources
        .get(&resource.name)
        .map_or(1, |r| r.version + 1);
    config
        .resources
        .insert(resource.name.clone(), resource.clone());
    let changed = Changed {
        object: ConfigObject::Resource,
        id: resource.name.clone(),
        version: resource.version,
    };
    (AdminOutcome::Resource(resource), changed)
}

/// Creates or replaces an app-protection policy; its version counts the puts.
fn put_app_policy(
    config: &mut PolicyConfig,
    mut policy: AppProtectionPolicy,
) -> (AdminOutcome, Changed) {
    policy.version = config
        .app_policies
        .get(&policy.policy_id)
        .map_or(1, |p| p.version + 1);
    config
        .app_policies
        .insert(policy.policy_id.clone(), policy.clone());
    let changed = Changed {
        object: ConfigObject::AppProtectionPolicy,
        id: policy.policy_id.clone(),
        version: policy.version,
    };
    (AdminOutcome::AppPolicy(policy), changed)
}

/// Removes the object at `id`, or says it does not exist.
fn remove<K, V>(
    objects: &mut std::collections::BTreeMap<K, V>,
    id: &K,
    what: &'static str,
) -> DomainResult<V>
where
    K: Ord + AsRef<str>,
{
    objects
        .remove(id)
        .ok_or_else(|| not_found(what, id.as_ref()))
}

fn existing_connector<'a>(
    config: &'a mut PolicyConfig,
    connector_id: &ConnectorId,
) -> DomainResult<&'a mut Connector> {
    config
        .connectors
        .get_mut(connector_id)
        .ok_or_else(|| not_found("connector", connector_id.as_str()))
}

fn not_found(what: &'static str, id: &str) -> DomainError {
    DomainError::NotFound {
        what,
        id: id.to_owned(),
    }
}

fn check_version(what: &str, current: u64, expected: u64) -> DomainResult<()> {
    if expected != 0 && expected != current {
        return Err(DomainError::Aborted(format!(
            "{what} is at version {current}, not the expected {expected}; read it again and retry"
        )));
    }
    Ok(())
}

fn connector_changed(connector: Connector) -> (AdminOutcome, Changed) {
    let changed = Changed {
        object: ConfigObject::Connector,
        id: connector.connector_id.to_string(),
        version: connector.version,
    };
    (AdminOutcome::Connector(connector), changed)
}

fn policy_changed(policy: CompliancePolicy) -> (AdminOutcome, Changed) {
    let changed = Changed {
        object: ConfigObject::CompliancePolicy,
        id: policy.policy_id.clone(),
        version: policy.version,
    };
    (AdminOutcome::Policy(policy), changed)
}

fn deleted(object: ConfigObject, id: &str) -> (AdminOutcome, Changed) {
    (
        AdminOutcome::Deleted,
        Changed {
            object,
            id: id.to_owned(),
            version: 0,
        },
    )
}

/// Microsoft Graph mobileThreatDefenseConnector: "Only one partner per platform may be enabled for MAM evaluation", except that
/// Defender and one third-party partner may both be on (the app policy's priority picks one).
fn check_app_protection_partners(
    config: &PolicyConfig,
    connector_id: &ConnectorId,
    settings: &ConnectorSettings,
) -> DomainResult<()> {
    for (platform, enabled) in settings.app_protection_enabled.iter() {
        if !enabled {
            continue;
        }
        let clash = config.connectors.values().find(|other| {
            &other.connector_id != connector_id
                && other.settings.kind == settings.kind
                && *other.settings.app_protection_enabled.get_toggle(platform)
        });
        if let Some(other) = clash {
            let kind = match settings.kind {
                PartnerKind::ThirdParty => "third-party",
                PartnerKind::MicrosoftDefender => "Microsoft Defender",
            };
            return Err(DomainError::FailedPrecondition(format!(
                "app_protection_enabled.{}: connector {} is already the {kind} partner for app protection on this platform; only one is allowed",
                platform.name(),
                other.connector_id
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
