//! Removing the MTD app does not clear a risk: a device Lookout reported HIGH whose Lookout app is then
//! uninstalled (protection status `UNINSTALLED`, which maps to MISCONFIGURED, a state without a level)
//! stays denied under the default missing-data mode until an admin clears the known risk; under
//! Intune's behaviour it gets access back.

use riskgate_proto::v1 as api;
use serde_json::json;

use crate::support::{exchange_fleet, wait_health, wait_until, Core, Host, Sim, WAIT};

const DEVICE: &str = "fleet-00001";

/// Core, simulator and host with `exchange` requiring at most LOW; `DEVICE` reported HIGH, then its
/// Lookout app uninstalled and that report applied.
async fn high_then_uninstalled(
    missing_data: api::MissingDataMode,
) -> anyhow::Result<(Core, Sim, Host)> {
    let (sim, core, host) = exchange_fleet(missing_data, DEVICE).await?;
    sim.admin(
        "infect",
        json!({"device": DEVICE, "vendor": "lookout", "severity": "HIGH", "classification": "TROJAN"}),
    )
    .await?;
    wait_until(WAIT, "exchange denies the infected device", || async {
        core.exchange_is(DEVICE, api::Decision::Deny).await
    })
    .await?;
    sim.admin(
        "device-state",
        json!({"device": DEVICE, "protection_status": "UNINSTALLED"}),
    )
    .await?;
    wait_health(&core, DEVICE, api::HealthState::Misconfigured).await?;
    Ok((core, sim, host))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uninstalled_app_keeps_the_last_known_high_until_an_admin_clears_it(
) -> anyhow::Result<()> {
    let (core, _sim, _host) = high_then_uninstalled(api::MissingDataMode::Unspecified).await?;

    let answer = core.exchange(DEVICE).await.expect("an answer");
    assert_eq!(answer.decision, api::Decision::Deny as i32, "{answer:?}");
    let texts: Vec<&str> = answer.reasons.iter().map(|r| r.message.as_str()).collect();
    assert!(
        texts
            .iter()
            .any(|text| text.starts_with("last known HIGH from lookout at ")
                && text.contains("lookout now reports MISCONFIGURED")),
        "{texts:?}"
    );
    let device = core.device(DEVICE).await.expect("the device");
    assert_eq!(device.level, api::ThreatLevel::High as i32, "{device:?}");
    let risk = device.reports[0].known_risk.as_ref().expect("a known risk");
    assert_eq!(risk.level, api::ThreatLevel::High as i32);
    assert!(!risk.threat_ids.is_empty(), "{risk:?}");

    let cleared = core
        .devices()
        .await?
        .clear_known_risk(api::ClearKnownRiskRequest {
            device_id: DEVICE.to_owned(),
            connector_id: "lookout".to_owned(),
        })
        .await?
        .into_inner();
    assert_eq!(cleared.reports[0].known_risk, None, "{cleared:?}");
    assert_eq!(cleared.level, api::ThreatLevel::Unspecified as i32);
    // The answer comes after the commit, so the decision has already followed.
    assert!(core.exchange_is(DEVICE, api::Decision::Allow).await);

    let again = core
        .devices()
        .await?
        .clear_known_risk(api::ClearKnownRiskRequest {
            device_id: DEVICE.to_owned(),
            connector_id: String::new(),
        })
        .await
        .expect_err("nothing left to clear");
    assert_eq!(again.code(), tonic::Code::FailedPrecondition, "{again:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_intune_behaviour_an_uninstalled_app_gets_access_back() -> anyhow::Result<()> {
    let (core, _sim, _host) = high_then_uninstalled(api::MissingDataMode::Intune).await?;
    wait_until(
        WAIT,
        "exchange allows the device once its report is missing data",
        || async { core.exchange_is(DEVICE, api::Decision::Allow).await },
    )
    .await?;
    let device = core.device(DEVICE).await.expect("the device");
    assert_eq!(
        device.level,
        api::ThreatLevel::Unspecified as i32,
        "Device.level follows the connector's mode: {device:?}"
    );
    Ok(())
}
