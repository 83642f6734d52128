//! The headline flow: simulator → plugin → connector host → core, and `CheckAccess` for `exchange`
//! flips to DENY when the simulator infects a device and back to ALLOW when it remediates it.

use riskgate_proto::v1 as api;
use serde_json::json;

use crate::support::{plugin_config, start_sim, wait_until, Core, Host, WAIT};

async fn decision(core: &Core, device: &str) -> Option<api::Decision> {
    let mut client =
        api::decision_service_client::DecisionServiceClient::new(core.channel().await.ok()?);
    let answer = client
        .check_access(api::CheckAccessRequest {
            device_id: device.to_owned(),
            user_id: String::new(),
            resource: "exchange".to_owned(),
        })
        .await
        .ok()?
        .into_inner();
    api::Decision::try_from(answer.decision).ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_access_for_exchange_flips_to_deny_on_infection_and_back_to_allow_on_remediation(
) -> anyhow::Result<()> {
    let sim = start_sim(&["--fleet", "3", "--seed", "11"]).await?;
    let core = Core::start().await?;
    core.create_compliance_connector("lookout").await?;
    let mut policies = api::policy_service_client::PolicyServiceClient::new(core.channel().await?);
    policies
        .create_compliance_policy(api::CompliancePolicy {
            policy_id: "max-low".to_owned(),
            assignment: Some(api::Assignment {
                all_devices: true,
                ..Default::default()
            }),
            max_threat_level: api::ThreatLevel::Low as i32,
            ..Default::default()
        })
        .await?;
    policies
        .put_resource(api::Resource {
            name: "exchange".to_owned(),
            rules: vec![api::AccessRule {
                require_compliant_device: true,
                ..Default::default()
            }],
            ..Default::default()
        })
        .await?;
    let _host = Host::start(&core, "lookout", &plugin_config(&sim, json!({})))?;

    let device = "fleet-00001";
    wait_until(
        WAIT,
        "exchange is allowed for the synced, secure device",
        || async { decision(&core, device).await == Some(api::Decision::Allow) },
    )
    .await?;

    sim.admin("infect", json!({"device": device, "vendor": "lookout", "severity": "HIGH", "classification": "TROJAN"})).await?;
    wait_until(WAIT, "exchange is denied after the infection", || async {
        decision(&core, device).await == Some(api::Decision::Deny)
    })
    .await?;
    // The other devices are untouched.
    assert_eq!(
        decision(&core, "fleet-00000").await,
        Some(api::Decision::Allow)
    );

    sim.admin("remediate", json!({"device": device, "vendor": "lookout"}))
        .await?;
    wait_until(
        WAIT,
        "exchange is allowed again after remediation",
        || async { decision(&core, device).await == Some(api::Decision::Allow) },
    )
    .await?;
    Ok(())
}
