//! Rendering of the policy model and decisions as proto messages.

use std::time::Duration;

use riskgate_proto::v1 as pb;

use super::render_scalar::{duration, level, platform, timestamp};
use riskgate_policy::{
    domain::{
        policy::{
            ActionKind, AppAction, AppDecision, AppProtectionPolicy, CompliancePolicy,
            ComplianceStatus, Connector, ConnectorState, FeedHealth, FeedState, MissingDataMode,
            NoPolicyStatus, PartnerKind, PartnerPriority, PerPlatform, Reason, Resource,
            TenantSettings, UnknownDeviceAccess, UnresponsiveMode,
        },
        ConfigObject, Platform, Timestamp,
    },
    evaluate::PolicyVerdict,
};

fn platforms(platforms: &[Platform]) -> Vec<i32> {
    platforms.iter().copied().map(platform).collect()
}

fn toggles(toggles: &PerPlatform<bool>) -> pb::PlatformToggles {
    pb::PlatformToggles {
        android: toggles.android,
        ios: toggles.ios,
        windows: toggles.windows,
        macos: toggles.macos,
    }
}

pub(crate) fn connector_state(state: Option<ConnectorState>) -> i32 {
    (match state {
        None => pb::ConnectorState::Unspecified,
        Some(ConnectorState::Unavailable) => pb::ConnectorState::Unavailable,
        Some(ConnectorState::Available) => pb::ConnectorState::Available,
        Some(ConnectorState::Enabled) => pb::ConnectorState::Enabled,
        Some(ConnectorState::Unresponsive) => pb::ConnectorState::Unresponsive,
        Some(ConnectorState::NotSetUp) => pb::ConnectorState::NotSetUp,
        Some(ConnectorState::Error) => pb::ConnectorState::Error,
    }) as i32
}

pub(crate) fn connector(connector: &Connector, now: Timestamp) -> pb::Connector {
    let settings = &connector.settings;
    pb::Connector {
        connector_id: connector.connector_id.to_string(),
        vendor: settings.vendor.clone(),
        display_name: settings.display_name.clone(),
        kind: (match settings.kind {
            PartnerKind::ThirdParty => pb::PartnerKind::ThirdParty,
            PartnerKind::MicrosoftDefender => pb::PartnerKind::MicrosoftDefender,
        }) as i32,
        state: connector_state(Some(connector.state(now))),
        compliance_enabled: Some(toggles(&settings.compliance_enabled)),
        app_protection_enabled: Some(toggles(&settings.app_protection_enabled)),
        block_on_missing_partner_data: Some(toggles(&settings.block_on_missing_partner_data)),
        block_unsupported_os_versions: settings.block_unsupported_os_versions,
        minimum_os_versions: Some(pb::MinimumOsVersions {
            android: settings.minimum_os_versions.android.clone(),
            ios: settings.minimum_os_versions.ios.clone(),
            windows: settings.minimum_os_versions.windows.clone(),
            macos: settings.minimum_os_versions.macos.clone(),
        }),
        unresponsive_after: Some(duration(settings.unresponsive_after)),
        last_heartbeat: connector.last_heartbeat.map(timestamp),
        provisioned: Some(settings.provisioned),
        error_message: connector.error_message.clone(),
        version: connector.version,
        feed: Some(feed_health(&connector.feed)),
        vendor_sync_lag: connector.feed.last_vendor_sync.map(|at| {
            duration(Duration::from_nanos(
                now.0.saturating_sub(at.0).max(0).unsigned_abs(),
            ))
        }),
        missing_data: (match settings.missing_data {
            MissingDataMode::LastKnown => pb::MissingDataMode::LastKnown,
            MissingDataMode::Intune => pb::MissingDataMode::Intune,
            MissingDataMode::Noncompliant => pb::MissingDataMode::Noncompliant,
        }) as i32,
    }
}

fn feed_health(feed: &FeedHealth) -> pb::FeedHealth {
    pb::FeedHealth {
        state: (match feed.state {
            FeedState::Unknown => pb::FeedState::Unspecified,
            FeedState::Connected => pb::FeedState::Connected,
            FeedState::Degraded => pb::FeedState::Degraded,
            FeedState::Disconnected => pb::FeedState::Disconnected,
        }) as i32,
        reason: feed.reason.clone(),
        since: feed.since.map(timestamp),
        last_vendor_sync: feed.last_vendor_sync.map(timestamp),
    }
}

pub(crate) fn action_kind(kind: ActionKind) -> i32 {
    (match kind {
        ActionKind::Notify => pb::ActionKind::Notify,
        ActionKind::RemoteLock => pb::ActionKind::RemoteLock,
        ActionKind::Retire => pb::ActionKind::Retire,
    }) as i32
}

pub(crate) fn compliance_policy(policy: &CompliancePolicy) -> pb::CompliancePolicy {
    pb::CompliancePolicy {
        policy_id: policy.policy_id.clone(),
        display_name: policy.display_name.clone(),
        platforms: platforms(&policy.platforms),
        assignment: Some(pb::Assignment {
            all_devices: policy.assignment.all_devices,
            groups: policy.assignment.groups.clone(),
            excluded_groups: policy.assignment.excluded_groups.clone(),
        }),
        max_threat_level: level(policy.max_threat_level),
        grace_period: Some(duration(policy.grace_period)),
        actions: policy
            .actions
            .iter()
            .map(|action| pb::ScheduledAction {
                kind: action_kind(action.kind),
                after: Some(duration(action.after)),
            })
            .collect(),
        version: policy.version,
        updated_at: Some(timestamp(policy.updated_at)),
    }
}

