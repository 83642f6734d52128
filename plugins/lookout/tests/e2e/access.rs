//! The headline flow: simulator → plugin → connector host → core, and `CheckAccess` for `exchange`
//! flips to DENY when the simulator infects a device and back to ALLOW when it remediates it.

use riskgate_proto::v1 as api;
use serde_json::json;

use crate::support::{exchange_fleet, wait_until, WAIT};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_access_for_exchange_flips_to_deny_on_infection_and_back_to_allow_on_remediation(
) -> anyhow::Result<()> {
    let device = "fleet-00001";
    let (sim, core, _host) = exchange_fleet(api::MissingDataMode::Unspecified, device).await?;

    sim.admin("infect", json!({"device": device, "vendor": "lookout", "severity": "HIGH", "classification": "TROJAN"})).await?;
    wait_until(WAIT, "exchange is denied after the infection", || async {
        core.exchange_is(device, api::Decision::Deny).await
    })
    .await?;
    // The other devices are untouched.
    assert!(core.exchange_is("fleet-00000", api::Decision::Allow).await);

    sim.admin("remediate", json!({"device": device, "vendor": "lookout"}))
        .await?;
    wait_until(
        WAIT,
        "exchange is allowed again after remediation",
        || async { core.exchange_is(device, api::Decision::Allow).await },
    )
    .await?;
    Ok(())
}
