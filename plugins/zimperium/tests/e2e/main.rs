//! End to end: `riskgate-vendor-sim` (Zimperium API) → the Zimperium plugin in a real
//! `riskgate-connector-host` (SHA-256 pinned) → a real `riskgate-core` (through the `riskgate-tests`
//! harness). Every wait polls a condition against a deadline.

// test code
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{collections::BTreeSet, path::PathBuf};

use riskgate_proto::v1 as api;
use riskgate_tests::vendor_sim::SimProcess as Sim;
use riskgate_tests::{
    admin::{check_access, compliance_connector, compliance_policy, compliant_only_resource},
    events::reports_of,
    register_connector_with,
    rpc::{full_history, get_device},
    wait_until, CoreProcess,
};
use serde_json::{json, Value};
use support::{start_zimperium_host, Host, WAIT};

const CONNECTOR: &str = "zimperium";

/// A test's world: the simulator, the core with the connector registered, and a config file.
struct World {
    sim: Sim,
    core: CoreProcess,
    config: PathBuf,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

impl World {
    async fn start(page_size: u32) -> anyhow::Result<World> {
        let sim = Sim::start(&["--seed", "1"]).await?;
        let data = tempfile::tempdir()?;
        let core = CoreProcess::start(data.path(), &[]).await;
        register_connector_with(&core, compliance_connector(CONNECTOR)).await?;
        let dir = tempfile::tempdir()?;
        let config = dir.path().join("zimperium.json");
        std::fs::write(
            &config,
            json!({
                "base_url": sim.url,
                "client_id": "sim-zimperium-client",
                "secret": "sim-zimperium-secret",
                "poll_interval_ms": 100,
                "device_sync_interval_ms": 300,
                "settle_ms": 0,
                "checkpoint_interval_ms": 1000,
                "page_size": page_size,
                "max_backoff_ms": 400
            })
            .to_string(),
        )?;
        Ok(World {
            sim,
            core,
            config,
            _dirs: (data, dir),
        })
    }

    fn host(&self) -> anyhow::Result<Host> {
        start_zimperium_host(&self.core, CONNECTOR, &self.config)
    }

    async fn add_device(&self, id: &str, platform: &str) -> anyhow::Result<()> {
        self.sim
            .admin(
                "devices",
                json!({"id": id, "platform": platform, "email": format!("{id}@corp.example"),
                       "model": "Model X", "os_version": "14.2"}),
            )
            .await?;
        Ok(())
    }

