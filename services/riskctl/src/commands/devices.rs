//! `riskctl devices list|show|history`.

use std::collections::BTreeMap;

use riskgate_proto::v1::{
    self as pb, ClearKnownRiskRequest, Device, DeviceCompliance, DeviceHistoryRequest, Event,
    GetDeviceComplianceRequest, GetDeviceRequest, KnownRisk, ListDevicesRequest, PartnerReport,
    PolicyCompliance, RecheckRequest, Threat,
};
use serde_json::json;

use crate::{
    cli::DevicesCommand,
    connect::Connection,
    error::CliResult,
    json::{self, ago, timestamp_text},
    names::{or_dash, word_of, InputEnum as _},
    output::{self, fields, Table},
    policy_file::proto_duration,
    text,
};

/// The largest page the server serves.
const PAGE_SIZE: u32 = 1000;

/// Guard against a server that keeps returning page tokens.
const MAX_PAGES: usize = 100_000;

pub(super) async fn run(conn: &Connection, command: DevicesCommand, json: bool) -> CliResult<()> {
    match command {
        DevicesCommand::List {
            platforms,
            levels,
            connector,
            compliance,
            not_reported_for,
            search,
        } => {
            let request = ListDevicesRequest {
                page_size: PAGE_SIZE,
                page_token: String::new(),
                platforms: platforms.iter().map(|p| p.to_proto()).collect(),
                levels: levels.iter().map(|l| l.to_proto()).collect(),
                connector_id: connector.unwrap_or_default(),
                compliance: compliance.iter().map(|c| c.to_proto()).collect(),
                not_reported_for: not_reported_for.map(proto_duration),
                search: search.unwrap_or_default(),
            };
            list(conn, request, json).await
        }
        DevicesCommand::Show { device } => show(conn, &device, json).await,
        DevicesCommand::History { device, limit } => history(conn, &device, limit, json).await,
        DevicesCommand::Recheck { devices, connector } => {
            recheck(conn, &devices, connector, json).await
        }
        DevicesCommand::ClearRisk { device, connector } => {
            clear_risk(conn, &device, connector, json).await
        }
    }
}

/// The connectors to ask about each device: `only`, or every connector with a report about it.
async fn recheck_plan(
    conn: &Connection,
    devices: &[String],
    only: Option<String>,
) -> CliResult<BTreeMap<String, Vec<String>>> {
    let mut plan: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for device in devices {
        let connectors = match &only {
            Some(connector) => vec![connector.clone()],
            None => conn
                .devices()
                .get_device(GetDeviceRequest {
                    device_id: device.clone(),
                })
                .await
                .map_err(|s| conn.status(&s))?
                .into_inner()
                .reports
                .into_iter()
                .map(|report| report.connector_id)
                .collect(),
        };
        for connector in connectors {
            plan.entry(connector).or_default().push(device.clone());
        }
    }
    Ok(plan)
}

async fn recheck(
    conn: &Connection,
    devices: &[String],
    connector: Option<String>,
    json: bool,
) -> CliResult<()> {
    let plan = recheck_plan(conn, devices, connector).await?;
    let mut answers = Vec::new();
    for (connector, device_ids) in plan {
        let answer = conn
            .connectors()
            .recheck(RecheckRequest {
                connector_id: connector.clone(),
                device_ids: device_ids.clone(),
                timeout: None,
            })
            .await
            .map_err(|s| conn.status(&s))?
            .into_inner();
        answers.push((connector, device_ids, answer.message));
    }
    if json {
        return output::json(&json!(answers
            .iter()
            .map(|(connector, devices, message)| json!({
                "connector_id": connector,
                "device_ids": devices,
                "accepted": true,
                "message": message,
            }))
            .collect::<Vec<_>>()));
    }
    let mut table = Table::new(&["CONNECTOR", "DEVICES", "ANSWER"]);
    for (connector, devices, message) in answers {
        table.row(vec![connector, devices.join(", "), message]);
    }
    output::write(&table.render("no connector reports these devices"))
}

async fn clear_risk(
    conn: &Connection,
    device: &str,
    connector: Option<String>,
    json: bool,
) -> CliResult<()> {
    let device = conn
        .devices()
        .clear_known_risk(ClearKnownRiskRequest {
            device_id: device.to_owned(),
            connector_id: connector.unwrap_or_default(),
        })
        .await
        .map_err(|s| conn.status(&s))?
        .into_inner();
    if json {
        return output::json(&json::device(&device));
    }
    output::write(&format!(
        "cleared; {} is now at level {}\n",
        device.device_id,
        or_dash(word_of::<pb::ThreatLevel>(device.level))
    ))
}

