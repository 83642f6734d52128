//! Pure evaluation: given the configuration, the connectors' states, a device's summary and the time, what
//! is its compliance, may it reach a resource, may an app start. No I/O and no clock: everything comes in
//! as arguments, so every rule is table-tested (`evaluate/tests.rs`).
//!
//! Decisions not documented by Intune, and riskgate's choice (riskgate makes each explicit):
//! - Health states that carry no level (unknown, activated, deactivated, unresponsive, misconfigured) count
//!   as missing partner data; compromised counts as high (`HealthState::level`).
//! - Partner rules (missing data, unsupported OS, unresponsive partner) are part of a policy's MTD rule, so
//!   they apply only to policies whose threat-level rule is configured.
//! - Under Intune's behaviour, a partner in ERROR state is ignored, unless the device needs its data
//!   (block-on-missing), which makes the policy's status ERROR.
//! - In conditional access, a device in its grace period keeps access, and a level rule with no partner
//!   level for the device denies (fail closed).
//! - App protection with a configured level and no partner data blocks: Intune requires the MTD app to be
//!   activated before it can judge the device.
//!
//! Where riskgate is safer than Intune by default (`Evidence`, the one place these rules live), each with
//! the connector's `MissingDataMode::Intune` restoring Intune's behaviour:
//! - A report without a level after a LOW or worse one keeps the earlier risk counting (`KnownRisk`), so
//!   removing or disconnecting the MTD app never clears a risk.
//! - A connector in ERROR keeps its reports counting as they are.
//! - An unresponsive connector's known risks keep counting; a device it knew no risk of follows the
//!   tenant's fail mode.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::{
    policy::{
        ActionKind, AppDecision, AppProtectionPolicy, CompliancePolicy, ComplianceStatus,
        Connector, ConnectorState, MissingDataMode, NoPolicyStatus, PartnerKind, PartnerPriority,
        PolicyConfig, Reason, ReasonCode, Resource, UnknownDeviceAccess, UnresponsiveMode,
    },
    ConnectorId, DeviceRecord, HealthState, KnownRisk, Platform, ThreatLevel, ThreatStatus,
    Timestamp,
};

/// What evaluation needs of a device; small, so every device fits in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceSummary {
    /// Platform.
    pub platform: Platform,
    /// OS version (may be empty).
    pub os_version: String,
    /// Owner (may be empty).
    pub owner_user_id: String,
    /// Groups.
    pub groups: Vec<String>,
    /// When the first report was applied.
    pub first_seen: Timestamp,
    /// When the latest report was applied.
    pub last_seen: Timestamp,
    /// Each connector's latest report, sorted by connector id.
    pub reports: Vec<(ConnectorId, PartnerSummary)>,
}

/// What evaluation needs of one partner report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerSummary {
    /// The reported health state.
    pub health_state: HealthState,
    /// Ids of the open threats, for reasons.
    pub open_threat_ids: Vec<String>,
    /// The risk the partner reported before it lost sight of the device (boxed: rare, and a million
    /// summaries must stay small).
    pub known_risk: Option<Box<KnownRisk>>,
}

impl DeviceSummary {
    /// The summary of a stored device.
    pub fn from_record(device: &DeviceRecord) -> Self {
        Self {
            platform: device.info.platform,
            os_version: device.info.os_version.clone(),
            owner_user_id: device.info.owner_user_id.clone(),
            groups: device.info.groups.clone(),
            first_seen: device.first_seen,
            last_seen: device.last_seen,
            reports: device
                .reports
                .iter()
                .map(|(connector_id, report)| {
                    let open_threat_ids = report
                        .threats
                        .iter()
                        .filter(|threat| threat.status == ThreatStatus::Open)
                        .map(|threat| threat.vendor_threat_id.clone())
                        .collect();
                    (
                        connector_id.clone(),
                        PartnerSummary {
                            health_state: report.health_state,
                            open_threat_ids,
                            known_risk: report.known_risk.clone().map(Box::new),
                        },
                    )
                })
                .collect(),
        }
    }

    /// This connector's report, if any.
    pub fn report(&self, connector_id: &ConnectorId) -> Option<&PartnerSummary> {
        self.reports
            .binary_search_by(|(id, _)| id.cmp(connector_id))
            .ok()
            .map(|index| &self.reports[index].1)
    }
}

/// Every connector's state at one instant, computed once per evaluation pass. Persisted, so that a restart
/// logs the transitions that happened while the core was down, and only those.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectorStates(BTreeMap<ConnectorId, ConnectorState>);

impl ConnectorStates {
    /// The states at `now`.
    pub fn at(config: &PolicyConfig, now: Timestamp) -> Self {
        Self(
            config
                .connectors
                .values()
                .map(|connector| (connector.connector_id.clone(), connector.state(now)))
                .collect(),
        )
    }

    /// Every connector these states know.
    pub fn ids(&self) -> impl Iterator<Item = &ConnectorId> {
        self.0.keys()
    }

