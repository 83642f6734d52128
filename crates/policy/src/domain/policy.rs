//! The policy model: connectors, compliance policies, conditional-access resources, app-protection policies,
//! tenant settings, and the verdicts evaluation produces. Semantics follow Intune (Microsoft Graph mobileThreatDefenseConnector and compliance-policy resources; Microsoft Learn's MTD pages).

use std::{borrow::Cow, collections::BTreeMap, time::Duration};

use serde::{Deserialize, Serialize};

use super::{ConnectorId, Platform, ThreatLevel, Timestamp};

/// Intune's four connector platforms. iPadOS devices count as iOS (Intune has one iOS toggle for both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TogglePlatform {
    /// Android.
    Android,
    /// iOS and iPadOS.
    Ios,
    /// Windows.
    Windows,
    /// macOS.
    Macos,
}

impl TogglePlatform {
    /// The proto field name of this platform's toggle.
    pub fn name(self) -> &'static str {
        match self {
            Self::Android => "android",
            Self::Ios => "ios",
            Self::Windows => "windows",
            Self::Macos => "macos",
        }
    }
}

impl From<Platform> for TogglePlatform {
    fn from(platform: Platform) -> Self {
        match platform {
            Platform::Android => Self::Android,
            Platform::Ios | Platform::Ipados => Self::Ios,
            Platform::Windows => Self::Windows,
            Platform::Macos => Self::Macos,
        }
    }
}

/// One value per Intune platform.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerPlatform<T> {
    /// Android.
    pub android: T,
    /// iOS and iPadOS.
    pub ios: T,
    /// Windows.
    pub windows: T,
    /// macOS.
    pub macos: T,
}

impl<T> PerPlatform<T> {
    /// The value for a device platform.
    pub fn get(&self, platform: Platform) -> &T {
        self.get_toggle(TogglePlatform::from(platform))
    }

    /// The value for a toggle platform.
    pub fn get_toggle(&self, platform: TogglePlatform) -> &T {
        match platform {
            TogglePlatform::Android => &self.android,
            TogglePlatform::Ios => &self.ios,
            TogglePlatform::Windows => &self.windows,
            TogglePlatform::Macos => &self.macos,
        }
    }

    /// Every value with its platform.
    pub fn iter(&self) -> [(TogglePlatform, &T); 4] {
        [
            (TogglePlatform::Android, &self.android),
            (TogglePlatform::Ios, &self.ios),
            (TogglePlatform::Windows, &self.windows),
            (TogglePlatform::Macos, &self.macos),
        ]
    }
}

impl PerPlatform<bool> {
    /// Whether any platform is on.
    pub fn any(&self) -> bool {
        self.android || self.ios || self.windows || self.macos
    }
}

/// Third party or Microsoft Defender, for app-protection priority (Microsoft Graph mobileThreatDefensePartnerPriority).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PartnerKind {
    /// A third-party MTD partner.
    ThirdParty,
    /// Microsoft Defender for Endpoint.
    MicrosoftDefender,
}

/// Intune's mobileThreatPartnerTenantState (Microsoft Graph), derived by [`Connector::state`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConnectorState {
    /// Deprovisioned: reports are refused.
    Unavailable,
    /// Set up, no toggle on.
    Available,
    /// Set up, at least one toggle on.
    Enabled,
    /// No heartbeat within the threshold: its data is dropped from evaluation.
    Unresponsive,
    /// No heartbeat yet: reports are refused.
    NotSetUp,
    /// The partner reported an error.
    Error,
}

impl ConnectorState {
    /// Whether reports from a connector in this state are accepted (Microsoft Learn, "Mobile Threat Defense integration with Intune": Intune rejects the
    /// partner's messages while it is unavailable or not set up).
    pub fn accepts_reports(self) -> bool {
        !matches!(self, Self::Unavailable | Self::NotSetUp)
    }
}

