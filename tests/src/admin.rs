//! The policy side of the API: registering connectors (and keeping them alive), compliance policies,
//! conditional-access resources, app-protection policies, decisions and the manual test clock.
//!
//! Since the core refuses reports from a connector that is unknown, NOT_SET_UP (no heartbeat yet) or
//! UNAVAILABLE, every test that ingests first calls [`register_connector`] (a plain connector with no
//! platform toggle: its data does not count for any policy) or [`register_connector_with`].

use std::time::Duration;

use anyhow::{ensure, Context as _};
use riskgate_proto::v1::{
    clock_service_client::ClockServiceClient, connector_service_client::ConnectorServiceClient,
    decision_service_client::DecisionServiceClient, policy_service_client::PolicyServiceClient,
    AccessDecision, AccessRule, AdvanceClockRequest, AdvanceClockResponse, AppLaunchDecision,
    Assignment, CheckAccessRequest, CheckAppLaunchRequest, CompliancePolicy, Connector,
    ConnectorState, CreateConnectorRequest, DeviceCompliance, GetDeviceComplianceRequest,
    HeartbeatRequest, PlatformToggles, Resource, ThreatLevel,
};
use tonic::transport::Channel;

use crate::process::CoreProcess;

/// A `ConnectorService` client.
pub type ConnectorClient = ConnectorServiceClient<Channel>;

/// A `PolicyService` client.
pub type PolicyClient = PolicyServiceClient<Channel>;

/// A `DecisionService` client.
pub type DecisionClient = DecisionServiceClient<Channel>;

/// A `ClockService` client (served only with `--manual-clock`).
pub type ClockClient = ClockServiceClient<Channel>;

/// The flag that makes the core's clock move only through `ClockService.AdvanceClock`.
pub const MANUAL_CLOCK: &str = "--manual-clock";

/// The vendor of connectors registered by [`register_connector`].
pub const TEST_VENDOR: &str = "test-vendor";

/// One hour, in seconds.
pub const HOUR: i64 = 3600;

/// One day, in seconds.
pub const DAY: i64 = 24 * HOUR;

/// A protobuf duration of whole seconds (negative values are allowed, to test refusals).
pub fn secs(seconds: i64) -> prost_types::Duration {
    prost_types::Duration { seconds, nanos: 0 }
}

/// A valid connector with only an id and the [`TEST_VENDOR`]; everything else at its default (no
/// toggle on, so it is AVAILABLE once it has a heartbeat).
pub fn connector(connector_id: &str) -> Connector {
    Connector {
        connector_id: connector_id.to_owned(),
        vendor: TEST_VENDOR.to_owned(),
        ..Default::default()
    }
}

/// Every platform toggle on.
pub fn all_platforms() -> PlatformToggles {
    PlatformToggles {
        android: true,
        ios: true,
        windows: true,
        macos: true,
    }
}

/// A connector whose data counts for compliance on every platform.
pub fn compliance_connector(connector_id: &str) -> Connector {
    Connector {
        compliance_enabled: Some(all_platforms()),
        ..connector(connector_id)
    }
}

/// A compliance policy for every platform and every device, with the given threat-level rule.
pub fn compliance_policy(policy_id: &str, max_threat_level: ThreatLevel) -> CompliancePolicy {
    CompliancePolicy {
        policy_id: policy_id.to_owned(),
        assignment: Some(Assignment {
            all_devices: true,
            ..Default::default()
        }),
        max_threat_level: max_threat_level as i32,
        ..Default::default()
    }
}

/// A resource with one rule for every platform: require a compliant device.
pub fn compliant_only_resource(name: &str) -> Resource {
    Resource {
        name: name.to_owned(),
        rules: vec![AccessRule {
            require_compliant_device: true,
            ..Default::default()
        }],
        ..Default::default()
    }
}

impl CoreProcess {
    /// A `ConnectorService` client on a new channel.
    pub async fn connector_client(&self) -> anyhow::Result<ConnectorClient> {
        Ok(ConnectorClient::new(self.channel().await?))
    }

    /// A `PolicyService` client on a new channel.
    pub async fn policy_client(&self) -> anyhow::Result<PolicyClient> {
        Ok(PolicyClient::new(self.channel().await?))
    }

