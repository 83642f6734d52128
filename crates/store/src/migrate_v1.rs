//! Reading format version 1 (riskgate before issue 15), which lacked:
//! - `PartnerReport::known_risk` (in `DeviceRecord`): a version-1 report keeps no earlier risk;
//! - `ConnectorSettings::missing_data`: version-1 connectors get the default, `LastKnown`;
//! - `Resource::unknown_device`: version-1 resources deny unknown devices, as they always did;
//! - `TenantSettings::enrollment_grace`: off, as before;
//! - `Connector::feed`: nothing reported yet.
//!
//! Each `…V1` struct is the version-1 shape field for field (postcard is not self-describing, so the
//! shape is the format), converted into today's type.

use std::{collections::BTreeMap, time::Duration};

use serde::Deserialize;

use riskgate_policy::domain::{
    policy::{
        AccessRule, Connector, ConnectorSettings, FeedHealth, MissingDataMode, NoPolicyStatus,
        PartnerKind, PerPlatform, Resource, TenantSettings, UnknownDeviceAccess, UnresponsiveMode,
    },
    ConnectorId, DeviceId, DeviceInfo, DeviceRecord, HealthState, PartnerReport, Threat, Timestamp,
};

#[derive(Deserialize)]
pub(super) struct DeviceRecordV1 {
    device_id: DeviceId,
    info: DeviceInfo,
    first_seen: Timestamp,
    last_seen: Timestamp,
    reports: BTreeMap<ConnectorId, PartnerReportV1>,
    position: u64,
}

#[derive(Deserialize)]
struct PartnerReportV1 {
    health_state: HealthState,
    threats: Vec<Threat>,
    observed_at: Timestamp,
    received_at: Timestamp,
    vendor_event_id: String,
    position: u64,
}

impl From<DeviceRecordV1> for DeviceRecord {
    fn from(old: DeviceRecordV1) -> Self {
        Self {
            device_id: old.device_id,
            info: old.info,
            first_seen: old.first_seen,
            last_seen: old.last_seen,
            reports: old
                .reports
                .into_iter()
                .map(|(connector_id, report)| {
                    let report = PartnerReport {
                        health_state: report.health_state,
                        threats: report.threats,
                        observed_at: report.observed_at,
                        received_at: report.received_at,
                        vendor_event_id: report.vendor_event_id,
                        position: report.position,
                        known_risk: None,
                    };
                    (connector_id, report)
                })
                .collect(),
            position: old.position,
        }
    }
}

#[derive(Deserialize)]
pub(super) struct ConnectorV1 {
    connector_id: ConnectorId,
    settings: ConnectorSettingsV1,
    last_heartbeat: Option<Timestamp>,
    error_message: String,
    version: u64,
}

#[derive(Deserialize)]
struct ConnectorSettingsV1 {
    vendor: String,
    display_name: String,
    kind: PartnerKind,
    compliance_enabled: PerPlatform<bool>,
    app_protection_enabled: PerPlatform<bool>,
    block_on_missing_partner_data: PerPlatform<bool>,
    block_unsupported_os_versions: bool,
    minimum_os_versions: PerPlatform<String>,
    unresponsive_after: Duration,
    provisioned: bool,
}

impl From<ConnectorV1> for Connector {
    fn from(old: ConnectorV1) -> Self {
        let settings = old.settings;
        Self {
            connector_id: old.connector_id,
            settings: ConnectorSettings {
                vendor: settings.vendor,
                display_name: settings.display_name,
                kind: settings.kind,
                compliance_enabled: settings.compliance_enabled,
                app_protection_enabled: settings.app_protection_enabled,
                block_on_missing_partner_data: settings.block_on_missing_partner_data,
                block_unsupported_os_versions: settings.block_unsupported_os_versions,
                minimum_os_versions: settings.minimum_os_versions,
                unresponsive_after: settings.unresponsive_after,
                provisioned: settings.provisioned,
                missing_data: MissingDataMode::default(),
            },
            last_heartbeat: old.last_heartbeat,
            error_message: old.error_message,
            version: old.version,
            feed: FeedHealth::default(),
        }
    }
}

#[derive(Deserialize)]
pub(super) struct ResourceV1 {
    name: String,
    rules: Vec<AccessRule>,
    version: u64,
}

impl From<ResourceV1> for Resource {
    fn from(old: ResourceV1) -> Self {
        Self {
            name: old.name,
            rules: old.rules,
            version: old.version,
            unknown_device: UnknownDeviceAccess::Deny,
        }
    }
}

#[derive(Deserialize)]
pub(super) struct TenantSettingsV1 {
    no_policy_status: NoPolicyStatus,
    compliance_validity_period: Duration,
    unresponsive_mode: UnresponsiveMode,
}

impl From<TenantSettingsV1> for TenantSettings {
    fn from(old: TenantSettingsV1) -> Self {
        Self {
            no_policy_status: old.no_policy_status,
            compliance_validity_period: old.compliance_validity_period,
            unresponsive_mode: old.unresponsive_mode,
            enrollment_grace: Duration::ZERO,
        }
    }
}