    /// One connector's state (`None` if unknown).
    pub fn get(&self, connector_id: &ConnectorId) -> Option<ConnectorState> {
        self.0.get(connector_id).copied()
    }
}

/// A noncompliance episode under one policy, persisted so that restarts keep grace periods running.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Episode {
    /// When the device became noncompliant under the policy.
    pub since: Timestamp,
    /// Actions already fired in this episode, as (kind, delay in seconds).
    pub fired: Vec<(ActionKind, u64)>,
}

/// One policy's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVerdict {
    /// The policy.
    pub policy_id: String,
    /// Its status.
    pub status: ComplianceStatus,
    /// Why.
    pub reasons: Vec<Reason>,
    /// Start of the noncompliance episode.
    pub noncompliant_since: Option<Timestamp>,
    /// End of the grace period, while in it.
    pub grace_ends: Option<Timestamp>,
}

/// A device's compliance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compliance {
    /// The worst status.
    pub status: ComplianceStatus,
    /// Per targeting policy.
    pub policies: Vec<PolicyVerdict>,
    /// Reasons not tied to a policy.
    pub reasons: Vec<Reason>,
    /// Noncompliance episodes after this evaluation.
    pub episodes: BTreeMap<String, Episode>,
    /// Actions that fell due in this evaluation, as (policy, action).
    pub due_actions: Vec<(String, ActionKind)>,
    /// The next instant at which this evaluation may change without any new input.
    pub next_deadline: Option<Timestamp>,
}

/// What an access decision needs of a device's compliance: its status, and for a deny, why.
pub trait ComplianceFacts {
    /// The device's compliance status.
    fn status(&self) -> ComplianceStatus;

    /// The reasons of the policies the device fails, and those tied to no policy (except "no policy").
    fn noncompliance_reasons(
        &self,
        config: &PolicyConfig,
        states: &ConnectorStates,
        device: &DeviceSummary,
    ) -> Vec<Reason>;
}

impl ComplianceFacts for Compliance {
    fn status(&self) -> ComplianceStatus {
        self.status
    }

    fn noncompliance_reasons(
        &self,
        _config: &PolicyConfig,
        _states: &ConnectorStates,
        _device: &DeviceSummary,
    ) -> Vec<Reason> {
        self.policies
            .iter()
            .filter(|verdict| !verdict.status.grants_access())
            .flat_map(|verdict| verdict.reasons.iter().cloned())
            .chain(
                self.reasons
                    .iter()
                    .filter(|reason| reason.code != ReasonCode::NoPolicy)
                    .cloned(),
            )
            .collect()
    }
}

/// What one connector's report about a device counts for, once the connector's state and missing-data mode
/// are applied. The one place those rules live: compliance, conditional access and app protection all ask it.
#[derive(Debug, Clone, Copy)]
enum Evidence<'a> {
    /// The connector's data does not count: Intune ignores an unresponsive partner, or a device without
    /// known risk fails open.
    Ignored,
    /// The connector is unresponsive and the tenant fails closed for a device without known risk.
    UnresponsiveFailClosed,
    /// The connector is in ERROR and, under Intune's behaviour, its data does not count.
    PartnerError,
    /// A level: the report's own, or (`held`) the risk the partner last reported before losing sight.
    Level {
        level: ThreatLevel,
        threat_ids: &'a [String],
        held: Option<&'a KnownRisk>,
        report: &'a PartnerSummary,
    },
    /// Under `MissingDataMode::Noncompliant`: the partner lost sight of a device with a known risk.
    LostSight {
        risk: &'a KnownRisk,
        report: &'a PartnerSummary,
    },
    /// No level: no report, or a report without a level and nothing known before it.
    Missing(Option<&'a PartnerSummary>),
}

impl Evidence<'_> {
    /// The level it carries, if any.
    fn level(&self) -> Option<ThreatLevel> {
        match self {
            Self::Level { level, .. } => Some(*level),
            Self::LostSight { risk, .. } => Some(risk.level()),
            _ => None,
        }
    }
}

