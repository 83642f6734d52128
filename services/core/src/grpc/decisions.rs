//! `DecisionService`: access, app-launch and compliance questions, answered from the in-memory view under
//! one read lock, with the log position the answer reflects.

use std::sync::Arc;

use riskgate_proto::v1::{self as pb, decision_service_server::DecisionService};
use tonic::{Request, Response, Status};

use super::{parse, parse_policy, render_policy, render_scalar};
use crate::{
    error::{CoreError, CoreResult},
    metrics::Metrics,
};
use riskgate_policy::{
    domain::{policy::AppDecision, DeviceId},
    {
        evaluate::{decide_access, decide_app_launch, effective_level, AccessVerdict},
        view::{DeviceView, View},
    },
};
use riskgate_store::RiskStore;

/// Most checks in one BatchCheckAccess.
const MAX_BATCH_CHECKS: usize = 1000;
const MAX_USER_ID_BYTES: usize = 256;

/// The decision API.
#[derive(Debug, Clone)]
pub(crate) struct DecisionApi {
    store: RiskStore,
    metrics: Arc<Metrics>,
}

impl DecisionApi {
    /// Answers from `store`'s view, counting decisions in `metrics`.
    pub(crate) fn new(store: RiskStore, metrics: Arc<Metrics>) -> Self {
        Self { store, metrics }
    }

    fn count_access(&self, decision: &pb::AccessDecision) {
        let outcome = if decision.decision == pb::Decision::Allow as i32 {
            "allow"
        } else {
            "deny"
        };
        self.metrics.record_decision("access", outcome);
    }
}

/// A parsed access check: what CheckAccess, BatchCheckAccess and the gateway's `Check` ask.
pub(crate) struct AccessCheck {
    pub(crate) device_id: DeviceId,
    pub(crate) user_id: Option<String>,
    pub(crate) resource: String,
}

impl AccessCheck {
    /// Checks the raw fields; errors name `prefix` + the field (`device_id`, `user_id`, `resource`).
    pub(crate) fn parse(
        prefix: &str,
        device_id: &str,
        user_id: &str,
        resource: &str,
    ) -> CoreResult<Self> {
        if user_id.len() > MAX_USER_ID_BYTES {
            return Err(CoreError::invalid(
                format!("{prefix}user_id"),
                "longer than 256 bytes",
            ));
        }
        Ok(Self {
            device_id: parse::device_id(&format!("{prefix}device_id"), device_id)?,
            user_id: (!user_id.is_empty()).then(|| user_id.to_owned()),
            resource: parse_policy::object_id(&format!("{prefix}resource"), resource)?,
        })
    }
}

fn parse_check(prefix: &str, msg: pb::CheckAccessRequest) -> CoreResult<AccessCheck> {
    AccessCheck::parse(prefix, &msg.device_id, &msg.user_id, &msg.resource)
}

/// An access decision in domain terms, before it is rendered for a client: the one decision
/// CheckAccess and the gateway's `Check` both answer with.
pub(crate) struct AccessAnswer<'v> {
    /// Allow or deny, and why.
    pub(crate) verdict: AccessVerdict,
    /// The log position the view reflects.
    pub(crate) position: u64,
    /// The device, if any partner has reported it.
    device: Option<&'v DeviceView>,
}

/// Decides `check` from `view`; an unknown resource is NOT_FOUND, an unknown device gets the resource's
/// unknown-device choice.
pub(crate) fn decide<'v>(view: &'v View, check: &AccessCheck) -> CoreResult<AccessAnswer<'v>> {
    let resource = view
        .config
        .resources
        .get(&check.resource)
        .ok_or_else(|| CoreError::not_found("resource", check.resource.clone()))?;
    let device = view.devices.get(&check.device_id).map(Box::as_ref);
    let verdict = decide_access(
        &view.config,
        &view.states,
        device.map(|device| (&device.summary, &device.compliance)),
        resource,
        check.user_id.as_deref(),
    );
    Ok(AccessAnswer {
        verdict,
        position: view.head,
        device,
    })
}

