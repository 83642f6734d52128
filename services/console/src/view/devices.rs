//! The devices page: search and filters (a GET form, so it works without JavaScript and its URLs can be
//! shared), then one page of devices.

use maud::{html, Markup};
use riskgate_proto::v1::{Connector, Device};

use super::words;

/// The filters as the form sent them.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct DeviceQuery {
    /// Text in the id or the owner.
    #[serde(default)]
    pub q: String,
    /// A platform key (`android`, `ios`, `ipados`, `windows`, `macos`) or empty.
    #[serde(default)]
    pub platform: String,
    /// Level keys (`high`, `medium`, `low`, `secured`, `none`), separated by commas, or empty.
    #[serde(default)]
    pub level: String,
    /// A compliance key (`noncompliant`, `in_grace_period`, …) or empty.
    #[serde(default)]
    pub compliance: String,
    /// A connector id or empty.
    #[serde(default)]
    pub connector: String,
    /// "Not reported for longer than": a duration such as `1h` or `7d`, or empty.
    #[serde(default)]
    pub silent: String,
    /// The page token of the page to show, empty for the first.
    #[serde(default)]
    pub page: String,
}

/// A select's options: (value, text).
type Options = &'static [(&'static str, &'static str)];

const PLATFORMS: Options = &[
    ("", "any platform"),
    ("android", "Android"),
    ("ios", "iOS"),
    ("ipados", "iPadOS"),
    ("windows", "Windows"),
    ("macos", "macOS"),
];
const LEVELS: Options = &[
    ("", "any level"),
    ("high", "HIGH"),
    ("medium", "MEDIUM"),
    ("low", "LOW"),
    ("secured", "SECURED"),
    ("none", "no data"),
];
const STATUSES: Options = &[
    ("", "any compliance"),
    ("noncompliant", "noncompliant"),
    ("in_grace_period", "in grace period"),
    ("error", "error"),
    ("compliant", "compliant"),
    ("not_applicable", "not applicable"),
    ("unknown", "unknown"),
];
const SILENCES: Options = &[
    ("", "any time"),
    ("1h", "1 hour"),
    ("24h", "1 day"),
    ("7d", "7 days"),
    ("30d", "30 days"),
];

/// The filter form and the page of devices.
pub fn render(
    query: &DeviceQuery,
    connectors: &[Connector],
    devices: &[Device],
    next_page: Option<String>,
) -> Markup {
    html! {
        div class="filters" {
            form method="get" action="/devices" role="search" {
                label { "Device or owner" input type="search" name="q" value=(query.q); }
                (select("Platform", "platform", PLATFORMS, &query.platform))
                (select("Level", "level", LEVELS, &query.level))
                (select("Compliance", "compliance", STATUSES, &query.compliance))
                label { "Connector"
                    select name="connector" {
                        option value="" { "any connector" }
                        @for connector in connectors {
                            option value=(connector.connector_id) selected[connector.connector_id == query.connector] {
                                (connector.connector_id)
                            }
                        }
                    }
                }
                (select("Not reported for", "silent", SILENCES, &query.silent))
                button type="submit" { "Filter" }
            }
        }
        main {
            h1 { "Devices" }
            @if devices.is_empty() {
                p id="no-devices" { "No device matches." }
            } @else {
                div class="scroll" {
                    table id="devices" {
                        thead { tr { th { "Device" } th { "Owner" } th { "Platform" } th { "Level" } th { "Compliance" } th { "Last report" } } }
                        tbody {
                            @for device in devices {
                                tr data-device=(device.device_id) {
                                    td { a href=(words::device_path(&device.device_id)) { (device.device_id) } }
                                    td { (device.owner_user_id) }
                                    td { (platform_name(device.platform)) }
                                    td { (words::level(device.level)) }
                                    td { (words::compliance(device.compliance)) }
                                    td { (words::age(device.last_seen.as_ref())) }
                                }
                            }
                        }
                    }
                }
            }
            @if let Some(next) = next_page {
                p { a id="next-page" href=(next_link(query, &next)) { "Next page" } }
            }
        }
    }
}

fn select(label: &str, name: &str, options: Options, chosen: &str) -> Markup {
    html! {
        label { (label)
            select name=(name) {
                @for (value, text) in options {
                    option value=(value) selected[*value == chosen] { (text) }
                }
            }
        }
    }
}

/// A platform's name.
pub fn platform_name(raw: i32) -> &'static str {
    match raw {
        1 => "Android",
        2 => "iOS",
        3 => "iPadOS",
        4 => "Windows",
        5 => "macOS",
        _ => "–",
    }
}

fn next_link(query: &DeviceQuery, next: &str) -> String {
    let pairs = [
        ("q", query.q.as_str()),
        ("platform", &query.platform),
        ("level", &query.level),
        ("compliance", &query.compliance),
        ("connector", &query.connector),
        ("silent", &query.silent),
        ("page", next),
    ];
    let present: Vec<(&str, &str)> = pairs
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
        .collect();
    format!(
        "/devices?{}",
        serde_urlencoded::to_string(present).unwrap_or_default()
    )
}
