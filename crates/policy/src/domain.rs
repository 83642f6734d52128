//! The domain model: devices, partner reports, threats and the event log, free of any wire format.
//!
//! These types are what the store persists (hence `Serialize`) and what the service logic works on.
//! The gRPC edge (`crate::grpc`) parses proto messages into them and renders them back.

mod api_names;
mod ids;
pub mod policy;
mod time;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use ids::{ConnectorId, DeviceId};
pub use time::{Clock, ManualClock, SystemClock, Timestamp};

use policy::{ActionKind, AppDecision, ComplianceStatus, ConnectorState, MissingDataMode, Reason};

/// The operating-system family of a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Platform {
    /// Android phones and tablets.
    Android,
    /// iPhone.
    Ios,
    /// iPad.
    Ipados,
    /// Windows 10 and later.
    Windows,
    /// macOS.
    Macos,
}

/// Device threat level, ordered from best to worst (Microsoft Graph deviceThreatProtectionLevel: secured < low < medium < high).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ThreatLevel {
    /// No threats found.
    Secured,
    /// Minimal risk.
    Low,
    /// Moderate risk.
    Medium,
    /// Severe risk.
    High,
}

/// The ten partner-reported health states of Intune's `managedDevicePartnerReportedHealthState` (Microsoft Graph).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HealthState {
    /// Health state not yet reported.
    Unknown,
    /// Activated by the partner, no health reported yet.
    Activated,
    /// Deactivated by the partner; health unknown.
    Deactivated,
    /// Considered secured by the partner.
    Secured,
    /// Low threat.
    LowSeverity,
    /// Medium threat.
    MediumSeverity,
    /// High threat.
    HighSeverity,
    /// The partner considers the device unresponsive; health unknown.
    Unresponsive,
    /// An active threat the user cannot easily remediate.
    Compromised,
    /// A required profile or configuration is missing, so analysis cannot complete.
    Misconfigured,
}

impl HealthState {
    /// The threat level this state carries, or `None` when it means missing data.
    ///
    /// Intune does not document this for the non-level states (the Graph enum leaves it undocumented).
    /// riskgate's choice: compromised counts as high (it is an active threat); unknown, activated, deactivated,
    /// unresponsive and misconfigured carry no level, so policies treat them as missing partner data.
    pub fn level(self) -> Option<ThreatLevel> {
        match self {
            Self::Secured => Some(ThreatLevel::Secured),
            Self::LowSeverity => Some(ThreatLevel::Low),
            Self::MediumSeverity => Some(ThreatLevel::Medium),
            Self::HighSeverity | Self::Compromised => Some(ThreatLevel::High),
            Self::Unknown
            | Self::Activated
            | Self::Deactivated
            | Self::Unresponsive
            | Self::Misconfigured => None,
        }
    }
}

/// What a threat is about (Lookout's issue types, Microsoft Learn "Lookout Mobile Endpoint Security connector with Intune").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ThreatCategory {
    /// A malicious or risky app.
    Application,
    /// A network threat such as a man-in-the-middle network.
    Network,
    /// An OS flaw.
    Os,
    /// Phishing or malicious web content.
    WebContent,
    /// A risky configuration.
    Configuration,
    /// A malicious file.
    File,
}

/// Lifecycle of a threat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ThreatStatus {
    /// Still present.
    Open,
    /// Remediated.
    Resolved,
    /// Ignored by an administrator.
    Ignored,
}

/// One threat a partner found on a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Threat {
    /// The partner's identifier of the threat.
    pub vendor_threat_id: String,
    /// What it is about.
    pub category: ThreatCategory,
    /// The partner's classification, free text.
    pub classification: String,
    /// The partner's severity.
    pub severity: ThreatLevel,
    /// Whether it is still present.
    pub status: ThreatStatus,
    /// When it was detected.
    pub detected_at: Timestamp,
    /// When it was resolved, if it was.
    pub resolved_at: Option<Timestamp>,
    /// Human-readable description.
    pub description: String,
}

/// Identity and inventory of a device, as the latest report described it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    /// Platform.
    pub platform: Platform,
    /// OS version (may be empty).
    pub os_version: String,
    /// Hardware model (may be empty).
    pub model: String,
    /// Owner user (may be empty).
    pub owner_user_id: String,
    /// Groups of the device or its user.
    pub groups: Vec<String>,
}

