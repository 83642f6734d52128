//! Bad administrative input: each invalid request is refused with its code and a message naming the
//! field (or the object), and changes nothing.

use riskgate_tests::{
    admin::{
        compliance_connector, compliance_policy, compliant_only_resource, connector, secs, DAY,
    },
    api::{
        ActionKind, AdvanceClockRequest, AppAction, AppProtectionPolicy, BatchCheckAccessRequest,
        CheckAccessRequest, CompliancePolicy, Connector, CreateConnectorRequest, DeleteByIdRequest,
        DeleteConnectorRequest, GetByIdRequest, GetConnectorRequest, GetDeviceComplianceRequest,
        GetTenantSettingsRequest, HealthState, HeartbeatRequest, ListConnectorsRequest,
        ListRequest, Platform, ScheduledAction, TenantSettings, ThreatLevel,
        UpdateCompliancePolicyRequest, UpdateConnectorRequest,
    },
    expect_status, register_connector_with,
};
use tonic::{Code, Status};

use crate::policy_support::Env;

/// One request to send.
enum Call {
    CreateConnector(Option<Connector>),
    UpdateConnector(Connector),
    GetConnector(&'static str),
    DeleteConnector(&'static str),
    Heartbeat(&'static str),
    CreatePolicy(CompliancePolicy),
    UpdatePolicy(CompliancePolicy),
    GetPolicy(&'static str),
    DeletePolicy(&'static str),
    PutResource(riskgate_tests::api::Resource),
    GetResource(&'static str),
    DeleteResource(&'static str),
    PutAppPolicy(AppProtectionPolicy),
    GetAppPolicy(&'static str),
    DeleteAppPolicy(&'static str),
    Tenant(TenantSettings),
    CheckAccess(&'static str, &'static str),
    BatchCheck(usize),
    Compliance(&'static str),
    Advance(Option<prost_types::Duration>),
}

async fn send(env: &mut Env, call: Call) -> Result<String, Status> {
    let p = &mut env.policies;
    let c = &mut env.connectors;
    let d = &mut env.decisions;
    let id = |id: &str| GetByIdRequest { id: id.to_owned() };
    let del = |id: &str| DeleteByIdRequest { id: id.to_owned() };
    let shown = match call {
        Call::CreateConnector(connector) => format!(
            "{:?}",
            c.create_connector(CreateConnectorRequest { connector })
                .await?
        ),
        Call::UpdateConnector(connector) => format!(
            "{:?}",
            c.update_connector(UpdateConnectorRequest {
                connector: Some(connector),
                expected_version: 0,
            })
            .await?
        ),
        Call::GetConnector(connector_id) => format!(
            "{:?}",
            c.get_connector(GetConnectorRequest {
                connector_id: connector_id.to_owned()
            })
            .await?
        ),
        Call::DeleteConnector(connector_id) => format!(
            "{:?}",
            c.delete_connector(DeleteConnectorRequest {
                connector_id: connector_id.to_owned()
            })
            .await?
        ),
        Call::Heartbeat(connector_id) => format!(
            "{:?}",
            c.heartbeat(HeartbeatRequest {
                connector_id: connector_id.to_owned(),
                error_message: String::new(),
                feed: None,
            })
            .await?
        ),
        Call::CreatePolicy(policy) => format!("{:?}", p.create_compliance_policy(policy).await?),
        Call::UpdatePolicy(policy) => format!(
            "{:?}",
            p.update_compliance_policy(UpdateCompliancePolicyRequest {
                policy: Some(policy),
                expected_version: 0,
            })
            .await?
        ),
        Call::GetPolicy(x) => format!("{:?}", p.get_compliance_policy(id(x)).await?),
        Call::DeletePolicy(x) => format!("{:?}", p.delete_compliance_policy(del(x)).await?),
        Call::PutResource(resource) => format!("{:?}", p.put_resource(resource).await?),
        Call::GetResource(x) => format!("{:?}", p.get_resource(id(x)).await?),
        Call::DeleteResource(x) => format!("{:?}", p.delete_resource(del(x)).await?),
        Call::PutAppPolicy(policy) => format!("{:?}", p.put_app_protection_policy(policy).await?),
        Call::GetAppPolicy(x) => format!("{:?}", p.get_app_protection_policy(id(x)).await?),
        Call::DeleteAppPolicy(x) => format!("{:?}", p.delete_app_protection_policy(del(x)).await?),
        Call::Tenant(settings) => format!("{:?}", p.update_tenant_settings(settings).await?),
        Call::CheckAccess(device, resource) => format!(
            "{:?}",
            d.check_access(CheckAccessRequest {
                device_id: device.to_owned(),
                user_id: String::new(),
                resource: resource.to_owned(),
            })
            .await?
        ),
        Call::BatchCheck(n) => format!(
            "{:?}",
            d.batch_check_access(BatchCheckAccessRequest {
                checks: (0..n)
                    .map(|_| CheckAccessRequest {
                        device_id: "phone-1".to_owned(),
                        user_id: String::new(),
                        resource: "exchange".to_owned(),
                    })
                    .collect(),
            })
            .await?
        ),
        Call::Compliance(device) => format!(
            "{:?}",
            d.get_device_compliance(GetDeviceComplianceRequest {
                device_id: device.to_owned()
            })
            .await?
        ),
        Call::Advance(by) => format!(
            "{:?}",
            env.clock.advance_clock(AdvanceClockRequest { by }).await?
        ),
    };
    Ok(shown)
}

fn policy_with(change: fn(&mut CompliancePolicy)) -> CompliancePolicy {
    let mut policy = compliance_policy("new-policy", ThreatLevel::Low);
    change(&mut policy);
    policy
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_admin_requests_are_refused_with_their_code_naming_the_field() -> anyhow::Result<()> {
    let mut env = Env::start().await?;
    register_connector_with(&env.core, compliance_connector("lookout")).await?;
    env.create_policy(compliance_policy("mtd", ThreatLevel::Low))
        .await?;
    env.put_resource(compliant_only_resource("exchange"))
        .await?;
    env.send(
        "lookout",
        "phone-1",
        Platform::Android,
        riskgate_tests::api::HealthState::Secured,
        &[],
    )
    .await?;
    let app = |action: AppAction, app_ids: Vec<String>| AppProtectionPolicy {
        policy_id: "apps".to_owned(),
        app_ids,
        max_threat_level: ThreatLevel::Low as i32,
        action: action as i32,
        ..Default::default()
    };
    let mail = || vec!["com.corp.mail".to_owned()];
    let validity = |seconds: i64| TenantSettings {
        compliance_validity_period: Some(secs(seconds)),
        ..Default::default()
    };

    let cases: Vec<(&str, Call, Code, &str)> = vec![
        (
            "CreateConnector without a connector",
            Call::CreateConnector(None),
            Code::InvalidArgument,
            "connector",
        ),
        (
            "CreateConnector without a vendor",
            Call::CreateConnector(Some(Connector {
                vendor: String::new(),
                ..connector("no-vendor")
            })),
            Code::InvalidArgument,
            "connector.vendor",
        ),
        (
            "CreateConnector with a space in the id",
            Call::CreateConnector(Some(connector("bad id"))),
            Code::InvalidArgument,
            "connector_id",
        ),
        (
            "CreateConnector with an empty id",
            Call::CreateConnector(Some(connector(""))),
            Code::InvalidArgument,
            "connector_id",
        ),
        (
            "CreateConnector with an id of 129 bytes",
            Call::CreateConnector(Some(connector(&"c".repeat(129)))),
            Code::InvalidArgument,
            "connector_id",
        ),
        (
            "CreateConnector with unresponsive_after 0",
            Call::CreateConnector(Some(Connector {
                unresponsive_after: Some(secs(0)),
                ..connector("zero")
            })),
            Code::InvalidArgument,
            "unresponsive_after",
        ),
        (
            "CreateConnector with unresponsive_after over 365 days",
            Call::CreateConnector(Some(Connector {
                unresponsive_after: Some(secs(366 * DAY)),
                ..connector("long")
            })),
            Code::InvalidArgument,
            "unresponsive_after",
        ),
        (
            "CreateConnector with an unknown kind",
            Call::CreateConnector(Some(Connector {
                kind: 9,
                ..connector("kind")
            })),
            Code::InvalidArgument,
            "kind",
        ),
        (
            "CreateConnector twice",
            Call::CreateConnector(Some(connector("lookout"))),
            Code::AlreadyExists,
            "lookout",
        ),
        (
            "GetConnector unknown",
            Call::GetConnector("nope"),
            Code::NotFound,
            "nope",
        ),
        (
            "DeleteConnector unknown",
            Call::DeleteConnector("nope"),
            Code::NotFound,
            "nope",
        ),
        (
            "Heartbeat unknown",
            Call::Heartbeat("nope"),
            Code::NotFound,
            "nope",
        ),
        (
            "Heartbeat with a bad id",
            Call::Heartbeat("bad id"),
            Code::InvalidArgument,
            "connector_id",
        ),
        (
            "UpdateConnector unknown",
            Call::UpdateConnector(connector("nope")),
            Code::NotFound,
            "nope",
        ),
        (
            "UpdateConnector without a vendor",
            Call::UpdateConnector(Connector {
                vendor: String::new(),
                ..connector("lookout")
            }),
            Code::InvalidArgument,
            "connector.vendor",
        ),
        (
            "CreateCompliancePolicy with an unknown platform",
            Call::CreatePolicy(policy_with(|p| {
                p.platforms = vec![Platform::Ios as i32, 99]
            })),
            Code::InvalidArgument,
            "platforms[1]",
        ),
        (
            "CreateCompliancePolicy with an empty id",
            Call::CreatePolicy(policy_with(|p| p.policy_id = String::new())),
            Code::InvalidArgument,
            "policy_id",
        ),
        (
            "CreateCompliancePolicy with an unknown max_threat_level",
            Call::CreatePolicy(policy_with(|p| p.max_threat_level = 9)),
            Code::InvalidArgument,
            "max_threat_level",
        ),
        (
            "CreateCompliancePolicy with a negative grace_period",
            Call::CreatePolicy(policy_with(|p| p.grace_period = Some(secs(-1)))),
            Code::InvalidArgument,
            "grace_period",
        ),
        (
            "CreateCompliancePolicy with a grace_period over 365 days",
            Call::CreatePolicy(policy_with(|p| p.grace_period = Some(secs(366 * DAY)))),
            Code::InvalidArgument,
            "grace_period",
        ),
        (
            "CreateCompliancePolicy with an action without a kind",
            Call::CreatePolicy(policy_with(|p| {
                p.actions = vec![
                    ScheduledAction {
                        kind: ActionKind::Notify as i32,
                        after: None,
                    },
                    ScheduledAction {
                        kind: ActionKind::Unspecified as i32,
                        after: Some(secs(60)),
                    },
                ]
            })),
            Code::InvalidArgument,
            "actions[1].kind",
        ),
        (
            "CreateCompliancePolicy with an action after over 365 days",
            Call::CreatePolicy(policy_with(|p| {
                p.actions = vec![ScheduledAction {
                    kind: ActionKind::Retire as i32,
                    after: Some(secs(400 * DAY)),
                }]
            })),
            Code::InvalidArgument,
            "actions[0].after",
        ),
        (
            "CreateCompliancePolicy with an empty group",
            Call::CreatePolicy(policy_with(|p| {
                p.assignment = Some(riskgate_tests::api::Assignment {
                    all_devices: false,
                    groups: vec!["sales".to_owned(), String::new()],
                    excluded_groups: Vec::new(),
                })
            })),
            Code::InvalidArgument,
            "assignment.groups[1]",
        ),
        (
            "CreateCompliancePolicy twice",
            Call::CreatePolicy(compliance_policy("mtd", ThreatLevel::High)),
            Code::AlreadyExists,
            "mtd",
        ),
        (
            "UpdateCompliancePolicy unknown",
            Call::UpdatePolicy(compliance_policy("nope", ThreatLevel::Low)),
            Code::NotFound,
            "nope",
        ),
        (
            "UpdateCompliancePolicy with a negative grace_period",
            Call::UpdatePolicy(CompliancePolicy {
                grace_period: Some(secs(-5)),
                ..compliance_policy("mtd", ThreatLevel::Low)
            }),
            Code::InvalidArgument,
            "grace_period",
        ),
        (
            "GetCompliancePolicy unknown",
            Call::GetPolicy("nope"),
            Code::NotFound,
            "nope",
        ),
        (
            "DeleteCompliancePolicy unknown",
            Call::DeletePolicy("nope"),
            Code::NotFound,
            "nope",
        ),
        (
            "PutResource with an empty name",
            Call::PutResource(compliant_only_resource("")),
            Code::InvalidArgument,
            "name",
        ),
        (
            "PutResource with an unknown platform in a rule",
            Call::PutResource(riskgate_tests::api::Resource {
                name: "wiki".to_owned(),
                rules: vec![riskgate_tests::api::AccessRule {
                    platforms: vec![42],
                    require_compliant_device: true,
                    max_threat_level: 0,
                }],
                ..Default::default()
            }),
            Code::InvalidArgument,
            "rules[0].platforms[0]",
        ),
        (
            "GetResource unknown",
            Call::GetResource("nope"),
            Code::NotFound,
            "nope",
        ),
        (
            "DeleteResource unknown",
            Call::DeleteResource("nope"),
            Code::NotFound,
            "nope",
        ),
        (
            "PutAppProtectionPolicy with WARN",
            Call::PutAppPolicy(app(AppAction::Warn, mail())),
            Code::InvalidArgument,
            "action",
        ),
        (
            "PutAppProtectionPolicy without an action",
            Call::PutAppPolicy(app(AppAction::Unspecified, mail())),
            Code::InvalidArgument,
            "action",
        ),
        (
            "PutAppProtectionPolicy without apps",
            Call::PutAppPolicy(app(AppAction::Block, Vec::new())),
            Code::InvalidArgument,
            "app_ids",
        ),
        (
            "GetAppProtectionPolicy unknown",
            Call::GetAppPolicy("nope"),
            Code::NotFound,
            "nope",
        ),
        (
            "DeleteAppProtectionPolicy unknown",
            Call::DeleteAppPolicy("nope"),
            Code::NotFound,
            "nope",
        ),
        (
            "UpdateTenantSettings with a validity period of 12h",
            Call::Tenant(validity(12 * 3600)),
            Code::InvalidArgument,
            "compliance_validity_period",
        ),
        (
            "UpdateTenantSettings with a validity period of 121 days",
            Call::Tenant(validity(121 * DAY)),
            Code::InvalidArgument,
            "compliance_validity_period",
        ),
        (
            "UpdateTenantSettings with a negative validity period",
            Call::Tenant(validity(-DAY)),
            Code::InvalidArgument,
            "compliance_validity_period",
        ),
        (
            "UpdateTenantSettings with an unknown mode",
            Call::Tenant(TenantSettings {
                unresponsive_partner_mode: 7,
                ..Default::default()
            }),
            Code::InvalidArgument,
            "unresponsive_partner_mode",
        ),
        (
            "CheckAccess without a device",
            Call::CheckAccess("", "exchange"),
            Code::InvalidArgument,
            "device_id",
        ),
        (
            "CheckAccess without a resource",
            Call::CheckAccess("phone-1", ""),
            Code::InvalidArgument,
            "resource",
        ),
        (
            "CheckAccess to an unknown resource",
            Call::CheckAccess("phone-1", "nope"),
            Code::NotFound,
            "nope",
        ),
        (
            "BatchCheckAccess with no checks",
            Call::BatchCheck(0),
            Code::InvalidArgument,
            "checks",
        ),
        (
            "BatchCheckAccess with 1001 checks",
            Call::BatchCheck(1001),
            Code::InvalidArgument,
            "checks",
        ),
        (
            "GetDeviceCompliance without a device",
            Call::Compliance(""),
            Code::InvalidArgument,
            "device_id",
        ),
        (
            "AdvanceClock without a duration",
            Call::Advance(None),
            Code::InvalidArgument,
            "by",
        ),
        (
            "AdvanceClock backwards",
            Call::Advance(Some(secs(-60))),
            Code::InvalidArgument,
            "by",
        ),
    ];

    let snapshot = |env: &mut Env| {
        let mut connectors = env.connectors.clone();
        let mut policies = env.policies.clone();
        async move {
            anyhow::Ok((
                connectors
                    .list_connectors(ListConnectorsRequest {})
                    .await?
                    .into_inner(),
                policies
                    .list_compliance_policies(ListRequest {})
                    .await?
                    .into_inner(),
                policies.list_resources(ListRequest {}).await?.into_inner(),
                policies
                    .list_app_protection_policies(ListRequest {})
                    .await?
                    .into_inner(),
                policies
                    .get_tenant_settings(GetTenantSettingsRequest {})
                    .await?
                    .into_inner(),
            ))
        }
    };
    let before = snapshot(&mut env).await?;
    let mut failures = Vec::new();
    for (name, call, code, field) in cases {
        if let Err(e) = expect_status(send(&mut env, call).await, code, field) {
            failures.push(format!("[{name}] {e:#}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} admin checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        snapshot(&mut env).await?,
        before,
        "refused requests change no connector, policy, resource or setting"
    );

    // The limits themselves are accepted.
    for (name, call) in [
        (
            "grace_period of 0 and of 365 days",
            Call::CreatePolicy(policy_with(|p| p.grace_period = Some(secs(365 * DAY)))),
        ),
        ("validity period of 1 day", Call::Tenant(validity(DAY))),
        (
            "validity period of 120 days",
            Call::Tenant(validity(120 * DAY)),
        ),
        ("1000 checks", Call::BatchCheck(1000)),
    ] {
        if let Err(status) = send(&mut env, call).await {
            failures.push(format!("[{name}] refused: {status:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_messages_use_request_rooted_paths_api_names_and_admin_durations(
) -> anyhow::Result<()> {
    let mut env = Env::start().await?;
    let exact = |result: Result<String, Status>, expected: &str| -> anyhow::Result<()> {
        let message = expect_status(result, Code::InvalidArgument, expected)?;
        anyhow::ensure!(
            message == expected,
            "got {message:?}, expected {expected:?}"
        );
        Ok(())
    };
    // CreateCompliancePolicy's request is the policy itself: no `policy.` before its fields.
    exact(
        send(
            &mut env,
            Call::CreatePolicy(policy_with(|p| p.grace_period = Some(secs(366 * DAY)))),
        )
        .await,
        "grace_period: must be between 0 seconds and 365 days",
    )?;
    // UpdateCompliancePolicyRequest carries it in `policy`.
    let message = expect_status(
        send(
            &mut env,
            Call::UpdatePolicy(policy_with(|p| p.grace_period = Some(secs(366 * DAY)))),
        )
        .await,
        Code::InvalidArgument,
        "policy.grace_period",
    )?;
    anyhow::ensure!(message.starts_with("policy.grace_period: "), "{message}");
    // A Duration whose nanos carry a whole second is refused, not normalised into 2 s.
    let message = expect_status(
        send(
            &mut env,
            Call::CreatePolicy(policy_with(|p| {
                p.grace_period = Some(prost_types::Duration {
                    seconds: 0,
                    nanos: 2_000_000_000,
                })
            })),
        )
        .await,
        Code::InvalidArgument,
        "grace_period.nanos",
    )?;
    anyhow::ensure!(message.starts_with("grace_period.nanos: "), "{message}");
    // A connector that never sent a heartbeat is named by the API's state name, not Rust's.
    send(&mut env, Call::CreateConnector(Some(connector("silent")))).await?;
    let report = env.next_report("phone-1", Platform::Android, HealthState::Secured);
    let refused = riskgate_tests::ingest(
        &mut env.ingest,
        vec![riskgate_tests::batch("silent", 1, b"", vec![report])],
    )
    .await;
    let message = expect_status(refused, Code::FailedPrecondition, "NOT_SET_UP")?;
    anyhow::ensure!(!message.contains("NotSetUp"), "{message}");
    Ok(())
}
