//! One device: its level and compliance, each partner's current report and its age, the threats, the
//! verdict per policy with reasons, the decision per resource and per app, and its timeline.

use maud::{html, Markup};
use riskgate_proto::v1::{
    event::Kind, AccessDecision, AppDecision, AppLaunchDecision, Device, DeviceCompliance, Event,
    HealthState, Reason, ThreatCategory, ThreatStatus,
};

use super::{
    devices::platform_name,
    words::{self, word},
};
use crate::session::{Role, Session};

/// What the device page shows.
#[derive(Debug)]
pub struct DevicePage {
    /// The device and its reports.
    pub device: Device,
    /// Its compliance per policy.
    pub compliance: DeviceCompliance,
    /// The decision for each resource.
    pub access: Vec<AccessDecision>,
    /// The decision for each app of each app-protection policy: (policy, app, decision).
    pub apps: Vec<(String, String, AppLaunchDecision)>,
    /// Its newest events, newest first.
    pub timeline: Vec<Event>,
}

/// The device page's `<main>`.
pub fn render(page: &DevicePage, session: &Session) -> Markup {
    let device = &page.device;
    html! {
        main {
            h1 { "Device " (device.device_id) }
            p id="verdict" { "Level " (words::level(device.level)) " · compliance " (words::compliance(page.compliance.status)) }
            dl class="facts" {
                dt { "Owner" } dd { (or_dash(&device.owner_user_id)) }
                dt { "Platform" } dd { (platform_name(device.platform)) " " (device.os_version) }
                dt { "Model" } dd { (or_dash(&device.model)) }
                dt { "Groups" } dd { (or_dash(&device.groups.join(", "))) }
                dt { "First seen" } dd { (words::time(device.first_seen.as_ref())) }
                dt { "Last report" } dd { (words::time(device.last_seen.as_ref())) " (" (words::age(device.last_seen.as_ref())) ")" }
            }
            @if session.role == Role::Admin {
                form method="post" action=(format!("{}/recheck", words::device_path(&device.device_id))) id="recheck" {
                    input type="hidden" name="csrf" value=(session.csrf);
                    button type="submit" { "Re-check with its partners now" }
                }
            }
            (reports(device))
            (threats(device))
            (decisions(page))
            h2 { "Timeline" }
            div class="scroll" {
                table id="timeline" {
                    thead { tr { th { "When" } th { "What" } } }
                    tbody {
                        @for event in &page.timeline {
                            tr { td { (words::time(event.time.as_ref())) } td { (what_happened(event)) } }
                        }
                    }
                }
            }
        }
    }
}

/// The verdict per policy, the decision per resource and per app.
fn decisions(page: &DevicePage) -> Markup {
    html! {
    h2 { "Compliance per policy" }
    (reasons(&page.compliance.reasons))
    div class="scroll" {
        table id="policies" {
            thead { tr { th { "Policy" } th { "Status" } th { "Why" } th { "Noncompliant since" } } }
            tbody {
                @for policy in &page.compliance.policies {
                    tr {
                        td { (policy.policy_id) }
                        td { (words::compliance(policy.status)) }
                        td { (reasons(&policy.reasons)) }
                        td { (words::time(policy.noncompliant_since.as_ref())) }
                    }
                }
            }
        }
    }
    h2 { "Access per resource" }
    div class="scroll" {
        table id="access" {
            thead { tr { th { "Resource" } th { "Decision" } th { "Why" } } }
            tbody {
                @for decision in &page.access {
                    tr data-resource=(decision.resource) {
                        td { (decision.resource) }
                        td { (words::decision(decision.decision)) }
                        td { (reasons(&decision.reasons)) }
                    }
                }
            }
        }
    }
    h2 { "Apps" }
    div class="scroll" {
        table id="apps" {
            thead { tr { th { "App" } th { "Policy" } th { "Decision" } th { "Why" } } }
            tbody {
                @for (policy, app, decision) in &page.apps {
                    tr {
                        td { (app) }
                        td { (policy) }
                        td { (app_decision(decision.decision)) }
                        td { (reasons(&decision.reasons)) }
                    }
                }
            }
        }
    }
    }
}

