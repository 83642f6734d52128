//! Connectors, policies and resources, read-only, except each connector's platform toggles, which an
//! admin may turn on or off.

use maud::{html, Markup};
use riskgate_proto::v1::{
    AppAction, AppProtectionPolicy, CompliancePolicy, Connector, PlatformToggles, Resource,
    TenantSettings, UnknownDeviceAccess,
};

use super::{
    devices::platform_name,
    words::{self, word},
};
use crate::session::{Role, Session};

/// The platforms a toggle group has, as (form key, name, value).
pub fn toggles(toggles: Option<&PlatformToggles>) -> [(&'static str, &'static str, bool); 4] {
    let toggles = toggles.copied().unwrap_or_default();
    [
        ("android", "Android", toggles.android),
        ("ios", "iOS", toggles.ios),
        ("windows", "Windows", toggles.windows),
        ("macos", "macOS", toggles.macos),
    ]
}

/// The connectors table; with an admin's session, each row has its toggles form.
pub fn connector_rows(connectors: &[Connector], admin: Option<&Session>) -> Markup {
    html! {
        div class="scroll" {
            table id="connectors" {
                thead { tr { th { "Connector" } th { "Vendor" } th { "State" } th { "Feed" } th { "Last vendor sync" } th { "Lag" } th { "Last heartbeat" } } }
                tbody {
                    @for connector in connectors {
                        tr data-connector=(connector.connector_id) {
                            td { (connector.connector_id) @if !connector.display_name.is_empty() { br; small { (connector.display_name) } } }
                            td { (connector.vendor) }
                            td { (words::connector_state(connector.state))
                                @if !connector.error_message.is_empty() { br; small { (connector.error_message) } } }
                            td { (words::feed_state(connector.feed.as_ref().map_or(0, |feed| feed.state)))
                                @if let Some(feed) = connector.feed.as_ref().filter(|feed| !feed.reason.is_empty()) { br; small { (feed.reason) } } }
                            td { (words::time(connector.feed.as_ref().and_then(|feed| feed.last_vendor_sync.as_ref()))) }
                            td { (connector.vendor_sync_lag.map_or_else(|| "–".to_owned(), |lag| words::span(std::time::Duration::from_secs(u64::try_from(lag.seconds).unwrap_or(0))))) }
                            td { (words::age(connector.last_heartbeat.as_ref())) }
                        }
                    }
                }
            }
        }
        @if let Some(session) = admin {
            @for connector in connectors {
                (toggle_form(connector, session))
            }
        }
    }
}

/// An admin's form for one connector's compliance and app-protection toggles.
fn toggle_form(connector: &Connector, session: &Session) -> Markup {
    let groups = [
        (
            "compliance",
            "Use its data for compliance",
            connector.compliance_enabled.as_ref(),
        ),
        (
            "app_protection",
            "Use its data for app protection",
            connector.app_protection_enabled.as_ref(),
        ),
    ];
    html! {
        form method="post" action=(format!("/connectors/{}/toggles", words::segment(&connector.connector_id)))
            class="toggles" id=(format!("toggles-{}", connector.connector_id)) {
            h2 { "Platform toggles of " (connector.connector_id) }
            input type="hidden" name="csrf" value=(session.csrf);
            input type="hidden" name="version" value=(connector.version);
            @for (group, title, values) in groups {
                fieldset {
                    legend { (title) }
                    @for (key, name, on) in toggles(values) {
                        label { input type="checkbox" name=(format!("{group}.{key}")) value="on" checked[on]; " " (name) }
                        " "
                    }
                }
            }
            button type="submit" { "Save toggles" }
        }
    }
}

