//! The RPC decoding target: arbitrary bytes as the request message of every riskgate RPC, through
//! the codec every service decodes with (`riskgate_proto::codec`).

use prost::Message;
use riskgate_proto::{
    codec::{decode_message, UNDECODABLE_PREFIX},
    v1 as pb,
};
use tonic::{Code, Status};

use crate::Verdict;

/// Decodes one RPC's request message, dropping it.
type DecodeRequest = fn(&[u8]) -> Result<(), Status>;

fn request<U: Message + Default>(bytes: &[u8]) -> Result<(), Status> {
    decode_message::<U>(bytes).map(drop)
}

/// Every RPC of the public API (`/package.Service/Method`) with its request type. A test checks it
/// against the services in the API's descriptor set, so a new RPC cannot be left out.
pub const RPCS: &[(&str, DecodeRequest)] = &[
    (
        "/riskgate.v1.IngestService/Ingest",
        request::<pb::ReportBatch>,
    ),
    (
        "/riskgate.v1.IngestService/GetCheckpoint",
        request::<pb::GetCheckpointRequest>,
    ),
    (
        "/riskgate.v1.DeviceService/GetDevice",
        request::<pb::GetDeviceRequest>,
    ),
    (
        "/riskgate.v1.DeviceService/ListDevices",
        request::<pb::ListDevicesRequest>,
    ),
    (
        "/riskgate.v1.DeviceService/DeviceHistory",
        request::<pb::DeviceHistoryRequest>,
    ),
    (
        "/riskgate.v1.DeviceService/GetStoreInfo",
        request::<pb::GetStoreInfoRequest>,
    ),
    (
        "/riskgate.v1.DeviceService/ClearKnownRisk",
        request::<pb::ClearKnownRiskRequest>,
    ),
    (
        "/riskgate.v1.DeviceService/GetFleetSummary",
        request::<pb::GetFleetSummaryRequest>,
    ),
    (
        "/riskgate.v1.EventLogService/ListEvents",
        request::<pb::ListEventsRequest>,
    ),
    (
        "/riskgate.v1.AuthService/WhoAmI",
        request::<pb::WhoAmIRequest>,
    ),
    (
        "/riskgate.v1.ConnectorService/CreateConnector",
        request::<pb::CreateConnectorRequest>,
    ),
    (
        "/riskgate.v1.ConnectorService/GetConnector",
        request::<pb::GetConnectorRequest>,
    ),
    (
        "/riskgate.v1.ConnectorService/ListConnectors",
        request::<pb::ListConnectorsRequest>,
    ),
    (
        "/riskgate.v1.ConnectorService/UpdateConnector",
        request::<pb::UpdateConnectorRequest>,
    ),
    (
        "/riskgate.v1.ConnectorService/DeleteConnector",
        request::<pb::DeleteConnectorRequest>,
    ),
    (
        "/riskgate.v1.ConnectorService/Heartbeat",
        request::<pb::HeartbeatRequest>,
    ),
    (
        "/riskgate.v1.ConnectorService/Recheck",
        request::<pb::RecheckRequest>,
    ),
    (
        "/riskgate.v1.ConnectorService/Control",
        request::<pb::ControlRequest>,
    ),
    (
        "/riskgate.v1.ConnectorService/CompleteControl",
        request::<pb::ControlResult>,
    ),
    (
        "/riskgate.v1.PolicyService/CreateCompliancePolicy",
        request::<pb::CompliancePolicy>,
    ),
    (
        "/riskgate.v1.PolicyService/GetCompliancePolicy",
        request::<pb::GetByIdRequest>,
    ),
    (
        "/riskgate.v1.PolicyService/ListCompliancePolicies",
        request::<pb::ListRequest>,
    ),
    (
        "/riskgate.v1.PolicyService/UpdateCompliancePolicy",
        request::<pb::UpdateCompliancePolicyRequest>,
    ),
    (
        "/riskgate.v1.PolicyService/DeleteCompliancePolicy",
        request::<pb::DeleteByIdRequest>,
    ),
    (
        "/riskgate.v1.PolicyService/PutResource",
        request::<pb::Resource>,
    ),
    (
        "/riskgate.v1.PolicyService/GetResource",
        request::<pb::GetByIdRequest>,
    ),
    (
        "/riskgate.v1.PolicyService/ListResources",
        request::<pb::ListRequest>,
    ),
    (
        "/riskgate.v1.PolicyService/DeleteResource",
        request::<pb::DeleteByIdRequest>,
    ),
    (
        "/riskgate.v1.PolicyService/PutAppProtectionPolicy",
        request::<pb::AppProtectionPolicy>,
    ),
    (
        "/riskgate.v1.PolicyService/GetAppProtectionPolicy",
        request::<pb::GetByIdRequest>,
    ),
    (
        "/riskgate.v1.PolicyService/ListAppProtectionPolicies",
        request::<pb::ListRequest>,
    ),
    (
        "/riskgate.v1.PolicyService/DeleteAppProtectionPolicy",
        request::<pb::DeleteByIdRequest>,
    ),
    (
        "/riskgate.v1.PolicyService/GetTenantSettings",
        request::<pb::GetTenantSettingsRequest>,
    ),
    (
        "/riskgate.v1.PolicyService/UpdateTenantSettings",
        request::<pb::TenantSettings>,
    ),
    (
        "/riskgate.v1.DecisionService/CheckAccess",
        request::<pb::CheckAccessRequest>,
    ),
    (
        "/riskgate.v1.DecisionService/BatchCheckAccess",
        request::<pb::BatchCheckAccessRequest>,
    ),
    (
        "/riskgate.v1.DecisionService/CheckAppLaunch",
        request::<pb::CheckAppLaunchRequest>,
    ),
    (
        "/riskgate.v1.DecisionService/GetDeviceCompliance",
        request::<pb::GetDeviceComplianceRequest>,
    ),
    (
        "/riskgate.v1.ClockService/AdvanceClock",
        request::<pb::AdvanceClockRequest>,
    ),
    (
        "/riskgate.v1.RiskStream/Subscribe",
        request::<pb::SubscribeRequest>,
    ),
];

/// Decodes the input as the request of every RPC.
///
/// Asserts: a refusal is `INVALID_ARGUMENT` with the codec's prefix, never `INTERNAL` or any other
/// code, so no byte string makes a server answer that it is at fault.
pub fn rpc_decode(data: &[u8]) -> Verdict {
    let mut accepted = false;
    for (path, decode) in RPCS {
        match decode(data) {
            Ok(()) => accepted = true,
            Err(status) => {
                assert_eq!(status.code(), Code::InvalidArgument, "{path}: {status:?}");
                assert!(
                    status.message().starts_with(UNDECODABLE_PREFIX),
                    "{path}: {status:?}"
                );
            }
        }
    }
    Verdict::from_accepted(accepted)
}
