//! `ConnectorService` and `PolicyService`: the admin API. Every change goes through the store's writer,
//! which persists it and re-evaluates the affected devices before answering.

use std::{pin::Pin, sync::Arc, time::Duration};

use futures::Stream;
use riskgate_proto::v1::{
    self as pb, connector_service_server::ConnectorService, policy_service_server::PolicyService,
};
use tonic::{Request, Response, Status};

use super::{
    control::{ControlHub, ControlItem},
    limits::acting_for,
    parse, parse_policy, render_policy,
};
use crate::error::{CoreError, CoreResult};
use riskgate_policy::{
    admin::{AdminCommand, AdminOutcome},
    domain::Clock,
};
use riskgate_store::RiskStore;

/// The admin API.
#[derive(Debug, Clone)]
pub struct AdminApi {
    store: RiskStore,
    clock: Arc<dyn Clock>,
    control: ControlHub,
}

/// Default and longest wait for a host's answer to a re-check.
const RECHECK_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_RECHECK_TIMEOUT: Duration = Duration::from_secs(60);
/// Most device ids in one re-check.
const MAX_RECHECK_DEVICES: usize = 1000;

impl AdminApi {
    /// Serves admin changes to `store`; `clock` gives connector states their "now".
    pub fn new(store: RiskStore, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            control: ControlHub::default(),
        }
    }

    async fn run(&self, command: AdminCommand) -> CoreResult<AdminOutcome> {
        Ok(self.store.admin(command).await?)
    }

    async fn connector_outcome(
        &self,
        command: AdminCommand,
    ) -> Result<Response<pb::Connector>, Status> {
        match self.run(command).await? {
            AdminOutcome::Connector(connector) => Ok(Response::new(render_policy::connector(
                &connector,
                self.clock.now(),
            ))),
            other => Err(unexpected(other)),
        }
    }

    async fn deleted(&self, command: AdminCommand) -> CoreResult<()> {
        self.run(command).await.map(drop)
    }
}

fn unexpected(outcome: AdminOutcome) -> Status {
    CoreError::Internal(format!(
        "admin command returned an unexpected outcome: {outcome:?}"
    ))
    .into()
}

fn not_found(what: &'static str, id: &str) -> Status {
    CoreError::NotFound {
        what,
        id: id.to_owned(),
    }
    .into()
}

#[tonic::async_trait]
impl ConnectorService for AdminApi {
    async fn create_connector(
        &self,
        request: Request<pb::CreateConnectorRequest>,
    ) -> Result<Response<pb::Connector>, Status> {
        let (connector_id, settings) = parse_policy::connector(request.into_inner().connector)?;
        self.connector_outcome(AdminCommand::CreateConnector(connector_id, settings))
            .await
    }

    async fn get_connector(
        &self,
        request: Request<pb::GetConnectorRequest>,
    ) -> Result<Response<pb::Connector>, Status> {
        let connector_id = parse::connector_id("connector_id", &request.into_inner().connector_id)?;
        let view = self.store.view();
        let connector = view
            .config
            .connectors
            .get(&connector_id)
            .ok_or_else(|| not_found("connector", connector_id.as_str()))?;
        Ok(Response::new(render_policy::connector(
            connector,
            self.clock.now(),
        )))
    }

    async fn list_connectors(
        &self,
        _request: Request<pb::ListConnectorsRequest>,
    ) -> Result<Response<pb::ListConnectorsResponse>, Status> {
        let now = self.clock.now();
        let view = self.store.view();
        let connectors = view
            .config
            .connectors
            .values()
            .map(|connector| render_policy::connector(connector, now))
            .collect();
        Ok(Response::new(pb::ListConnectorsResponse { connectors }))
    }

    async fn update_connector(
        &self,
        request: Request<pb::UpdateConnectorRequest>,
    ) -> Result<Response<pb::Connector>, Status> {
        let request = request.into_inner();
        let (connector_id, settings) = parse_policy::connector(request.connector)?;
        self.connector_outcome(AdminCommand::UpdateConnector {
            connector_id,
            settings,
            expected_version: request.expected_version,
        })
        .await
    }

    async fn delete_connector(
        &self,
        request: Request<pb::DeleteConnectorRequest>,
    ) -> Result<Response<pb::DeleteConnectorResponse>, Status> {
        let connector_id = parse::connector_id("connector_id", &request.into_inner().connector_id)?;
        self.deleted(AdminCommand::DeleteConnector(connector_id))
            .await?;
        Ok(Response::new(pb::DeleteConnectorResponse {}))
    }

