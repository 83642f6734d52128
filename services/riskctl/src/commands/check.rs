//! `riskctl check access|app|compliance`: one decision and its reasons.
//!
//! The exit status is 0 whatever the decision; scripts read it from `--json` (`.decision`).

use riskgate_proto::v1::{
    self as pb, CheckAccessRequest, CheckAppLaunchRequest, GetDeviceComplianceRequest,
};

use crate::{
    cli::CheckCommand,
    connect::Connection,
    error::CliResult,
    json::{self as json_out, timestamp_text},
    names::{or_dash, word_of},
    output, text,
};

pub(super) async fn run(conn: &Connection, command: CheckCommand, json: bool) -> CliResult<()> {
    match command {
        CheckCommand::Access {
            device,
            resource,
            user,
        } => {
            let request = CheckAccessRequest {
                device_id: device,
                user_id: user.unwrap_or_default(),
                resource,
            };
            access(conn, request, json).await
        }
        CheckCommand::App { device, app } => {
            let request = CheckAppLaunchRequest {
                device_id: device,
                app_id: app,
            };
            app_launch(conn, request, json).await
        }
        CheckCommand::Compliance { device } => {
            let request = GetDeviceComplianceRequest { device_id: device };
            compliance(conn, request, json).await
        }
    }
}

async fn access(conn: &Connection, request: CheckAccessRequest, json: bool) -> CliResult<()> {
    let d = conn
        .decisions()
        .check_access(request)
        .await
        .map_err(|s| conn.status(&s))?
        .into_inner();
    if json {
        return output::json(&json_out::access_decision(&d));
    }
    output::write(&format!(
        "{} {} to {} (compliance {}, level {}, at position {})\n{}",
        or_dash(word_of::<pb::Decision>(d.decision)).to_uppercase(),
        d.device_id,
        d.resource,
        or_dash(word_of::<pb::ComplianceStatus>(d.compliance)),
        or_dash(word_of::<pb::ThreatLevel>(d.level)),
        d.position,
        text::reason_lines(&d.reasons)
    ))
}

async fn app_launch(
    conn: &Connection,
    request: CheckAppLaunchRequest,
    json: bool,
) -> CliResult<()> {
    let (device, app) = (request.device_id.clone(), request.app_id.clone());
    let d = conn
        .decisions()
        .check_app_launch(request)
        .await
        .map_err(|s| conn.status(&s))?
        .into_inner();
    if json {
        return output::json(&json_out::app_decision(&d));
    }
    let mut by = Vec::new();
    if !d.policy_id.is_empty() {
        by.push(format!("policy {}", d.policy_id));
    }
    if !d.connector_id.is_empty() {
        by.push(format!("connector {}", d.connector_id));
    }
    by.push(format!("at position {}", d.position));
    output::write(&format!(
        "{} {app} on {device} ({})\n{}",
        or_dash(word_of::<pb::AppDecision>(d.decision)).to_uppercase(),
        by.join(", "),
        text::reason_lines(&d.reasons)
    ))
}

async fn compliance(
    conn: &Connection,
    request: GetDeviceComplianceRequest,
    json: bool,
) -> CliResult<()> {
    let c = conn
        .decisions()
        .get_device_compliance(request)
        .await
        .map_err(|s| conn.status(&s))?
        .into_inner();
    if json {
        return output::json(&json_out::device_compliance(&c));
    }
    let mut out = format!(
        "{} {} (level {}, at position {})\n",
        or_dash(word_of::<pb::ComplianceStatus>(c.status)).to_uppercase(),
        c.device_id,
        or_dash(word_of::<pb::ThreatLevel>(c.level)),
        c.position
    );
    out.push_str(&text::reason_lines(&c.reasons));
    for p in &c.policies {
        out.push_str(&format!(
            "policy {}: {}{}\n",
            p.policy_id,
            or_dash(word_of::<pb::ComplianceStatus>(p.status)),
            timestamp_text(p.grace_period_ends.as_ref())
                .map(|at| format!(" (grace period ends {at})"))
                .unwrap_or_default()
        ));
        out.push_str(&text::reason_lines(&p.reasons));
    }
    output::write(&out)
}
