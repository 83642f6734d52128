//! Vendor-feed liveness (issue 15, point 3): when the Lookout cloud answers 5xx for longer than the
//! connector's threshold while its host keeps heartbeating, the plugin's feed health (ABI minor 2) makes
//! the connector UNRESPONSIVE, and the tenant's fail mode applies. Time is the core's manual clock.

use std::time::Duration;

use riskgate_proto::v1 as api;
use riskgate_tests::admin::{advance_clock, MANUAL_CLOCK};
use serde_json::json;

use crate::support::{plugin_config, start_sim, wait_until, Core, Host, WAIT};

const DEVICE: &str = "fleet-00001";

/// The connector shows its feed disconnected because of the 503s, and is still enabled.
async fn wait_feed_disconnected_by_503s(core: &Core) -> anyhow::Result<()> {
    let connector = std::sync::Mutex::new(api::Connector::default());
    wait_until(
        WAIT,
        "the connector shows its feed disconnected",
        || async {
            let Ok(now) = core.connector("lookout").await else {
                return false;
            };
            let disconnected = now
                .feed
                .as_ref()
                .is_some_and(|feed| feed.state == api::FeedState::Disconnected as i32);
            *connector.lock().unwrap() = now;
            disconnected
        },
    )
    .await?;
    let connector = connector.into_inner().unwrap();
    assert!(
        connector
            .feed
            .as_ref()
            .is_some_and(|feed| feed.reason.contains("503")),
        "{connector:?}"
    );
    assert_eq!(
        connector.state,
        api::ConnectorState::Enabled as i32,
        "within the threshold the connector is still enabled"
    );
    Ok(())
}

/// The tenant requires a LOW level for Exchange and fails closed when a partner is unresponsive.
async fn set_up_fail_closed(core: &Core) -> anyhow::Result<()> {
    core.create_compliance_connector("lookout").await?;
    core.require_low_for_exchange().await?;
    core.policies()
        .await?
        .update_tenant_settings(api::TenantSettings {
            unresponsive_partner_mode: api::UnresponsivePartnerMode::FailClosed as i32,
            ..Default::default()
        })
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vendor_cloud_failing_past_the_threshold_makes_the_connector_unresponsive_while_its_host_lives(
) -> anyhow::Result<()> {
    let sim = start_sim(&["--fleet", "3", "--seed", "11"]).await?;
    let core = Core::start_with(&[MANUAL_CLOCK]).await?;
    set_up_fail_closed(&core).await?;
    let _host = Host::start(&core, "lookout", &plugin_config(&sim, json!({})))?;
    wait_until(
        WAIT,
        "exchange allows the synced, secure device",
        || async { core.exchange_is(DEVICE, api::Decision::Allow).await },
    )
    .await?;
    wait_until(WAIT, "the connector shows its feed connected", || async {
        core.connector("lookout").await.is_ok_and(|c| {
            c.feed
                .is_some_and(|feed| feed.state == api::FeedState::Connected as i32)
        })
    })
    .await?;

    // Every Lookout request fails from now on, and the open stream is cut.
    sim.admin(
        "faults",
        json!({"vendor": "lookout", "status": 503, "count": 1_000_000}),
    )
    .await?;
    sim.admin("inject", json!({"kind": "drop_stream"})).await?;
    wait_feed_disconnected_by_503s(&core).await?;

    // Past the threshold (7 days), with the host still heartbeating.
    advance_clock(&mut core.clock().await?, Duration::from_secs(8 * 24 * 3600)).await?;
    let after = core.connector("lookout").await?;
    assert_eq!(
        after.state,
        api::ConnectorState::Unresponsive as i32,
        "{after:?}"
    );
    assert!(after.vendor_sync_lag.is_some(), "{after:?}");
    let answer = core.exchange(DEVICE).await.expect("an answer");
    assert_eq!(
        answer.decision,
        api::Decision::Deny as i32,
        "fail closed: {answer:?}"
    );
    assert!(
        answer
            .reasons
            .iter()
            .any(|r| r.code == "partner_unresponsive"),
        "{answer:?}"
    );
    Ok(())
}
