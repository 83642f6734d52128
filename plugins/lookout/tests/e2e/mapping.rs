//! Every row of the README's mapping table, end to end: the simulator puts devices in each Lookout
//! state, and the core shows the health state and threats the table promises.

use riskgate_proto::v1 as api;
use serde_json::json;

use crate::support::{plugin_config, start_sim, wait_health, wait_until, Core, Host, Sim, WAIT};

/// The open threats carry the category and level of their row.
async fn check_open_threats(core: &Core) {
    let check = |id: &'static str, category: api::ThreatCategory, severity: api::ThreatLevel| async move {
        let d = core.device(id).await.expect("device known");
        let r = d.reports.first().expect("a report");
        let t = r.threats.first().expect("a threat");
        assert_eq!(
            (t.category, t.severity, t.status),
            (
                category as i32,
                severity as i32,
                api::ThreatStatus::Open as i32
            ),
            "{id}"
        );
        assert!(t.detected_at.is_some() && t.resolved_at.is_none(), "{id}");
    };
    check(
        "advisory",
        api::ThreatCategory::Configuration,
        api::ThreatLevel::Low,
    )
    .await;
    check(
        "moderate",
        api::ThreatCategory::Network,
        api::ThreatLevel::Medium,
    )
    .await;
    check(
        "high",
        api::ThreatCategory::WebContent,
        api::ThreatLevel::High,
    )
    .await;
}

/// The resolved threat and the ignored one reach the core with their status.
async fn wait_resolved_and_ignored_threats(core: &Core) -> anyhow::Result<()> {
    wait_until(
        WAIT,
        "the mitigated device is secured with a resolved threat",
        || async {
            let Some(d) = core.device("mitigated").await else {
                return false;
            };
            d.reports.first().is_some_and(|r| {
                r.health_state == api::HealthState::Secured as i32
                    && r.threats.len() == 1
                    && r.threats[0].status == api::ThreatStatus::Resolved as i32
                    && r.threats[0].resolved_at.is_some()
            })
        },
    )
    .await?;
    wait_until(
        WAIT,
        "the ignored threat is IGNORED and the device secured",
        || async {
            let Some(d) = core.device("secure").await else {
                return false;
            };
            d.reports.first().is_some_and(|r| {
                r.health_state == api::HealthState::Secured as i32
                    && r.threats.iter().any(|t| {
                        t.status == api::ThreatStatus::Ignored as i32
                            && t.category == api::ThreatCategory::Os as i32
                    })
            })
        },
    )
    .await?;
    Ok(())
}

/// State changes that reach the connector through the event stream.
async fn change_states_on_the_stream(sim: &Sim) -> anyhow::Result<()> {
    sim.admin(
        "device-state",
        json!({"device": "deactivated", "activation_status": "DEACTIVATED"}),
    )
    .await?;
    sim.admin(
        "device-state",
        json!({"device": "uninstalled", "protection_status": "UNINSTALLED"}),
    )
    .await?;
    sim.admin("infect", json!({"device": "moderate", "vendor": "lookout", "severity": "MODERATE", "category": "NETWORK"})).await?;
    sim.admin("infect", json!({"device": "high", "vendor": "lookout", "severity": "HIGH", "category": "WEB_CONTENT"})).await?;
    sim.admin(
        "infect",
        json!({"device": "mitigated", "vendor": "lookout", "severity": "HIGH", "category": "FILE"}),
    )
    .await?;
    sim.admin(
        "remediate",
        json!({"device": "mitigated", "vendor": "lookout"}),
    )
    .await?;
    sim.admin(
        "infect",
        json!({"device": "secure", "vendor": "lookout", "severity": "LOW", "category": "OS"}),
    )
    .await?;
    sim.admin(
        "remediate",
        json!({"device": "secure", "vendor": "lookout", "status": "IGNORED"}),
    )
    .await?;
    Ok(())
}

/// One device per row of the table; the states set here reach the connector through the REST sync.
async fn add_devices_in_rest_states(sim: &Sim) -> anyhow::Result<()> {
    for (id, platform) in [
        ("secure", "ANDROID"),
        ("pending", "IOS"),
        ("disconnected", "ANDROID"),
        ("deactivated", "IOS"),
        ("uninstalled", "ANDROID"),
        ("advisory", "IOS"),
        ("moderate", "ANDROID"),
        ("high", "IOS"),
        ("mitigated", "ANDROID"),
    ] {
        sim.add_device(id, platform).await?;
    }
    // Set before the connector starts: these reach it through the REST sync.
    sim.admin(
        "device-state",
        json!({"device": "pending", "activation_status": "PENDING"}),
    )
    .await?;
    sim.admin(
        "device-state",
        json!({"device": "disconnected", "protection_status": "DISCONNECTED"}),
    )
    .await?;
    sim.admin("infect", json!({"device": "advisory", "vendor": "lookout", "severity": "ADVISORY", "category": "CONFIGURATION"})).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_lookout_state_maps_to_the_documented_health_state_and_threats() -> anyhow::Result<()>
{
    let sim = start_sim(&[]).await?;
    add_devices_in_rest_states(&sim).await?;
    let core = Core::start().await?;
    core.create_compliance_connector("lookout").await?;
    let _host = Host::start(&core, "lookout", &plugin_config(&sim, json!({})))?;
    wait_health(&core, "pending", api::HealthState::Unknown).await?;
    wait_health(&core, "disconnected", api::HealthState::Unresponsive).await?;
    wait_health(&core, "advisory", api::HealthState::LowSeverity).await?;
    wait_health(&core, "secure", api::HealthState::Secured).await?;

    // These arrive through the event stream.
    change_states_on_the_stream(&sim).await?;
    wait_health(&core, "deactivated", api::HealthState::Deactivated).await?;
    wait_health(&core, "uninstalled", api::HealthState::Misconfigured).await?;
    wait_health(&core, "moderate", api::HealthState::MediumSeverity).await?;
    wait_health(&core, "high", api::HealthState::HighSeverity).await?;
    wait_resolved_and_ignored_threats(&core).await?;

    check_open_threats(&core).await;
    let high = core.device("high").await.expect("device");
    assert_eq!(high.platform, api::Platform::Ios as i32);
    assert_eq!(high.owner_user_id, "high@corp.example");
    assert_eq!(high.reports[0].level, api::ThreatLevel::High as i32);
    Ok(())
}