/// The evidence of `connector`, in `state`, about a device whose report from it is `report`.
fn evidence<'a>(
    config: &PolicyConfig,
    connector: &Connector,
    state: ConnectorState,
    report: Option<&'a PartnerSummary>,
) -> Evidence<'a> {
    let mode = connector.settings.missing_data;
    let reported = match report {
        None => Evidence::Missing(None),
        Some(report) => match (report.health_state.level(), report.known_risk.as_deref()) {
            (Some(level), _) => Evidence::Level {
                level,
                threat_ids: &report.open_threat_ids,
                held: None,
                report,
            },
            (None, Some(risk)) if mode == MissingDataMode::LastKnown => Evidence::Level {
                level: risk.level(),
                threat_ids: &risk.threat_ids,
                held: Some(risk),
                report,
            },
            (None, Some(risk)) if mode == MissingDataMode::Noncompliant => {
                Evidence::LostSight { risk, report }
            }
            (None, _) => Evidence::Missing(Some(report)),
        },
    };
    let fail_mode = || match config.tenant.unresponsive_mode {
        UnresponsiveMode::FailOpen => Evidence::Ignored,
        UnresponsiveMode::FailClosed => Evidence::UnresponsiveFailClosed,
    };
    match (state, mode) {
        // Microsoft Learn, "Enable the MTD connector in Intune": "Intune will ignore the data from this MTD partner"; fail-closed is our option.
        (ConnectorState::Unresponsive, MissingDataMode::Intune) => fail_mode(),
        // riskgate's default: a silent partner's known risk still counts; only a device it knew no risk
        // of follows the tenant's fail mode.
        (ConnectorState::Unresponsive, _)
            if reported
                .level()
                .is_none_or(|level| level == ThreatLevel::Secured) =>
        {
            fail_mode()
        }
        (ConnectorState::Error, MissingDataMode::Intune) => Evidence::PartnerError,
        _ => reported,
    }
}