fn reports(device: &Device) -> Markup {
    html! {
        h2 { "Partner reports" }
        div class="scroll" {
            table id="reports" {
                thead { tr { th { "Connector" } th { "Health state" } th { "Level" } th { "Observed" } th { "Age" } th { "Known risk" } } }
                tbody {
                    @for report in &device.reports {
                        tr data-connector=(report.connector_id) {
                            td { (report.connector_id) }
                            td { (health(report.health_state)) }
                            td { (words::level(report.level)) }
                            td { (words::time(report.observed_at.as_ref())) }
                            td { (words::age(report.received_at.as_ref())) }
                            td {
                                @match &report.known_risk {
                                    Some(risk) => { (words::level(risk.level)) " from " (words::time(risk.observed_at.as_ref())) }
                                    None => { "–" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn threats(device: &Device) -> Markup {
    let threats: Vec<_> = device
        .reports
        .iter()
        .flat_map(|report| report.threats.iter().map(move |threat| (report, threat)))
        .collect();
    html! {
        h2 { "Threats" }
        @if threats.is_empty() {
            p id="no-threats" { "No partner reports a threat." }
        } @else {
            div class="scroll" {
                table id="threats" {
                    thead { tr { th { "Threat" } th { "Connector" } th { "Category" } th { "Severity" } th { "Status" } th { "Detected" } } }
                    tbody {
                        @for (report, threat) in threats {
                            tr {
                                td { (threat.vendor_threat_id) @if !threat.description.is_empty() { br; small { (threat.description) } } }
                                td { (report.connector_id) }
                                td { (word(ThreatCategory::try_from(threat.category).unwrap_or_default().as_str_name(), "THREAT_CATEGORY_")) }
                                td { (words::level(threat.severity)) }
                                td { (word(ThreatStatus::try_from(threat.status).unwrap_or_default().as_str_name(), "THREAT_STATUS_")) }
                                td { (words::time(threat.detected_at.as_ref())) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Reasons as a list of their messages.
fn reasons(reasons: &[Reason]) -> Markup {
    html! {
        @if !reasons.is_empty() {
            ul class="reasons" {
                @for reason in reasons { li { (reason.message) } }
            }
        }
    }
}

fn health(raw: i32) -> String {
    word(
        HealthState::try_from(raw).unwrap_or_default().as_str_name(),
        "HEALTH_STATE_",
    )
}

fn app_decision(raw: i32) -> Markup {
    match AppDecision::try_from(raw) {
        Ok(AppDecision::Allow) => words::badge("allow", "good"),
        Ok(AppDecision::Wipe) => words::badge("wipe", "bad"),
        _ => words::badge("block", "bad"),
    }
}

/// One line for an event of the timeline.
fn what_happened(event: &Event) -> Markup {
    match &event.kind {
        Some(Kind::DeviceReported(reported)) => html! {
            (reported.connector_id) " reported " (health(reported.health_state)) ": level "
            (words::level(reported.previous_level)) " → " (words::level(reported.current_level))
        },
        Some(Kind::DeviceComplianceChange(change)) => html! {
            "Compliance " (words::compliance(change.previous_status)) " → " (words::compliance(change.current_status))
        },
        Some(Kind::AccessDecisionChange(change)) => html! {
            "Access to " (change.resource) ": " (words::decision(change.previous_decision)) " → " (words::decision(change.current_decision))
        },
        Some(Kind::AppProtectionChange(change)) => html! {
            "App protection " (change.policy_id) ": " (app_decision(change.previous_decision)) " → " (app_decision(change.current_decision))
        },
        Some(Kind::ComplianceActionDue(due)) => html! { "Action due under " (due.policy_id) },
        Some(Kind::KnownRiskCleared(cleared)) => {
            html! { "An admin cleared " (cleared.connector_id) "'s known risk" }
        }
        Some(Kind::ConnectorStateChange(_) | Kind::ConfigChange(_)) | None => html! { "–" },
    }
}

fn or_dash(text: &str) -> &str {
    if text.is_empty() {
        "–"
    } else {
        text
    }
}