/// One partner's validated observation of one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceReport {
    /// The device.
    pub device_id: DeviceId,
    /// Its identity and inventory.
    pub info: DeviceInfo,
    /// The partner-reported health state.
    pub health_state: HealthState,
    /// The partner's threats.
    pub threats: Vec<Threat>,
    /// When the partner observed this state.
    pub observed_at: Timestamp,
    /// The partner's event id, used to drop redelivered events.
    pub vendor_event_id: String,
}

/// A validated batch of reports from one connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportBatch {
    /// The connector that sent it.
    pub connector_id: ConnectorId,
    /// The connector's batch number, increasing.
    pub batch_seq: u64,
    /// The connector's opaque vendor cursor after this batch.
    pub checkpoint: Vec<u8>,
    /// The reports, applied in order.
    pub reports: Vec<DeviceReport>,
}

/// The latest report of one connector about one device, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerReport {
    /// The reported health state.
    pub health_state: HealthState,
    /// The reported threats.
    pub threats: Vec<Threat>,
    /// When the partner observed it.
    pub observed_at: Timestamp,
    /// When the core applied it.
    pub received_at: Timestamp,
    /// The partner's event id.
    pub vendor_event_id: String,
    /// The event-log position at which it was applied.
    pub position: u64,
    /// The risk this partner last reported, kept while its reports carry no level (see [`KnownRisk`]).
    pub known_risk: Option<KnownRisk>,
}

impl PartnerReport {
    /// The level this report carries, `None` for missing data.
    pub fn level(&self) -> Option<ThreatLevel> {
        self.health_state.level()
    }

    /// The partner's last word on the device's risk: the level this report carries, or else the level of
    /// the risk it last reported ([`KnownRisk`]).
    pub fn known_level(&self) -> Option<ThreatLevel> {
        self.level()
            .or_else(|| self.known_risk.as_ref().map(KnownRisk::level))
    }

    /// What the report after this one keeps of the risk known so far, when that one carries `next`: a
    /// report with a level replaces whatever was known; one without keeps the earlier risk, or this
    /// report's own when it was a risk (LOW or worse). A SECURED report leaves nothing to keep.
    pub fn risk_kept_for(&self, next: HealthState) -> Option<KnownRisk> {
        if next.level().is_some() {
            return None;
        }
        match self.level() {
            Some(level) if level > ThreatLevel::Secured => Some(KnownRisk {
                health_state: self.health_state,
                observed_at: self.observed_at,
                threat_ids: self
                    .threats
                    .iter()
                    .filter(|threat| threat.status == ThreatStatus::Open)
                    .map(|threat| threat.vendor_threat_id.clone())
                    .collect(),
            }),
            Some(_) => None,
            None => self.known_risk.clone(),
        }
    }
}

/// A risk a partner reported (LOW, MEDIUM, HIGH or COMPROMISED) before its reports about the device turned
/// to missing data: the MTD app was uninstalled, deactivated or disconnected, so the partner can no longer
/// see the device. Under the connector's default `MissingDataMode::LastKnown` it keeps counting until the
/// partner reports a level again (secured or not) or an admin clears it, so removing the app never clears
/// a risk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownRisk {
    /// The health state the partner last reported with a level.
    pub health_state: HealthState,
    /// When the partner observed it.
    pub observed_at: Timestamp,
    /// The threats open in that report.
    pub threat_ids: Vec<String>,
}

impl KnownRisk {
    /// Its level.
    pub fn level(&self) -> ThreatLevel {
        // Only states with a level are kept (`PartnerReport::risk_kept_for`).
        self.health_state.level().unwrap_or(ThreatLevel::High)
    }
}

/// A device's latest state: its inventory and the current report of every connector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRecord {
    /// The device.
    pub device_id: DeviceId,
    /// Inventory, from the latest applied report.
    pub info: DeviceInfo,
    /// When the first report was applied.
    pub first_seen: Timestamp,
    /// When the latest report was applied.
    pub last_seen: Timestamp,
    /// The current report per connector.
    pub reports: BTreeMap<ConnectorId, PartnerReport>,
    /// The position of the device's latest event.
    pub position: u64,
}

