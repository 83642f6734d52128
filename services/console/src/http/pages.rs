//! The page handlers: each reads what its page shows from the core, as the signed-in user, and renders
//! it. The live position is taken before the reads, so every change after what a page shows reaches it.

use std::sync::Arc;

use axum::{
    extract::{Path, Query, State},
    http::header,
    response::{IntoResponse, Response},
};
use maud::Markup;
use riskgate_proto::{
    bearer::Authed,
    v1::{
        connector_service_client::ConnectorServiceClient,
        device_service_client::DeviceServiceClient, policy_service_client::PolicyServiceClient,
        ComplianceStatus, GetFleetSummaryRequest, GetTenantSettingsRequest, ListConnectorsRequest,
        ListDevicesRequest, ListRequest, ThreatLevel,
    },
};

use super::SignedIn;
use crate::{
    app::App,
    error::ConsoleResult,
    reads,
    view::{
        catalog, device as device_view,
        devices::{self as devices_view, DeviceQuery},
        layout::{page, Frame, Section},
        overview::{self as overview_view, Overview},
    },
};

/// Devices listed under "At risk now".
const AT_RISK_LISTED: u32 = 20;
/// Devices per page of the devices page.
const DEVICES_PER_PAGE: u32 = 50;

pub(super) async fn overview(
    State(app): State<Arc<App>>,
    signed_in: SignedIn,
) -> ConsoleResult<Response> {
    let after = app.live_after();
    let core = app.core_as(&signed_in.session)?;
    let summary = DeviceServiceClient::new(core.clone())
        .get_fleet_summary(GetFleetSummaryRequest {})
        .await?
        .into_inner();
    let at_risk = DeviceServiceClient::new(core.clone())
        .list_devices(ListDevicesRequest {
            page_size: AT_RISK_LISTED,
            levels: vec![ThreatLevel::High as i32, ThreatLevel::Medium as i32],
            ..Default::default()
        })
        .await?
        .into_inner();
    let noncompliant_now = summary
        .by_compliance
        .iter()
        .find(|entry| entry.status == ComplianceStatus::Noncompliant as i32)
        .map_or(0, |entry| entry.count);
    let chart =
        reads::noncompliance_chart(core.clone(), noncompliant_now, app.chart_window).await?;
    let overview = Overview {
        summary,
        more_at_risk: !at_risk.next_page_token.is_empty(),
        at_risk: at_risk.devices,
        connectors: list_connectors(core).await?,
        chart,
    };
    Ok(render(
        &app,
        &signed_in,
        "Overview",
        Section::Overview,
        after,
        None,
        overview_view::render(&overview),
    ))
}

pub(super) async fn devices(
    State(app): State<Arc<App>>,
    signed_in: SignedIn,
    Query(query): Query<DeviceQuery>,
) -> ConsoleResult<Response> {
    let after = app.live_after();
    let core = app.core_as(&signed_in.session)?;
    let request = ListDevicesRequest {
        page_size: DEVICES_PER_PAGE,
        ..reads::device_filter(&query)?
    };
    let listed = DeviceServiceClient::new(core.clone())
        .list_devices(request)
        .await?
        .into_inner();
    let connectors = list_connectors(core).await?;
    let next = Some(listed.next_page_token).filter(|token| !token.is_empty());
    let content = devices_view::render(&query, &connectors, &listed.devices, next);
    Ok(render(
        &app,
        &signed_in,
        "Devices",
        Section::Devices,
        after,
        None,
        content,
    ))
}

pub(super) async fn device(
    State(app): State<Arc<App>>,
    signed_in: SignedIn,
    Path(device_id): Path<String>,
) -> ConsoleResult<Response> {
    let after = app.live_after();
    let core = app.core_as(&signed_in.session)?;
    let device_page = reads::device_page(core, &device_id).await?;
    let content = device_view::render(&device_page, &signed_in.session);
    let title = format!("Device {device_id}");
    Ok(render(
        &app,
        &signed_in,
        &title,
        Section::Devices,
        after,
        Some(&device_id),
        content,
    ))
}

pub(super) async fn connectors(
    State(app): State<Arc<App>>,
    signed_in: SignedIn,
) -> ConsoleResult<Response> {
    let after = app.live_after();
    let connectors = list_connectors(app.core_as(&signed_in.session)?).await?;
    let content = catalog::connectors(&connectors, &signed_in.session);
    Ok(render(
        &app,
        &signed_in,
        "Connectors",
        Section::Connectors,
        after,
        None,
        content,
    ))
}

pub(super) async fn policies(
    State(app): State<Arc<App>>,
    signed_in: SignedIn,
) -> ConsoleResult<Response> {
    let mut client = PolicyServiceClient::new(app.core_as(&signed_in.session)?);
    let compliance = client
        .list_compliance_policies(ListRequest {})
        .await?
        .into_inner()
        .policies;
    let apps = client
        .list_app_protection_policies(ListRequest {})
        .await?
        .into_inner()
        .policies;
    let tenant = client
        .get_tenant_settings(GetTenantSettingsRequest {})
        .await?
        .into_inner();
    let content = catalog::policies(&compliance, &apps, &tenant);
    Ok(render(
        &app,
        &signed_in,
        "Policies",
        Section::Policies,
        None,
        None,
        content,
    ))
}

pub(super) async fn resources(
    State(app): State<Arc<App>>,
    signed_in: SignedIn,
) -> ConsoleResult<Response> {
    let resources = PolicyServiceClient::new(app.core_as(&signed_in.session)?)
        .list_resources(ListRequest {})
        .await?
        .into_inner()
        .resources;
    let content = catalog::resources(&resources);
    Ok(render(
        &app,
        &signed_in,
        "Resources",
        Section::Resources,
        None,
        None,
        content,
    ))
}

async fn list_connectors(core: Authed) -> ConsoleResult<Vec<riskgate_proto::v1::Connector>> {
    Ok(ConnectorServiceClient::new(core)
        .list_connectors(ListConnectorsRequest {})
        .await?
        .into_inner()
        .connectors)
}

/// A whole page in the frame, with the session's flash message if one was left.
fn render(
    app: &App,
    signed_in: &SignedIn,
    title: &str,
    section: Section,
    live_after: Option<u64>,
    device: Option<&str>,
    content: Markup,
) -> Response {
    let frame = Frame {
        title,
        section: Some(section),
        session: Some(&signed_in.session),
        live_after,
        device,
        flash: app.sessions.take_flash(&signed_in.id),
    };
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page(&frame, content).into_string(),
    )
        .into_response()
}
