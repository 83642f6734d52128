//! Time as the core sees it: nanosecond timestamps and an injectable clock.

use std::{
    sync::atomic::{AtomicI64, Ordering},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde::{Deserialize, Serialize};

/// Nanoseconds since the Unix epoch. Covers the years 1678 to 2262, which bounds what the API accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Builds a timestamp from protobuf-style seconds and nanos, `None` if it does not fit.
    pub fn from_parts(seconds: i64, nanos: i32) -> Option<Self> {
        if !(0..1_000_000_000).contains(&nanos) {
            return None;
        }
        seconds
            .checked_mul(1_000_000_000)?
            .checked_add(i64::from(nanos))
            .map(Self)
    }

    /// Seconds and nanos, the protobuf representation.
    pub fn to_parts(self) -> (i64, i32) {
        let seconds = self.0.div_euclid(1_000_000_000);
        // rem_euclid of a positive divisor is in 0..1e9, so it fits an i32.
        let nanos = self.0.rem_euclid(1_000_000_000) as i32;
        (seconds, nanos)
    }

    /// RFC 3339 in UTC to the second, for texts people read ("2026-12-03T17:00:00Z").
    pub fn rfc3339(self) -> String {
        let (seconds, _) = self.to_parts();
        let time = if seconds >= 0 {
            std::time::UNIX_EPOCH + Duration::from_secs(seconds.unsigned_abs())
        } else {
            std::time::UNIX_EPOCH - Duration::from_secs(seconds.unsigned_abs())
        };
        humantime::format_rfc3339_seconds(time).to_string()
    }

    /// This time plus `duration`, saturating.
    pub fn saturating_add(self, duration: Duration) -> Self {
        let nanos = i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX);
        Self(self.0.saturating_add(nanos))
    }
}

/// Where the core gets "now" from. Tests inject their own so time-driven behaviour needs no sleeping.
pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(i64::try_from(since_epoch.as_nanos()).unwrap_or(i64::MAX))
    }
}

/// A clock that moves only when told to. Used by tests, and by `riskgate-core --manual-clock`, so that grace
/// periods and heartbeat thresholds can be tested without sleeping.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: Timestamp) -> Self {
        Self(AtomicI64::new(start.0))
    }

    /// Moves the clock forward by `by` and returns the new time.
    pub fn advance(&self, by: Duration) -> Timestamp {
        let nanos = i64::try_from(by.as_nanos()).unwrap_or(i64::MAX);
        Timestamp(
            self.0
                .fetch_add(nanos, Ordering::SeqCst)
                .saturating_add(nanos),
        )
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}
