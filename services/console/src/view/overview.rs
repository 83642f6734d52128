//! The overview: the fleet by level and by compliance, the devices at risk now, the connectors and their
//! feeds, and the chart of noncompliant devices over time.

use maud::{html, Markup};
use riskgate_proto::v1::{ComplianceStatus, Connector, Device, FleetSummary, ThreatLevel};

use super::{
    catalog::connector_rows,
    words::{self, word},
};

/// What the overview shows.
#[derive(Debug)]
pub struct Overview {
    /// The counts.
    pub summary: FleetSummary,
    /// The devices at MEDIUM or HIGH (the first page of them).
    pub at_risk: Vec<Device>,
    /// Whether more devices are at risk than listed.
    pub more_at_risk: bool,
    /// Every connector.
    pub connectors: Vec<Connector>,
    /// The chart, drawn.
    pub chart: Markup,
}

/// The overview's `<main>`.
pub fn render(overview: &Overview) -> Markup {
    let summary = &overview.summary;
    html! {
        main {
            h1 { "Overview" }
            p { (summary.device_count) " devices." }
            h2 { "By level" }
            div class="cards" id="by-level" {
                @for entry in summary.by_level.iter().rev() {
                    a class="card" href=(level_link(entry.level)) data-level=(level_key(entry.level)) {
                        span class="count" { (entry.count) }
                        (words::level(entry.level))
                    }
                }
            }
            h2 { "By compliance" }
            div class="cards" id="by-compliance" {
                @for entry in summary.by_compliance.iter().rev() {
                    a class="card" href=(format!("/devices?compliance={}", compliance_key(entry.status)))
                        data-compliance=(compliance_key(entry.status)) {
                        span class="count" { (entry.count) }
                        (words::compliance(entry.status))
                    }
                }
            }
            h2 { "At risk now" }
            @if overview.at_risk.is_empty() {
                p id="at-risk" { "No device is at MEDIUM or HIGH." }
            } @else {
                div class="scroll" {
                    table id="at-risk" {
                        thead { tr { th { "Device" } th { "Owner" } th { "Level" } th { "Compliance" } th { "Last report" } } }
                        tbody {
                            @for device in &overview.at_risk {
                                tr data-device=(device.device_id) {
                                    td { a href=(words::device_path(&device.device_id)) { (device.device_id) } }
                                    td { (device.owner_user_id) }
                                    td { (words::level(device.level)) }
                                    td { (words::compliance(device.compliance)) }
                                    td { (words::age(device.last_seen.as_ref())) }
                                }
                            }
                        }
                    }
                }
                @if overview.more_at_risk {
                    p { a href="/devices?level=high,medium" { "Every device at risk" } }
                }
            }
            h2 { "Noncompliant devices over time" }
            (overview.chart)
            h2 { "Connectors" }
            (connector_rows(&overview.connectors, None))
        }
    }
}

/// The query value of a level, as the devices page's filter takes it.
pub fn level_key(raw: i32) -> String {
    match ThreatLevel::try_from(raw) {
        Ok(ThreatLevel::Unspecified) | Err(_) => "none".to_owned(),
        Ok(level) => word(level.as_str_name(), "THREAT_LEVEL_"),
    }
}

/// The query value of a compliance status.
pub fn compliance_key(raw: i32) -> String {
    let status = ComplianceStatus::try_from(raw).unwrap_or(ComplianceStatus::Unspecified);
    word(status.as_str_name(), "COMPLIANCE_STATUS_").replace(' ', "_")
}

fn level_link(raw: i32) -> String {
    format!("/devices?level={}", level_key(raw))
}
