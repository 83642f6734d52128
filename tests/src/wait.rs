//! Waiting for a condition with a deadline: the only form of waiting the tests use.
//!
//! A test never sleeps to "let the server catch up"; when something is only eventually true (for
//! example a metric updated after an acknowledgement), it polls the condition until a deadline and
//! fails with a description of what it was waiting for.

use std::{
    future::Future,
    time::{Duration, Instant},
};

use anyhow::bail;

/// Polls `condition` until it returns `true`, or fails once `within` has elapsed.
///
/// The poll interval starts at 5 ms and backs off to 100 ms. `what` describes the condition for the
/// error message.
pub async fn wait_until<F, Fut>(
    within: Duration,
    what: &str,
    mut condition: F,
) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    let mut interval = Duration::from_millis(5);
    loop {
        if condition().await {
            return Ok(());
        }
        let now = Instant::now();
        if now >= deadline {
            bail!("timed out after {within:?} waiting until {what}");
        }
        tokio::time::sleep(interval.min(deadline - now)).await;
        interval = (interval * 2).min(Duration::from_millis(100));
    }
}
