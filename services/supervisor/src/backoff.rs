//! Restart delays: exponential, capped, with random jitter so that hosts crashing together do not
//! restart in lockstep; and the crash-loop window.

use std::{
    collections::VecDeque,
    time::{Duration, Instant},
};

use crate::config::RestartPolicy;

/// The delay before restart number `attempt` (0 for the first restart), before jitter.
pub fn base_delay(policy: &RestartPolicy, attempt: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempt.min(30));
    policy
        .initial_backoff
        .saturating_mul(factor)
        .min(policy.max_backoff)
}

/// [`base_delay`] scaled by a random factor in `[1 - jitter, 1 + jitter]`.
pub fn jittered_delay(policy: &RestartPolicy, attempt: u32) -> Duration {
    let jitter = policy.jitter.clamp(0.0, 1.0);
    let factor = 1.0 + jitter * (rand::random::<f64>() * 2.0 - 1.0);
    base_delay(policy, attempt).mul_f64(factor)
}

/// Crash times within the crash-loop window.
#[derive(Debug, Default)]
pub struct CrashWindow {
    crashes: VecDeque<Instant>,
}

impl CrashWindow {
    /// Records a crash at `now`; returns how many crashes fall within `window` of it.
    pub fn record(&mut self, now: Instant, window: Duration) -> usize {
        self.crashes.push_back(now);
        while self
            .crashes
            .front()
            .is_some_and(|t| now.duration_since(*t) > window)
        {
            self.crashes.pop_front();
        }
        self.crashes.len()
    }

    /// Forgets every crash (after a long healthy run).
    pub fn clear(&mut self) {
        self.crashes.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RestartPolicy {
        RestartPolicy {
            initial_backoff: Duration::from_secs(10),
            max_backoff: Duration::from_secs(300),
            jitter: 0.2,
            ..RestartPolicy::default()
        }
    }

    #[test]
    fn delays_double_up_to_the_cap_and_jitter_stays_within_its_band() {
        let policy = policy();
        let delays: Vec<u64> = (0..7).map(|n| base_delay(&policy, n).as_secs()).collect();
        assert_eq!(delays, [10, 20, 40, 80, 160, 300, 300]);
        for attempt in 0..7 {
            let base = base_delay(&policy, attempt);
            for _ in 0..50 {
                let delay = jittered_delay(&policy, attempt);
                assert!(
                    delay >= base.mul_f64(0.8) && delay <= base.mul_f64(1.2),
                    "{delay:?} vs {base:?}"
                );
            }
        }
    }

    #[test]
    fn crash_window_counts_only_recent_crashes() {
        let mut window = CrashWindow::default();
        let start = Instant::now();
        let minute = Duration::from_secs(60);
        assert_eq!(window.record(start, minute), 1);
        assert_eq!(window.record(start + Duration::from_secs(30), minute), 2);
        assert_eq!(window.record(start + Duration::from_secs(100), minute), 1);
        window.clear();
        assert_eq!(window.record(start + Duration::from_secs(101), minute), 1);
    }
}
