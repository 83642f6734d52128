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
    let mut client = conn.decisions();
    match command {
        CheckCommand::Access {
            device,
            resource,
            user,
        } => {
            let d = client
                .check_access(CheckAccessRequest {
                    device_id: device,
                    user_id: user.unwrap_or_default(),
                    resource,
                })
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
        CheckCommand::App { device, app } => {
            let d = client
                .check_app_launch(CheckAppLaunchRequest {
                    device_id: device.clone(),
                    app_id: app.clone(),
                })
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
        CheckCommand::Compliance { device } => {
            let c = client
                .get_device_compliance(GetDeviceComplianceRequest { device_id: device })
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
    }
}