async fn list(conn: &Connection, request: ListDevicesRequest, json: bool) -> CliResult<()> {
    let mut client = conn.devices();
    let mut devices = Vec::new();
    let mut token = String::new();
    for _ in 0..MAX_PAGES {
        let page = client
            .list_devices(ListDevicesRequest {
                page_token: token,
                ..request.clone()
            })
            .await
            .map_err(|s| conn.status(&s))?
            .into_inner();
        devices.extend(page.devices);
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    if json {
        return output::json(&json!(devices.iter().map(json::device).collect::<Vec<_>>()));
    }
    let mut table = Table::new(&[
        "DEVICE",
        "PLATFORM",
        "LEVEL",
        "OS",
        "OWNER",
        "CONNECTORS",
        "LAST SEEN",
    ]);
    for d in &devices {
        let connectors: Vec<&str> = d.reports.iter().map(|r| r.connector_id.as_str()).collect();
        table.row(vec![
            d.device_id.clone(),
            or_dash(word_of::<pb::Platform>(d.platform)),
            or_dash(word_of::<pb::ThreatLevel>(d.level)),
            dash_if_empty(&d.os_version),
            dash_if_empty(&d.owner_user_id),
            dash_if_empty(&connectors.join(",")),
            or_dash(ago(d.last_seen.as_ref())),
        ]);
    }
    output::write(&table.render("no devices"))
}

async fn show(conn: &Connection, device_id: &str, json: bool) -> CliResult<()> {
    let device = conn
        .devices()
        .get_device(GetDeviceRequest {
            device_id: device_id.to_owned(),
        })
        .await
        .map_err(|s| conn.status(&s))?
        .into_inner();
    let compliance = conn
        .decisions()
        .get_device_compliance(GetDeviceComplianceRequest {
            device_id: device_id.to_owned(),
        })
        .await
        .map_err(|s| conn.status(&s))?
        .into_inner();
    if json {
        return output::json(&json!({
            "device": json::device(&device),
            "compliance": json::device_compliance(&compliance),
        }));
    }
    let mut text = device_fields(&device, &compliance);
    text.push_str("\nReports:\n");
    text.push_str(&reports_table(&device.reports));
    text.push_str("\nCompliance:\n");
    text.push_str(&compliance_table(&compliance.policies));
    text.push_str(&text::reason_lines(&compliance.reasons));
    output::write(&text)
}

/// The device's own fields and overall compliance, aligned.
fn device_fields(device: &Device, compliance: &DeviceCompliance) -> String {
    fields(&[
        ("device", device.device_id.clone()),
        (
            "platform",
            or_dash(word_of::<pb::Platform>(device.platform)),
        ),
        ("os version", dash_if_empty(&device.os_version)),
        ("model", dash_if_empty(&device.model)),
        ("owner", dash_if_empty(&device.owner_user_id)),
        ("groups", dash_if_empty(&device.groups.join(", "))),
        ("level", or_dash(word_of::<pb::ThreatLevel>(device.level))),
        (
            "compliance",
            or_dash(word_of::<pb::ComplianceStatus>(compliance.status)),
        ),
        (
            "first seen",
            or_dash(timestamp_text(device.first_seen.as_ref())),
        ),
        (
            "last seen",
            or_dash(timestamp_text(device.last_seen.as_ref())),
        ),
        ("position", device.position.to_string()),
    ])
}

/// One row per partner report.
fn reports_table(reports: &[PartnerReport]) -> String {
    let mut table = Table::new(&[
        "CONNECTOR",
        "HEALTH",
        "LEVEL",
        "OBSERVED",
        "KNOWN RISK",
        "THREATS",
    ]);
    for r in reports {
        let threats: Vec<String> = r.threats.iter().map(threat_text).collect();
        table.row(vec![
            r.connector_id.clone(),
            or_dash(word_of::<pb::HealthState>(r.health_state)),
            or_dash(word_of::<pb::ThreatLevel>(r.level)),
            or_dash(timestamp_text(r.observed_at.as_ref())),
            or_dash(r.known_risk.as_ref().map(known_risk_text)),
            dash_if_empty(&threats.join("; ")),
        ]);
    }
    table.render("no reports")
}

/// `id (category, severity, status)`.
fn threat_text(t: &Threat) -> String {
    format!(
        "{} ({}, {}, {})",
        t.vendor_threat_id,
        or_dash(word_of::<pb::ThreatCategory>(t.category)),
        or_dash(word_of::<pb::ThreatLevel>(t.severity)),
        or_dash(word_of::<pb::ThreatStatus>(t.status))
    )
}

/// `level at time`.
fn known_risk_text(risk: &KnownRisk) -> String {
    format!(
        "{} at {}",
        or_dash(word_of::<pb::ThreatLevel>(risk.level)),
        or_dash(timestamp_text(risk.observed_at.as_ref()))
    )
}

/// One row per compliance policy targeting the device.
fn compliance_table(policies: &[PolicyCompliance]) -> String {
    let mut table = Table::new(&["POLICY", "STATUS", "GRACE ENDS", "REASONS"]);
    for p in policies {
        let reasons: Vec<String> = p.reasons.iter().map(text::reason).collect();
        table.row(vec![
            p.policy_id.clone(),
            or_dash(word_of::<pb::ComplianceStatus>(p.status)),
            or_dash(timestamp_text(p.grace_period_ends.as_ref())),
            dash_if_empty(&reasons.join("; ")),
        ]);
    }
    table.render("no policy targets this device")
}

async fn history(
    conn: &Connection,
    device_id: &str,
    limit: Option<usize>,
    json: bool,
) -> CliResult<()> {
    let mut client = conn.devices();
    let limit = limit.unwrap_or(usize::MAX);
    let mut events: Vec<Event> = Vec::new();
    let mut token = String::new();
    for _ in 0..MAX_PAGES {
        let page = client
            .device_history(DeviceHistoryRequest {
                device_id: device_id.to_owned(),
                page_size: PAGE_SIZE,
                page_token: token,
            })
            .await
            .map_err(|s| conn.status(&s))?
            .into_inner();
        events.extend(page.events);
        if page.next_page_token.is_empty() || events.len() >= limit {
            break;
        }
        token = page.next_page_token;
    }
    events.truncate(limit);
    if json {
        return output::json(&json!(events.iter().map(json::event).collect::<Vec<_>>()));
    }
    if events.is_empty() {
        return output::write(&format!("no retained events for device {device_id}\n"));
    }
    let lines: String = events
        .iter()
        .map(|e| format!("{}\n", text::event_line(e)))
        .collect();
    output::write(&lines)
}

fn dash_if_empty(text: &str) -> String {
    if text.is_empty() {
        "-".to_owned()
    } else {
        text.to_owned()
    }
}