    async fn infect(&self, device: &str, severity: &str, category: &str) -> anyhow::Result<String> {
        let answer = self
            .sim
            .admin(
                "infect",
                json!({"device": device, "vendor": "zimperium", "severity": severity,
                       "category": category, "classification": format!("{category}-THREAT")}),
            )
            .await?;
        Ok(answer["zimperium_threat"]
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    async fn remediate(&self, device: &str) -> anyhow::Result<()> {
        self.sim
            .admin(
                "remediate",
                json!({"device": device, "vendor": "zimperium"}),
            )
            .await?;
        Ok(())
    }

    /// The connector's current report about `device`, if any.
    async fn report(&self, device: &str) -> Option<api::PartnerReport> {
        let mut client = self.core.device_client().await.ok()?;
        let found = get_device(&mut client, device).await.ok()??;
        found
            .reports
            .into_iter()
            .find(|r| r.connector_id == CONNECTOR)
    }

    /// Waits until the core holds a report about `device` in `state`.
    async fn wait_state(
        &self,
        device: &str,
        state: api::HealthState,
        host: &Host,
    ) -> anyhow::Result<api::PartnerReport> {
        let what = format!("the core shows {device} as {state:?}");
        let result = wait_until(WAIT, &what, || async {
            self.report(device)
                .await
                .is_some_and(|r| r.health_state == state as i32)
        })
        .await;
        if let Err(e) = result {
            anyhow::bail!(
                "{e}; last report {:?}\nhost output:\n{}\nsimulator output:\n{}",
                self.report(device).await,
                host.output.text(),
                self.sim.output_text()
            );
        }
        Ok(self.report(device).await.expect("a report"))
    }

    /// Every report event of `device` in the core's history: (health state, vendor event id).
    async fn history(&self, device: &str) -> anyhow::Result<Vec<(i32, String)>> {
        let mut client = self.core.device_client().await?;
        let (events, _) = full_history(&mut client, device, 500).await?;
        Ok(reports_of(&events)
            .into_iter()
            .map(|(_, r)| (r.health_state, r.vendor_event_id.clone()))
            .collect())
    }
}

fn assert_unique(history: &[(i32, String)]) {
    let ids: BTreeSet<&String> = history.iter().map(|(_, id)| id).collect();
    assert_eq!(
        ids.len(),
        history.len(),
        "duplicate report events: {history:?}"
    );
}

/// The other rows reach the core with their health state and threats.
async fn wait_other_rows(world: &World, host: &Host) -> anyhow::Result<()> {
    let elev = world
        .wait_state("dev-elev", api::HealthState::MediumSeverity, host)
        .await?;
    assert_eq!(
        elev.threats[0].category,
        api::ThreatCategory::Network as i32
    );
    assert_eq!(elev.threats[0].severity, api::ThreatLevel::Medium as i32);
    let low = world
        .wait_state("dev-low", api::HealthState::LowSeverity, host)
        .await?;
    let mut severities: Vec<i32> = low.threats.iter().map(|t| t.severity).collect();
    severities.sort_unstable();
    assert_eq!(
        severities,
        [
            api::ThreatLevel::Secured as i32,
            api::ThreatLevel::Low as i32
        ]
    );
    assert!(low
        .threats
        .iter()
        .any(|t| t.category == api::ThreatCategory::Os as i32));
    world
        .wait_state("dev-clean", api::HealthState::Secured, host)
        .await?;
    world
        .wait_state("dev-gone", api::HealthState::Deactivated, host)
        .await?;
    world
        .wait_state("dev-off", api::HealthState::Unresponsive, host)
        .await?;
    Ok(())
}

/// One device per mapping row; returns the id of the critical threat.
async fn add_a_device_per_row(world: &World) -> anyhow::Result<String> {
    for (id, platform) in [
        ("dev-crit", "ANDROID"),
        ("dev-elev", "IOS"),
        ("dev-low", "ANDROID"),
        ("dev-clean", "IOS"),
        ("dev-gone", "ANDROID"),
        ("dev-off", "ANDROID"),
    ] {
        world.add_device(id, platform).await?;
    }
    let critical = world.infect("dev-crit", "CRITICAL", "APPLICATION").await?;
    world.infect("dev-elev", "ELEVATED", "NETWORK").await?;
    world.infect("dev-low", "LOW", "OS").await?;
    world.infect("dev-low", "NORMAL", "NETWORK").await?;
    world
        .sim
        .admin(
            "device-state",
            json!({"device": "dev-gone", "activation_status": "DELETED"}),
        )
        .await?;
    world
        .sim
        .admin(
            "device-state",
            json!({"device": "dev-off", "protection_status": "UNINSTALLED"}),
        )
        .await?;
    Ok(critical)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mapping_row_reaches_the_core_and_a_mitigation_resolves_the_threat(
) -> anyhow::Result<()> {
    let world = World::start(2).await?;
    let critical = add_a_device_per_row(&world).await?;
    let host = world.host()?;

    let crit = world
        .wait_state("dev-crit", api::HealthState::HighSeverity, &host)
        .await?;
    let threat = &crit.threats[0];
    assert_eq!(threat.vendor_threat_id, critical);
    assert_eq!(threat.category, api::ThreatCategory::Application as i32);
    assert_eq!(threat.classification, "APPLICATION-THREAT");
    assert_eq!(threat.severity, api::ThreatLevel::High as i32);
    assert_eq!(threat.status, api::ThreatStatus::Open as i32);
    assert!(threat.detected_at.is_some() && threat.resolved_at.is_none());
    assert!(
        threat.description.contains("CRITICAL"),
        "{}",
        threat.description
    );
    wait_other_rows(&world, &host).await?;

    // Device attributes come from the devices API.
    let mut client = world.core.device_client().await?;
    let device = get_device(&mut client, "dev-elev")
        .await?
        .expect("dev-elev");
    assert_eq!(device.platform, api::Platform::Ios as i32);
    assert_eq!(device.os_version, "14.2");
    assert_eq!(device.model, "Model X");
    assert_eq!(device.owner_user_id, "dev-elev@corp.example");
    assert_eq!(device.groups, ["Default"]);

    // A mitigation resolves the threat, with its resolved time, and the device is secured.
    world.remediate("dev-crit").await?;
    let resolved = world
        .wait_state("dev-crit", api::HealthState::Secured, &host)
        .await?;
    let threat = &resolved.threats[0];
    assert_eq!(threat.status, api::ThreatStatus::Resolved as i32);
    let (detected, done) = (threat.detected_at.unwrap(), threat.resolved_at.unwrap());
    assert!(
        done.seconds * 1000 + i64::from(done.nanos / 1_000_000)
            >= detected.seconds * 1000 + i64::from(detected.nanos / 1_000_000)
    );
    assert_unique(&world.history("dev-crit").await?);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_resumes_from_the_acknowledged_cursor_without_loss_or_duplicates(
) -> anyhow::Result<()> {
    let world = World::start(3).await?;
    for id in ["r-1", "r-2", "r-3"] {
        world.add_device(id, "ANDROID").await?;
    }
    world.infect("r-1", "CRITICAL", "APPLICATION").await?;
    let mut host = world.host()?;
    world
        .wait_state("r-1", api::HealthState::HighSeverity, &host)
        .await?;
    world
        .wait_state("r-3", api::HealthState::Secured, &host)
        .await?;
    for device in ["r-1", "r-2", "r-3"] {
        wait_until(
            WAIT,
            &format!("the history of {device} shows its report"),
            || async { world.history(device).await.is_ok_and(|h| !h.is_empty()) },
        )
        .await?;
    }
    let before: Vec<_> = [
        world.history("r-1").await?,
        world.history("r-2").await?,
        world.history("r-3").await?,
    ]
    .into();

    // The host dies hard; meanwhile r-1 is remediated and r-2 infected.
    host.kill().await?;
    world.remediate("r-1").await?;
    world.infect("r-2", "ELEVATED", "NETWORK").await?;
    let host = world.host()?;
    world
        .wait_state("r-2", api::HealthState::MediumSeverity, &host)
        .await?;
    world
        .wait_state("r-1", api::HealthState::Secured, &host)
        .await?;
    // Let the plugin run a few more cycles, then check nothing was reported twice.
    let counters_at = world.sim.get("counters").await?;
    let requests = |c: &Value| {
        c["requests"]["GET /api/threats/public/v1/threats"]
            .as_u64()
            .unwrap_or(0)
    };
    let seen = requests(&counters_at);
    wait_until(WAIT, "three more threat polls", || async {
        world
            .sim
            .get("counters")
            .await
            .is_ok_and(|c| requests(&c) >= seen + 3)
    })
    .await?;

    let r1 = world.history("r-1").await?;
    let r2 = world.history("r-2").await?;
    let r3 = world.history("r-3").await?;
    for history in [&r1, &r2, &r3] {
        assert_unique(history);
    }
    let states = |h: &[(i32, String)]| h.iter().map(|(s, _)| *s).collect::<Vec<_>>();
    assert_eq!(
        states(&r1),
        [
            api::HealthState::HighSeverity as i32,
            api::HealthState::Secured as i32
        ],
        "r-1: infected once, resolved once"
    );
    assert_eq!(
        states(&r2),
        [
            api::HealthState::Secured as i32,
            api::HealthState::MediumSeverity as i32
        ]
    );
    assert_eq!(
        r3, before[2],
        "r-3 did not change, so nothing new was reported"
    );
    assert_eq!(r1[0], before[0][0]);
    Ok(())
}

/// 429 with Retry-After, then three 5xx in a row: waits and backoff, then on.
async fn survive_429_and_5xx(world: &World, host: &Host, zim: &str) -> anyhow::Result<()> {
    // 429 with Retry-After.
    world
        .sim
        .admin("faults", json!({"vendor": "zimperium", "path": zim, "status": 429, "retry_after": 1, "count": 2}))
        .await?;
    world.infect("f-2", "ELEVATED", "NETWORK").await?;
    world
        .wait_state("f-2", api::HealthState::MediumSeverity, host)
        .await?;
    assert!(
        host.output.text().contains("rate limited (429)"),
        "{}",
        host.output.text()
    );

    // 5xx, three in a row: backoff with jitter, then on.
    world
        .sim
        .admin(
            "faults",
            json!({"vendor": "zimperium", "path": zim, "status": 503, "count": 3}),
        )
        .await?;
    world.infect("f-3", "LOW", "OS").await?;
    world
        .wait_state("f-3", api::HealthState::LowSeverity, host)
        .await?;
    assert!(
        host.output.text().contains("server error (503"),
        "{}",
        host.output.text()
    );
    Ok(())
}

/// 401: every token expires; the plugin refreshes (or logs in again) and goes on.
async fn survive_expired_tokens(world: &World, host: &Host) -> anyhow::Result<()> {
    world
        .sim
        .admin("expire-tokens", json!({"vendor": "zimperium"}))
        .await?;
    world.infect("f-1", "CRITICAL", "APPLICATION").await?;
    world
        .wait_state("f-1", api::HealthState::HighSeverity, host)
        .await?;
    let counters = world.sim.get("counters").await?;
    assert!(
        counters["unauthorized"].as_u64().unwrap_or(0) >= 1,
        "{counters}"
    );
    assert!(
        counters["token_refreshes"].as_u64().unwrap_or(0)
            + counters["tokens_issued"]["zimperium"].as_u64().unwrap_or(0)
            >= 2,
        "{counters}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_faults_are_survived_each_with_the_next_change_still_reported(
) -> anyhow::Result<()> {
    let world = World::start(5).await?;
    for n in 0..6 {
        world.add_device(&format!("f-{n}"), "ANDROID").await?;
    }
    let mut host = world.host()?;
    world
        .wait_state("f-0", api::HealthState::Secured, &host)
        .await?;
    let zim = "/api/threats";

    survive_expired_tokens(&world, &host).await?;

    survive_429_and_5xx(&world, &host, zim).await?;

    // Malformed data: skipped with a counter and a log line, never a crash or an invalid report.
    world
        .sim
        .admin(
            "inject",
            json!({"kind": "malformed", "vendor": "zimperium"}),
        )
        .await?;
    world.infect("f-4", "CRITICAL", "NETWORK").await?;
    world
        .wait_state("f-4", api::HealthState::HighSeverity, &host)
        .await?;
    assert!(
        host.output.text().contains("skipped malformed threat"),
        "{}",
        host.output.text()
    );

    // Duplicates: the same threat listed twice is reported once.
    world.infect("f-5", "ELEVATED", "APPLICATION").await?;
    world
        .sim
        .admin(
            "inject",
            json!({"kind": "duplicate", "vendor": "zimperium"}),
        )
        .await?;
    world
        .wait_state("f-5", api::HealthState::MediumSeverity, &host)
        .await?;
    world.remediate("f-5").await?;
    world
        .wait_state("f-5", api::HealthState::Secured, &host)
        .await?;
    let f5 = world.history("f-5").await?;
    assert_unique(&f5);
    let states: Vec<i32> = f5.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        states,
        [
            api::HealthState::Secured as i32,
            api::HealthState::MediumSeverity as i32,
            api::HealthState::Secured as i32
        ],
        "{f5:?}"
    );

    assert!(host.is_running(), "the host survived every fault");
    for n in 1..5 {
        assert_unique(&world.history(&format!("f-{n}")).await?);
    }
    host.kill().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_access_for_exchange_flips_to_deny_on_infection_and_back_to_allow_on_remediation(
) -> anyhow::Result<()> {
    let world = World::start(10).await?;
    let mut policies = world.core.policy_client().await?;
    policies
        .create_compliance_policy(compliance_policy("max-low", api::ThreatLevel::Low))
        .await?;
    policies
        .put_resource(compliant_only_resource("exchange"))
        .await?;
    world.add_device("phone", "IOS").await?;
    let host = world.host()?;
    world
        .wait_state("phone", api::HealthState::Secured, &host)
        .await?;

    let decisions = world.core.decision_client().await?;
    expect_decision(&decisions, api::Decision::Allow).await?;
    world.infect("phone", "CRITICAL", "APPLICATION").await?;
    expect_decision(&decisions, api::Decision::Deny).await?;
    world.remediate("phone").await?;
    expect_decision(&decisions, api::Decision::Allow).await?;
    Ok(())
}

/// Waits until CheckAccess(phone, exchange) answers `expected`.
async fn expect_decision(
    decisions: &riskgate_tests::admin::DecisionClient,
    expected: api::Decision,
) -> anyhow::Result<()> {
    let what = format!("CheckAccess(phone, exchange) is {expected:?}");
    let outcome = wait_until(WAIT, &what, || {
        let mut client = decisions.clone();
        async move {
            check_access(&mut client, "phone", "exchange")
                .await
                .is_ok_and(|a| a.decision == expected as i32)
        }
    })
    .await;
    if let Err(e) = outcome {
        let last = check_access(&mut decisions.clone(), "phone", "exchange").await;
        anyhow::bail!("{e}; last decision {last:?}");
    }
    Ok(())
}

/// Re-check now (ABI minor 2): `ConnectorService.Recheck` reaches the plugin through the host's control
/// stream; the plugin fetches the device from the devices API and reports it even though nothing changed,
/// so the core's freshness moves (the stored report takes the re-check's event id, with no new event).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recheck_fetches_the_device_and_refreshes_its_report() -> anyhow::Result<()> {
    let world = World::start(10).await?;
    world.add_device("phone", "IOS").await?;
    let host = world.host()?;
    world
        .wait_state("phone", api::HealthState::Secured, &host)
        .await?;
    let events_before = world.history("phone").await?.len();

    let mut connectors = world.core.connector_client().await?;
    let answer = std::sync::Mutex::new(None);
    wait_until(WAIT, "the re-check is accepted", || {
        let mut connectors = connectors.clone();
        let answer = &answer;
        async move {
            let sent = connectors
                .recheck(api::RecheckRequest {
                    connector_id: CONNECTOR.to_owned(),
                    device_ids: vec!["phone".to_owned()],
                    timeout: None,
                })
                .await;
            match sent {
                Ok(response) => {
                    *answer.lock().unwrap() = Some(response.into_inner());
                    true
                }
                // The host opens its control stream just after its plugin starts.
                Err(status) if status.code() == tonic::Code::Unavailable => false,
                Err(status) => panic!("re-check refused: {status:?}"),
            }
        }
    })
    .await?;
    assert!(answer.into_inner().unwrap().is_some_and(|a| a.accepted));
    wait_until(
        WAIT,
        "the report carries the re-check's event id",
        || async {
            world
                .report("phone")
                .await
                .is_some_and(|r| r.vendor_event_id.starts_with("recheck-"))
        },
    )
    .await?;
    assert_eq!(
        world.history("phone").await?.len(),
        events_before,
        "an unchanged picture refreshes the report without an event"
    );
    connectors = world.core.connector_client().await?;
    let unknown = connectors
        .recheck(api::RecheckRequest {
            connector_id: "nobody".to_owned(),
            device_ids: Vec::new(),
            timeout: None,
        })
        .await
        .expect_err("no such connector");
    assert_eq!(unknown.code(), tonic::Code::NotFound, "{unknown:?}");
    Ok(())
}
