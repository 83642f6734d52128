//! Pure evaluation: given the configuration, the connectors' states, a device's summary and the time, what
//! is its compliance, may it reach a resource, may an app start. No I/O and no clock: everything comes in
//! as arguments, so every rule is table-tested (`evaluate/tests.rs`).
//!
//! Decisions not documented by Intune, and riskgate's choice (intune-mtd.md §9 asks for them to be explicit):
//! - Health states that carry no level (unknown, activated, deactivated, unresponsive, misconfigured) count
//!   as missing partner data; compromised counts as high (`HealthState::level`).
//! - Partner rules (missing data, unsupported OS, unresponsive partner) are part of a policy's MTD rule, so
//!   they apply only to policies whose threat-level rule is configured.
//! - A partner in ERROR state is ignored, unless the device needs its data (block-on-missing), which makes
//!   the policy's status ERROR.
//! - In conditional access, a device in its grace period keeps access, and a level rule with no partner
//!   level for the device denies (fail closed).
//! - App protection with a configured level and no partner data blocks: Intune requires the MTD app to be
//!   activated before it can judge the device.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::{
    policy::{
        ActionKind, AppDecision, AppProtectionPolicy, CompliancePolicy, ComplianceStatus,
        ConnectorState, NoPolicyStatus, PartnerKind, PartnerPriority, PolicyConfig, Reason,
        ReasonCode, Resource, UnresponsiveMode,
    },
    ConnectorId, DeviceRecord, HealthState, Platform, ThreatLevel, ThreatStatus, Timestamp,
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
}