    /// A `DecisionService` client on a new channel.
    pub async fn decision_client(&self) -> anyhow::Result<DecisionClient> {
        Ok(DecisionClient::new(self.channel().await?))
    }

    /// A `ClockService` client on a new channel.
    pub async fn clock_client(&self) -> anyhow::Result<ClockClient> {
        Ok(ClockClient::new(self.channel().await?))
    }
}

/// Registers [`connector`]`(connector_id)` and sends its first heartbeat, so that it may ingest.
/// Returns the connector as the heartbeat answered it.
pub async fn register_connector(
    core: &CoreProcess,
    connector_id: &str,
) -> anyhow::Result<Connector> {
    register_connector_with(core, connector(connector_id)).await
}

/// Creates `connector` and sends its first heartbeat. Returns the connector as the heartbeat
/// answered it, which must be in a state that accepts reports (AVAILABLE or ENABLED).
pub async fn register_connector_with(
    core: &CoreProcess,
    connector: Connector,
) -> anyhow::Result<Connector> {
    let mut client = core.connector_client().await?;
    let id = connector.connector_id.clone();
    client
        .create_connector(CreateConnectorRequest {
            connector: Some(connector),
        })
        .await
        .with_context(|| format!("CreateConnector {id:?}"))?;
    let alive = heartbeat(&mut client, &id).await?;
    ensure!(
        alive.state == ConnectorState::Available as i32
            || alive.state == ConnectorState::Enabled as i32,
        "connector {id:?} is not AVAILABLE or ENABLED after its first heartbeat: {alive:?}"
    );
    Ok(alive)
}

/// A healthy heartbeat for `connector_id`.
pub async fn heartbeat(
    client: &mut ConnectorClient,
    connector_id: &str,
) -> anyhow::Result<Connector> {
    Ok(client
        .heartbeat(HeartbeatRequest {
            connector_id: connector_id.to_owned(),
            ..Default::default()
        })
        .await
        .with_context(|| format!("Heartbeat {connector_id:?}"))?
        .into_inner())
}

/// Advances the manual clock by `by` and returns once the core has re-evaluated everything due.
pub async fn advance_clock(
    client: &mut ClockClient,
    by: Duration,
) -> anyhow::Result<AdvanceClockResponse> {
    let seconds = i64::try_from(by.as_secs()).context("duration fits in i64")?;
    let nanos = i32::try_from(by.subsec_nanos()).context("nanos fit in i32")?;
    Ok(client
        .advance_clock(AdvanceClockRequest {
            by: Some(prost_types::Duration { seconds, nanos }),
        })
        .await
        .with_context(|| format!("AdvanceClock by {by:?}"))?
        .into_inner())
}

/// CheckAccess for `device_id` and `resource`, with no user.
pub async fn check_access(
    client: &mut DecisionClient,
    device_id: &str,
    resource: &str,
) -> anyhow::Result<AccessDecision> {
    Ok(client
        .check_access(CheckAccessRequest {
            device_id: device_id.to_owned(),
            user_id: String::new(),
            resource: resource.to_owned(),
        })
        .await
        .with_context(|| format!("CheckAccess {device_id:?} to {resource:?}"))?
        .into_inner())
}

/// CheckAppLaunch for `app_id` on `device_id`.
pub async fn check_app(
    client: &mut DecisionClient,
    device_id: &str,
    app_id: &str,
) -> anyhow::Result<AppLaunchDecision> {
    Ok(client
        .check_app_launch(CheckAppLaunchRequest {
            device_id: device_id.to_owned(),
            app_id: app_id.to_owned(),
        })
        .await
        .with_context(|| format!("CheckAppLaunch {app_id:?} on {device_id:?}"))?
        .into_inner())
}

/// GetDeviceCompliance.
pub async fn device_compliance(
    client: &mut DecisionClient,
    device_id: &str,
) -> anyhow::Result<DeviceCompliance> {
    Ok(client
        .get_device_compliance(GetDeviceComplianceRequest {
            device_id: device_id.to_owned(),
        })
        .await
        .with_context(|| format!("GetDeviceCompliance {device_id:?}"))?
        .into_inner())
}
