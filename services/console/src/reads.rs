//! The reads behind pages that take more than one call: the devices page's filter, one device's page,
//! and the chart of noncompliant devices built from the event log.

use std::time::Duration;

use maud::Markup;
use riskgate_proto::{
    bearer::Authed,
    v1::{
        decision_service_client::DecisionServiceClient, device_service_client::DeviceServiceClient,
        event::Kind, event_log_service_client::EventLogServiceClient,
        policy_service_client::PolicyServiceClient, BatchCheckAccessRequest, CheckAccessRequest,
        CheckAppLaunchRequest, ComplianceStatus, DeviceHistoryRequest, EventKind,
        GetDeviceComplianceRequest, GetDeviceRequest, ListDevicesRequest, ListEventsRequest,
        ListRequest, Platform, ThreatLevel,
    },
};

use crate::{
    chart::{self, Step},
    error::{ConsoleError, ConsoleResult},
    view::{device::DevicePage, devices::DeviceQuery, words::unix_now},
};

/// Most log pages the chart reads; past them it starts where the read stopped.
const CHART_PAGES: usize = 20;
/// Events of a device's timeline shown.
const TIMELINE: usize = 50;
/// Most history pages read for a timeline.
const HISTORY_PAGES: usize = 20;
/// Most app decisions a device page asks for.
const MAX_APPS: usize = 100;
/// Most resources one BatchCheckAccess carries.
const BATCH: usize = 1000;

/// The ListDevices request the devices page's filters ask for; a bad value is a 400 naming the field.
pub fn device_filter(query: &DeviceQuery) -> ConsoleResult<ListDevicesRequest> {
    let bad = |field: &str, value: &str| {
        ConsoleError::BadRequest(format!("{field}: unknown value {value:?}"))
    };
    let platforms = match query.platform.as_str() {
        "" => vec![],
        "android" => vec![Platform::Android as i32],
        "ios" => vec![Platform::Ios as i32],
        "ipados" => vec![Platform::Ipados as i32],
        "windows" => vec![Platform::Windows as i32],
        "macos" => vec![Platform::Macos as i32],
        other => return Err(bad("platform", other)),
    };
    // One level, or several separated by commas (the overview's "every device at risk" asks for
    // `high,medium`).
    let levels = query
        .level
        .split(',')
        .filter(|key| !key.is_empty())
        .map(|key| match key {
            "none" => Ok(ThreatLevel::Unspecified as i32),
            other => {
                ThreatLevel::from_str_name(&format!("THREAT_LEVEL_{}", other.to_ascii_uppercase()))
                    .filter(|level| *level != ThreatLevel::Unspecified)
                    .map(|level| level as i32)
                    .ok_or_else(|| bad("level", other))
            }
        })
        .collect::<ConsoleResult<Vec<_>>>()?;
    let compliance = match query.compliance.as_str() {
        "" => vec![],
        other => vec![ComplianceStatus::from_str_name(&format!(
            "COMPLIANCE_STATUS_{}",
            other.to_ascii_uppercase()
        ))
        .filter(|status| *status != ComplianceStatus::Unspecified)
        .ok_or_else(|| bad("compliance", other))? as i32],
    };
    let not_reported_for = match query.silent.as_str() {
        "" => None,
        text => {
            let silence = humantime::parse_duration(text).map_err(|err| {
                ConsoleError::BadRequest(format!("silent: {text:?} is not a duration: {err}"))
            })?;
            Some(prost_types::Duration {
                seconds: i64::try_from(silence.as_secs()).unwrap_or(i64::MAX),
                nanos: 0,
            })
        }
    };
    Ok(ListDevicesRequest {
        page_token: query.page.clone(),
        platforms,
        levels,
        connector_id: query.connector.clone(),
        compliance,
        not_reported_for,
        search: query.q.trim().to_owned(),
        ..Default::default()
    })
}

/// Everything one device's page shows.
pub async fn device_page(core: Authed, device_id: &str) -> ConsoleResult<DevicePage> {
    let device = DeviceServiceClient::new(core.clone())
        .get_device(GetDeviceRequest {
            device_id: device_id.to_owned(),
        })
        .await?
        .into_inner();
    let compliance = DecisionServiceClient::new(core.clone())
        .get_device_compliance(GetDeviceComplianceRequest {
            device_id: device_id.to_owned(),
        })
        .await?
        .into_inner();
    Ok(DevicePage {
        access: access(core.clone(), device_id).await?,
        apps: apps(core.clone(), device_id).await?,
        timeline: timeline(core, device_id).await?,
        device,
        compliance,
    })
}

