//! `DeviceService`: point lookups, listing and history of devices.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use riskgate_proto::v1::{self as pb, device_service_server::DeviceService};
use tonic::{Request, Response, Status};

use std::sync::Arc;

use super::{fleet, parse, parse_policy, render};
use crate::error::{CoreError, CoreResult};
use riskgate_policy::domain::{
    policy::ComplianceStatus, Clock, ConnectorId, DeviceId, DeviceRecord, Timestamp,
};
use riskgate_store::RiskStore;

/// The device query API.
#[derive(Debug, Clone)]
pub(crate) struct DeviceApi {
    store: RiskStore,
    clock: Arc<dyn Clock>,
}

impl DeviceApi {
    /// Serves queries from `store`; `clock` tells how long ago a device was reported.
    pub(crate) fn new(store: RiskStore, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// The device as the API shows it: its level under the current configuration, its status in the view.
    fn render(&self, device: &DeviceRecord) -> pb::Device {
        let config = self.store.view().config.clone();
        let status = fleet::status_in_view(&self.store, &device.device_id);
        render::device(device, &config, status)
    }

    fn known_device(&self, raw_id: &str) -> CoreResult<DeviceRecord> {
        let device_id = parse::device_id("device_id", raw_id)?;
        self.store
            .device(&device_id)?
            .ok_or_else(|| CoreError::not_found("device", device_id.to_string()))
    }
}

/// When `connector` (or any partner) last reported the device.
fn last_reported(device: &DeviceRecord, connector: Option<&ConnectorId>) -> Option<Timestamp> {
    match connector {
        Some(connector) => device
            .reports
            .get(connector)
            .map(|report| report.received_at),
        None => device
            .reports
            .values()
            .map(|report| report.received_at)
            .max(),
    }
}

/// The `search` text, lowercased; `None` when empty.
fn search_text(raw: &str) -> CoreResult<Option<String>> {
    match raw.len() {
        0 => Ok(None),
        1..=256 => Ok(Some(raw.to_ascii_lowercase())),
        len => Err(CoreError::invalid(
            "search",
            format!("{len} bytes is above the maximum of 256"),
        )),
    }
}

/// Whether `haystack` contains `lowercase_needle`, ignoring ASCII case.
fn contains_ignoring_case(haystack: &str, lowercase_needle: &str) -> bool {
    haystack.to_ascii_lowercase().contains(lowercase_needle)
}

fn compliance_status(field: &str, raw: i32) -> CoreResult<ComplianceStatus> {
    match pb::ComplianceStatus::try_from(raw) {
        Ok(pb::ComplianceStatus::Unspecified) => Err(CoreError::invalid(field, "required")),
        Ok(pb::ComplianceStatus::Unknown) => Ok(ComplianceStatus::Unknown),
        Ok(pb::ComplianceStatus::NotApplicable) => Ok(ComplianceStatus::NotApplicable),
        Ok(pb::ComplianceStatus::Compliant) => Ok(ComplianceStatus::Compliant),
        Ok(pb::ComplianceStatus::InGracePeriod) => Ok(ComplianceStatus::InGracePeriod),
        Ok(pb::ComplianceStatus::Noncompliant) => Ok(ComplianceStatus::Noncompliant),
        Ok(pb::ComplianceStatus::Error) => Ok(ComplianceStatus::Error),
        Err(_) => Err(CoreError::invalid(field, format!("unknown value {raw}"))),
    }
}

/// Page tokens are opaque to clients: base64url of the last item's key.
fn encode_token(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn decode_token(raw: &str) -> CoreResult<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(raw)
        .map_err(|_| CoreError::invalid("page_token", "not a token returned by this API"))
}

#[tonic::async_trait]
impl DeviceService for DeviceApi {
    async fn get_device(
        &self,
        request: Request<pb::GetDeviceRequest>,
    ) -> Result<Response<pb::Device>, Status> {
        let device = self.known_device(&request.into_inner().device_id)?;
        Ok(Response::new(self.render(&device)))
    }