/// The connectors whose data counts for compliance on `platform`, with their states.
fn compliance_connectors<'a>(
    config: &'a PolicyConfig,
    states: &'a ConnectorStates,
    platform: Platform,
) -> impl Iterator<Item = (&'a Connector, ConnectorState)> + 'a {
    config.connectors.values().filter_map(move |connector| {
        let state = states.get(&connector.connector_id)?;
        (*connector.settings.compliance_enabled.get(platform) && state.accepts_reports())
            .then_some((connector, state))
    })
}

/// The device's threat level as policies see it: the worst level among the evidence of connectors whose
/// data counts for compliance on its platform.
pub fn effective_level(
    config: &PolicyConfig,
    states: &ConnectorStates,
    device: &DeviceSummary,
) -> Option<ThreatLevel> {
    worst_evidence(config, states, device).map(|worst| worst.level)
}

/// Whether a policy targets a device.
pub fn policy_targets(policy: &CompliancePolicy, device: &DeviceSummary) -> bool {
    (policy.platforms.is_empty() || policy.platforms.contains(&device.platform))
        && policy.assignment.targets(&device.groups)
}

/// The device's compliance at `now`, given its previous noncompliance episodes.
pub fn evaluate_compliance(
    config: &PolicyConfig,
    states: &ConnectorStates,
    device: &DeviceSummary,
    previous: &BTreeMap<String, Episode>,
    now: Timestamp,
) -> Compliance {
    let mut compliance = Compliance {
        status: ComplianceStatus::Compliant,
        policies: Vec::new(),
        reasons: Vec::new(),
        episodes: BTreeMap::new(),
        due_actions: Vec::new(),
        next_deadline: None,
    };
    let mut deadline = Deadline::default();
    for policy in config
        .policies
        .values()
        .filter(|policy| policy_targets(policy, device))
    {
        let (status, reasons) = evaluate_rule(config, states, device, policy);
        let mut verdict = PolicyVerdict {
            policy_id: policy.policy_id.clone(),
            status,
            reasons,
            noncompliant_since: None,
            grace_ends: None,
        };
        if status == ComplianceStatus::Noncompliant {
            match enrollment_window_end(config, states, device, now) {
                Some(window_ends) => enrollment_grace(&mut verdict, window_ends, &mut deadline),
                None => {
                    let episode = previous.get(&policy.policy_id).cloned();
                    noncompliance_episode(
                        policy,
                        episode,
                        &mut verdict,
                        &mut compliance,
                        &mut deadline,
                        now,
                    );
                }
            }
        }
        compliance.policies.push(verdict);
    }
    compliance.status = worst_status(config, &mut compliance);
    check_validity_period(config, device, now, &mut compliance, &mut deadline);
    compliance.next_deadline = deadline.0;
    compliance
}

/// A new device with an activated MTD app and no scan yet is in grace until the enrollment window ends.
fn enrollment_grace(verdict: &mut PolicyVerdict, window_ends: Timestamp, deadline: &mut Deadline) {
    verdict.status = ComplianceStatus::InGracePeriod;
    verdict.grace_ends = Some(window_ends);
    verdict.reasons.push(
        Reason::new(
            ReasonCode::EnrollmentGrace,
            "new device with an activated MTD app and no scan yet, within the enrollment window",
        )
        .policy(&verdict.policy_id),
    );
    deadline.add(window_ends);
}

/// A noncompliant policy's episode: in grace until the grace period ends, and each scheduled action due
/// once, when its delay after the episode's start has passed.
fn noncompliance_episode(
    policy: &CompliancePolicy,
    previous: Option<Episode>,
    verdict: &mut PolicyVerdict,
    compliance: &mut Compliance,
    deadline: &mut Deadline,
    now: Timestamp,
) {
    let mut episode = previous.unwrap_or(Episode {
        since: now,
        fired: Vec::new(),
    });
    let grace_ends = episode.since.saturating_add(policy.grace_period);
    verdict.noncompliant_since = Some(episode.since);
    if now < grace_ends {
        verdict.status = ComplianceStatus::InGracePeriod;
        verdict.grace_ends = Some(grace_ends);
        verdict.reasons.push(
            Reason::new(
                ReasonCode::InGracePeriod,
                "noncompliant, within the grace period",
            )
            .policy(&policy.policy_id),
        );
        deadline.add(grace_ends);
    }
    for action in &policy.actions {
        let identity = (action.kind, action.after.as_secs());
        if episode.fired.contains(&identity) {
            continue;
        }
        let due_at = episode.since.saturating_add(action.after);
        if due_at <= now {
            episode.fired.push(identity);
            compliance
                .due_actions
                .push((policy.policy_id.clone(), action.kind));
        } else {
            deadline.add(due_at);
        }
    }
    compliance
        .episodes
        .insert(policy.policy_id.clone(), episode);
}

/// The worst status of the policies' verdicts; with no policy, the tenant's choice.
fn worst_status(config: &PolicyConfig, compliance: &mut Compliance) -> ComplianceStatus {
    let worst = compliance
        .policies
        .iter()
        .map(|verdict| verdict.status)
        .max();
    worst.unwrap_or_else(|| {
        compliance.reasons.push(Reason::new(
            ReasonCode::NoPolicy,
            "no compliance policy targets the device",
        ));
        match config.tenant.no_policy_status {
            NoPolicyStatus::Compliant => ComplianceStatus::Compliant,
            NoPolicyStatus::Noncompliant => ComplianceStatus::Noncompliant,
        }
    })
}

/// Intune's compliance status validity period (Microsoft Learn, "Compliance policy settings"): a device that
/// stops reporting becomes noncompliant.
fn check_validity_period(
    config: &PolicyConfig,
    device: &DeviceSummary,
    now: Timestamp,
    compliance: &mut Compliance,
    deadline: &mut Deadline,
) {
    let stale_at = device
        .last_seen
        .saturating_add(config.tenant.compliance_validity_period);
    if now >= stale_at {
        compliance.status = compliance.status.max(ComplianceStatus::Noncompliant);
        compliance.reasons.push(Reason::new(
            ReasonCode::StaleDevice,
            "no report within the compliance validity period",
        ));
    } else {
        deadline.add(stale_at);
    }
}

/// When the tenant's enrollment window ends for a device in it: first seen less than the window ago, its MTD
/// app activated with a partner whose data counts, and no level from any partner yet. `None` when the window
/// is off or the device is not in it.
fn enrollment_window_end(
    config: &PolicyConfig,
    states: &ConnectorStates,
    device: &DeviceSummary,
    now: Timestamp,
) -> Option<Timestamp> {
    let window = config.tenant.enrollment_grace;
    let ends = device.first_seen.saturating_add(window);
    let activated = compliance_connectors(config, states, device.platform).any(|(connector, _)| {
        device
            .report(&connector.connector_id)
            .is_some_and(|report| report.health_state == HealthState::Activated)
    });
    let scanned = device
        .reports
        .iter()
        .any(|(_, report)| report.health_state.level().is_some() || report.known_risk.is_some());
    (!window.is_zero() && now < ends && activated && !scanned).then_some(ends)
}

#[derive(Default)]
struct Deadline(Option<Timestamp>);

impl Deadline {
    fn add(&mut self, at: Timestamp) {
        self.0 = Some(self.0.map_or(at, |current| current.min(at)));
    }
}

/// One policy's rule, before grace periods: compliant, noncompliant or error, with reasons.
fn evaluate_rule(
    config: &PolicyConfig,
    states: &ConnectorStates,
    device: &DeviceSummary,
    policy: &CompliancePolicy,
) -> (ComplianceStatus, Vec<Reason>) {
    let policy_id = policy.policy_id.as_str();
    let Some(max_level) = policy.max_threat_level else {
        return (
            ComplianceStatus::Compliant,
            vec![Reason::new(
                ReasonCode::Compliant,
                "no device threat level rule is configured",
            )
            .policy(policy_id)],
        );
    };
    let mut findings = RuleFindings::new(policy_id);
    for (connector, state) in compliance_connectors(config, states, device.platform) {
        findings.weigh_partner(config, connector, state, device);
        findings.check_minimum_os(connector, device);
    }
    findings.verdict(max_level)
}

/// What one policy's rule found among a device's partners, gathered partner by partner.
struct RuleFindings<'a> {
    policy_id: &'a str,
    /// Reasons the device is noncompliant.
    failures: Vec<Reason>,
    /// Reasons the rule cannot be decided (a partner in error whose data is required).
    errors: Vec<Reason>,
    /// The worst level any partner's evidence carries.
    worst: Option<Worst<'a>>,
    /// Whether any partner has the MTD app activated on the device.
    activated: bool,
}

impl<'a> RuleFindings<'a> {
    fn new(policy_id: &'a str) -> Self {
        Self {
            policy_id,
            failures: Vec::new(),
            errors: Vec::new(),
            worst: None,
            activated: false,
        }
    }

