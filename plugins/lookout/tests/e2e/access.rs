//! The headline flow: simulator → plugin → connector host → core, and `CheckAccess` for `exchange`
//! flips to DENY when the simulator infects a device and back to ALLOW when it remediates it.

use riskgate_proto::v1 as api;
use serde_json::json;

use crate::support::{plugin_config, start_sim, wait_until, Core, Host, WAIT};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_access_for_exchange_flips_to_deny_on_infection_and_back_to_allow_on_remediation(
) -> anyhow::Result<()> {
    let sim = start_sim(&["--fleet", "3", "--seed", "11"]).await?;
    let core = Core::start().await?;
    core.create_compliance_connector("lookout").await?;
    core.require_low_for_exchange().await?;
    let _host = Host::start(&core, "lookout", &plugin_config(&sim, json!({})))?;

    let device = "fleet-00001";
    wait_until(
        WAIT,
        "exchange is allowed for the synced, secure device",
        || async { core.exchange_is(device, api::Decision::Allow).await },
    )
    .await?;

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
