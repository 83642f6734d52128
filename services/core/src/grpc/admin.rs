//! `ConnectorService` and `PolicyService`: the admin API. Every change goes through the store's writer,
//! which persists it and re-evaluates the affected devices before answering.

use std::{collections::BTreeMap, pin::Pin, sync::Arc, time::Duration};

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
    domain::{
        policy::{AppProtectionPolicy, CompliancePolicy, Connector, PolicyConfig, Resource},
        Clock, ConnectorId, Timestamp,
    },
    error::DomainError,
};
use riskgate_store::RiskStore;

/// The admin API.
#[derive(Debug, Clone)]
pub(crate) struct AdminApi {
    store: RiskStore,
    clock: Arc<dyn Clock>,
    control: ControlHub,
}

/// Default and longest wait for a host's answer to a re-check.
const RECHECK_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_RECHECK_TIMEOUT: Duration = Duration::from_secs(60);
/// Most device ids in one re-check.
const MAX_RECHECK_DEVICES: usize = 1000;

/// One kind of configuration object the admin API serves: its name in errors, where the configuration
/// keeps it, how the writer's outcome carries it, and its wire form (some depend on the time).
struct Kind<K: 'static, T: 'static, W> {
    what: &'static str,
    in_config: fn(&PolicyConfig) -> &BTreeMap<K, T>,
    from_outcome: fn(AdminOutcome) -> Result<T, Status>,
    render: fn(&T, Timestamp) -> W,
}

const CONNECTORS: Kind<ConnectorId, Connector, pb::Connector> = Kind {
    what: "connector",
    in_config: |config| &config.connectors,
    from_outcome: |outcome| match outcome {
        AdminOutcome::Connector(connector) => Ok(connector),
        other => Err(unexpected(other)),
    },
    render: render_policy::connector,
};

const COMPLIANCE_POLICIES: Kind<String, CompliancePolicy, pb::CompliancePolicy> = Kind {
    what: "compliance policy",
    in_config: |config| &config.policies,
    from_outcome: |outcome| match outcome {
        AdminOutcome::Policy(policy) => Ok(policy),
        other => Err(unexpected(other)),
    },
    render: |policy, _| render_policy::compliance_policy(policy),
};

const RESOURCES: Kind<String, Resource, pb::Resource> = Kind {
    what: "resource",
    in_config: |config| &config.resources,
    from_outcome: |outcome| match outcome {
        AdminOutcome::Resource(resource) => Ok(resource),
        other => Err(unexpected(other)),
    },
    render: |resource, _| render_policy::resource(resource),
};

const APP_POLICIES: Kind<String, AppProtectionPolicy, pb::AppProtectionPolicy> = Kind {
    what: "app-protection policy",
    in_config: |config| &config.app_policies,
    from_outcome: |outcome| match outcome {
        AdminOutcome::AppPolicy(policy) => Ok(policy),
        other => Err(unexpected(other)),
    },
    render: |policy, _| render_policy::app_policy(policy),
};

impl AdminApi {
    /// Serves admin changes to `store`; `clock` gives connector states their "now".
    pub(crate) fn new(store: RiskStore, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            control: ControlHub::default(),
        }
    }

    async fn run(&self, command: AdminCommand) -> CoreResult<AdminOutcome> {
        Ok(self.store.admin(command).await?)
    }

    /// Runs `command`, which changes one object of `kind`, and answers with the object after the change.
    async fn change<K, T, W>(
        &self,
        kind: &Kind<K, T, W>,
        command: AdminCommand,
    ) -> Result<Response<W>, Status> {
        let object = (kind.from_outcome)(self.run(command).await?)?;
        Ok(Response::new((kind.render)(&object, self.clock.now())))
    }

    /// The object of `kind` with `id`, or NOT_FOUND.
    fn get<K: Ord + AsRef<str>, T, W>(
        &self,
        kind: &Kind<K, T, W>,
        id: &K,
    ) -> Result<Response<W>, Status> {
        let view = self.store.view();
        let object = (kind.in_config)(&view.config)
            .get(id)
            .ok_or_else(|| not_found(kind.what, id.as_ref()))?;
        Ok(Response::new((kind.render)(object, self.clock.now())))
    }

    /// The object of `kind` whose id the request names.
    fn get_by_id<T, W>(
        &self,
        kind: &Kind<String, T, W>,
        request: Request<pb::GetByIdRequest>,
    ) -> Result<Response<W>, Status> {
        let id = parse_policy::object_id("id", &request.into_inner().id)?;
        self.get(kind, &id)
    }

    /// Every object of `kind`, in id order.
    fn list<K, T, W>(&self, kind: &Kind<K, T, W>) -> Vec<W> {
        let now = self.clock.now();
        let view = self.store.view();
        (kind.in_config)(&view.config)
            .values()
            .map(|object| (kind.render)(object, now))
            .collect()
    }

    /// Deletes the object whose id the request names with the command `delete` makes of it.
    async fn delete_by_id(
        &self,
        request: Request<pb::DeleteByIdRequest>,
        delete: fn(String) -> AdminCommand,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        let id = parse_policy::object_id("id", &request.into_inner().id)?;
        self.run(delete(id)).await?;
        Ok(Response::new(pb::DeleteResponse {}))
    }

    /// NOT_FOUND unless the connector is configured.
    fn require_connector(&self, connector_id: &ConnectorId) -> Result<(), Status> {
        if self
            .store
            .view()
            .config
            .connectors
            .contains_key(connector_id)
        {
            Ok(())
        } else {
            Err(not_found(CONNECTORS.what, connector_id.as_str()))
        }
    }
}