    /// Adds what `connector`'s report counts for.
    fn weigh_partner(
        &mut self,
        config: &PolicyConfig,
        connector: &'a Connector,
        state: ConnectorState,
        device: &'a DeviceSummary,
    ) {
        let connector_id = &connector.connector_id;
        let needs_data = *connector
            .settings
            .block_on_missing_partner_data
            .get(device.platform);
        let report = device.report(connector_id);
        self.activated |= report.is_some_and(|report| {
            !matches!(
                report.health_state,
                HealthState::Unknown | HealthState::Deactivated
            )
        });
        match evidence(config, connector, state, report) {
            Evidence::Ignored => {}
            Evidence::UnresponsiveFailClosed => self.fail(
                connector_id,
                ReasonCode::PartnerUnresponsive,
                format!("partner {connector_id} is unresponsive (fail closed)"),
            ),
            Evidence::PartnerError => {
                if needs_data {
                    let reason = Reason::new(
                        ReasonCode::PartnerError,
                        format!(
                            "partner {connector_id} reports an error: {}",
                            connector.error_message
                        ),
                    );
                    self.errors
                        .push(reason.policy(self.policy_id).connector(connector_id));
                }
            }
            evidence @ Evidence::Level { level, .. } => {
                if self.worst.as_ref().is_none_or(|worst| level > worst.level) {
                    self.worst = Worst::of(connector_id, evidence);
                }
            }
            Evidence::LostSight { risk, report } => self.failures.push(
                Reason::new(
                    ReasonCode::MissingPartnerData,
                    format!(
                        "partner {connector_id} lost sight of the device after {}; it now reports {} (missing data is noncompliant)",
                        texts::known_risk(connector_id, risk),
                        report.health_state.api_name()
                    ),
                )
                .policy(self.policy_id)
                .connector(connector_id)
                .threats(risk.threat_ids.clone()),
            ),
            // Intune (Microsoft Learn, "Create a Mobile Threat Defense device compliance policy"): with
            // block-on-missing, data must arrive before the device is compliant.
            Evidence::Missing(report) if needs_data => {
                let state = report.map_or("no report".to_owned(), |report| {
                    format!("health state {}", report.health_state.api_name())
                });
                self.fail(
                    connector_id,
                    ReasonCode::MissingPartnerData,
                    format!("partner {connector_id} has no threat level for the device ({state})"),
                );
            }
            Evidence::Missing(_) => {}
        }
    }

    /// Devices below the partner's minimum OS are noncompliant when the partner blocks unsupported
    /// versions (Intune's "Block unsupported OS versions" connector setting).
    fn check_minimum_os(&mut self, connector: &Connector, device: &DeviceSummary) {
        let settings = &connector.settings;
        let minimum = settings.minimum_os_versions.get(device.platform);
        if settings.block_unsupported_os_versions
            && !minimum.is_empty()
            && !os_at_least(&device.os_version, minimum)
        {
            self.fail(
                &connector.connector_id,
                ReasonCode::UnsupportedOs,
                format!(
                    "OS version {:?} is below partner {}'s minimum {minimum}",
                    device.os_version, connector.connector_id
                ),
            );
        }
    }

    fn fail(&mut self, connector_id: &ConnectorId, code: ReasonCode, text: String) {
        self.failures.push(
            Reason::new(code, text)
                .policy(self.policy_id)
                .connector(connector_id),
        );
    }

    /// The rule's status and reasons once every partner is weighed: errors first, then failures, else
    /// compliant.
    fn verdict(mut self, max_level: ThreatLevel) -> (ComplianceStatus, Vec<Reason>) {
        let policy_id = self.policy_id;
        if let Some(worst) = &self.worst {
            if worst.level > max_level {
                self.failures.push(
                    Reason::new(ReasonCode::ThreatLevelExceeded, worst.above(max_level))
                        .policy(policy_id)
                        .connector(worst.connector_id)
                        .threats(worst.threat_ids.to_vec()),
                );
            }
        }
        // Intune's deviceThreatProtectionLevel (Microsoft Graph): "High ... Devices are required to have
        // the MTD app activated with this setting."
        if max_level == ThreatLevel::High && !self.activated {
            self.failures.push(
                Reason::new(
                    ReasonCode::MtdAppNotActivated,
                    "the HIGH level requires an activated MTD app",
                )
                .policy(policy_id),
            );
        }
        if !self.errors.is_empty() {
            self.errors.extend(self.failures);
            (ComplianceStatus::Error, self.errors)
        } else if !self.failures.is_empty() {
            (ComplianceStatus::Noncompliant, self.failures)
        } else {
            let message = match self.worst {
                Some(worst) => texts::level_within(worst.level, max_level),
                None => "no partner level is required and none was reported".into(),
            };
            (
                ComplianceStatus::Compliant,
                vec![Reason::new(ReasonCode::Compliant, message).policy(policy_id)],
            )
        }
    }
}

