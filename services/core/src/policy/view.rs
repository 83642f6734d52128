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
    decide_access, decide_app_policy, evaluate_compliance, Compliance, ConnectorStates,
    DeviceSummary, Episode,
};
use crate::domain::{
    policy::{AppDecision, ComplianceStatus, PolicyConfig},
    DeviceId, EventKind, Timestamp,
};

/// The view.
#[derive(Debug, Default)]
pub struct View {
    /// Position of the newest durable event the view reflects.
    pub head: u64,
    /// The configuration.
    pub config: Arc<PolicyConfig>,
    /// Connector states as of the last evaluation.
    pub states: Arc<ConnectorStates>,
    /// Every known device.
    pub devices: HashMap<DeviceId, DeviceView>,
    /// When each device's evaluation may change by itself (grace periods, actions, validity).
    pub deadlines: BTreeSet<(Timestamp, DeviceId)>,
}

/// One device in the view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceView {
    /// What evaluation needs of it.
    pub summary: DeviceSummary,
    /// Its compliance as last evaluated.
    pub compliance: Compliance,
    /// Last access decision per resource (true: allow).
    pub access: BTreeMap<String, bool>,
    /// Last decision per app-protection policy.
    pub apps: BTreeMap<String, AppDecision>,
}

/// What is persisted per device so that restarts neither restart grace periods nor repeat or miss events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplianceMemo {
    /// The last compliance status.
    pub status: ComplianceStatus,
    /// Open noncompliance episodes per policy.
    pub episodes: BTreeMap<String, Episode>,
    /// Last access decision per resource.
    pub access: BTreeMap<String, bool>,
    /// Last decision per app-protection policy.
    pub apps: BTreeMap<String, AppDecision>,
}

impl ComplianceMemo {
    /// The memo of a device never evaluated.
    pub fn unknown() -> Self {
        Self {
            status: ComplianceStatus::Unknown,
            episodes: BTreeMap::new(),
            access: BTreeMap::new(),
            apps: BTreeMap::new(),
        }
    }
}

impl DeviceView {
    /// The view of a device restored from its memo, before re-evaluation: it answers with the persisted
    /// decisions until the first evaluation pass after start replaces them.
    pub fn restored(summary: DeviceSummary, memo: ComplianceMemo) -> Self {
        Self {
            summary,
            compliance: Compliance {
                status: memo.status,
                policies: Vec::new(),
                reasons: Vec::new(),
                episodes: memo.episodes,
                due_actions: Vec::new(),
                next_deadline: None,
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

    let mut access = BTreeMap::new();
    for resource in config.resources.values() {
        let verdict = decide_access(
            config,
            states,
            Some((&summary, &compliance)),
            resource,
            None,
        );
        let was_allowed = previous
            .and_then(|view| view.access.get(&resource.name).copied())
            .unwrap_or(false);
        if verdict.allow != was_allowed {
            events.push(EventKind::AccessChanged {
                resource: resource.name.clone(),
                allowed: verdict.allow,
                reasons: verdict.reasons,
            });
        }
        access.insert(resource.name.clone(), verdict.allow);
    }

    let mut apps = BTreeMap::new();
    for policy in config.app_policies.values() {
        if !super::evaluate::app_policy_targets(policy, Some(summary.platform)) {
            continue;
        }
        let verdict = decide_app_policy(config, states, Some(&summary), policy);
        let before = match previous.and_then(|view| view.apps.get(&policy.policy_id)) {
            Some(before) => *before,
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
        apps.insert(policy.policy_id.clone(), verdict.decision);
    }

    (
        DeviceView {
            summary,
            compliance,
            access,
            apps,
        },
        events,
    )
}