pub(crate) fn resource(resource: &Resource) -> pb::Resource {
    pb::Resource {
        name: resource.name.clone(),
        rules: resource
            .rules
            .iter()
            .map(|rule| pb::AccessRule {
                platforms: platforms(&rule.platforms),
                require_compliant_device: rule.require_compliant_device,
                max_threat_level: level(rule.max_threat_level),
            })
            .collect(),
        version: resource.version,
        unknown_device: (match resource.unknown_device {
            UnknownDeviceAccess::Deny => pb::UnknownDeviceAccess::Deny,
            UnknownDeviceAccess::Allow => pb::UnknownDeviceAccess::Allow,
        }) as i32,
    }
}

pub(crate) fn app_policy(policy: &AppProtectionPolicy) -> pb::AppProtectionPolicy {
    pb::AppProtectionPolicy {
        policy_id: policy.policy_id.clone(),
        display_name: policy.display_name.clone(),
        app_ids: policy.app_ids.clone(),
        platforms: platforms(&policy.platforms),
        max_threat_level: level(policy.max_threat_level),
        action: (match policy.action {
            AppAction::Block => pb::AppAction::Block,
            AppAction::Wipe => pb::AppAction::Wipe,
        }) as i32,
        partner_priority: (match policy.partner_priority {
            PartnerPriority::DefenderOverThirdParty => pb::PartnerPriority::DefenderOverThirdParty,
            PartnerPriority::ThirdPartyOverDefender => pb::PartnerPriority::ThirdPartyOverDefender,
        }) as i32,
        version: policy.version,
    }
}

pub(crate) fn tenant(tenant: &TenantSettings) -> pb::TenantSettings {
    pb::TenantSettings {
        no_policy_status: (match tenant.no_policy_status {
            NoPolicyStatus::Compliant => pb::NoPolicyStatus::Compliant,
            NoPolicyStatus::Noncompliant => pb::NoPolicyStatus::Noncompliant,
        }) as i32,
        compliance_validity_period: Some(duration(tenant.compliance_validity_period)),
        unresponsive_partner_mode: (match tenant.unresponsive_mode {
            UnresponsiveMode::FailOpen => pb::UnresponsivePartnerMode::FailOpen,
            UnresponsiveMode::FailClosed => pb::UnresponsivePartnerMode::FailClosed,
        }) as i32,
        enrollment_grace: Some(duration(tenant.enrollment_grace)),
    }
}

pub(crate) fn compliance_status(status: ComplianceStatus) -> i32 {
    (match status {
        ComplianceStatus::Unknown => pb::ComplianceStatus::Unknown,
        ComplianceStatus::NotApplicable => pb::ComplianceStatus::NotApplicable,
        ComplianceStatus::Compliant => pb::ComplianceStatus::Compliant,
        ComplianceStatus::InGracePeriod => pb::ComplianceStatus::InGracePeriod,
        ComplianceStatus::Noncompliant => pb::ComplianceStatus::Noncompliant,
        ComplianceStatus::Error => pb::ComplianceStatus::Error,
    }) as i32
}

pub(crate) fn decision(allow: bool) -> i32 {
    (if allow {
        pb::Decision::Allow
    } else {
        pb::Decision::Deny
    }) as i32
}

pub(crate) fn app_decision(decision: AppDecision) -> i32 {
    (match decision {
        AppDecision::Allow => pb::AppDecision::Allow,
        AppDecision::Block => pb::AppDecision::Block,
        AppDecision::Wipe => pb::AppDecision::Wipe,
    }) as i32
}

pub(crate) fn config_object(object: ConfigObject) -> i32 {
    (match object {
        ConfigObject::Connector => pb::ConfigObject::Connector,
        ConfigObject::CompliancePolicy => pb::ConfigObject::CompliancePolicy,
        ConfigObject::Resource => pb::ConfigObject::Resource,
        ConfigObject::AppProtectionPolicy => pb::ConfigObject::AppProtectionPolicy,
        ConfigObject::TenantSettings => pb::ConfigObject::TenantSettings,
    }) as i32
}

pub(crate) fn reasons(reasons: &[Reason]) -> Vec<pb::Reason> {
    reasons
        .iter()
        .map(|reason| pb::Reason {
            code: reason.code.as_str().to_owned(),
            message: reason.message.to_string(),
            policy_id: reason.policy_id.clone().unwrap_or_default(),
            connector_id: reason
                .connector_id
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            threat_ids: reason.threat_ids.clone(),
        })
        .collect()
}

pub(crate) fn policy_verdict(verdict: &PolicyVerdict) -> pb::PolicyCompliance {
    pb::PolicyCompliance {
        policy_id: verdict.policy_id.clone(),
        status: compliance_status(verdict.status),
        reasons: reasons(&verdict.reasons),
        noncompliant_since: verdict.noncompliant_since.map(timestamp),
        grace_period_ends: verdict.grace_ends.map(timestamp),
    }
}