/// The worst level among a device's evidence, and where it came from.
struct Worst<'a> {
    level: ThreatLevel,
    connector_id: &'a ConnectorId,
    threat_ids: &'a [String],
    /// When the level is a known risk: the risk, and the health state the partner reports now.
    held: Option<(&'a KnownRisk, HealthState)>,
    /// Under `MissingDataMode::Noncompliant`, a partner that lost sight is noncompliant at any level.
    lost_sight: bool,
}

impl<'a> Worst<'a> {
    /// The level `evidence` of `connector_id` carries, if any.
    fn of(connector_id: &'a ConnectorId, evidence: Evidence<'a>) -> Option<Self> {
        match evidence {
            Evidence::Level {
                level,
                threat_ids,
                held,
                report,
            } => Some(Self {
                level,
                connector_id,
                threat_ids,
                held: held.map(|risk| (risk, report.health_state)),
                lost_sight: false,
            }),
            Evidence::LostSight { risk, report } => Some(Self {
                level: risk.level(),
                connector_id,
                threat_ids: &risk.threat_ids,
                held: Some((risk, report.health_state)),
                lost_sight: true,
            }),
            _ => None,
        }
    }

    /// The text of a level above `max_level` (or of a lost sight); for a known risk it says so, and what the
    /// partner reports now.
    fn above(&self, max_level: ThreatLevel) -> std::borrow::Cow<'static, str> {
        match self.held {
            None => texts::level_above(self.level, max_level),
            Some((risk, now)) => format!(
                "{}; {} now reports {} ({})",
                texts::known_risk(self.connector_id, risk),
                self.connector_id,
                now.api_name(),
                if self.lost_sight {
                    "missing data after a known risk is noncompliant".to_owned()
                } else {
                    format!("above {}", max_level.api_name())
                }
            )
            .into(),
        }
    }
}

/// Compares dotted numeric versions ("16.4.1" >= "16.4"); a version that does not parse is never
/// "at least" anything, so unknown OS versions fail closed.
pub fn os_at_least(version: &str, minimum: &str) -> bool {
    let parse = |raw: &str| -> Option<Vec<u64>> {
        raw.trim()
            .split('.')
            .map(|part| part.parse().ok())
            .collect()
    };
    match (parse(version), parse(minimum)) {
        (Some(mut version), Some(mut minimum)) => {
            let len = version.len().max(minimum.len());
            version.resize(len, 0);
            minimum.resize(len, 0);
            version >= minimum
        }
        _ => false,
    }
}

/// A conditional-access verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessVerdict {
    /// Allow or deny.
    pub allow: bool,
    /// Why.
    pub reasons: Vec<Reason>,
}

/// May the device reach the resource? `device` is `None` for an unknown device, which is denied. A deny for
/// noncompliance carries the compliance verdict's own reasons (which policy, connector and threats).
pub fn decide_access<C: ComplianceFacts>(
    config: &PolicyConfig,
    states: &ConnectorStates,
    device: Option<(&DeviceSummary, &C)>,
    resource: &Resource,
    user_id: Option<&str>,
) -> AccessVerdict {
    let name = resource.name.as_str();
    let Some((device, compliance)) = device else {
        return unknown_device_access(resource);
    };
    let mut reasons = AccessReasons::default();
    if user_id.is_some_and(|user| !device.owner_user_id.is_empty() && device.owner_user_id != user)
    {
        reasons.failed.push(
            Reason::new(
                ReasonCode::UserMismatch,
                "the device belongs to another user",
            )
            .policy(name),
        );
    }
    let mut rules = resource
        .rules
        .iter()
        .filter(|rule| rule.platforms.is_empty() || rule.platforms.contains(&device.platform))
        .peekable();
    let no_rule_applies = rules.peek().is_none();
    for rule in rules {
        if rule.require_compliant_device {
            reasons.judge_compliance(name, compliance, config, states, device);
        }
        if let Some(max_level) = rule.max_threat_level {
            reasons.judge_level(name, worst_evidence(config, states, device), max_level);
        }
    }
    if !reasons.failed.is_empty() {
        return AccessVerdict {
            allow: false,
            reasons: reasons.failed,
        };
    }
    if no_rule_applies {
        reasons.passed.push(
            Reason::new(
                ReasonCode::NoRuleForPlatform,
                format!(
                    "no rule of {name} applies to {}",
                    device.platform.api_name()
                ),
            )
            .policy(name),
        );
    }
    AccessVerdict {
        allow: true,
        reasons: reasons.passed,
    }
}

/// What a resource gives a device no partner has reported: its own choice.
fn unknown_device_access(resource: &Resource) -> AccessVerdict {
    let (allow, code, text) = match resource.unknown_device {
        UnknownDeviceAccess::Deny => (
            false,
            ReasonCode::DeviceUnknown,
            "no partner has reported this device (the resource denies unknown devices)",
        ),
        UnknownDeviceAccess::Allow => (
            true,
            ReasonCode::UnknownDeviceAllowed,
            "no partner has reported this device; the resource allows unknown devices",
        ),
    };
    AccessVerdict {
        allow,
        reasons: vec![Reason::new(code, text).policy(&resource.name)],
    }
}

