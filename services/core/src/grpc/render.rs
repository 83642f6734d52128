//! Rendering of domain types as proto messages.

use riskgate_proto::v1 as pb;

use super::{
    render_policy,
    render_scalar::{level, platform, timestamp},
};
use riskgate_store::{BatchOutcome, BatchResult};

use riskgate_policy::domain::{
    policy::{ComplianceStatus, PolicyConfig},
    Checkpoint, ConnectorId, DeviceRecord, DeviceReported, Event, EventKind, HealthState,
    KnownRisk, PartnerReport, Threat, ThreatCategory, ThreatLevel, ThreatStatus,
};

fn health_state(state: HealthState) -> i32 {
    (match state {
        HealthState::Unknown => pb::HealthState::Unknown,
        HealthState::Activated => pb::HealthState::Activated,
        HealthState::Deactivated => pb::HealthState::Deactivated,
        HealthState::Secured => pb::HealthState::Secured,
        HealthState::LowSeverity => pb::HealthState::LowSeverity,
        HealthState::MediumSeverity => pb::HealthState::MediumSeverity,
        HealthState::HighSeverity => pb::HealthState::HighSeverity,
        HealthState::Unresponsive => pb::HealthState::Unresponsive,
        HealthState::Compromised => pb::HealthState::Compromised,
        HealthState::Misconfigured => pb::HealthState::Misconfigured,
    }) as i32
}

fn threat(threat: &Threat) -> pb::Threat {
    pb::Threat {
        vendor_threat_id: threat.vendor_threat_id.clone(),
        category: (match threat.category {
            ThreatCategory::Application => pb::ThreatCategory::Application,
            ThreatCategory::Network => pb::ThreatCategory::Network,
            ThreatCategory::Os => pb::ThreatCategory::Os,
            ThreatCategory::WebContent => pb::ThreatCategory::WebContent,
            ThreatCategory::Configuration => pb::ThreatCategory::Configuration,
            ThreatCategory::File => pb::ThreatCategory::File,
        }) as i32,
        classification: threat.classification.clone(),
        severity: level(Some(threat.severity)),
        status: (match threat.status {
            ThreatStatus::Open => pb::ThreatStatus::Open,
            ThreatStatus::Resolved => pb::ThreatStatus::Resolved,
            ThreatStatus::Ignored => pb::ThreatStatus::Ignored,
        }) as i32,
        detected_at: Some(timestamp(threat.detected_at)),
        resolved_at: threat.resolved_at.map(timestamp),
        description: threat.description.clone(),
    }
}

fn threats(threats: &[Threat]) -> Vec<pb::Threat> {
    threats.iter().map(threat).collect()
}

fn partner_report(connector_id: &ConnectorId, report: &PartnerReport) -> pb::PartnerReport {
    pb::PartnerReport {
        connector_id: connector_id.to_string(),
        health_state: health_state(report.health_state),
        level: level(report.level()),
        threats: threats(&report.threats),
        observed_at: Some(timestamp(report.observed_at)),
        received_at: Some(timestamp(report.received_at)),
        vendor_event_id: report.vendor_event_id.clone(),
        position: report.position,
        known_risk: report.known_risk.as_ref().map(known_risk),
    }
}

fn known_risk(risk: &KnownRisk) -> pb::KnownRisk {
    pb::KnownRisk {
        health_state: health_state(risk.health_state),
        level: level(Some(risk.level())),
        observed_at: Some(timestamp(risk.observed_at)),
        threat_ids: risk.threat_ids.clone(),
    }
}

/// A device, with the level policies see under `config` (`DeviceRecord::level_among`) and its compliance
/// status in the view.
pub(crate) fn device(
    device: &DeviceRecord,
    config: &PolicyConfig,
    compliance: ComplianceStatus,
) -> pb::Device {
    pb::Device {
        device_id: device.device_id.to_string(),
        platform: platform(device.info.platform),
        os_version: device.info.os_version.clone(),
        model: device.info.model.clone(),
        owner_user_id: device.info.owner_user_id.clone(),
        groups: device.info.groups.clone(),
        first_seen: Some(timestamp(device.first_seen)),
        last_seen: Some(timestamp(device.last_seen)),
        level: level(device_level(device, config)),
        reports: device
            .reports
            .iter()
            .map(|(connector_id, report)| partner_report(connector_id, report))
            .collect(),
        position: device.position,
        compliance: render_policy::compliance_status(compliance),
    }
}

