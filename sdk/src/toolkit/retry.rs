//! Retrying a vendor API: exponential backoff with jitter, and the server's `Retry-After`.
//!
//! The delay before retry `attempt` (0 for the first retry) grows as `base * 2^attempt`, capped at
//! `cap`, and is drawn at random below that ceiling so that many clients failing together do not
//! retry together ("Exponential Backoff And Jitter", AWS Architecture Blog,
//! <https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/>).
//! A `Retry-After` header (RFC 9110 §10.2.3) overrides the backoff when the server sends one.

use std::time::{Duration, SystemTime};

use rand::Rng as _;

/// How the delay is drawn below the exponential ceiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Jitter {
    /// Uniform in `[0, ceiling]` ("full jitter"): spreads retries the most.
    #[default]
    Full,
    /// Uniform in `[ceiling / 2, ceiling]` ("equal jitter"): never retries much sooner than the
    /// ceiling, at the price of less spread.
    Equal,
}

/// A retry policy: exponential backoff from `base`, capped at `cap`, for at most `max_attempts`
/// retries (or without end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The ceiling of the first retry's delay.
    pub base: Duration,
    /// The largest delay.
    pub cap: Duration,
    /// How many retries are allowed; `None` retries until the caller gives up.
    pub max_attempts: Option<u32>,
    /// How the delay is drawn below the ceiling.
    pub jitter: Jitter,
}

impl RetryPolicy {
    /// Unbounded retries with full jitter, from `base` up to `cap`.
    pub fn new(base: Duration, cap: Duration) -> RetryPolicy {
        RetryPolicy {
            base,
            cap,
            max_attempts: None,
            jitter: Jitter::Full,
        }
    }

    /// The same policy, giving up after `max_attempts` retries.
    #[must_use]
    pub fn with_max_attempts(self, max_attempts: u32) -> RetryPolicy {
        RetryPolicy {
            max_attempts: Some(max_attempts),
            ..self
        }
    }

    /// The same policy with another jitter.
    #[must_use]
    pub fn with_jitter(self, jitter: Jitter) -> RetryPolicy {
        RetryPolicy { jitter, ..self }
    }

    /// The delay before retry `attempt` (0 for the first retry), or `None` once the attempts are
    /// used up.
    pub fn next_delay(&self, attempt: u32) -> Option<Duration> {
        if self.max_attempts.is_some_and(|max| attempt >= max) {
            return None;
        }
        Some(self.delay(attempt))
    }

    /// The delay before retry `attempt`, however many attempts the policy allows: for callers that
    /// retry until shutdown.
    pub fn delay(&self, attempt: u32) -> Duration {
        self.draw(self.ceiling(attempt))
    }

    /// `min(cap, base * 2^attempt)`; the exponent stops at 20 so the product cannot overflow.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        self.base
            .saturating_mul(1u32 << attempt.min(20))
            .min(self.cap)
    }

    fn draw(&self, ceiling: Duration) -> Duration {
        let floor = match self.jitter {
            Jitter::Full => Duration::ZERO,
            Jitter::Equal => ceiling / 2,
        };
        rand::rng().random_range(floor..=ceiling)
    }
}

/// A [`RetryPolicy`] with its attempt counter: for a client that retries one thing at a time and
/// starts over after each success.
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: RetryPolicy,
    attempt: u32,
}

impl Backoff {
    /// A fresh counter for `policy`.
    pub fn new(policy: RetryPolicy) -> Backoff {
        Backoff { policy, attempt: 0 }
    }

    /// The policy.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// The delay before the next retry (counting it), or `None` once the attempts are used up.
    pub fn next_delay(&mut self) -> Option<Duration> {
        let delay = self.policy.next_delay(self.attempt);
        self.attempt = self.attempt.saturating_add(1);
        delay
    }

    /// The delay before the next retry (counting it), however many attempts the policy allows.
    pub fn delay(&mut self) -> Duration {
        let delay = self.policy.delay(self.attempt);
        self.attempt = self.attempt.saturating_add(1);
        delay
    }

    /// Back to the first delay, after a success.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// The wait a `Retry-After` header value asks for, as of `now`: a number of seconds, or an HTTP
/// date (RFC 9110 §10.2.3; all three date formats of §5.6.7). A date already past means no wait.
/// `None` for a value that is neither.
///
/// Fractional seconds (`0.5`) are accepted too, since some APIs send them.
pub fn retry_after_at(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if value.starts_with(|c: char| c.is_ascii_digit()) {
        let seconds: f64 = value.parse().ok()?;
        return Duration::try_from_secs_f64(seconds).ok();
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// [`retry_after_at`] as of the system clock's now.
pub fn retry_after(value: &str) -> Option<Duration> {
    retry_after_at(value, SystemTime::now())
}