/// The reasons an access decision gathers, rule by rule: any failure denies.
#[derive(Default)]
struct AccessReasons {
    passed: Vec<Reason>,
    failed: Vec<Reason>,
}

impl AccessReasons {
    /// A rule that requires a compliant device: compliant or in grace passes.
    fn judge_compliance<C: ComplianceFacts>(
        &mut self,
        name: &str,
        compliance: &C,
        config: &PolicyConfig,
        states: &ConnectorStates,
        device: &DeviceSummary,
    ) {
        let status = compliance.status();
        if status.grants_access() {
            let code = if status == ComplianceStatus::InGracePeriod {
                ReasonCode::InGracePeriod
            } else {
                ReasonCode::Compliant
            };
            self.passed
                .push(Reason::new(code, texts::compliance_is(status)).policy(name));
        } else {
            self.failed.push(
                Reason::new(ReasonCode::Noncompliant, texts::compliant_required(status))
                    .policy(name),
            );
            // The compliance verdict's own reasons say which policy, connector and threats.
            self.failed
                .extend(compliance.noncompliance_reasons(config, states, device));
        }
    }

    /// A rule with a maximum threat level: the worst partner evidence must be within it.
    fn judge_level(&mut self, name: &str, worst: Option<Worst<'_>>, max_level: ThreatLevel) {
        match worst {
            Some(worst) if worst.level <= max_level => self.passed.push(
                Reason::new(
                    ReasonCode::Compliant,
                    texts::level_within(worst.level, max_level),
                )
                .policy(name),
            ),
            Some(worst) => self.failed.push(
                Reason::new(ReasonCode::ThreatLevelExceeded, worst.above(max_level))
                    .policy(name)
                    .connector(worst.connector_id)
                    .threats(worst.threat_ids.to_vec()),
            ),
            None => self.failed.push(
                Reason::new(
                    ReasonCode::MissingPartnerData,
                    "no partner reports a threat level for the device",
                )
                .policy(name),
            ),
        }
    }
}

/// The worst level among the evidence of connectors whose data counts for compliance on the device's
/// platform, and where it came from.
fn worst_evidence<'a>(
    config: &'a PolicyConfig,
    states: &'a ConnectorStates,
    device: &'a DeviceSummary,
) -> Option<Worst<'a>> {
    compliance_connectors(config, states, device.platform)
        .filter_map(|(connector, state)| {
            let connector_id = &connector.connector_id;
            Worst::of(
                connector_id,
                evidence(config, connector, state, device.report(connector_id)),
            )
        })
        .reduce(|worst, next| {
            if next.level > worst.level {
                next
            } else {
                worst
            }
        })
}

/// An app-protection verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppVerdict {
    /// Allow, block or wipe.
    pub decision: AppDecision,
    /// Why.
    pub reasons: Vec<Reason>,
    /// The deciding policy.
    pub policy_id: Option<String>,
    /// The partner whose data was used.
    pub connector_id: Option<ConnectorId>,
}

/// Whether an app-protection policy covers a platform (an unknown device's platform is unknown: covered).
pub fn app_policy_targets(policy: &AppProtectionPolicy, platform: Option<Platform>) -> bool {
    policy.platforms.is_empty()
        || platform.is_none_or(|platform| policy.platforms.contains(&platform))
}

/// May `app_id` start on the device? The strictest applicable policy wins (wipe over block over allow).
pub fn decide_app_launch(
    config: &PolicyConfig,
    states: &ConnectorStates,
    device: Option<&DeviceSummary>,
    app_id: &str,
) -> AppVerdict {
    let platform = device.map(|device| device.platform);
    config
        .app_policies
        .values()
        .filter(|policy| {
            policy.app_ids.iter().any(|id| id == app_id) && app_policy_targets(policy, platform)
        })
        .map(|policy| decide_app_policy(config, states, device, policy))
        .max_by_key(|verdict| match verdict.decision {
            AppDecision::Allow => 0,
            AppDecision::Block => 1,
            AppDecision::Wipe => 2,
        })
        .unwrap_or_else(|| AppVerdict {
            decision: AppDecision::Allow,
            reasons: vec![Reason::new(
                ReasonCode::NoAppPolicy,
                format!("no app-protection policy covers {app_id}"),
            )],
            policy_id: None,
            connector_id: None,
        })
}

