//! An in-process test harness: drives a [`Connector`] through the same instance state machine the
//! exported ABI uses, without building a `cdylib`, loading it, or running a core.
//!
//! Every batch the harness pulls is checked with [`crate::validate`] (the core's rules) and for
//! increasing batch ids, so a unit test fails on a batch the core would refuse.
//!
//! ```no_run
//! # use riskgate_sdk::{testing::Harness, StartContext};
//! # fn demo<C: riskgate_sdk::Connector>() -> Result<(), Box<dyn std::error::Error>> {
//! let mut harness = Harness::<C>::start(StartContext {
//!     connector_id: "demo".into(),
//!     config: br#"{"devices": 3}"#.to_vec(),
//!     ..Default::default()
//! })?;
//! let batch = harness.expect_batch(std::time::Duration::from_secs(5))?;
//! harness.ack(batch.batch_id)?;
//! harness.stop(std::time::Duration::from_secs(5))?;
//! # Ok(()) }
//! ```

use std::time::{Duration, Instant, SystemTime};

use crate::{
    connector::{Connector, StartContext},
    instance::{CallError, Instance, Pulled},
    pb,
    validate::{self, Limits},
};

/// Why a harness step failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HarnessError {
    /// The connector returned an error (or panicked) from an ABI call.
    #[error("{call} failed: {error}")]
    Call {
        /// The ABI function.
        call: &'static str,
        /// What it returned.
        error: CallError,
    },
    /// A batch breaks the core's rules.
    #[error("batch {batch_id} is invalid: {error}")]
    InvalidBatch {
        /// The offending batch.
        batch_id: u64,
        /// The broken rule.
        error: validate::ValidationError,
    },
    /// A batch id is not above the previous one.
    #[error("batch id {batch_id} is not above the previous id {previous}")]
    BatchIdNotIncreasing {
        /// The offending id.
        batch_id: u64,
        /// The id before it.
        previous: u64,
    },
    /// `next_batch` reported the end of the feed where a batch was expected.
    #[error("the connector ended its feed")]
    Ended,
    /// No batch came within the timeout.
    #[error("no batch within {0:?}")]
    NoBatch(Duration),
}

/// Drives one connector instance in-process.
#[derive(Debug)]
pub struct Harness<C: Connector> {
    instance: Instance<C>,
    limits: Limits,
    last_batch_id: u64,
}

impl<C: Connector> Harness<C> {
    /// Creates and starts an instance, as the host does.
    pub fn start(start: StartContext) -> Result<Self, HarnessError> {
        let mut harness = Self::create(start)?;
        harness
            .instance
            .start()
            .map_err(|error| HarnessError::Call {
                call: "start",
                error,
            })?;
        Ok(harness)
    }

    /// Only creates the instance (for example to check that a configuration is refused).
    pub fn create(start: StartContext) -> Result<Self, HarnessError> {
        let instance = Instance::<C>::create(start).map_err(|error| HarnessError::Call {
            call: "create",
            error,
        })?;
        Ok(Harness {
            instance,
            limits: Limits::default(),
            last_batch_id: 0,
        })
    }

    /// Checks batches against other limits than the core's defaults.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// One `next_batch` call: a checked batch, a timeout or the end of the feed.
    pub fn next_batch(&mut self, timeout: Duration) -> Result<Pulled, HarnessError> {
        let pulled = self
            .instance
            .next_batch(timeout)
            .map_err(|error| HarnessError::Call {
                call: "next_batch",
                error,
            })?;
        if let Pulled::Batch(batch) = &pulled {
            self.check(batch)?;
        }
        Ok(pulled)
    }

    /// Waits up to `within` for the next batch, retrying on timeouts.
    pub fn expect_batch(&mut self, within: Duration) -> Result<pb::PluginBatch, HarnessError> {
        let deadline = Instant::now() + within;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(HarnessError::NoBatch(within));
            }
            match self.next_batch(remaining.min(Duration::from_millis(200)))? {
                Pulled::Batch(batch) => return Ok(batch),
                Pulled::Timeout => continue,
                Pulled::End => return Err(HarnessError::Ended),
            }
        }
    }

    /// Tells the connector the core acknowledged `batch_id` (and every batch before it).
    pub fn ack(&mut self, batch_id: u64) -> Result<(), HarnessError> {
        self.instance
            .ack(batch_id)
            .map_err(|error| HarnessError::Call { call: "ack", error })
    }

    /// What the connector last said about its vendor feed (`feed_health`, ABI minor 2).
    pub fn feed_health(&mut self) -> Result<Option<pb::FeedHealth>, HarnessError> {
        self.instance
            .feed_health()
            .map_err(|error| HarnessError::Call {
                call: "feed_health",
                error,
            })
    }

    /// Asks the connector to re-check `device_ids` (none: every device), as the host's `recheck` does.
    pub fn recheck(&mut self, device_ids: &[&str]) -> Result<(), HarnessError> {
        let request = pb::PluginRecheck {
            device_ids: device_ids.iter().map(|id| (*id).to_owned()).collect(),
        };
        self.instance
            .recheck(request)
            .map_err(|error| HarnessError::Call {
                call: "recheck",
                error,
            })
    }

    /// Stops the instance, waiting at most `deadline`.
    pub fn stop(&mut self, deadline: Duration) -> Result<(), HarnessError> {
        self.instance
            .stop(deadline)
            .map_err(|error| HarnessError::Call {
                call: "stop",
                error,
            })
    }

    fn check(&mut self, batch: &pb::PluginBatch) -> Result<(), HarnessError> {
        validate::batch(batch, &self.limits, SystemTime::now()).map_err(|error| {
            HarnessError::InvalidBatch {
                batch_id: batch.batch_id,
                error,
            }
        })?;
        if batch.batch_id <= self.last_batch_id {
            return Err(HarnessError::BatchIdNotIncreasing {
                batch_id: batch.batch_id,
                previous: self.last_batch_id,
            });
        }
        self.last_batch_id = batch.batch_id;
        Ok(())
    }
}