/// The admin-controlled settings of a connector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectorSettings {
    /// The vendor, such as "lookout".
    pub vendor: String,
    /// Name shown to admins.
    pub display_name: String,
    /// Third party or Defender.
    pub kind: PartnerKind,
    /// Partner data counts for compliance on these platforms.
    pub compliance_enabled: PerPlatform<bool>,
    /// Partner data counts for app protection on these platforms.
    pub app_protection_enabled: PerPlatform<bool>,
    /// Devices are noncompliant until this partner reported, on these platforms.
    pub block_on_missing_partner_data: PerPlatform<bool>,
    /// Devices under the partner's minimum OS are noncompliant.
    pub block_unsupported_os_versions: bool,
    /// The partner's minimum OS versions (empty string: none).
    pub minimum_os_versions: PerPlatform<String>,
    /// Heartbeat silence after which the connector is unresponsive.
    pub unresponsive_after: Duration,
    /// False deprovisions the connector.
    pub provisioned: bool,
    /// What a report without a level counts for after a known risk, and what the connector's reports
    /// count for while it is in ERROR or UNRESPONSIVE.
    pub missing_data: MissingDataMode,
}

/// How a connector's missing data counts: what becomes of the risk it last reported about a device once its
/// reports turn to a state without a level (unknown, activated, deactivated, unresponsive, misconfigured),
/// and whether its reports keep counting while the connector is in ERROR or UNRESPONSIVE.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MissingDataMode {
    /// riskgate's default: the last known risk keeps counting until the partner reports a level again or
    /// an admin clears it, and the connector's reports keep counting while it is in ERROR or
    /// UNRESPONSIVE (a device without known risk then follows the tenant's unresponsive mode).
    #[default]
    LastKnown,
    /// Intune's documented behaviour: a state without a level is missing data (it blocks only with
    /// block-on-missing), a connector in ERROR is ignored unless a device needs its data, and an
    /// unresponsive one's data is dropped (Microsoft Learn, "Enable the MTD connector in Intune").
    Intune,
    /// Stricter than `LastKnown`: a device whose partner lost sight of it after a known risk is
    /// noncompliant, whatever the risk's level, until the partner reports a level again.
    Noncompliant,
}

/// A registered connector: settings plus what heartbeats told us.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connector {
    /// Its id.
    pub connector_id: ConnectorId,
    /// Admin settings.
    pub settings: ConnectorSettings,
    /// When the last heartbeat arrived.
    pub last_heartbeat: Option<Timestamp>,
    /// The error the last heartbeat carried (empty: healthy).
    pub error_message: String,
    /// Up by one on every change.
    pub version: u64,
    /// Its vendor feed's health, as its plugin last reported it.
    pub feed: FeedHealth,
}

/// The state of a connector's vendor feed, as its plugin reports it (ABI minor 2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum FeedState {
    /// Not reported (an older plugin, or none yet).
    #[default]
    Unknown,
    /// Syncing with the vendor.
    Connected,
    /// Reaching the vendor only partly.
    Degraded,
    /// Not reaching the vendor.
    Disconnected,
}

/// A plugin's word on its vendor feed, forwarded with its host's heartbeats.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedHealth {
    /// Connected, degraded or disconnected.
    pub state: FeedState,
    /// Why it is degraded or disconnected.
    pub reason: String,
    /// When the feed entered this state.
    pub since: Option<Timestamp>,
    /// When the plugin last synced with its vendor.
    pub last_vendor_sync: Option<Timestamp>,
}

impl FeedHealth {
    /// Since when the feed has brought nothing: the last successful sync, or the start of its failure if
    /// that is earlier. `None` while nothing was reported.
    pub fn quiet_since(&self) -> Option<Timestamp> {
        let failing_since = match self.state {
            FeedState::Degraded | FeedState::Disconnected => self.since,
            FeedState::Connected | FeedState::Unknown => None,
        };
        [self.last_vendor_sync, failing_since]
            .into_iter()
            .flatten()
            .min()
    }
}