/// One app-protection policy's verdict for a device (Microsoft Learn, "Create Mobile Threat Defense app protection policy with Intune").
pub fn decide_app_policy(
    config: &PolicyConfig,
    states: &ConnectorStates,
    device: Option<&DeviceSummary>,
    policy: &AppProtectionPolicy,
) -> AppVerdict {
    let policy_id = policy.policy_id.as_str();
    let verdict = |decision, reason: Reason, connector_id: Option<&ConnectorId>| AppVerdict {
        decision,
        reasons: vec![reason.policy(policy_id)],
        policy_id: Some(policy_id.to_owned()),
        connector_id: connector_id.cloned(),
    };
    let Some(max_level) = policy.max_threat_level else {
        return verdict(
            AppDecision::Allow,
            Reason::new(
                ReasonCode::AppPolicy,
                "no max allowed device threat level is configured",
            ),
            None,
        );
    };
    let Some(device) = device else {
        return verdict(
            AppDecision::Block,
            Reason::new(
                ReasonCode::DeviceUnknown,
                "no partner has reported this device; the MTD app must be activated",
            ),
            None,
        );
    };
    let Some(partner) =
        app_protection_partner(config, states, device.platform, policy.partner_priority)
    else {
        // Microsoft Learn (MTD app protection policy): "Without the MTD integration, the MTD app protection policy will have no effect".
        return verdict(
            AppDecision::Allow,
            Reason::new(
                ReasonCode::AppPolicy,
                "no partner is enabled for app protection on this platform",
            ),
            None,
        );
    };
    let (partner, state) = partner;
    // A partner in ERROR still reports (app protection has no ERROR verdict): its data counts as it is.
    let state = match state {
        ConnectorState::Error => ConnectorState::Enabled,
        state => state,
    };
    let evidence = evidence(config, partner, state, device.report(&partner.connector_id));
    let (decision, reason) = app_decision(policy, max_level, &partner.connector_id, evidence);
    verdict(decision, reason, Some(&partner.connector_id))
}

/// What the app-protection partner's evidence decides under `policy`.
fn app_decision(
    policy: &AppProtectionPolicy,
    max_level: ThreatLevel,
    partner_id: &ConnectorId,
    evidence: Evidence<'_>,
) -> (AppDecision, Reason) {
    let (decision, reason) = match evidence {
        Evidence::Ignored => (
            AppDecision::Allow,
            Reason::new(
                ReasonCode::PartnerUnresponsive,
                format!("partner {partner_id} is unresponsive and knew no risk of the device (fail open)"),
            ),
        ),
        Evidence::UnresponsiveFailClosed => (
            AppDecision::Block,
            Reason::new(
                ReasonCode::PartnerUnresponsive,
                format!("partner {partner_id} is unresponsive (fail closed)"),
            ),
        ),
        Evidence::PartnerError | Evidence::Missing(_) => (
            AppDecision::Block,
            Reason::new(
                ReasonCode::MissingPartnerData,
                format!("partner {partner_id} has no threat level for the device; the MTD app must be activated"),
            ),
        ),
        evidence => match Worst::of(partner_id, evidence) {
            Some(worst) if worst.level > max_level || worst.lost_sight => (
                AppDecision::from(policy.action),
                Reason::new(ReasonCode::ThreatLevelExceeded, worst.above(max_level))
                    .threats(worst.threat_ids.to_vec()),
            ),
            Some(worst) => (
                AppDecision::Allow,
                Reason::new(
                    ReasonCode::AppPolicy,
                    texts::level_within(worst.level, max_level),
                ),
            ),
            // Worst::of answers for every evidence with a level; anything else has none to allow on.
            None => (
                AppDecision::Block,
                Reason::new(
                    ReasonCode::MissingPartnerData,
                    format!("partner {partner_id} has no threat level for the device"),
                ),
            ),
        },
    };
    (decision, reason.connector(partner_id))
}

/// The one partner app protection uses on a platform, with its state: among connectors with the
/// app-protection toggle on and live data, Defender or the third party first according to `priority`
/// (Microsoft Graph mobileThreatDefensePartnerPriority; Microsoft Learn, "Mobile Threat Defense integration with Intune"). An unresponsive partner is left out only under Intune's behaviour; under
/// the other modes its known risks still count.
fn app_protection_partner<'a>(
    config: &'a PolicyConfig,
    states: &ConnectorStates,
    platform: Platform,
    priority: PartnerPriority,
) -> Option<(&'a Connector, ConnectorState)> {
    let preferred = match priority {
        PartnerPriority::DefenderOverThirdParty => PartnerKind::MicrosoftDefender,
        PartnerPriority::ThirdPartyOverDefender => PartnerKind::ThirdParty,
    };
    let mut candidates: Vec<_> = config
        .connectors
        .values()
        .filter(|connector| *connector.settings.app_protection_enabled.get(platform))
        .filter_map(|connector| {
            let state = states.get(&connector.connector_id)?;
            let ignored = state == ConnectorState::Unresponsive
                && connector.settings.missing_data == MissingDataMode::Intune;
            (state.accepts_reports() && !ignored).then_some((connector, state))
        })
        .collect();
    candidates.sort_by_key(|(connector, _)| connector.settings.kind != preferred);
    candidates.first().copied()
}

mod texts;

#[cfg(test)]
mod tests;