/// The connectors page's `<main>`.
pub fn connectors(connectors: &[Connector], session: &Session) -> Markup {
    let admin = (session.role == Role::Admin).then_some(session);
    html! {
        main {
            h1 { "Connectors" }
            (connector_rows(connectors, admin))
            h2 { "What each connector's data is used for" }
            div class="scroll" {
                table id="uses" {
                    thead { tr { th { "Connector" } th { "Compliance" } th { "App protection" } th { "Block on missing data" } } }
                    tbody {
                        @for connector in connectors {
                            tr {
                                td { (connector.connector_id) }
                                td { (on_platforms(connector.compliance_enabled.as_ref())) }
                                td { (on_platforms(connector.app_protection_enabled.as_ref())) }
                                td { (on_platforms(connector.block_on_missing_partner_data.as_ref())) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn on_platforms(values: Option<&PlatformToggles>) -> String {
    let on: Vec<&str> = toggles(values)
        .iter()
        .filter(|(_, _, on)| *on)
        .map(|(_, name, _)| *name)
        .collect();
    if on.is_empty() {
        "off".to_owned()
    } else {
        on.join(", ")
    }
}

fn platforms(raw: &[i32]) -> String {
    if raw.is_empty() {
        "every platform".to_owned()
    } else {
        raw.iter()
            .map(|p| platform_name(*p))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The policies page's `<main>`.
pub fn policies(
    compliance: &[CompliancePolicy],
    apps: &[AppProtectionPolicy],
    tenant: &TenantSettings,
) -> Markup {
    html! {
        main {
            h1 { "Policies" }
            h2 { "Compliance policies" }
            div class="scroll" {
                table id="compliance-policies" {
                    thead { tr { th { "Policy" } th { "Platforms" } th { "Assigned to" } th { "Highest allowed level" } th { "Grace period" } th { "Version" } } }
                    tbody {
                        @for policy in compliance {
                            tr {
                                td { (policy.policy_id) @if !policy.display_name.is_empty() { br; small { (policy.display_name) } } }
                                td { (platforms(&policy.platforms)) }
                                td { (assignment(policy)) }
                                td { (words::level(policy.max_threat_level)) }
                                td { (policy.grace_period.map_or_else(|| "none".to_owned(), |grace| words::span(std::time::Duration::from_secs(u64::try_from(grace.seconds).unwrap_or(0))))) }
                                td { (policy.version) }
                            }
                        }
                    }
                }
            }
            h2 { "App-protection policies" }
            div class="scroll" {
                table id="app-policies" {
                    thead { tr { th { "Policy" } th { "Apps" } th { "Platforms" } th { "Highest allowed level" } th { "Action" } } }
                    tbody {
                        @for policy in apps {
                            tr {
                                td { (policy.policy_id) }
                                td { (policy.app_ids.join(", ")) }
                                td { (platforms(&policy.platforms)) }
                                td { (words::level(policy.max_threat_level)) }
                                td { (word(AppAction::try_from(policy.action).unwrap_or_default().as_str_name(), "APP_ACTION_")) }
                            }
                        }
                    }
                }
            }
            h2 { "Tenant settings" }
            dl class="facts" id="tenant" {
                dt { "Devices without a policy" } dd { (if tenant.no_policy_status == 2 { "noncompliant" } else { "compliant" }) }
                dt { "Unresponsive partner" } dd { (if tenant.unresponsive_partner_mode == 2 { "fail closed" } else { "fail open" }) }
                dt { "Compliance validity" } dd { (tenant.compliance_validity_period.map_or_else(|| "30 days (default)".to_owned(), |period| words::span(std::time::Duration::from_secs(u64::try_from(period.seconds).unwrap_or(0))))) }
            }
        }
    }
}

fn assignment(policy: &CompliancePolicy) -> String {
    let Some(assignment) = &policy.assignment else {
        return "nobody".to_owned();
    };
    let mut text = if assignment.all_devices {
        "every device".to_owned()
    } else if assignment.groups.is_empty() {
        "nobody".to_owned()
    } else {
        format!("groups {}", assignment.groups.join(", "))
    };
    if !assignment.excluded_groups.is_empty() {
        text.push_str(&format!(
            ", except {}",
            assignment.excluded_groups.join(", ")
        ));
    }
    text
}

/// The resources page's `<main>`.
pub fn resources(resources: &[Resource]) -> Markup {
    html! {
        main {
            h1 { "Resources" }
            div class="scroll" {
                table id="resources" {
                    thead { tr { th { "Resource" } th { "Rules" } th { "Unknown devices" } th { "Version" } } }
                    tbody {
                        @for resource in resources {
                            tr data-resource=(resource.name) {
                                td { (resource.name) }
                                td {
                                    ul {
                                        @for rule in &resource.rules {
                                            li {
                                                (platforms(&rule.platforms)) ": "
                                                @if rule.require_compliant_device { "compliant device required" } @else { "compliance not required" }
                                                @if rule.max_threat_level != 0 { "; at most " (words::level(rule.max_threat_level)) }
                                            }
                                        }
                                    }
                                }
                                td { (if resource.unknown_device == UnknownDeviceAccess::Allow as i32 { "allowed" } else { "denied" }) }
                                td { (resource.version) }
                            }
                        }
                    }
                }
            }
        }
    }
}