    async fn heartbeat(
        &self,
        request: Request<pb::HeartbeatRequest>,
    ) -> Result<Response<pb::Connector>, Status> {
        let connector_id = acting_for(&request, |m| &m.connector_id)?;
        let request = request.into_inner();
        if request.error_message.len() > 1024 {
            return Err(CoreError::invalid("error_message", "longer than 1024 bytes").into());
        }
        let feed = parse::feed_health(request.feed, self.clock.now())?;
        self.connector_outcome(AdminCommand::Heartbeat {
            connector_id,
            error_message: request.error_message,
            feed,
        })
        .await
    }

    type ControlStream = Pin<Box<dyn Stream<Item = ControlItem> + Send>>;

    async fn recheck(
        &self,
        request: Request<pb::RecheckRequest>,
    ) -> Result<Response<pb::RecheckResponse>, Status> {
        let request = request.into_inner();
        let connector_id = parse::connector_id("connector_id", &request.connector_id)?;
        if request.device_ids.len() > MAX_RECHECK_DEVICES {
            return Err(CoreError::invalid(
                "device_ids",
                format!("at most {MAX_RECHECK_DEVICES} devices"),
            )
            .into());
        }
        let device_ids = request
            .device_ids
            .iter()
            .enumerate()
            .map(|(index, raw)| {
                parse::device_id(&format!("device_ids[{index}]"), raw).map(|id| id.to_string())
            })
            .collect::<CoreResult<Vec<_>>>()?;
        let timeout =
            parse_policy::optional_duration("timeout", request.timeout)?.unwrap_or(RECHECK_TIMEOUT);
        if timeout.is_zero() || timeout > MAX_RECHECK_TIMEOUT {
            return Err(CoreError::invalid("timeout", "must be between 1 ns and 60 s").into());
        }
        if !self
            .store
            .view()
            .config
            .connectors
            .contains_key(&connector_id)
        {
            return Err(not_found("connector", connector_id.as_str()));
        }
        let result = self
            .control
            .recheck(&connector_id, device_ids, timeout)
            .await?;
        if !result.accepted {
            return Err(CoreError::FailedPrecondition(format!(
                "connector {connector_id} refused the re-check: {}",
                result.message
            ))
            .into());
        }
        tracing::info!(connector = %connector_id, devices = request.device_ids.len(), "re-check accepted");
        Ok(Response::new(pb::RecheckResponse {
            accepted: true,
            message: result.message,
        }))
    }

    async fn control(
        &self,
        request: Request<pb::ControlRequest>,
    ) -> Result<Response<Self::ControlStream>, Status> {
        let connector_id = acting_for(&request, |m| &m.connector_id)?;
        if !self
            .store
            .view()
            .config
            .connectors
            .contains_key(&connector_id)
        {
            return Err(not_found("connector", connector_id.as_str()));
        }
        let receiver = self.control.open(connector_id);
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(receiver),
        )))
    }

    async fn complete_control(
        &self,
        request: Request<pb::ControlResult>,
    ) -> Result<Response<pb::CompleteControlResponse>, Status> {
        let connector_id = acting_for(&request, |m| &m.connector_id)?;
        let result = request.into_inner();
        if result.message.len() > 1024 {
            return Err(CoreError::invalid("message", "longer than 1024 bytes").into());
        }
        self.control.complete(&connector_id, result)?;
        Ok(Response::new(pb::CompleteControlResponse {}))
    }
}

#[tonic::async_trait]
impl PolicyService for AdminApi {
    async fn create_compliance_policy(
        &self,
        request: Request<pb::CompliancePolicy>,
    ) -> Result<Response<pb::CompliancePolicy>, Status> {
        let policy = parse_policy::compliance_policy("", Some(request.into_inner()))?;
        match self.run(AdminCommand::CreatePolicy(policy)).await? {
            AdminOutcome::Policy(policy) => {
                Ok(Response::new(render_policy::compliance_policy(&policy)))
            }
            other => Err(unexpected(other)),
        }
    }

    async fn get_compliance_policy(
        &self,
        request: Request<pb::GetByIdRequest>,
    ) -> Result<Response<pb::CompliancePolicy>, Status> {
        let id = parse_policy::object_id("id", &request.into_inner().id)?;
        let view = self.store.view();
        let policy = view
            .config
            .policies
            .get(&id)
            .ok_or_else(|| not_found("compliance policy", &id))?;
        Ok(Response::new(render_policy::compliance_policy(policy)))
    }

    async fn list_compliance_policies(
        &self,
        _request: Request<pb::ListRequest>,
    ) -> Result<Response<pb::ListCompliancePoliciesResponse>, Status> {
        let view = self.store.view();
        let policies = view
            .config
            .policies
            .values()
            .map(render_policy::compliance_policy)
            .collect();
        Ok(Response::new(pb::ListCompliancePoliciesResponse {
            policies,
        }))
    }