impl Connector {
    /// The state at `now`, derived from settings and heartbeats (Microsoft Graph mobileThreatPartnerTenantState; Microsoft Learn, "Enable the MTD connector in Intune").
    pub fn state(&self, now: Timestamp) -> ConnectorState {
        let settings = &self.settings;
        if !settings.provisioned {
            return ConnectorState::Unavailable;
        }
        let Some(last_heartbeat) = self.last_heartbeat else {
            // A host that failed before its first healthy heartbeat is in error, not merely new.
            return if self.error_message.is_empty() {
                ConnectorState::NotSetUp
            } else {
                ConnectorState::Error
            };
        };
        let silent = |since: Timestamp| now > since.saturating_add(settings.unresponsive_after);
        // Either the host stopped heartbeating, or it still does but its plugin's vendor feed has brought
        // nothing for as long (issue 15: a vendor cloud that fails for days must not look alive).
        if silent(last_heartbeat) || self.feed.quiet_since().is_some_and(silent) {
            ConnectorState::Unresponsive
        } else if !self.error_message.is_empty() {
            ConnectorState::Error
        } else if settings.compliance_enabled.any() || settings.app_protection_enabled.any() {
            ConnectorState::Enabled
        } else {
            ConnectorState::Available
        }
    }

    /// Whether its reports are taken at `now`: it has sent a healthy heartbeat once, and its state
    /// takes reports.
    pub fn accepts_reports(&self, now: Timestamp) -> bool {
        self.last_heartbeat.is_some() && self.state(now).accepts_reports()
    }

    /// When the connector turns unresponsive unless a heartbeat (or word of a vendor sync) arrives first.
    pub fn unresponsive_at(&self) -> Option<Timestamp> {
        let last = [self.last_heartbeat, self.feed.quiet_since()]
            .into_iter()
            .flatten()
            .min()?;
        Some(Timestamp(
            last.saturating_add(self.settings.unresponsive_after)
                .0
                .saturating_add(1),
        ))
    }
}

/// Which devices a policy targets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// Every device.
    pub all_devices: bool,
    /// Devices in any of these groups.
    pub groups: Vec<String>,
    /// Devices in any of these groups are left out.
    pub excluded_groups: Vec<String>,
}

impl Assignment {
    /// Whether a device with these groups is targeted.
    pub fn targets(&self, device_groups: &[String]) -> bool {
        let in_any = |groups: &[String]| groups.iter().any(|group| device_groups.contains(group));
        (self.all_devices || in_any(&self.groups)) && !in_any(&self.excluded_groups)
    }
}

/// A noncompliance action (Microsoft Learn, "Actions for noncompliance").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ActionKind {
    /// Notify the user.
    Notify,
    /// Lock the device remotely.
    RemoteLock,
    /// Add the device to the retire list.
    Retire,
}

/// An action due some time after a device became noncompliant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledAction {
    /// The action.
    pub kind: ActionKind,
    /// Delay after the start of noncompliance.
    pub after: Duration,
}

/// A compliance policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompliancePolicy {
    /// Its id.
    pub policy_id: String,
    /// Name shown to admins.
    pub display_name: String,
    /// Targeted platforms; empty targets all.
    pub platforms: Vec<Platform>,
    /// Targeted devices.
    pub assignment: Assignment,
    /// "At or under" this level; `None` is "not configured".
    pub max_threat_level: Option<ThreatLevel>,
    /// Time in grace before "mark noncompliant".
    pub grace_period: Duration,
    /// Further scheduled actions.
    pub actions: Vec<ScheduledAction>,
    /// Up by one on every update.
    pub version: u64,
    /// When this version was written.
    pub updated_at: Timestamp,
}

/// One rule of a conditional-access resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRule {
    /// Platforms it applies to; empty applies to all.
    pub platforms: Vec<Platform>,
    /// Require a compliant device.
    pub require_compliant_device: bool,
    /// Require the level at or under this.
    pub max_threat_level: Option<ThreatLevel>,
}

/// A conditional-access resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    /// Its name.
    pub name: String,
    /// Its rules.
    pub rules: Vec<AccessRule>,
    /// Up by one on every change.
    pub version: u64,
    /// What a device riskgate has never heard of gets.
    pub unknown_device: UnknownDeviceAccess,
}

