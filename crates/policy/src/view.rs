//! The in-memory view every check is answered from: the configuration, each connector's state, and for each
//! device its summary, compliance, and the last decision per resource and per app-protection policy.
//!
//! Only the store's writer thread changes the view, after the commit that holds the change is durable, so a
//! check issued after an acknowledgement sees the acknowledged write, and a check never needs a store read.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::Arc,
};

use serde::{Deserialize, Serialize};

use super::evaluate::{
    decide_access, decide_app_policy, evaluate_compliance, Compliance, ComplianceFacts,
    ConnectorStates, DeviceSummary, Episode,
};
use crate::domain::{
    policy::{AppDecision, ComplianceStatus, PolicyConfig, Reason},
    DeviceId, EventKind, Timestamp,
};

mod decisions;

pub use decisions::Decisions;

/// The view.
#[derive(Debug, Default)]
pub struct View {
    /// Position of the newest durable event the view reflects.
    pub head: u64,
    /// The configuration.
    pub config: Arc<PolicyConfig>,
    /// Connector states as of the last evaluation.
    pub states: Arc<ConnectorStates>,
    /// Every known device. Boxed, so that the table's slots stay one pointer wide: a hash table keeps up to
    /// twice as many slots as entries, and a million devices must fit in memory (issue #9).
    pub devices: HashMap<DeviceId, Box<DeviceView>>,
    /// When each device's evaluation may change by itself (grace periods, actions, validity).
    pub deadlines: BTreeSet<(Timestamp, DeviceId)>,
}

/// One device in the view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceView {
    /// What evaluation needs of it.
    pub summary: DeviceSummary,
    /// Its compliance as last evaluated.
    pub compliance: ComplianceState,
    /// Last access decision per resource (true: allow).
    pub access: Decisions<bool>,
    /// Last decision per app-protection policy.
    pub apps: Decisions<AppDecision>,
}

/// What the view keeps of a device's compliance: the status, what it takes to derive the full verdict
/// again, and for a device that is denied the reasons a deny quotes. Per-policy verdicts are derived on
/// demand (`GetDeviceCompliance`) instead of being kept for every device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplianceState {
    /// The worst status.
    pub status: ComplianceStatus,
    /// Noncompliance episodes after the evaluation.
    pub episodes: BTreeMap<String, Episode>,
    /// The next instant at which the evaluation may change without any new input.
    pub next_deadline: Option<Timestamp>,
    /// When it was evaluated.
    pub evaluated_at: Timestamp,
    /// Why the device does not grant access, kept so that a deny answers without evaluating again; empty
    /// (no allocation) for a device that grants access.
    pub noncompliance: Box<[Reason]>,
}

impl ComplianceState {
    /// What to keep of `compliance`, evaluated at `now` with `config` and `states`.
    pub fn new(
        config: &PolicyConfig,
        states: &ConnectorStates,
        device: &DeviceSummary,
        compliance: &Compliance,
        now: Timestamp,
    ) -> Self {
        let noncompliance = if compliance.status.grants_access() {
            Box::default()
        } else {
            compliance
                .noncompliance_reasons(config, states, device)
                .into_boxed_slice()
        };
        Self {
            status: compliance.status,
            episodes: compliance.episodes.clone(),
            next_deadline: compliance.next_deadline,
            evaluated_at: now,
            noncompliance,
        }
    }

    /// The full verdict, derived again. Evaluation is pure, and evaluating again at the same instant with
    /// the episodes it returned gives the same verdict (every due action is already marked fired); the
    /// writer re-evaluates a device whenever its configuration or connector states change, so `config`
    /// and `states` are those it was evaluated with.
    pub fn verdict(
        &self,
        config: &PolicyConfig,
        states: &ConnectorStates,
        device: &DeviceSummary,
    ) -> Compliance {
        evaluate_compliance(config, states, device, &self.episodes, self.evaluated_at)
    }
}

impl ComplianceFacts for ComplianceState {
    fn status(&self) -> ComplianceStatus {
        self.status
    }

    fn noncompliance_reasons(
        &self,
        config: &PolicyConfig,
        states: &ConnectorStates,
        device: &DeviceSummary,
    ) -> Vec<Reason> {
        if self.noncompliance.is_empty() && !self.status.grants_access() {
            // Restored from its memo and not evaluated since start: derive them.
            return self
                .verdict(config, states, device)
                .noncompliance_reasons(config, states, device);
        }
        self.noncompliance.to_vec()
    }
}