impl DeviceRecord {
    /// The device's aggregated level: the worst of its reports' known levels (`PartnerReport::known_level`),
    /// `None` if none carries one.
    pub fn level(&self) -> Option<ThreatLevel> {
        self.level_among(|_| Some(MissingDataMode::LastKnown))
    }

    /// The aggregated level as policies see it: over the reports of the connectors `counted` names (a
    /// deleted connector's reports no longer count), each under its connector's missing-data mode.
    pub fn level_among(
        &self,
        counted: impl Fn(&ConnectorId) -> Option<MissingDataMode>,
    ) -> Option<ThreatLevel> {
        self.reports
            .iter()
            .filter_map(|(connector_id, report)| match counted(connector_id)? {
                MissingDataMode::Intune => report.level(),
                MissingDataMode::LastKnown | MissingDataMode::Noncompliant => report.known_level(),
            })
            .max()
    }
}

/// One entry of the append-only event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the log: contiguous from 1.
    pub position: u64,
    /// When the core wrote it.
    pub time: Timestamp,
    /// The device it is about; `None` for connector and configuration events.
    pub device_id: Option<DeviceId>,
    /// What happened.
    pub kind: EventKind,
}

/// What an event records. Names follow OpenID CAEP where one exists (OpenID CAEP 1.0): risk-level change
/// (`DeviceReported` with previous and current level), device-compliance change, session revocation
/// (`AccessChanged` to deny).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    /// A connector's report was applied.
    DeviceReported(DeviceReported),
    /// The device's compliance status changed.
    ComplianceChanged {
        /// Before.
        previous: ComplianceStatus,
        /// After.
        current: ComplianceStatus,
        /// Why it is what it is now.
        reasons: Vec<Reason>,
    },
    /// A scheduled noncompliance action fell due.
    ComplianceActionDue {
        /// The policy whose schedule it is.
        policy_id: String,
        /// The action.
        action: ActionKind,
    },
    /// A conditional-access decision flipped.
    AccessChanged {
        /// The resource.
        resource: String,
        /// The new decision (the previous one is its opposite).
        allowed: bool,
        /// Why.
        reasons: Vec<Reason>,
    },
    /// An app-protection decision changed: block or wipe falls due, or access is restored.
    AppProtectionChanged {
        /// The app-protection policy.
        policy_id: String,
        /// Before.
        previous: AppDecision,
        /// After.
        current: AppDecision,
        /// Why.
        reasons: Vec<Reason>,
    },
    /// A connector's state changed; `None` means not registered.
    ConnectorStateChanged {
        /// The connector.
        connector_id: ConnectorId,
        /// Before.
        previous: Option<ConnectorState>,
        /// After.
        current: Option<ConnectorState>,
    },
    /// An admin changed the configuration.
    ConfigChanged {
        /// What kind of object.
        object: ConfigObject,
        /// Its id.
        id: String,
        /// Its new version (0 when deleted).
        version: u64,
    },
    /// An admin cleared the risk a partner last reported for a device (`KnownRisk`), after checking the
    /// device by other means.
    KnownRiskCleared {
        /// The partner whose known risk was cleared.
        connector_id: ConnectorId,
        /// The risk that no longer counts.
        risk: KnownRisk,
    },
}

/// The kinds of configuration object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConfigObject {
    /// A connector.
    Connector,
    /// A compliance policy.
    CompliancePolicy,
    /// A conditional-access resource.
    Resource,
    /// An app-protection policy.
    AppProtectionPolicy,
    /// The tenant settings.
    TenantSettings,
}

/// A connector's report was applied to a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceReported {
    /// The connector.
    pub connector_id: ConnectorId,
    /// The reported health state.
    pub health_state: HealthState,
    /// The device's aggregated level before the report.
    pub previous_level: Option<ThreatLevel>,
    /// The device's aggregated level after it.
    pub current_level: Option<ThreatLevel>,
    /// The partner's event id.
    pub vendor_event_id: String,
    /// When the partner observed it.
    pub observed_at: Timestamp,
    /// The threats it carried.
    pub threats: Vec<Threat>,
}

/// A connector's last acknowledged position in its vendor feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The opaque vendor cursor.
    pub cursor: Vec<u8>,
    /// The batch number it came with.
    pub batch_seq: u64,
    /// The log position at which it was committed.
    pub position: u64,
    /// When it was acknowledged.
    pub updated_at: Timestamp,
}

#[cfg(test)]
mod tests;
