//! Counters the connector keeps and prints in its log lines (the plugin ABI has no metrics channel).

use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc,
};

/// Shared counters; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Stats(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    malformed: AtomicU64,
    duplicates: AtomicU64,
    ignored: AtomicU64,
    unauthorized: AtomicU64,
    rate_limited: AtomicU64,
    errors: AtomicU64,
    tokens: AtomicU64,
    connections: AtomicU64,
    reports: AtomicU64,
}

/// A copy of the counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Vendor items or values skipped as malformed.
    pub malformed: u64,
    /// Stream events skipped as already seen.
    pub duplicates: u64,
    /// Stream events with no device risk (AUDIT, SMISHING_ALERT, unknown types).
    pub ignored: u64,
    /// 401 answers.
    pub unauthorized: u64,
    /// 429 answers.
    pub rate_limited: u64,
    /// Other failed requests and dropped streams.
    pub errors: u64,
    /// Access tokens fetched.
    pub tokens: u64,
    /// Stream connections opened.
    pub connections: u64,
    /// Reports emitted.
    pub reports: u64,
}

macro_rules! bump {
    ($($name:ident => $field:ident),* $(,)?) => {
        impl Stats {
            $(
                #[doc = concat!("Counts one `", stringify!($field), "`; returns the new total.")]
                pub fn $name(&self) -> u64 {
                    self.0.$field.fetch_add(1, Ordering::Relaxed) + 1
                }
            )*
        }
    };
}

bump!(
    bump_malformed => malformed,
    bump_duplicates => duplicates,
    bump_ignored => ignored,
    bump_unauthorized => unauthorized,
    bump_rate_limited => rate_limited,
    bump_errors => errors,
    bump_tokens => tokens,
    bump_connections => connections,
);

impl Stats {
    /// Counts `n` emitted reports.
    pub fn add_reports(&self, n: u64) {
        self.0.reports.fetch_add(n, Ordering::Relaxed);
    }

    /// The counters now.
    pub fn snapshot(&self) -> Snapshot {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Snapshot {
            malformed: load(&self.0.malformed),
            duplicates: load(&self.0.duplicates),
            ignored: load(&self.0.ignored),
            unauthorized: load(&self.0.unauthorized),
            rate_limited: load(&self.0.rate_limited),
            errors: load(&self.0.errors),
            tokens: load(&self.0.tokens),
            connections: load(&self.0.connections),
            reports: load(&self.0.reports),
        }
    }
}
