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
    let devices = seeded_devices(quick);
    let dir = tempfile::tempdir()?;
    let core = start_seeded_core(dir.path(), devices, &[]).await?;
    let check_channel = connect(core.grpc_addr()).await?;
    let check_call = move |n: u64| check_access(check_channel.clone(), n % devices);
    let results = side_by_side_with_echo(quick, devices, check_call).await?;
    print_results(
        &format!(
            "CheckAccess vs bare tonic echo, unary, one channel, closed loop ({devices} devices, {:.1} s per point)",
            point_duration(quick).1.as_secs_f64()
        ),
        "CheckAccess (riskgate-core)",
        "check",
        &results,
    );
    Ok(goals(&results))
}

/// Devices the seeded core holds.
pub(crate) fn seeded_devices(quick: bool) -> u64 {
    if quick {
        200
    } else {
        5_000
    }
}

/// Warm-up and measurement time per load level.
fn point_duration(quick: bool) -> (Duration, Duration) {
    if quick {
        (Duration::from_millis(50), Duration::from_millis(300))
    } else {
        (Duration::from_millis(500), Duration::from_secs(4))
    }
}

/// One load level: requests in flight, the server under test, the echo.
pub(crate) type Point = (usize, LoadResult, LoadResult);

/// Runs `call` and the echo (with requests of `devices` device ids) at each load level, side by side: each
/// gets a warm-up and then its measurement, one right after the other.
pub(crate) async fn side_by_side_with_echo<F, Fut>(
    quick: bool,
    devices: u64,
    call: F,
) -> anyhow::Result<Vec<Point>>
where
    F: Fn(u64) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let (warmup, duration) = point_duration(quick);
    let echo = EchoProcess::start().await?;
    let echo_channel = connect(echo.addr()).await?;
    let echo_call = move |n: u64| echo_once(echo_channel.clone(), n % devices);
    let mut results = Vec::new();
    for in_flight in IN_FLIGHT {
        closed_loop(in_flight, warmup, call.clone()).await?;
        let measured = closed_loop(in_flight, duration, call.clone()).await?;
        closed_loop(in_flight, warmup, echo_call.clone()).await?;
        let echo = closed_loop(in_flight, duration, echo_call.clone()).await?;
        results.push((in_flight, measured, echo));
    }
    Ok(results)
}

/// A core started with `extra_args`, the benchmark's configuration and `devices` devices, checked to answer
/// as seeded.
pub(crate) async fn start_seeded_core(
    dir: &Path,
    devices: u64,
    extra_args: &[&str],
) -> anyhow::Result<CoreProcess> {
    let core = CoreProcess::try_start(dir, extra_args).await?;
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
pub(crate) async fn echo_once(channel: Channel, index: u64) -> anyhow::Result<()> {
    EchoClient::new(channel)
        .echo(EchoMessage {
            device_id: seed::device_id(index),
            user_id: String::new(),
            resource: seed::RESOURCE.to_owned(),
        })
        .await?;
    Ok(())
}

/// The table, a row per server (`server` is the one under test) and load level, and the `short`/echo
/// ratios at each level.
pub(crate) fn print_results(title: &str, server: &str, short: &str, results: &[Point]) {
    let mut rows = Vec::new();
    for (in_flight, check, echo) in results {
        rows.push(row(server, *in_flight, check));
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
            "ratio {}/echo at {in_flight} in flight: throughput {:.2}, p50 {:.2}, p99 {:.2}",
            short,
            ratio(check.throughput, echo.throughput),
            ratio(median(check), median(echo)),
            ratio(p99(check), p99(echo)),
        ));
    }
}

/// Throughput against the echo at 100 in flight, and the p99 at 10.
fn goals(results: &[Point]) -> Vec<Goal> {
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