/// What a resource answers for a device no partner has reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum UnknownDeviceAccess {
    /// Denied (the default): riskgate cannot vouch for a device it knows nothing about.
    #[default]
    Deny,
    /// Allowed, for resources that must stay open to devices not yet enrolled with a partner.
    Allow,
}

/// Block or wipe (Intune refuses warn: Microsoft Graph managedAppRemediationAction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppAction {
    /// Block the app.
    Block,
    /// Wipe its corporate data.
    Wipe,
}

/// Which partner app protection prefers (Microsoft Graph mobileThreatDefensePartnerPriority: null means Defender first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PartnerPriority {
    /// Defender first.
    DefenderOverThirdParty,
    /// Third party first.
    ThirdPartyOverDefender,
}

/// An app-protection policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppProtectionPolicy {
    /// Its id.
    pub policy_id: String,
    /// Name shown to admins.
    pub display_name: String,
    /// Protected apps.
    pub app_ids: Vec<String>,
    /// Targeted platforms; empty targets all.
    pub platforms: Vec<Platform>,
    /// Max allowed device threat level; `None` is "not configured".
    pub max_threat_level: Option<ThreatLevel>,
    /// What happens above it.
    pub action: AppAction,
    /// Primary MTD service.
    pub partner_priority: PartnerPriority,
    /// Up by one on every change.
    pub version: u64,
}

/// What unassigned devices are (Microsoft Learn, "Compliance policy settings").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NoPolicyStatus {
    /// Compliant (Intune's default).
    Compliant,
    /// Noncompliant.
    Noncompliant,
}

/// How an unresponsive partner affects devices that need its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UnresponsiveMode {
    /// Ignore its data, as Intune does (Microsoft Learn, "Enable the MTD connector in Intune").
    FailOpen,
    /// Devices that need its data are noncompliant.
    FailClosed,
}

/// Tenant-wide settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantSettings {
    /// Status of devices no policy targets.
    pub no_policy_status: NoPolicyStatus,
    /// A device silent for longer is noncompliant.
    pub compliance_validity_period: Duration,
    /// Fail open or closed on unresponsive partners.
    pub unresponsive_mode: UnresponsiveMode,
    /// A device first seen less than this long ago whose MTD app is activated but has not reported a
    /// level yet is in its grace period rather than noncompliant; zero (the default) turns this off.
    pub enrollment_grace: Duration,
}

/// Intune's default compliance validity period: 30 days.
pub const DEFAULT_VALIDITY_PERIOD: Duration = Duration::from_secs(30 * 24 * 3600);
/// Default unresponsiveness threshold: 7 days.
pub const DEFAULT_UNRESPONSIVE_AFTER: Duration = Duration::from_secs(7 * 24 * 3600);

impl Default for TenantSettings {
    fn default() -> Self {
        Self {
            no_policy_status: NoPolicyStatus::Compliant,
            compliance_validity_period: DEFAULT_VALIDITY_PERIOD,
            unresponsive_mode: UnresponsiveMode::FailOpen,
            enrollment_grace: Duration::ZERO,
        }
    }
}

/// Everything admins configure, as one value the evaluator reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyConfig {
    /// Connectors by id.
    pub connectors: BTreeMap<ConnectorId, Connector>,
    /// Compliance policies by id.
    pub policies: BTreeMap<String, CompliancePolicy>,
    /// Resources by name.
    pub resources: BTreeMap<String, Resource>,
    /// App-protection policies by id.
    pub app_policies: BTreeMap<String, AppProtectionPolicy>,
    /// Tenant settings.
    pub tenant: TenantSettings,
}

/// Compliance status, ordered by severity (Microsoft Learn, "Monitor results of your Intune device compliance policies"): the device gets the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ComplianceStatus {
    /// Severity 1.
    Unknown,
    /// Severity 2.
    NotApplicable,
    /// Severity 3.
    Compliant,
    /// Severity 4: noncompliant within the grace period.
    InGracePeriod,
    /// Severity 5.
    Noncompliant,
    /// Severity 6.
    Error,
}

