//! Re-check now (issue 15, point 5): a change the Lookout cloud made without any stream event is found
//! only when an admin asks the connector to re-check the device: `ConnectorService.Recheck` reaches the
//! host over its control stream, the host passes it to the plugin (ABI minor 2), the plugin fetches the
//! device and its threats over REST, and the decision flips through the usual path.

use riskgate_proto::v1 as api;
use serde_json::json;
use tonic::Code;

use crate::support::{exchange_fleet, wait_until, WAIT};

const DEVICE: &str = "fleet-00001";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recheck_finds_a_threat_the_stream_never_announced_and_the_decision_flips(
) -> anyhow::Result<()> {
    let (sim, core, _host) = exchange_fleet(api::MissingDataMode::Unspecified, DEVICE).await?;

    sim.admin(
        "infect",
        json!({"device": DEVICE, "vendor": "lookout", "severity": "HIGH", "silent": true}),
    )
    .await?;
    let before = core.reports(DEVICE).await?.len();
    assert!(
        core.exchange_is(DEVICE, api::Decision::Allow).await,
        "the silent change reached the core without a re-check"
    );

    // The host opens its control stream right after its plugin starts; until then the core answers
    // UNAVAILABLE, which is what an admin would see too.
    let answer = std::sync::Mutex::new(None);
    wait_until(WAIT, "the re-check is accepted", || async {
        let Ok(mut connectors) = core.connectors().await else {
            return false;
        };
        let sent = connectors
            .recheck(api::RecheckRequest {
                connector_id: "lookout".to_owned(),
                device_ids: vec![DEVICE.to_owned()],
                timeout: None,
            })
            .await;
        match sent {
            Ok(response) => {
                *answer.lock().unwrap() = Some(response.into_inner());
                true
            }
            Err(status) if status.code() == Code::Unavailable => false,
            Err(status) => panic!("re-check refused: {status:?}"),
        }
    })
    .await?;
    let answer = answer.into_inner().unwrap().expect("an answer");
    assert!(answer.accepted, "{answer:?}");

    wait_until(
        WAIT,
        "exchange denies the device after the re-check",
        || async { core.exchange_is(DEVICE, api::Decision::Deny).await },
    )
    .await?;
    let reports = core.reports(DEVICE).await?;
    assert!(
        reports.len() > before,
        "a new report came with the re-check"
    );
    let last = reports.last().expect("a report");
    assert!(last.vendor_event_id.starts_with("recheck-"), "{last:?}");

    // A connector nobody runs has no control stream.
    core.create_compliance_connector("idle").await?;
    let idle = core
        .connectors()
        .await?
        .recheck(api::RecheckRequest {
            connector_id: "idle".to_owned(),
            device_ids: Vec::new(),
            timeout: None,
        })
        .await
        .expect_err("no host runs it");
    assert_eq!(idle.code(), Code::Unavailable, "{idle:?}");
    Ok(())
}

/// The periodic re-sync (`resync_interval_secs`) re-reads every device and re-reports it under a fresh
/// event id: an unchanged device's report is refreshed in the core (its event id and `received_at`
/// move) without a new event, so freshness measures Lookout's last word.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_periodic_resync_refreshes_every_device_without_new_events() -> anyhow::Result<()> {
    let sim = crate::support::start_sim(&["--fleet", "2", "--seed", "11"]).await?;
    let core = crate::support::Core::start().await?;
    core.create_compliance_connector("lookout").await?;
    let config =
        crate::support::plugin_config(&sim, serde_json::json!({"resync_interval_secs": 1}));
    let _host = crate::support::Host::start(&core, "lookout", &config)?;
    wait_until(WAIT, "both devices are synced", || async {
        core.device("fleet-00000").await.is_some() && core.device("fleet-00001").await.is_some()
    })
    .await?;
    let events_before = core.reports("fleet-00001").await?.len();
    let received_before =
        core.device("fleet-00001").await.expect("a device").reports[0].received_at;
    wait_until(WAIT, "a re-sync refreshed every device", || async {
        let mut refreshed = 0;
        for device in ["fleet-00000", "fleet-00001"] {
            if core
                .device(device)
                .await
                .is_some_and(|d| d.reports[0].vendor_event_id.starts_with("resync-"))
            {
                refreshed += 1;
            }
        }
        refreshed == 2
    })
    .await?;
    let after = core.device("fleet-00001").await.expect("a device");
    let seconds = |at: &Option<riskgate_sdk::prost_types::Timestamp>| {
        at.as_ref().map(|t| (t.seconds, t.nanos))
    };
    assert!(
        seconds(&after.reports[0].received_at) > seconds(&received_before),
        "received_at moved: {after:?}"
    );
    assert_eq!(
        core.reports("fleet-00001").await?.len(),
        events_before,
        "an unchanged device costs no event"
    );
    Ok(())
}