/// The device's decision for every resource.
async fn access(
    core: Authed,
    device_id: &str,
) -> ConsoleResult<Vec<riskgate_proto::v1::AccessDecision>> {
    let resources = PolicyServiceClient::new(core.clone())
        .list_resources(ListRequest {})
        .await?
        .into_inner()
        .resources;
    let mut decisions = Vec::new();
    for chunk in resources.chunks(BATCH) {
        let checks = chunk
            .iter()
            .map(|resource| CheckAccessRequest {
                device_id: device_id.to_owned(),
                user_id: String::new(),
                resource: resource.name.clone(),
            })
            .collect();
        let answered = DecisionServiceClient::new(core.clone())
            .batch_check_access(BatchCheckAccessRequest { checks })
            .await?
            .into_inner()
            .decisions;
        decisions.extend(answered);
    }
    Ok(decisions)
}

/// The device's decision for each app of each app-protection policy.
async fn apps(
    core: Authed,
    device_id: &str,
) -> ConsoleResult<Vec<(String, String, riskgate_proto::v1::AppLaunchDecision)>> {
    let policies = PolicyServiceClient::new(core.clone())
        .list_app_protection_policies(ListRequest {})
        .await?
        .into_inner()
        .policies;
    let mut decisions = Vec::new();
    let pairs: Vec<(String, String)> = policies
        .iter()
        .flat_map(|policy| {
            policy
                .app_ids
                .iter()
                .map(move |app| (policy.policy_id.clone(), app.clone()))
        })
        .take(MAX_APPS)
        .collect();
    for (policy, app) in pairs {
        let decision = DecisionServiceClient::new(core.clone())
            .check_app_launch(CheckAppLaunchRequest {
                device_id: device_id.to_owned(),
                app_id: app.clone(),
            })
            .await?
            .into_inner();
        decisions.push((policy, app, decision));
    }
    Ok(decisions)
}

/// The device's newest events, newest first.
async fn timeline(core: Authed, device_id: &str) -> ConsoleResult<Vec<riskgate_proto::v1::Event>> {
    let mut client = DeviceServiceClient::new(core);
    let mut events = Vec::new();
    let mut page_token = String::new();
    for _ in 0..HISTORY_PAGES {
        let page = client
            .device_history(DeviceHistoryRequest {
                device_id: device_id.to_owned(),
                page_size: 1000,
                page_token,
            })
            .await?
            .into_inner();
        events.extend(page.events);
        let excess = events.len().saturating_sub(TIMELINE);
        events.drain(..excess);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    events.reverse();
    Ok(events)
}

/// The chart of noncompliant devices over the last `window`, from the log's compliance changes.
pub async fn noncompliance_chart(
    core: Authed,
    count_now: u64,
    window: Duration,
) -> ConsoleResult<Markup> {
    let now = unix_now();
    let mut client = EventLogServiceClient::new(core);
    // The chart starts where the window does, or where the retained log does if that is later: a young
    // deployment (or the demo) then fills the width rather than a sliver at its right edge.
    let oldest = client
        .list_events(ListEventsRequest {
            page_size: 1,
            ..Default::default()
        })
        .await?
        .into_inner()
        .events
        .first()
        .and_then(|event| event.time.as_ref().map(|time| time.seconds));
    let window_start = now - i64::try_from(window.as_secs()).unwrap_or(i64::MAX / 2);
    let mut start = oldest.map_or(window_start, |oldest| oldest.max(window_start));
    let mut steps = Vec::new();
    let mut page_token = String::new();
    let mut complete = false;
    for _ in 0..CHART_PAGES {
        let page = client
            .list_events(ListEventsRequest {
                page_size: 1000,
                page_token,
                kinds: vec![EventKind::DeviceComplianceChange as i32],
                newest_first: true,
                since: Some(prost_types::Timestamp {
                    seconds: start,
                    nanos: 0,
                }),
            })
            .await?
            .into_inner();
        steps.extend(page.events.iter().filter_map(|event| match &event.kind {
            Some(Kind::DeviceComplianceChange(change)) => Some(Step {
                at: event.time.as_ref().map_or(now, |time| time.seconds),
                was: change.previous_status == ComplianceStatus::Noncompliant as i32,
                is: change.current_status == ComplianceStatus::Noncompliant as i32,
            }),
            _ => None,
        }));
        if page.next_page_token.is_empty() {
            complete = true;
            break;
        }
        page_token = page.next_page_token;
    }
    if !complete {
        // Too many changes to read for one page: the chart starts where the read stopped.
        start = steps.last().map_or(start, |step| step.at);
    }
    let points = chart::series(count_now, &steps, start, now);
    Ok(chart::svg(
        &points,
        start,
        now,
        "Noncompliant devices over time",
    ))
}