impl DeviceSummary {
    /// The summary of a stored device.
    pub fn from_record(device: &DeviceRecord) -> Self {
        Self {
            platform: device.info.platform,
            os_version: device.info.os_version.clone(),
            owner_user_id: device.info.owner_user_id.clone(),
            groups: device.info.groups.clone(),
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

/// The device's threat level as policies see it: the worst level among the reports of connectors whose data
/// counts for compliance on its platform, leaving out unresponsive ones.
pub fn effective_level(
    config: &PolicyConfig,
    states: &ConnectorStates,
    device: &DeviceSummary,
) -> Option<ThreatLevel> {
    device
        .reports
        .iter()
        .filter(|(connector_id, _)| {
            counts_for_compliance(config, states, connector_id, device.platform)
        })
        .filter(|(connector_id, _)| states.get(connector_id) != Some(ConnectorState::Unresponsive))
        .filter_map(|(_, report)| report.health_state.level())
        .max()
}

fn counts_for_compliance(
    config: &PolicyConfig,
    states: &ConnectorStates,
    connector_id: &ConnectorId,
    platform: Platform,
) -> bool {
    config
        .connectors
        .get(connector_id)
        .is_some_and(|connector| {
            *connector.settings.compliance_enabled.get(platform)
                && states
                    .get(connector_id)
                    .is_some_and(ConnectorState::accepts_reports)
        })
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
        let (raw_status, reasons) = evaluate_rule(config, states, device, policy);
        let mut verdict = PolicyVerdict {
            policy_id: policy.policy_id.clone(),
            status: raw_status,
            reasons,
            noncompliant_since: None,
            grace_ends: None,
        };
        if raw_status == ComplianceStatus::Noncompliant {
            let mut episode = previous.get(&policy.policy_id).cloned().unwrap_or(Episode {
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
        compliance.policies.push(verdict);
    }

    compliance.status = match compliance
        .policies
        .iter()
        .map(|verdict| verdict.status)
        .max()
    {
        Some(worst) => worst,
        None => {
            compliance.reasons.push(Reason::new(
                ReasonCode::NoPolicy,
                "no compliance policy targets the device",
            ));
            match config.tenant.no_policy_status {
                NoPolicyStatus::Compliant => ComplianceStatus::Compliant,
                NoPolicyStatus::Noncompliant => ComplianceStatus::Noncompliant,
            }
        }
    };

    // Intune's compliance status validity period (intune-mtd.md §7.16): a device that stops reporting
    // becomes noncompliant.
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
    compliance.next_deadline = deadline.0;
    compliance
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
    let mut failures = Vec::new();
    let mut errors = Vec::new();
    let mut worst: Option<(ThreatLevel, &ConnectorId, &PartnerSummary)> = None;
    let mut activated = false;

    for connector in config.connectors.values() {
        let connector_id = &connector.connector_id;
        let settings = &connector.settings;
        if !*settings.compliance_enabled.get(device.platform) {
            continue;
        }
        let Some(state) = states.get(connector_id) else {
            continue;
        };
        if !state.accepts_reports() {
            continue;
        }
        let needs_data = *settings.block_on_missing_partner_data.get(device.platform);
        match state {
            // intune-mtd.md §7.4: "Intune will ignore the data from this MTD partner"; fail-closed is our option.
            ConnectorState::Unresponsive => {
                if config.tenant.unresponsive_mode == UnresponsiveMode::FailClosed {
                    failures.push(
                        Reason::new(
                            ReasonCode::PartnerUnresponsive,
                            format!("partner {connector_id} is unresponsive (fail closed)"),
                        )
                        .policy(policy_id)
                        .connector(connector_id),
                    );
                }
                continue;
            }
            ConnectorState::Error => {
                if needs_data {
                    errors.push(
                        Reason::new(
                            ReasonCode::PartnerError,
                            format!(
                                "partner {connector_id} reports an error: {}",
                                connector.error_message
                            ),
                        )
                        .policy(policy_id)
                        .connector(connector_id),
                    );
                }
                continue;
            }
            _ => {}
        }
        let report = device.report(connector_id);
        activated |= report.is_some_and(|report| {
            !matches!(
                report.health_state,
                HealthState::Unknown | HealthState::Deactivated
            )
        });
        match report.and_then(|report| report.health_state.level().map(|level| (level, report))) {
            Some((level, report))
                if worst.is_none_or(|(worst_level, _, _)| level > worst_level) =>
            {
                worst = Some((level, connector_id, report));
            }
            Some(_) => {}
            // intune-mtd.md §7.5: with block-on-missing, data must arrive before the device is compliant.
            None if needs_data => {
                let state = report.map_or("no report".to_owned(), |report| {
                    format!("health state {}", report.health_state.api_name())
                });
                failures.push(
                    Reason::new(
                        ReasonCode::MissingPartnerData,
                        format!(
                            "partner {connector_id} has no threat level for the device ({state})"
                        ),
                    )
                    .policy(policy_id)
                    .connector(connector_id),
                );
            }
            None => {}
        }
        // intune-mtd.md §7.6: devices below the partner's minimum OS are noncompliant.
        let minimum = settings.minimum_os_versions.get(device.platform);
        if settings.block_unsupported_os_versions
            && !minimum.is_empty()
            && !os_at_least(&device.os_version, minimum)
        {
            failures.push(
                Reason::new(
                    ReasonCode::UnsupportedOs,
                    format!(
                        "OS version {:?} is below partner {connector_id}'s minimum {minimum}",
                        device.os_version
                    ),
                )
                .policy(policy_id)
                .connector(connector_id),
            );
        }
    }

    if let Some((level, connector_id, report)) = worst {
        if level > max_level {
            failures.push(
                Reason::new(
                    ReasonCode::ThreatLevelExceeded,
                    texts::level_above(level, max_level),
                )
                .policy(policy_id)
                .connector(connector_id)
                .threats(report.open_threat_ids.clone()),
            );
        }
    }
    // intune-mtd.md §3: "High ... Devices are required to have the MTD app activated with this setting."
    if max_level == ThreatLevel::High && !activated {
        failures.push(
            Reason::new(
                ReasonCode::MtdAppNotActivated,
                "the HIGH level requires an activated MTD app",
            )
            .policy(policy_id),
        );
    }

    if !errors.is_empty() {
        errors.extend(failures);
        (ComplianceStatus::Error, errors)
    } else if !failures.is_empty() {
        (ComplianceStatus::Noncompliant, failures)
    } else {
        let message = match worst {
            Some((level, _, _)) => texts::level_within(level, max_level),
            None => "no partner level is required and none was reported".into(),
        };
        (
            ComplianceStatus::Compliant,
            vec![Reason::new(ReasonCode::Compliant, message).policy(policy_id)],
        )
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
    let deny = |reasons| AccessVerdict {
        allow: false,
        reasons,
    };
    let Some((device, compliance)) = device else {
        return deny(vec![Reason::new(
            ReasonCode::DeviceUnknown,
            "no partner has reported this device",
        )
        .policy(name)]);
    };
    let status = compliance.status();
    let mut failures = Vec::new();
    if let Some(user_id) = user_id {
        if !device.owner_user_id.is_empty() && device.owner_user_id != user_id {
            failures.push(
                Reason::new(
                    ReasonCode::UserMismatch,
                    "the device belongs to another user",
                )
                .policy(name),
            );
        }
    }
    let mut rules = resource
        .rules
        .iter()
        .filter(|rule| rule.platforms.is_empty() || rule.platforms.contains(&device.platform))
        .peekable();
    let no_rule_applies = rules.peek().is_none();
    let mut passed = Vec::new();
    for rule in rules {
        if rule.require_compliant_device {
            if status.grants_access() {
                passed.push(
                    Reason::new(
                        if status == ComplianceStatus::InGracePeriod {
                            ReasonCode::InGracePeriod
                        } else {
                            ReasonCode::Compliant
                        },
                        texts::compliance_is(status),
                    )
                    .policy(name),
                );
            } else {
                failures.push(
                    Reason::new(ReasonCode::Noncompliant, texts::compliant_required(status))
                        .policy(name),
                );
                // The compliance verdict's own reasons say which policy, connector and threats.
                failures.extend(compliance.noncompliance_reasons(config, states, device));
            }
        }
        if let Some(max_level) = rule.max_threat_level {
            match effective_level(config, states, device) {
                Some(level) if level <= max_level => passed.push(
                    Reason::new(ReasonCode::Compliant, texts::level_within(level, max_level))
                        .policy(name),
                ),
                Some(level) => {
                    let (connector_id, threat_ids) = worst_report(config, states, device, level);
                    let mut reason = Reason::new(
                        ReasonCode::ThreatLevelExceeded,
                        texts::level_above(level, max_level),
                    )
                    .policy(name)
                    .threats(threat_ids);
                    reason.connector_id = connector_id;
                    failures.push(reason);
                }
                None => failures.push(
                    Reason::new(
                        ReasonCode::MissingPartnerData,
                        "no partner reports a threat level for the device",
                    )
                    .policy(name),
                ),
            }
        }
    }
    if !failures.is_empty() {
        return deny(failures);
    }
    if no_rule_applies {
        passed.push(
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
        reasons: passed,
    }
}

/// The connector and open threats behind the device's level.
fn worst_report(
    config: &PolicyConfig,
    states: &ConnectorStates,
    device: &DeviceSummary,
    level: ThreatLevel,
) -> (Option<ConnectorId>, Vec<String>) {
    device
        .reports
        .iter()
        .find(|(connector_id, report)| {
            report.health_state.level() == Some(level)
                && counts_for_compliance(config, states, connector_id, device.platform)
        })
        .map_or((None, Vec::new()), |(connector_id, report)| {
            (Some(connector_id.clone()), report.open_threat_ids.clone())
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

/// One app-protection policy's verdict for a device (intune-mtd.md §6).
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
        // intune-mtd.md §6: "Without the MTD integration, the MTD app protection policy will have no effect".
        return verdict(
            AppDecision::Allow,
            Reason::new(
                ReasonCode::AppPolicy,
                "no partner is enabled for app protection on this platform",
            ),
            None,
        );
    };
    let report = device.report(partner);
    match report.and_then(|report| report.health_state.level()) {
        None => verdict(
            AppDecision::Block,
            Reason::new(
                ReasonCode::MissingPartnerData,
                format!("partner {partner} has no threat level for the device; the MTD app must be activated"),
            )
            .connector(partner),
            Some(partner),
        ),
        Some(level) if level > max_level => verdict(
            AppDecision::from(policy.action),
            Reason::new(
                ReasonCode::ThreatLevelExceeded,
                texts::level_above(level, max_level),
            )
            .connector(partner)
            .threats(report.map(|report| report.open_threat_ids.clone()).unwrap_or_default()),
            Some(partner),
        ),
        Some(level) => verdict(
            AppDecision::Allow,
            Reason::new(ReasonCode::AppPolicy, texts::level_within(level, max_level))
                .connector(partner),
            Some(partner),
        ),
    }
}

/// The one partner app protection uses on a platform: among connectors with the app-protection toggle on and
/// live data, Defender or the third party first according to `priority` (intune-mtd.md §6 and §7.9).
fn app_protection_partner<'a>(
    config: &'a PolicyConfig,
    states: &ConnectorStates,
    platform: Platform,
    priority: PartnerPriority,
) -> Option<&'a ConnectorId> {
    let preferred = match priority {
        PartnerPriority::DefenderOverThirdParty => PartnerKind::MicrosoftDefender,
        PartnerPriority::ThirdPartyOverDefender => PartnerKind::ThirdParty,
    };
    let mut candidates: Vec<_> = config
        .connectors
        .values()
        .filter(|connector| *connector.settings.app_protection_enabled.get(platform))
        .filter(|connector| {
            states.get(&connector.connector_id).is_some_and(|state| {
                state.accepts_reports() && state != ConnectorState::Unresponsive
            })
        })
        .collect();
    candidates.sort_by_key(|connector| connector.settings.kind != preferred);
    candidates.first().map(|connector| &connector.connector_id)
}

mod texts;

#[cfg(test)]
mod tests;
