//! `gateway`: enforcement at the gateway, in two parts.
//!
//! - **ext_authz Check against the echo.** Envoy's `Authorization/Check` on the core's gateway listener,
//!   asked as Envoy asks it (the device in `source.principal`, the resource in the route's
//!   `context_extensions`), next to the bare tonic echo at 1, 10 and 100 in flight, as `check` does for
//!   CheckAccess.
//! - **Time to block and to restore.** The whole path: the vendor simulator, the Lookout plugin in a
//!   connector host in its default configuration, the core, and a real Envoy in front of a sample
//!   "exchange" app. A flip opens a HIGH threat in the simulator and times, from just before the
//!   simulator's admin call that emits the vendor event, to the first 403 Envoy returns for the device;
//!   then remediates and times to the first 200. The device polls Envoy back to back on one kept-alive
//!   connection, so the figure is an upper bound by one request's round trip.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use anyhow::{bail, ensure};
use envoy_types::pb::envoy::service::auth::v3::{
    attribute_context::Peer, authorization_client::AuthorizationClient, AttributeContext,
    CheckRequest,
};
use riskgate_tests::enforcement::{Enforced, HostTimings, Setup, Users, EXCHANGE_PATH};
use tonic::transport::Channel;

use crate::{
    check::{print_results, seeded_devices, side_by_side_with_echo, start_seeded_core},
    load::connect,
    seed,
    stats::{micros, print_line, print_table, Samples},
    summary::Goal,
};

/// How device certificates name the device in the Check benchmark.
const PRINCIPAL: &str = "spiffe://bench.riskgate/device/{id}";

/// The device that flips.
const FLIPPING: &str = "fleet-00001";

/// How long one flip may take before the run fails.
const FLIP_WITHIN: Duration = Duration::from_secs(30);

/// The goal for both directions: p99 under 100 ms on this machine (Intune's check-ins take hours).
const FLIP_GOAL: Duration = Duration::from_millis(100);

/// Runs both parts, prints their tables, and returns the goals they measure.
pub(crate) async fn run(quick: bool) -> anyhow::Result<Vec<Goal>> {
    let mut goals = check_against_echo(quick).await?;
    goals.extend(time_to_block(quick).await?);
    Ok(goals)
}

async fn check_against_echo(quick: bool) -> anyhow::Result<Vec<Goal>> {
    let devices = seeded_devices(quick);
    let dir = tempfile::tempdir()?;
    let flags = [
        "--gateway-listen",
        "127.0.0.1:0",
        "--gateway-device-principal",
        PRINCIPAL,
    ];
    let core = start_seeded_core(dir.path(), devices, &flags).await?;
    let gateway = core
        .gateway_addr()
        .ok_or_else(|| anyhow::anyhow!("the core serves no gateway listener"))?;
    let channel = connect(gateway).await?;
    let call = move |n: u64| ext_authz_check(channel.clone(), n % devices);
    let results = side_by_side_with_echo(quick, devices, call).await?;
    print_results(
        &format!("Enforcement: ext_authz Check vs bare tonic echo, unary, one channel, closed loop ({devices} devices)"),
        "Check (ext_authz, riskgate-core)",
        "ext_authz",
        &results,
    );
    let mut goals = Vec::new();
    if let Some((_, check, echo)) = results.iter().find(|(in_flight, _, _)| *in_flight == 100) {
        let share = crate::stats::ratio(check.throughput, echo.throughput);
        goals.push(Goal::new(
            "ext_authz Check throughput vs echo, 100 in flight",
            ">= 80% of echo",
            format!("{:.0}%", share * 100.0),
            share >= 0.8,
        ));
    }
    Ok(goals)
}

/// One Check for seeded device `index`, as Envoy asks it, checked against the seeded decision.
async fn ext_authz_check(channel: Channel, index: u64) -> anyhow::Result<()> {
    let request = CheckRequest {
        attributes: Some(AttributeContext {
            source: Some(Peer {
                principal: PRINCIPAL.replace("{id}", &seed::device_id(index)),
                ..Default::default()
            }),
            context_extensions: HashMap::from([(
                "riskgate_resource".to_owned(),
                seed::RESOURCE.to_owned(),
            )]),
            ..Default::default()
        }),
    };
    let answer = AuthorizationClient::new(channel)
        .check(request)
        .await?
        .into_inner();
    let allowed = answer
        .status
        .as_ref()
        .is_some_and(|status| status.code == 0);
    ensure!(
        allowed == seed::expected_allow(index),
        "Check answered {answer:?} for device {index}"
    );
    Ok(())
}

async fn time_to_block(quick: bool) -> anyhow::Result<Vec<Goal>> {
    let flips = if quick { 3 } else { 120 };
    let enforced = Enforced::start(Setup {
        fleet: 3,
        timings: HostTimings::Default,
        users: Users::None,
        ready_devices: &[FLIPPING],
        within: FLIP_WITHIN,
    })
    .await?;
    let client = enforced.device_client(FLIPPING)?;
    let mut blocked = Samples::default();
    let mut restored = Samples::default();
    for _ in 0..flips {
        let emitted = Instant::now();
        enforced.infect(FLIPPING).await?;
        blocked.push(first_status(&enforced, &client, 403).await? - emitted);
        let emitted = Instant::now();
        enforced.remediate(FLIPPING).await?;
        restored.push(first_status(&enforced, &client, 200).await? - emitted);
    }
    let rows: Vec<Vec<String>> = [
        ("time to block (to 403)", &blocked),
        ("time to restore (to 200)", &restored),
    ]
    .iter()
    .map(|(what, samples)| {
        vec![
            (*what).to_owned(),
            samples.len().to_string(),
            micros(samples.percentile(50.0)),
            micros(samples.percentile(99.0)),
            micros(samples.percentile(100.0)),
        ]
    })
    .collect();
    print_table(
        "Enforcement: from the simulator's vendor event to the status Envoy returns (Lookout host in its default configuration)",
        &["flip", "flips", "p50", "p99", "max"],
        &rows,
    );
    print_line(&format!(
        "time to block p99 {}, time to restore p99 {} over {flips} flips",
        micros(blocked.percentile(99.0)),
        micros(restored.percentile(99.0))
    ));
    Ok([
        ("time to block p99", blocked),
        ("time to restore p99", restored),
    ]
    .into_iter()
    .map(|(name, samples)| {
        let p99 = samples.percentile(99.0);
        Goal::new(name, "< 100 ms", micros(p99), p99 < FLIP_GOAL)
    })
    .collect())
}

/// Asks Envoy for the flipping device's mail, back to back on `client`'s connection, until the answer
/// is `status`; returns when that answer arrived.
async fn first_status(
    enforced: &Enforced,
    client: &reqwest::Client,
    status: u16,
) -> anyhow::Result<Instant> {
    let deadline = Instant::now() + FLIP_WITHIN;
    loop {
        let (got, _) = enforced.envoy.get(client, EXCHANGE_PATH, &[]).await?;
        let arrived = Instant::now();
        if got == status {
            return Ok(arrived);
        }
        if arrived > deadline {
            bail!("{FLIPPING} still gets {got}, not {status}, after {FLIP_WITHIN:?}");
        }
    }
}
