//! Fixed samples of every value the store persists, each field away from its default where it can be.
//! The golden tests pin their bytes (`golden.rs`), and the store suite writes and reads them back; never
//! change a sample, because the golden files of every format version hold its bytes.

// Sample data: a malformed sample id is a bug of this file, reported by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{collections::BTreeMap, time::Duration};

use riskgate_policy::{
    domain::{
        policy::{
            AccessRule, ActionKind, AppAction, AppDecision, AppProtectionPolicy, Assignment,
            CompliancePolicy, ComplianceStatus, Connector, ConnectorSettings, ConnectorState,
            MissingDataMode, NoPolicyStatus, PartnerKind, PartnerPriority, PerPlatform, Reason,
            ReasonCode, Resource, ScheduledAction, TenantSettings, UnknownDeviceAccess,
            UnresponsiveMode,
        },
        Checkpoint, ConfigObject, ConnectorId, DeviceId, DeviceInfo, DeviceRecord, DeviceReported,
        Event, EventKind, HealthState, PartnerReport, Platform, Threat, ThreatCategory,
        ThreatLevel, ThreatStatus, Timestamp,
    },
    evaluate::{ConnectorStates, Episode},
    view::ComplianceMemo,
};

pub(crate) fn at(seconds: i64) -> Timestamp {
    Timestamp(seconds * 1_000_000_000 + 123)
}

pub(crate) fn lookout() -> ConnectorId {
    ConnectorId::parse("lookout").unwrap()
}

pub(crate) fn device_id() -> DeviceId {
    DeviceId::parse("device-1").unwrap()
}

pub(crate) fn threat() -> Threat {
    Threat {
        vendor_threat_id: "t-1".into(),
        category: ThreatCategory::Application,
        classification: "TROJAN".into(),
        severity: ThreatLevel::High,
        status: ThreatStatus::Open,
        detected_at: at(1_700_000_000),
        resolved_at: Some(at(1_700_000_500)),
        description: "a trojan".into(),
    }
}

/// Only the golden tests pin it: no other stored sample holds a known risk.
#[cfg(test)]
pub(crate) fn known_risk() -> riskgate_policy::domain::KnownRisk {
    riskgate_policy::domain::KnownRisk {
        health_state: HealthState::HighSeverity,
        observed_at: at(1_700_000_090),
        threat_ids: vec!["t-1".into()],
    }
}

pub(crate) fn reason() -> Reason {
    Reason::new(
        ReasonCode::ThreatLevelExceeded,
        "threat level HIGH is above LOW",
    )
    .policy("strict")
    .connector(&lookout())
    .threats(vec!["t-1".into()])
}

pub(crate) fn device_record() -> DeviceRecord {
    DeviceRecord {
        device_id: device_id(),
        info: DeviceInfo {
            platform: Platform::Ios,
            os_version: "17.4".into(),
            model: "iPhone15,2".into(),
            owner_user_id: "alice".into(),
            groups: vec!["sales".into()],
        },
        first_seen: at(1_700_000_000),
        last_seen: at(1_700_000_100),
        reports: BTreeMap::from([(
            lookout(),
            PartnerReport {
                health_state: HealthState::HighSeverity,
                threats: vec![threat()],
                observed_at: at(1_700_000_090),
                received_at: at(1_700_000_100),
                vendor_event_id: "e-1".into(),
                position: 7,
                known_risk: None,
            },
        )]),
        position: 7,
    }
}

pub(crate) fn connector() -> Connector {
    Connector {
        connector_id: lookout(),
        settings: ConnectorSettings {
            vendor: "lookout".into(),
            display_name: "Lookout".into(),
            kind: PartnerKind::ThirdParty,
            compliance_enabled: PerPlatform {
                android: true,
                ios: true,
                windows: false,
                macos: false,
            },
            app_protection_enabled: PerPlatform {
                android: false,
                ios: true,
                windows: false,
                macos: false,
            },
            block_on_missing_partner_data: PerPlatform::default(),
            block_unsupported_os_versions: true,
            minimum_os_versions: PerPlatform {
                android: "12".into(),
                ios: "16.4".into(),
                windows: String::new(),
                macos: String::new(),
            },
            unresponsive_after: Duration::from_secs(7 * 24 * 3600),
            provisioned: true,
            missing_data: MissingDataMode::LastKnown,
        },
        last_heartbeat: Some(at(1_700_000_050)),
        error_message: "quarantined: crashed 3 times".into(),
        version: 4,
        feed: Default::default(),
    }
}

pub(crate) fn compliance_policy() -> CompliancePolicy {
    CompliancePolicy {
        policy_id: "strict".into(),
        display_name: "Strict".into(),
        platforms: vec![Platform::Ios, Platform::Android],
        assignment: Assignment {
            all_devices: false,
            groups: vec!["sales".into()],
            excluded_groups: vec!["vip".into()],
        },
        max_threat_level: Some(ThreatLevel::Low),
        grace_period: Duration::from_secs(3600),
        actions: vec![ScheduledAction {
            kind: ActionKind::RemoteLock,
            after: Duration::from_secs(86_400),
        }],
        version: 2,
        updated_at: at(1_700_000_010),
    }
}

