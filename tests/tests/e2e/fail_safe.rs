//! Decisions that fail safe, against the real binary: a deleted connector's reports stop counting for
//! `Device.level` and the `ListDevices` level filter, as they already did for compliance and access.

use riskgate_tests::{
    admin::{compliance_connector, compliance_policy, compliant_only_resource},
    api::{
        Decision, DeleteConnectorRequest, GetDeviceRequest, HealthState, ListDevicesRequest,
        Platform, ThreatLevel,
    },
    register_connector_with,
};

use crate::policy_support::Env;

/// The ids of the devices whose level is `level`.
async fn devices_at(env: &mut Env, level: ThreatLevel) -> anyhow::Result<Vec<String>> {
    let page = env
        .devices
        .list_devices(ListDevicesRequest {
            levels: vec![level as i32],
            ..Default::default()
        })
        .await?
        .into_inner();
    Ok(page.devices.into_iter().map(|d| d.device_id).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_connectors_reports_no_longer_count_for_device_level_or_the_level_filter(
) -> anyhow::Result<()> {
    let mut env = Env::start().await?;
    register_connector_with(&env.core, compliance_connector("lookout")).await?;
    register_connector_with(&env.core, compliance_connector("zimperium")).await?;
    env.create_policy(compliance_policy("mtd", ThreatLevel::Medium))
        .await?;
    env.put_resource(compliant_only_resource("exchange"))
        .await?;
    env.send(
        "lookout",
        "phone-9",
        Platform::Android,
        HealthState::Secured,
        &[],
    )
    .await?;
    env.send(
        "zimperium",
        "phone-9",
        Platform::Android,
        HealthState::HighSeverity,
        &["t-1"],
    )
    .await?;
    assert_eq!(devices_at(&mut env, ThreatLevel::High).await?, ["phone-9"]);
    assert_eq!(
        env.access("phone-9", "exchange").await?.decision,
        Decision::Deny as i32
    );

    env.connectors
        .delete_connector(DeleteConnectorRequest {
            connector_id: "zimperium".to_owned(),
        })
        .await?;
    let device = env
        .devices
        .get_device(GetDeviceRequest {
            device_id: "phone-9".to_owned(),
        })
        .await?
        .into_inner();
    assert_eq!(device.level, ThreatLevel::Secured as i32, "{device:?}");
    assert_eq!(
        device.reports.len(),
        2,
        "the reports stay visible: {device:?}"
    );
    assert!(devices_at(&mut env, ThreatLevel::High).await?.is_empty());
    assert_eq!(
        devices_at(&mut env, ThreatLevel::Secured).await?,
        ["phone-9"]
    );
    assert_eq!(
        env.access("phone-9", "exchange").await?.decision,
        Decision::Allow as i32,
        "compliance and access already left it out"
    );
    Ok(())
}