fn unexpected(outcome: AdminOutcome) -> Status {
    CoreError::Internal(format!(
        "admin command returned an unexpected outcome: {outcome:?}"
    ))
    .into()
}

fn not_found(what: &'static str, id: &str) -> Status {
    CoreError::not_found(what, id.to_owned()).into()
}

#[tonic::async_trait]
impl ConnectorService for AdminApi {
    async fn create_connector(
        &self,
        request: Request<pb::CreateConnectorRequest>,
    ) -> Result<Response<pb::Connector>, Status> {
        let (connector_id, settings) = parse_policy::connector(request.into_inner().connector)?;
        self.change(
            &CONNECTORS,
            AdminCommand::CreateConnector(connector_id, settings),
        )
        .await
    }

    async fn get_connector(
        &self,
        request: Request<pb::GetConnectorRequest>,
    ) -> Result<Response<pb::Connector>, Status> {
        let connector_id = parse::connector_id("connector_id", &request.into_inner().connector_id)?;
        self.get(&CONNECTORS, &connector_id)
    }

    async fn list_connectors(
        &self,
        _request: Request<pb::ListConnectorsRequest>,
    ) -> Result<Response<pb::ListConnectorsResponse>, Status> {
        Ok(Response::new(pb::ListConnectorsResponse {
            connectors: self.list(&CONNECTORS),
        }))
    }

    async fn update_connector(
        &self,
        request: Request<pb::UpdateConnectorRequest>,
    ) -> Result<Response<pb::Connector>, Status> {
        let request = request.into_inner();
        let (connector_id, settings) = parse_policy::connector(request.connector)?;
        let command = AdminCommand::UpdateConnector {
            connector_id,
            settings,
            expected_version: request.expected_version,
        };
        self.change(&CONNECTORS, command).await
    }

    async fn delete_connector(
        &self,
        request: Request<pb::DeleteConnectorRequest>,
    ) -> Result<Response<pb::DeleteConnectorResponse>, Status> {
        let connector_id = parse::connector_id("connector_id", &request.into_inner().connector_id)?;
        self.run(AdminCommand::DeleteConnector(connector_id))
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
        let command = AdminCommand::Heartbeat {
            connector_id,
            error_message: request.error_message,
            feed,
        };
        self.change(&CONNECTORS, command).await
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
        self.require_connector(&connector_id)?;
        let result = self
            .control
            .recheck(&connector_id, device_ids, timeout)
            .await?;
        if !result.accepted {
            return Err(CoreError::Domain(DomainError::FailedPrecondition(format!(
                "connector {connector_id} refused the re-check: {}",
                result.message
            )))
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
        self.require_connector(&connector_id)?;
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
        self.change(&COMPLIANCE_POLICIES, AdminCommand::CreatePolicy(policy))
            .await
    }

    async fn get_compliance_policy(
        &self,
        request: Request<pb::GetByIdRequest>,
    ) -> Result<Response<pb::CompliancePolicy>, Status> {
        self.get_by_id(&COMPLIANCE_POLICIES, request)
    }

    async fn list_compliance_policies(
        &self,
        _request: Request<pb::ListRequest>,
    ) -> Result<Response<pb::ListCompliancePoliciesResponse>, Status> {
        Ok(Response::new(pb::ListCompliancePoliciesResponse {
            policies: self.list(&COMPLIANCE_POLICIES),
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
        self.change(&COMPLIANCE_POLICIES, command).await
    }

    async fn delete_compliance_policy(
        &self,
        request: Request<pb::DeleteByIdRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        self.delete_by_id(request, AdminCommand::DeletePolicy).await
    }

    async fn put_resource(
        &self,
        request: Request<pb::Resource>,
    ) -> Result<Response<pb::Resource>, Status> {
        let resource = parse_policy::resource(request.into_inner())?;
        self.change(&RESOURCES, AdminCommand::PutResource(resource))
            .await
    }

    async fn get_resource(
        &self,
        request: Request<pb::GetByIdRequest>,
    ) -> Result<Response<pb::Resource>, Status> {
        self.get_by_id(&RESOURCES, request)
    }

    async fn list_resources(
        &self,
        _request: Request<pb::ListRequest>,
    ) -> Result<Response<pb::ListResourcesResponse>, Status> {
        Ok(Response::new(pb::ListResourcesResponse {
            resources: self.list(&RESOURCES),
        }))
    }

    async fn delete_resource(
        &self,
        request: Request<pb::DeleteByIdRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        self.delete_by_id(request, AdminCommand::DeleteResource)
            .await
    }

    async fn put_app_protection_policy(
        &self,
        request: Request<pb::AppProtectionPolicy>,
    ) -> Result<Response<pb::AppProtectionPolicy>, Status> {
        let policy = parse_policy::app_policy(request.into_inner())?;
        self.change(&APP_POLICIES, AdminCommand::PutAppPolicy(policy))
            .await
    }

    async fn get_app_protection_policy(
        &self,
        request: Request<pb::GetByIdRequest>,
    ) -> Result<Response<pb::AppProtectionPolicy>, Status> {
        self.get_by_id(&APP_POLICIES, request)
    }

    async fn list_app_protection_policies(
        &self,
        _request: Request<pb::ListRequest>,
    ) -> Result<Response<pb::ListAppProtectionPoliciesResponse>, Status> {
        Ok(Response::new(pb::ListAppProtectionPoliciesResponse {
            policies: self.list(&APP_POLICIES),
        }))
    }

    async fn delete_app_protection_policy(
        &self,
        request: Request<pb::DeleteByIdRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        self.delete_by_id(request, AdminCommand::DeleteAppPolicy)
            .await
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
