//! A closed-loop load generator for unary RPCs: a fixed number of requests in flight on one channel, each
//! worker sending its next request as soon as the previous answer arrives. Both sides of a comparison use
//! this code and [`connect`], so only the server differs.
//!
//! Latency under a closed loop is service time plus queueing; with few requests in flight it is close to the
//! service time (LesnyRumcajs/grpc_bench's c=1000 latency is mostly queueing).

use std::{
    future::Future,
    net::SocketAddr,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use tonic::transport::{Channel, Endpoint};

use crate::stats::Samples;

/// What one closed-loop run measured.
#[derive(Debug, Clone)]
pub(crate) struct LoadResult {
    /// One latency per completed request.
    pub(crate) samples: Samples,
    /// Completed requests per second.
    pub(crate) throughput: f64,
}

/// One HTTP/2 channel to `addr`, set up the same way for every server under test.
pub(crate) async fn connect(addr: SocketAddr) -> anyhow::Result<Channel> {
    let url = format!("http://{addr}");
    Endpoint::from_shared(url.clone())?
        .connect_timeout(Duration::from_secs(10))
        .tcp_nodelay(true)
        .connect()
        .await
        .with_context(|| format!("connecting to {url}"))
}

/// Runs `call` with `in_flight` requests outstanding for `duration` and returns every request's latency and
/// the throughput. `call(n)` makes the `n`-th request (so callers can spread requests over many devices).
/// The first error stops the run and is returned.
pub(crate) async fn closed_loop<F, Fut>(
    in_flight: usize,
    duration: Duration,
    call: F,
) -> anyhow::Result<LoadResult>
where
    F: Fn(u64) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let started = Instant::now();
    let deadline = started + duration;
    let mut workers = Vec::with_capacity(in_flight);
    for worker in 0..in_flight {
        let call = call.clone();
        workers.push(tokio::spawn(async move {
            let mut samples = Samples::default();
            let mut n = worker as u64;
            while Instant::now() < deadline {
                let sent = Instant::now();
                call(n).await?;
                samples.push(sent.elapsed());
                n += in_flight as u64;
            }
            anyhow::Ok(samples)
        }));
    }
    let mut samples = Samples::default();
    for worker in workers {
        samples.extend(worker.await.context("load worker panicked")??);
    }
    let elapsed = started.elapsed();
    Ok(LoadResult {
        throughput: samples.len() as f64 / elapsed.as_secs_f64(),
        samples,
    })
}
