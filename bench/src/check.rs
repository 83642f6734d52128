//! `check`: CheckAccess over gRPC against the real riskgate-core, next to a bare tonic echo RPC in its own
//! process, at 1, 10 and 100 requests in flight on one channel each. The echo is the floor: a unary tonic
//! round trip with no work behind it (grpc_bench's loopback floors), so the ratio says what riskgate's
//! decision path costs on top of gRPC.

use std::{path::Path, time::Duration};

use anyhow::ensure;
use riskgate_proto::v1::{decision_service_client::DecisionServiceClient, CheckAccessRequest};
use riskgate_tests::CoreProcess;
use tonic::transport::Channel;

use crate::{
    echo::{
        api::{echo_client::EchoClient, EchoMessage},
        EchoProcess,
    },
    load::{closed_loop, connect, LoadResult},
    seed,
    stats::{micros, print_line, print_table, rate, ratio},
    summary::Goal,
};

/// The load levels: requests in flight.
const IN_FLIGHT: [usize; 3] = [1, 10, 100];

/// Runs the benchmark, prints the table and the ratios, and returns the goals it measures.
pub(crate) async fn run(quick: bool) -> anyhow::Result<Vec<Goal>> {
    let devices: u64 = if quick { 200 } else { 5_000 };
    let (warmup, duration) = if quick {
        (Duration::from_millis(50), Duration::from_millis(300))
    } else {
        (Duration::from_millis(500), Duration::from_secs(4))
    };

    let dir = tempfile::tempdir()?;
    let core = start_seeded_core(dir.path(), devices).await?;
    let echo = EchoProcess::start().await?;
    let check_channel = connect(core.grpc_addr()).await?;
    let echo_channel = connect(echo.addr()).await?;
    let check_call = move |n: u64| check_access(check_channel.clone(), n % devices);
    let echo_call = move |n: u64| echo_once(echo_channel.clone(), n % devices);

    let mut results = Vec::new();
    for in_flight in IN_FLIGHT {
        // Side by side: each server gets a warm-up and then its measurement, one right after the other.
        closed_loop(in_flight, warmup, check_call.clone()).await?;
        let check = closed_loop(in_flight, duration, check_call.clone()).await?;
        closed_loop(in_flight, warmup, echo_call.clone()).await?;
        let echo = closed_loop(in_flight, duration, echo_call.clone()).await?;
        results.push((in_flight, check, echo));
    }
    print_results(
        &format!(
            "CheckAccess vs bare tonic echo, unary, one channel, closed loop ({devices} devices, {:.1} s per point)",
            duration.as_secs_f64()
        ),
        &results,
    );
    Ok(goals(&results))
}

/// A core with the benchmark's configuration and `devices` devices, checked to answer as seeded.
async fn start_seeded_core(dir: &Path, devices: u64) -> anyhow::Result<CoreProcess> {
    let core = CoreProcess::try_start(dir, &[]).await?;
    seed::configure(&core).await?;
    seed::ingest_devices(&core, 0..devices, 1_000).await?;
    let mut probe = core.decision_client().await?;
    ensure!(
        seed::answers_correctly(&mut probe, 1).await?
            && seed::answers_correctly(&mut probe, 10).await?,
        "CheckAccess does not answer as seeded"
    );
    Ok(core)
}

/// One CheckAccess for seeded device `index`, checked against the decision the seed implies.
async fn check_access(channel: Channel, index: u64) -> anyhow::Result<()> {
    let decision = DecisionServiceClient::new(channel)
        .check_access(CheckAccessRequest {
            device_id: seed::device_id(index),
            user_id: String::new(),
            resource: seed::RESOURCE.to_owned(),
        })
        .await?
        .into_inner();
    let allowed = decision.decision == riskgate_proto::v1::Decision::Allow as i32;
    ensure!(
        allowed == seed::expected_allow(index),
        "CheckAccess answered {decision:?} for device {index}"
    );
    Ok(())
}

/// One echo of a request of CheckAccess's size.
async fn echo_once(channel: Channel, index: u64) -> anyhow::Result<()> {
    EchoClient::new(channel)
        .echo(EchoMessage {
            device_id: seed::device_id(index),
            user_id: String::new(),
            resource: seed::RESOURCE.to_owned(),
        })
        .await?;
    Ok(())
}

/// The table, a row per server and load level, and the check/echo ratios at each level.
fn print_results(title: &str, results: &[(usize, LoadResult, LoadResult)]) {
    let mut rows = Vec::new();
    for (in_flight, check, echo) in results {
        rows.push(row("CheckAccess (riskgate-core)", *in_flight, check));
        rows.push(row("echo (bare tonic)", *in_flight, echo));
    }
    print_table(
        title,
        &["server", "in flight", "req/s", "p50", "p99"],
        &rows,
    );
    let median = |result: &LoadResult| result.samples.percentile(50.0).as_secs_f64();
    let p99 = |result: &LoadResult| result.samples.percentile(99.0).as_secs_f64();
    for (in_flight, check, echo) in results {
        print_line(&format!(
            "ratio check/echo at {in_flight} in flight: throughput {:.2}, p50 {:.2}, p99 {:.2}",
            ratio(check.throughput, echo.throughput),
            ratio(median(check), median(echo)),
            ratio(p99(check), p99(echo)),
        ));
    }
}

/// Throughput against the echo at 100 in flight, and the p99 at 10.
fn goals(results: &[(usize, LoadResult, LoadResult)]) -> Vec<Goal> {
    let mut goals = Vec::new();
    for (in_flight, check, echo) in results {
        if *in_flight == 100 {
            let share = ratio(check.throughput, echo.throughput);
            goals.push(Goal::new(
                "CheckAccess throughput vs echo, 100 in flight",
                ">= 80% of echo",
                format!(
                    "{:.0}% ({} vs {} req/s)",
                    share * 100.0,
                    rate(check.throughput),
                    rate(echo.throughput)
                ),
                share >= 0.8,
            ));
        }
        if *in_flight == 10 {
            let p99 = check.samples.percentile(99.0);
            goals.push(Goal::new(
                "CheckAccess p99, 10 in flight",
                "< 1 ms",
                micros(p99),
                p99 < Duration::from_millis(1),
            ));
        }
    }
    goals
}

fn row(server: &str, in_flight: usize, result: &LoadResult) -> Vec<String> {
    vec![
        server.to_owned(),
        in_flight.to_string(),
        rate(result.throughput),
        micros(result.samples.percentile(50.0)),
        micros(result.samples.percentile(99.0)),
    ]
}