/// The level policies see: reports of registered connectors only, each under its missing-data mode.
pub(crate) fn device_level(device: &DeviceRecord, config: &PolicyConfig) -> Option<ThreatLevel> {
    device.level_among(|connector_id| {
        config
            .connectors
            .get(connector_id)
            .map(|connector| connector.settings.missing_data)
    })
}

pub(crate) fn event(event: &Event) -> pb::Event {
    pb::Event {
        position: event.position,
        time: Some(timestamp(event.time)),
        device_id: event
            .device_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        kind: Some(event_kind(&event.kind)),
    }
}

fn device_reported(reported: &DeviceReported) -> pb::DeviceReported {
    pb::DeviceReported {
        connector_id: reported.connector_id.to_string(),
        health_state: health_state(reported.health_state),
        report_level: level(reported.health_state.level()),
        previous_level: level(reported.previous_level),
        current_level: level(reported.current_level),
        vendor_event_id: reported.vendor_event_id.clone(),
        observed_at: Some(timestamp(reported.observed_at)),
        threats: threats(&reported.threats),
    }
}

fn event_kind(kind: &EventKind) -> pb::event::Kind {
    use super::render_policy::{
        action_kind, app_decision, compliance_status, config_object, connector_state, decision,
        reasons,
    };
    use pb::event::Kind;
    match kind {
        EventKind::DeviceReported(reported) => Kind::DeviceReported(device_reported(reported)),
        EventKind::ComplianceChanged {
            previous,
            current,
            reasons: why,
        } => Kind::DeviceComplianceChange(pb::DeviceComplianceChange {
            previous_status: compliance_status(*previous),
            current_status: compliance_status(*current),
            reasons: reasons(why),
        }),
        EventKind::ComplianceActionDue { policy_id, action } => {
            Kind::ComplianceActionDue(pb::ComplianceActionDue {
                policy_id: policy_id.clone(),
                action: action_kind(*action),
            })
        }
        EventKind::AccessChanged {
            resource,
            allowed,
            reasons: why,
        } => Kind::AccessDecisionChange(pb::AccessDecisionChange {
            resource: resource.clone(),
            previous_decision: decision(!allowed),
            current_decision: decision(*allowed),
            reasons: reasons(why),
        }),
        EventKind::AppProtectionChanged {
            policy_id,
            previous,
            current,
            reasons: why,
        } => Kind::AppProtectionChange(pb::AppProtectionChange {
            policy_id: policy_id.clone(),
            previous_decision: app_decision(*previous),
            current_decision: app_decision(*current),
            reasons: reasons(why),
        }),
        EventKind::ConnectorStateChanged {
            connector_id,
            previous,
            current,
        } => Kind::ConnectorStateChange(pb::ConnectorStateChange {
            connector_id: connector_id.to_string(),
            previous_state: connector_state(*previous),
            current_state: connector_state(*current),
        }),
        EventKind::ConfigChanged {
            object,
            id,
            version,
        } => Kind::ConfigChange(pb::ConfigChange {
            object: config_object(*object),
            id: id.clone(),
            version: *version,
        }),
        EventKind::KnownRiskCleared { connector_id, risk } => {
            Kind::KnownRiskCleared(pb::KnownRiskCleared {
                connector_id: connector_id.to_string(),
                risk: Some(known_risk(risk)),
            })
        }
    }
}

pub(crate) fn checkpoint(connector_id: &ConnectorId, checkpoint: Checkpoint) -> pb::Checkpoint {
    pb::Checkpoint {
        connector_id: connector_id.to_string(),
        checkpoint: checkpoint.cursor,
        batch_seq: checkpoint.batch_seq,
        position: checkpoint.position,
        updated_at: Some(timestamp(checkpoint.updated_at)),
    }
}

pub(crate) fn batch_ack(batch_seq: u64, result: &BatchResult) -> pb::BatchAck {
    pb::BatchAck {
        batch_seq,
        outcome: (match result.outcome {
            BatchOutcome::Applied => pb::BatchOutcome::Applied,
            BatchOutcome::Duplicate => pb::BatchOutcome::Duplicate,
        }) as i32,
        applied: result.applied,
        stale: result.stale,
        duplicates: result.duplicates,
        position: result.position,
    }
}