fn check_access(view: &View, check: &AccessCheck) -> CoreResult<pb::AccessDecision> {
    let AccessAnswer {
        verdict,
        position,
        device,
    } = decide(view, check)?;
    Ok(pb::AccessDecision {
        decision: render_policy::decision(verdict.allow),
        reasons: render_policy::reasons(&verdict.reasons),
        position,
        compliance: device.map_or(0, |device| {
            render_policy::compliance_status(device.compliance.status)
        }),
        level: render_scalar::level(
            device.and_then(|device| effective_level(&view.config, &view.states, &device.summary)),
        ),
        resource: check.resource.clone(),
        device_id: check.device_id.to_string(),
    })
}

#[tonic::async_trait]
impl DecisionService for DecisionApi {
    async fn check_access(
        &self,
        request: Request<pb::CheckAccessRequest>,
    ) -> Result<Response<pb::AccessDecision>, Status> {
        let check = parse_check("", request.into_inner())?;
        let decision = check_access(&self.store.view(), &check)?;
        self.count_access(&decision);
        Ok(Response::new(decision))
    }

    async fn batch_check_access(
        &self,
        request: Request<pb::BatchCheckAccessRequest>,
    ) -> Result<Response<pb::BatchCheckAccessResponse>, Status> {
        let checks = request.into_inner().checks;
        if checks.is_empty() || checks.len() > MAX_BATCH_CHECKS {
            return Err(CoreError::invalid(
                "checks",
                format!("must hold 1 to {MAX_BATCH_CHECKS} checks"),
            )
            .into());
        }
        let checks = checks
            .into_iter()
            .enumerate()
            .map(|(index, check)| parse_check(&format!("checks[{index}]."), check))
            .collect::<CoreResult<Vec<_>>>()?;
        // One read lock: every answer reflects the same log position.
        let view = self.store.view();
        let decisions = checks
            .iter()
            .map(|check| check_access(&view, check))
            .collect::<CoreResult<Vec<_>>>()?;
        for decision in &decisions {
            self.count_access(decision);
        }
        Ok(Response::new(pb::BatchCheckAccessResponse { decisions }))
    }

    async fn check_app_launch(
        &self,
        request: Request<pb::CheckAppLaunchRequest>,
    ) -> Result<Response<pb::AppLaunchDecision>, Status> {
        let request = request.into_inner();
        let device_id = parse::device_id("device_id", &request.device_id)?;
        if request.app_id.is_empty() || request.app_id.len() > 256 {
            return Err(CoreError::invalid("app_id", "required, at most 256 bytes").into());
        }
        let view = self.store.view();
        let device = view.devices.get(&device_id).map(|device| &device.summary);
        let verdict = decide_app_launch(&view.config, &view.states, device, &request.app_id);
        self.metrics.record_decision(
            "app_launch",
            match verdict.decision {
                AppDecision::Allow => "allow",
                AppDecision::Block => "block",
                AppDecision::Wipe => "wipe",
            },
        );
        Ok(Response::new(pb::AppLaunchDecision {
            decision: render_policy::app_decision(verdict.decision),
            reasons: render_policy::reasons(&verdict.reasons),
            position: view.head,
            policy_id: verdict.policy_id.unwrap_or_default(),
            connector_id: verdict
                .connector_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
        }))
    }

    async fn get_device_compliance(
        &self,
        request: Request<pb::GetDeviceComplianceRequest>,
    ) -> Result<Response<pb::DeviceCompliance>, Status> {
        let device_id = parse::device_id("device_id", &request.into_inner().device_id)?;
        let view = self.store.view();
        let device = view
            .devices
            .get(&device_id)
            .ok_or_else(|| CoreError::not_found("device", device_id.to_string()))?;
        let compliance = device
            .compliance
            .verdict(&view.config, &view.states, &device.summary);
        Ok(Response::new(pb::DeviceCompliance {
            device_id: device_id.to_string(),
            status: render_policy::compliance_status(compliance.status),
            policies: compliance
                .policies
                .iter()
                .map(render_policy::policy_verdict)
                .collect(),
            reasons: render_policy::reasons(&compliance.reasons),
            position: view.head,
            level: render_scalar::level(effective_level(
                &view.config,
                &view.states,
                &device.summary,
            )),
        }))
    }
}