pub(crate) fn resource() -> Resource {
    Resource {
        name: "exchange".into(),
        rules: vec![AccessRule {
            platforms: vec![Platform::Windows],
            require_compliant_device: true,
            max_threat_level: Some(ThreatLevel::Medium),
        }],
        version: 3,
        unknown_device: UnknownDeviceAccess::Deny,
    }
}

pub(crate) fn app_policy() -> AppProtectionPolicy {
    AppProtectionPolicy {
        policy_id: "outlook".into(),
        display_name: "Outlook".into(),
        app_ids: vec!["com.microsoft.outlook".into()],
        platforms: vec![Platform::Android],
        max_threat_level: Some(ThreatLevel::Secured),
        action: AppAction::Wipe,
        partner_priority: PartnerPriority::ThirdPartyOverDefender,
        version: 1,
    }
}

pub(crate) fn tenant() -> TenantSettings {
    TenantSettings {
        no_policy_status: NoPolicyStatus::Noncompliant,
        compliance_validity_period: Duration::from_secs(30 * 86_400),
        unresponsive_mode: UnresponsiveMode::FailClosed,
        enrollment_grace: Duration::ZERO,
    }
}

pub(crate) fn event(position: u64, kind: EventKind) -> Event {
    Event {
        position,
        time: at(1_700_000_200),
        device_id: Some(device_id()),
        kind,
    }
}

/// One event of every kind, at positions 1 to 7: the first five about `device-1`, the last two about no
/// device.
pub(crate) fn events() -> Vec<(&'static str, Event)> {
    let mut events = device_events();
    events.extend(fleet_events());
    events
}

/// The events about a device, at positions 1 to 5.
fn device_events() -> Vec<(&'static str, Event)> {
    vec![
        (
            "event_device_reported",
            event(
                1,
                EventKind::DeviceReported(DeviceReported {
                    connector_id: lookout(),
                    health_state: HealthState::Compromised,
                    previous_level: Some(ThreatLevel::Low),
                    current_level: Some(ThreatLevel::High),
                    vendor_event_id: "e-2".into(),
                    observed_at: at(1_700_000_190),
                    threats: vec![threat()],
                }),
            ),
        ),
        (
            "event_compliance_changed",
            event(
                2,
                EventKind::ComplianceChanged {
                    previous: ComplianceStatus::Compliant,
                    current: ComplianceStatus::Noncompliant,
                    reasons: vec![reason()],
                },
            ),
        ),
        (
            "event_compliance_action_due",
            event(
                3,
                EventKind::ComplianceActionDue {
                    policy_id: "strict".into(),
                    action: ActionKind::Retire,
                },
            ),
        ),
        (
            "event_access_changed",
            event(
                4,
                EventKind::AccessChanged {
                    resource: "exchange".into(),
                    allowed: false,
                    reasons: vec![reason()],
                },
            ),
        ),
        (
            "event_app_protection_changed",
            event(
                5,
                EventKind::AppProtectionChanged {
                    policy_id: "outlook".into(),
                    previous: AppDecision::Allow,
                    current: AppDecision::Wipe,
                    reasons: vec![reason()],
                },
            ),
        ),
    ]
}

/// The events about no device, at positions 6 and 7.
fn fleet_events() -> Vec<(&'static str, Event)> {
    vec![
        (
            "event_connector_state_changed",
            Event {
                device_id: None,
                ..event(
                    6,
                    EventKind::ConnectorStateChanged {
                        connector_id: lookout(),
                        previous: Some(ConnectorState::Enabled),
                        current: Some(ConnectorState::Error),
                    },
                )
            },
        ),
        (
            "event_config_changed",
            Event {
                device_id: None,
                ..event(
                    7,
                    EventKind::ConfigChanged {
                        object: ConfigObject::Connector,
                        id: "lookout".into(),
                        version: 4,
                    },
                )
            },
        ),
    ]
}

pub(crate) fn connector_states() -> ConnectorStates {
    let mut config = riskgate_policy::domain::policy::PolicyConfig::default();
    config.connectors.insert(lookout(), connector());
    ConnectorStates::at(&config, at(1_700_000_060))
}

pub(crate) fn compliance_memo() -> ComplianceMemo {
    ComplianceMemo {
        status: ComplianceStatus::InGracePeriod,
        episodes: BTreeMap::from([(
            "strict".to_owned(),
            Episode {
                since: at(1_700_000_100),
                fired: vec![(ActionKind::Notify, 0)],
            },
        )]),
        access: [("exchange".to_owned(), false)].into_iter().collect(),
        apps: [("outlook".to_owned(), AppDecision::Block)]
            .into_iter()
            .collect(),
    }
}

pub(crate) fn checkpoint() -> Checkpoint {
    Checkpoint {
        cursor: b"oid=42".to_vec(),
        batch_seq: 9,
        position: 7,
        updated_at: at(1_700_000_100),
    }
}