impl ComplianceStatus {
    /// Whether conditional access treats the device as compliant. A device in its grace period keeps access:
    /// that is what the grace period is for.
    pub fn grants_access(self) -> bool {
        matches!(self, Self::Compliant | Self::InGracePeriod)
    }
}

/// Machine-readable reason codes; see `Reason.code` in policy.proto.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReasonCode {
    /// The device is unknown.
    DeviceUnknown,
    /// No policy targets the device.
    NoPolicy,
    /// Compliant.
    Compliant,
    /// Noncompliant.
    Noncompliant,
    /// In the grace period.
    InGracePeriod,
    /// The level is above the allowed one.
    ThreatLevelExceeded,
    /// A required partner has not reported.
    MissingPartnerData,
    /// A partner is unresponsive.
    PartnerUnresponsive,
    /// A partner reports an error.
    PartnerError,
    /// The OS is below the partner's minimum.
    UnsupportedOs,
    /// The device has not reported within the validity period.
    StaleDevice,
    /// HIGH requires an activated MTD app.
    MtdAppNotActivated,
    /// No rule of the resource applies to the platform.
    NoRuleForPlatform,
    /// The user is not the device's owner.
    UserMismatch,
    /// No app-protection policy covers the app.
    NoAppPolicy,
    /// An app-protection policy decided.
    AppPolicy,
    /// The device is unknown and the resource allows unknown devices.
    UnknownDeviceAllowed,
    /// The device is new and its MTD app activated: in the tenant's enrollment window.
    EnrollmentGrace,
}

impl ReasonCode {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DeviceUnknown => "device_unknown",
            Self::NoPolicy => "no_policy",
            Self::Compliant => "compliant",
            Self::Noncompliant => "noncompliant",
            Self::InGracePeriod => "in_grace_period",
            Self::ThreatLevelExceeded => "threat_level_exceeded",
            Self::MissingPartnerData => "missing_partner_data",
            Self::PartnerUnresponsive => "partner_unresponsive",
            Self::PartnerError => "partner_error",
            Self::UnsupportedOs => "unsupported_os",
            Self::StaleDevice => "stale_device",
            Self::MtdAppNotActivated => "mtd_app_not_activated",
            Self::NoRuleForPlatform => "no_rule_for_platform",
            Self::UserMismatch => "user_mismatch",
            Self::NoAppPolicy => "no_app_policy",
            Self::AppPolicy => "app_policy",
            Self::UnknownDeviceAllowed => "unknown_device_allowed",
            Self::EnrollmentGrace => "enrollment_grace",
        }
    }
}

/// Why a verdict came out as it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// What kind of reason.
    pub code: ReasonCode,
    /// Human-readable text; borrowed when it is one of the fixed texts, so that a decision builds no strings
    /// (issue #9, the decision benchmark).
    pub message: Cow<'static, str>,
    /// The policy or resource involved.
    pub policy_id: Option<String>,
    /// The connector involved.
    pub connector_id: Option<ConnectorId>,
    /// The open threats behind it.
    pub threat_ids: Vec<String>,
}

impl Reason {
    /// A reason with only a code and a message.
    pub fn new(code: ReasonCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            message: message.into(),
            policy_id: None,
            connector_id: None,
            threat_ids: Vec::new(),
        }
    }

    /// Names the policy or resource.
    pub fn policy(mut self, policy_id: &str) -> Self {
        self.policy_id = Some(policy_id.to_owned());
        self
    }

    /// Names the connector.
    pub fn connector(mut self, connector_id: &ConnectorId) -> Self {
        self.connector_id = Some(connector_id.clone());
        self
    }

    /// Lists the threats.
    pub fn threats(mut self, threat_ids: Vec<String>) -> Self {
        self.threat_ids = threat_ids;
        self
    }
}

/// The app-protection verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppDecision {
    /// The app may start.
    Allow,
    /// Blocked.
    Block,
    /// Corporate data wiped.
    Wipe,
}

impl From<AppAction> for AppDecision {
    fn from(action: AppAction) -> Self {
        match action {
            AppAction::Block => Self::Block,
            AppAction::Wipe => Self::Wipe,
        }
    }
}