    async fn update_compliance_policy(
        &self,
        request: Request<pb::UpdateCompliancePolicyRequest>,
    ) -> Result<Response<pb::CompliancePolicy>, Status> {
        let request = request.into_inner();
        let policy = parse_policy::compliance_policy("policy", request.policy)?;
        let command = AdminCommand::UpdatePolicy {
            policy,
            expected_version: request.expected_version,
        };
        match self.run(command).await? {
            AdminOutcome::Policy(policy) => {
                Ok(Response::new(render_policy::compliance_policy(&policy)))
            }
            other => Err(unexpected(other)),
        }
    }

    async fn delete_compliance_policy(
        &self,
        request: Request<pb::DeleteByIdRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        let id = parse_policy::object_id("id", &request.into_inner().id)?;
        self.deleted(AdminCommand::DeletePolicy(id)).await?;
        Ok(Response::new(pb::DeleteResponse {}))
    }

    async fn put_resource(
        &self,
        request: Request<pb::Resource>,
    ) -> Result<Response<pb::Resource>, Status> {
        let resource = parse_policy::resource(request.into_inner())?;
        match self.run(AdminCommand::PutResource(resource)).await? {
            AdminOutcome::Resource(resource) => {
                Ok(Response::new(render_policy::resource(&resource)))
            }
            other => Err(unexpected(other)),
        }
    }

    async fn get_resource(
        &self,
        request: Request<pb::GetByIdRequest>,
    ) -> Result<Response<pb::Resource>, Status> {
        let id = parse_policy::object_id("id", &request.into_inner().id)?;
        let view = self.store.view();
        let resource = view
            .config
            .resources
            .get(&id)
            .ok_or_else(|| not_found("resource", &id))?;
        Ok(Response::new(render_policy::resource(resource)))
    }

    async fn list_resources(
        &self,
        _request: Request<pb::ListRequest>,
    ) -> Result<Response<pb::ListResourcesResponse>, Status> {
        let view = self.store.view();
        let resources = view
            .config
            .resources
            .values()
            .map(render_policy::resource)
            .collect();
        Ok(Response::new(pb::ListResourcesResponse { resources }))
    }

    async fn delete_resource(
        &self,
        request: Request<pb::DeleteByIdRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        let id = parse_policy::object_id("id", &request.into_inner().id)?;
        self.deleted(AdminCommand::DeleteResource(id)).await?;
        Ok(Response::new(pb::DeleteResponse {}))
    }

    async fn put_app_protection_policy(
        &self,
        request: Request<pb::AppProtectionPolicy>,
    ) -> Result<Response<pb::AppProtectionPolicy>, Status> {
        let policy = parse_policy::app_policy(request.into_inner())?;
        match self.run(AdminCommand::PutAppPolicy(policy)).await? {
            AdminOutcome::AppPolicy(policy) => {
                Ok(Response::new(render_policy::app_policy(&policy)))
            }
            other => Err(unexpected(other)),
        }
    }

    async fn get_app_protection_policy(
        &self,
        request: Request<pb::GetByIdRequest>,
    ) -> Result<Response<pb::AppProtectionPolicy>, Status> {
        let id = parse_policy::object_id("id", &request.into_inner().id)?;
        let view = self.store.view();
        let policy = view
            .config
            .app_policies
            .get(&id)
            .ok_or_else(|| not_found("app-protection policy", &id))?;
        Ok(Response::new(render_policy::app_policy(policy)))
    }

    async fn list_app_protection_policies(
        &self,
        _request: Request<pb::ListRequest>,
    ) -> Result<Response<pb::ListAppProtectionPoliciesResponse>, Status> {
        let view = self.store.view();
        let policies = view
            .config
            .app_policies
            .values()
            .map(render_policy::app_policy)
            .collect();
        Ok(Response::new(pb::ListAppProtectionPoliciesResponse {
            policies,
        }))
    }

    async fn delete_app_protection_policy(
        &self,
        request: Request<pb::DeleteByIdRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        let id = parse_policy::object_id("id", &request.into_inner().id)?;
        self.deleted(AdminCommand::DeleteAppPolicy(id)).await?;
        Ok(Response::new(pb::DeleteResponse {}))
    }

    async fn get_tenant_settings(
        &self,
        _request: Request<pb::GetTenantSettingsRequest>,
    ) -> Result<Response<pb::TenantSettings>, Status> {
        let view = self.store.view();
        Ok(Response::new(render_policy::tenant(&view.config.tenant)))
    }

    async fn update_tenant_settings(
        &self,
        request: Request<pb::TenantSettings>,
    ) -> Result<Response<pb::TenantSettings>, Status> {
        let tenant = parse_policy::tenant(request.into_inner())?;
        match self.run(AdminCommand::UpdateTenant(tenant)).await? {
            AdminOutcome::Tenant(tenant) => Ok(Response::new(render_policy::tenant(&tenant))),
            other => Err(unexpected(other)),
        }
    }
}
