//! `DeviceService.GetFleetSummary`: the fleet's counts by level and by compliance status, counted with the
//! same level and status ListDevices filters on, so that a dashboard's counts equal its lists.

use riskgate_policy::domain::{policy::ComplianceStatus, DeviceId, ThreatLevel};
use riskgate_proto::v1 as pb;

use super::{render, render_policy, render_scalar};
use crate::error::{CoreError, CoreResult};
use riskgate_store::RiskStore;

/// Devices read per store scan: the scan holds the store's visibility lock, so it is released between
/// pages to let commits publish.
const SCAN_PAGE: usize = 1000;

/// Every level a device can be at, `None` (no partner data) first.
const LEVELS: [Option<ThreatLevel>; 5] = [
    None,
    Some(ThreatLevel::Secured),
    Some(ThreatLevel::Low),
    Some(ThreatLevel::Medium),
    Some(ThreatLevel::High),
];

/// Every compliance status, in order of severity.
const STATUSES: [ComplianceStatus; 6] = [
    ComplianceStatus::Unknown,
    ComplianceStatus::NotApplicable,
    ComplianceStatus::Compliant,
    ComplianceStatus::InGracePeriod,
    ComplianceStatus::Noncompliant,
    ComplianceStatus::Error,
];

/// Counts every device of `store` by level and by compliance status.
pub(super) fn summary(store: &RiskStore) -> CoreResult<pb::FleetSummary> {
    let position = store.info().head_position;
    let mut by_level = [0_u64; LEVELS.len()];
    let mut by_status = [0_u64; STATUSES.len()];
    let mut after: Option<DeviceId> = None;
    loop {
        let config = store.view().config.clone();
        let page = store
            .list_devices(after.as_ref(), SCAN_PAGE, |_| true)
            .map_err(CoreError::from)?;
        for device in &page {
            let level = render::device_level(device, &config);
            by_level[LEVELS.iter().position(|at| *at == level).unwrap_or(0)] += 1;
            let status = status_in_view(store, &device.device_id);
            by_status[STATUSES.iter().position(|at| *at == status).unwrap_or(0)] += 1;
        }
        match page.last() {
            Some(last) if page.len() == SCAN_PAGE => after = Some(last.device_id.clone()),
            _ => break,
        }
    }
    Ok(pb::FleetSummary {
        device_count: by_level.iter().sum(),
        by_level: LEVELS
            .iter()
            .zip(by_level)
            .map(|(level, count)| pb::LevelCount {
                level: render_scalar::level(*level),
                count,
            })
            .collect(),
        by_compliance: STATUSES
            .iter()
            .zip(by_status)
            .map(|(status, count)| pb::ComplianceCount {
                status: render_policy::compliance_status(*status),
                count,
            })
            .collect(),
        position,
    })
}

/// The device's compliance status in the view; a device not evaluated yet is `Unknown`, as ListDevices'
/// compliance filter takes it.
pub(super) fn status_in_view(store: &RiskStore, device_id: &DeviceId) -> ComplianceStatus {
    store
        .view()
        .devices
        .get(device_id)
        .map_or(ComplianceStatus::Unknown, |view| view.compliance.status)
}