/// What is persisted per device so that restarts neither restart grace periods nor repeat or miss events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplianceMemo {
    /// The last compliance status.
    pub status: ComplianceStatus,
    /// Open noncompliance episodes per policy.
    pub episodes: BTreeMap<String, Episode>,
    /// Last access decision per resource.
    pub access: Decisions<bool>,
    /// Last decision per app-protection policy.
    pub apps: Decisions<AppDecision>,
}

impl ComplianceMemo {
    /// The memo of a device never evaluated.
    pub fn unknown() -> Self {
        Self {
            status: ComplianceStatus::Unknown,
            episodes: BTreeMap::new(),
            access: Decisions::default(),
            apps: Decisions::default(),
        }
    }
}

impl DeviceView {
    /// The view of a device restored from its memo at `now`, before re-evaluation: it answers with the
    /// persisted decisions until the first evaluation pass after start replaces them.
    pub fn restored(summary: DeviceSummary, memo: ComplianceMemo, now: Timestamp) -> Self {
        Self {
            summary,
            compliance: ComplianceState {
                status: memo.status,
                episodes: memo.episodes,
                next_deadline: None,
                evaluated_at: now,
                // Derived on demand until the evaluation pass that follows the start fills them in.
                noncompliance: Box::default(),
            },
            access: memo.access,
            apps: memo.apps,
        }
    }

    /// What to persist.
    pub fn memo(&self) -> ComplianceMemo {
        ComplianceMemo {
            status: self.compliance.status,
            episodes: self.compliance.episodes.clone(),
            access: self.access.clone(),
            apps: self.apps.clone(),
        }
    }
}

/// Evaluates a device afresh and lists the events its changes produce, against `previous` (`None` for a
/// device not seen before, whose previous decisions are those for an unknown device: access denied,
/// compliance unknown).
pub fn reevaluate(
    config: &PolicyConfig,
    states: &ConnectorStates,
    summary: DeviceSummary,
    previous: Option<&DeviceView>,
    now: Timestamp,
) -> (DeviceView, Vec<EventKind>) {
    let no_episodes = BTreeMap::new();
    let episodes = previous.map_or(&no_episodes, |view| &view.compliance.episodes);
    let compliance = evaluate_compliance(config, states, &summary, episodes, now);
    let mut events = Vec::new();

    let previous_status = previous.map_or(ComplianceStatus::Unknown, |view| view.compliance.status);
    if compliance.status != previous_status {
        let reasons = compliance
            .policies
            .iter()
            .flat_map(|verdict| verdict.reasons.iter().cloned())
            .chain(compliance.reasons.iter().cloned())
            .collect();
        events.push(EventKind::ComplianceChanged {
            previous: previous_status,
            current: compliance.status,
            reasons,
        });
    }
    for (policy_id, action) in &compliance.due_actions {
        events.push(EventKind::ComplianceActionDue {
            policy_id: policy_id.clone(),
            action: *action,
        });
    }

    let mut access = Vec::with_capacity(config.resources.len());
    for resource in config.resources.values() {
        let verdict = decide_access(
            config,
            states,
            Some((&summary, &compliance)),
            resource,
            None,
        );
        let was_allowed = previous
            .and_then(|view| view.access.get(&resource.name))
            .unwrap_or(false);
        if verdict.allow != was_allowed {
            events.push(EventKind::AccessChanged {
                resource: resource.name.clone(),
                allowed: verdict.allow,
                reasons: verdict.reasons,
            });
        }
        access.push((resource.name.clone(), verdict.allow));
    }

    let mut apps = Vec::new();
    for policy in config.app_policies.values() {
        if !super::evaluate::app_policy_targets(policy, Some(summary.platform)) {
            continue;
        }
        let verdict = decide_app_policy(config, states, Some(&summary), policy);
        let before = match previous.and_then(|view| view.apps.get(&policy.policy_id)) {
            Some(before) => before,
            None => decide_app_policy(config, states, None, policy).decision,
        };
        if verdict.decision != before {
            events.push(EventKind::AppProtectionChanged {
                policy_id: policy.policy_id.clone(),
                previous: before,
                current: verdict.decision,
                reasons: verdict.reasons,
            });
        }
        apps.push((policy.policy_id.clone(), verdict.decision));
    }

    (
        DeviceView {
            compliance: ComplianceState::new(config, states, &summary, &compliance, now),
            summary,
            access: access.into_iter().collect(),
            apps: apps.into_iter().collect(),
        },
        events,
    )
}