    async fn list_devices(
        &self,
        request: Request<pb::ListDevicesRequest>,
    ) -> Result<Response<pb::ListDevicesResponse>, Status> {
        let request = request.into_inner();
        let page_size = parse::page_size(request.page_size)?;
        let after = match request.page_token.as_str() {
            "" => None,
            token => {
                let bytes = decode_token(token)?;
                let raw = String::from_utf8(bytes).map_err(|_| {
                    CoreError::invalid("page_token", "not a token returned by this API")
                })?;
                Some(DeviceId::parse(&raw).map_err(|_| {
                    CoreError::invalid("page_token", "not a token returned by this API")
                })?)
            }
        };
        let platforms = request
            .platforms
            .iter()
            .enumerate()
            .map(|(index, raw)| parse::platform(&format!("platforms[{index}]"), *raw))
            .collect::<CoreResult<Vec<_>>>()?;
        let levels = request
            .levels
            .iter()
            .enumerate()
            .map(|(index, raw)| match *raw {
                // UNSPECIFIED asks for devices without a level (no partner data).
                0 => Ok(None),
                raw => parse::threat_level(&format!("levels[{index}]"), raw).map(Some),
            })
            .collect::<CoreResult<Vec<_>>>()?;
        let connector = match request.connector_id.as_str() {
            "" => None,
            raw => Some(parse::connector_id("connector_id", raw)?),
        };
        let statuses = request
            .compliance
            .iter()
            .enumerate()
            .map(|(index, raw)| compliance_status(&format!("compliance[{index}]"), *raw))
            .collect::<CoreResult<Vec<_>>>()?;
        let reported_before =
            parse_policy::optional_duration("not_reported_for", request.not_reported_for)?.map(
                |silence| Timestamp(self.clock.now().0.saturating_sub(silence.as_nanos() as i64)),
            );
        let search = search_text(&request.search)?;
        let config = self.store.view().config.clone();
        let mut devices = self
            .store
            .list_devices(after.as_ref(), page_size + 1, |device| {
                (platforms.is_empty() || platforms.contains(&device.info.platform))
                    && (levels.is_empty()
                        || levels.contains(&render::device_level(device, &config)))
                    && connector
                        .as_ref()
                        .is_none_or(|connector| device.reports.contains_key(connector))
                    && (statuses.is_empty()
                        || statuses
                            .contains(&fleet::status_in_view(&self.store, &device.device_id)))
                    && search.as_deref().is_none_or(|text| {
                        contains_ignoring_case(device.device_id.as_str(), text)
                            || contains_ignoring_case(&device.info.owner_user_id, text)
                    })
                    && reported_before.is_none_or(|before| {
                        last_reported(device, connector.as_ref()).is_some_and(|at| at < before)
                    })
            })
            .map_err(CoreError::from)?;
        let next_page_token = if devices.len() > page_size {
            devices.truncate(page_size);
            encode_token(devices[page_size - 1].device_id.as_str().as_bytes())
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListDevicesResponse {
            devices: devices.iter().map(|device| self.render(device)).collect(),
            next_page_token,
        }))
    }

    async fn device_history(
        &self,
        request: Request<pb::DeviceHistoryRequest>,
    ) -> Result<Response<pb::DeviceHistoryResponse>, Status> {
        let request = request.into_inner();
        let page_size = parse::page_size(request.page_size)?;
        let after = match request.page_token.as_str() {
            "" => 0,
            token => {
                let bytes: [u8; 8] = decode_token(token)?.try_into().map_err(|_| {
                    CoreError::invalid("page_token", "not a token returned by this API")
                })?;
                u64::from_be_bytes(bytes)
            }
        };
        let device = self.known_device(&request.device_id)?;
        let mut events = self
            .store
            .device_history(&device.device_id, after, page_size + 1)
            .map_err(CoreError::from)?;
        let next_page_token = if events.len() > page_size {
            events.truncate(page_size);
            encode_token(&events[page_size - 1].position.to_be_bytes())
        } else {
            String::new()
        };
        Ok(Response::new(pb::DeviceHistoryResponse {
            events: events.iter().map(render::event).collect(),
            next_page_token,
        }))
    }

    async fn clear_known_risk(
        &self,
        request: Request<pb::ClearKnownRiskRequest>,
    ) -> Result<Response<pb::Device>, Status> {
        let request = request.into_inner();
        let device_id = parse::device_id("device_id", &request.device_id)?;
        let connector_id = match request.connector_id.as_str() {
            "" => None,
            raw => Some(parse::connector_id("connector_id", raw)?),
        };
        let device = self
            .store
            .clear_known_risk(device_id, connector_id)
            .await
            .map_err(CoreError::from)?;
        Ok(Response::new(self.render(&device)))
    }

    async fn get_store_info(
        &self,
        _request: Request<pb::GetStoreInfoRequest>,
    ) -> Result<Response<pb::StoreInfo>, Status> {
        let info = self.store.info();
        Ok(Response::new(pb::StoreInfo {
            store_epoch: info.epoch,
            head_position: info.head_position,
            device_count: info.device_count,
            oldest_position: self.store.first_retained(),
        }))
    }

    async fn get_fleet_summary(
        &self,
        _request: Request<pb::GetFleetSummaryRequest>,
    ) -> Result<Response<pb::FleetSummary>, Status> {
        Ok(Response::new(fleet::summary(&self.store)?))
    }
}
