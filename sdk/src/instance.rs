//! One connector instance as the ABI sees it: the safe state machine behind the exported functions
//! and behind [`crate::testing::Harness`], so tests exercise exactly what the host drives.
//!
//! Every method runs the connector's code under `catch_unwind`; a panic poisons the instance, and
//! every later call fails with [`CallError::Panic`] without touching the connector again.

use std::{
    collections::VecDeque,
    panic::{catch_unwind, AssertUnwindSafe},
    time::{Duration, Instant},
};

use tokio::{
    runtime::Runtime,
    sync::{mpsc, watch},
    task::JoinHandle,
};

use crate::{
    abi::status,
    batch::{Batch, BatchId},
    connector::{Connector, ConnectorError, StartContext},
    feed::{Feed, Recheck},
    pb,
    sink::{Acked, BatchSink, Shutdown},
};

/// Why an ABI call failed, with the status code it maps to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// Invalid configuration ([`status::ERR_CONFIG`]).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Temporary failure ([`status::ERR_TRANSIENT`]).
    #[error("transient failure: {0}")]
    Transient(String),
    /// Permanent failure ([`status::ERR_FATAL`]).
    #[error("fatal failure: {0}")]
    Fatal(String),
    /// The connector panicked; the instance is poisoned ([`status::ERR_PANIC`]).
    #[error("panicked: {0}")]
    Panic(String),
    /// The caller broke the protocol ([`status::ERR_INVALID`]).
    #[error("invalid call: {0}")]
    Invalid(String),
    /// The connector does not take this request (`recheck` of a connector without re-checks).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// [`Connector::run`] failed with this error. It surfaces through `next_batch`, the call that
    /// found it, with the inner error's status, and `PluginError.origin` says `run`.
    #[error("in run: {0}")]
    InRun(Box<CallError>),
}

impl CallError {
    /// The ABI status code.
    pub fn status(&self) -> u32 {
        match self {
            CallError::Config(_) => status::ERR_CONFIG,
            CallError::Transient(_) => status::ERR_TRANSIENT,
            CallError::Fatal(_) => status::ERR_FATAL,
            CallError::Panic(_) => status::ERR_PANIC,
            CallError::Invalid(_) => status::ERR_INVALID,
            CallError::Unsupported(_) => status::ERR_UNSUPPORTED,
            CallError::InRun(inner) => inner.status(),
        }
    }

    /// Where the failure happened when it was not in the call that reports it: `run` for the
    /// connector's run task; empty otherwise. Carried in `PluginError.origin`.
    pub fn origin(&self) -> &'static str {
        match self {
            CallError::InRun(_) => "run",
            _ => "",
        }
    }

    /// The message carried in the ABI's `PluginError`.
    pub fn message(&self) -> &str {
        match self {
            CallError::Config(m)
            | CallError::Transient(m)
            | CallError::Fatal(m)
            | CallError::Panic(m)
            | CallError::Invalid(m)
            | CallError::Unsupported(m) => m,
            CallError::InRun(inner) => inner.message(),
        }
    }
}

impl From<ConnectorError> for CallError {
    fn from(err: ConnectorError) -> Self {
        match err {
            ConnectorError::Config(m) => CallError::Config(m),
            ConnectorError::Transient(m) => CallError::Transient(m),
            ConnectorError::Fatal(m) => CallError::Fatal(m),
        }
    }
}

/// The outcome of a successful `next_batch`.
#[derive(Debug, Clone, PartialEq)]
pub enum Pulled {
    /// A batch, as the host receives it.
    Batch(pb::PluginBatch),
    /// No batch within the timeout.
    Timeout,
    /// The connector finished its feed; no batch follows.
    End,
}

/// Runs `f`, turning a panic into [`CallError::Panic`] with the panic message.
pub(crate) fn guarded<T>(f: impl FnOnce() -> Result<T, CallError>) -> Result<T, CallError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => Err(CallError::Panic(panic_message(payload.as_ref()))),
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

enum State<C> {
    Created(C),
    // Boxed: the running state is large, and an instance moves between states only a few times.
    Running(Box<Running>),
    Stopped,
    /// Transitional, while a method owns the state.
    Taken,
}

struct Running {
    runtime: Runtime,
    rx: mpsc::Receiver<(BatchId, Batch)>,
    task: JoinHandle<Result<(), ConnectorError>>,
    shutdown: watch::Sender<bool>,
    acks: watch::Sender<Option<Acked>>,
    /// Delivered to the host and not yet acknowledged, oldest first.
    delivered: VecDeque<(BatchId, Vec<u8>)>,
    /// How the run task ended, once it has been joined (a join handle must not be polled again).
    outcome: Option<Result<Pulled, CallError>>,
    /// What the connector says about its vendor feed.
    feed: Feed,
    /// Re-check requests for the connector.
    rechecks: mpsc::Sender<Recheck>,
}

/// Re-check requests queued before the connector takes them; more are refused as transient.
const RECHECK_QUEUE: usize = 16;

/// One connector instance.
pub(crate) struct Instance<C: Connector> {
    state: State<C>,
    poisoned: Option<String>,
}

impl<C: Connector> std::fmt::Debug for Instance<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.state {
            State::Created(_) => "created",
            State::Running(_) => "running",
            State::Stopped => "stopped",
            State::Taken => "taken",
        };
        f.debug_struct("Instance")
            .field("state", &state)
            .field("poisoned", &self.poisoned)
            .finish()
    }
}

impl<C: Connector> Instance<C> {
    /// `create`: checks the configuration and builds the connector.
    pub(crate) fn create(start: StartContext) -> Result<Self, CallError> {
        let connector = guarded(|| C::create(&start).map_err(CallError::from))?;
        Ok(Instance {
            state: State::Created(connector),
            poisoned: None,
        })
    }

    /// Runs `f` unless poisoned; poisons the instance if `f` panics.
    fn call<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, CallError>,
    ) -> Result<T, CallError> {
        if let Some(message) = &self.poisoned {
            return Err(CallError::Panic(format!(
                "instance poisoned by an earlier panic: {message}"
            )));
        }
        let result = guarded(|| f(self));
        if let Err(CallError::Panic(message)) = &result {
            self.poisoned = Some(message.clone());
        }
        result
    }

    /// `start`: builds the plugin's runtime and spawns [`Connector::run`] on it.
    pub(crate) fn start(&mut self) -> Result<(), CallError> {
        self.call(|this| {
            let connector = match std::mem::replace(&mut this.state, State::Taken) {
                State::Created(connector) => connector,
                other => {
                    this.state = other;
                    return Err(CallError::Invalid(
                        "start called twice or after stop".to_owned(),
                    ));
                }
            };
            let name = C::manifest().name;
            let runtime = crate::runtime::build(&name, C::worker_threads())
                .map_err(|e| CallError::Fatal(format!("cannot build the plugin runtime: {e}")))?;
            let (tx, rx) = mpsc::channel(C::sink_capacity().max(1));
            let (shutdown_tx, shutdown_rx) = watch::channel(false);
            let (acks_tx, acks_rx) = watch::channel(None);
            let shutdown = Shutdown::new(shutdown_rx);
            let feed = Feed::default();
            let (rechecks_tx, rechecks_rx) = mpsc::channel(RECHECK_QUEUE);
            let sink = BatchSink::new(
                tx,
                acks_rx,
                shutdown.clone(),
                runtime.handle().clone(),
                feed.clone(),
                rechecks_rx,
            );
            let task = runtime.spawn(connector.run(sink, shutdown));
            this.state = State::Running(Box::new(Running {
                runtime,
                rx,
                task,
                shutdown: shutdown_tx,
                acks: acks_tx,
                delivered: VecDeque::new(),
                outcome: None,
                feed,
                rechecks: rechecks_tx,
            }));
            Ok(())
        })
    }

    /// `next_batch`: waits at most `timeout` for the next batch.
    pub(crate) fn next_batch(&mut self, timeout: Duration) -> Result<Pulled, CallError> {
        self.call(|this| {
            let running = match &mut this.state {
                State::Running(running) => running,
                _ => {
                    return Err(CallError::Invalid(
                        "next_batch called before start or after stop".to_owned(),
                    ))
                }
            };
            let deadline = Instant::now() + timeout;
            let received = running
                .runtime
                .block_on(async { tokio::time::timeout(timeout, running.rx.recv()).await });
            match received {
                Ok(Some((id, batch))) => {
                    running.delivered.push_back((id, batch.checkpoint.clone()));
                    Ok(Pulled::Batch(pb::PluginBatch {
                        batch_id: id.0,
                        checkpoint: batch.checkpoint,
                        reports: batch.reports,
                    }))
                }
                // The queue is empty and every sink is gone: the run task ended (or is ending).
                Ok(None) => {
                    let remaining = deadline.saturating_duration_since(Instant::now());
                    finish(running, remaining)
                }
                Err(_elapsed)
                    if running.outcome.is_some()
                        || (running.task.is_finished() && running.rx.is_empty()) =>
                {
                    finish(running, Duration::ZERO)
                }
                Err(_elapsed) => Ok(Pulled::Timeout),
            }
        })
    }

    /// `ack`: the core durably stored `batch_id` and every batch before it.
    pub(crate) fn ack(&mut self, batch_id: u64) -> Result<(), CallError> {
        self.call(|this| {
            let running = match &mut this.state {
                State::Running(running) => running,
                _ => {
                    return Err(CallError::Invalid(
                        "ack called before start or after stop".to_owned(),
                    ))
                }
            };
            if !running.delivered.iter().any(|(id, _)| id.0 == batch_id) {
                return Err(CallError::Invalid(format!(
                    "ack of batch {batch_id}, which was not delivered or is already acknowledged"
                )));
            }
            let mut acked = None;
            while let Some((id, checkpoint)) = running.delivered.pop_front() {
                let done = id.0 == batch_id;
                acked = Some(Acked {
                    batch_id: id,
                    checkpoint,
                });
                if done {
                    break;
                }
            }
            running.acks.send_replace(acked);
            Ok(())
        })
    }

    /// `feed_health` (minor 2): what the connector last said about its vendor feed, if anything.
    pub(crate) fn feed_health(&mut self) -> Result<Option<pb::FeedHealth>, CallError> {
        self.call(|this| match &this.state {
            State::Running(running) => Ok(running.feed.health()),
            _ => Err(CallError::Invalid(
                "feed_health called before start or after stop".to_owned(),
            )),
        })
    }

    /// `recheck` (minor 2): queues a re-check for the connector.
    pub(crate) fn recheck(&mut self, recheck: pb::PluginRecheck) -> Result<(), CallError> {
        self.call(|this| {
            let State::Running(running) = &this.state else {
                return Err(CallError::Invalid(
                    "recheck called before start or after stop".to_owned(),
                ));
            };
            if !C::takes_rechecks() {
                return Err(CallError::Unsupported(format!(
                    "connector {} takes no re-checks",
                    C::manifest().name
                )));
            }
            running
                .rechecks
                .try_send(Recheck {
                    device_ids: recheck.device_ids,
                })
                .map_err(|err| match err {
                    mpsc::error::TrySendError::Full(_) => CallError::Transient(format!(
                        "{RECHECK_QUEUE} re-checks are already waiting; try again later"
                    )),
                    mpsc::error::TrySendError::Closed(_) => CallError::Transient(
                        "the connector no longer takes re-checks (it is ending)".to_owned(),
                    ),
                })
        })
    }

    /// `stop`: signals shutdown and waits at most `deadline` for [`Connector::run`] to return.
    pub(crate) fn stop(&mut self, deadline: Duration) -> Result<(), CallError> {
        self.call(|this| {
            let running = match std::mem::replace(&mut this.state, State::Stopped) {
                State::Running(running) => running,
                State::Created(_) | State::Stopped | State::Taken => return Ok(()),
            };
            let started = Instant::now();
            running.shutdown.send_replace(true);
            let Running {
                runtime,
                rx,
                task,
                outcome,
                ..
            } = *running;
            // Closing the queue wakes a connector blocked on a full sink.
            drop(rx);
            if outcome.is_some() {
                // The run task already ended and its outcome was reported by next_batch.
                runtime.shutdown_timeout(deadline);
                return Ok(());
            }
            let joined = runtime.block_on(async { tokio::time::timeout(deadline, task).await });
            let remaining = deadline.saturating_sub(started.elapsed());
            runtime.shutdown_timeout(remaining);
            match joined {
                Err(_elapsed) => Err(CallError::Fatal(format!(
                    "run did not return within the stop deadline of {deadline:?}"
                ))),
                Ok(Ok(Ok(()))) => Ok(()),
                Ok(Ok(Err(e))) => Err(e.into()),
                Ok(Err(join_error)) => Err(join_failure(join_error)),
            }
        })
    }
}

/// The run task ended: maps its result to [`Pulled::End`] or its error.
fn finish(running: &mut Running, wait: Duration) -> Result<Pulled, CallError> {
    if let Some(outcome) = &running.outcome {
        return outcome.clone();
    }
    let joined = running
        .runtime
        .block_on(async { tokio::time::timeout(wait, &mut running.task).await });
    let outcome = match joined {
        Err(_elapsed) => return Ok(Pulled::Timeout),
        Ok(Ok(Ok(()))) => Ok(Pulled::End),
        Ok(Ok(Err(e))) => Err(CallError::InRun(Box::new(e.into()))),
        Ok(Err(join_error)) => Err(CallError::InRun(Box::new(join_failure(join_error)))),
    };
    running.outcome = Some(outcome.clone());
    outcome
}

fn join_failure(join_error: tokio::task::JoinError) -> CallError {
    if join_error.is_panic() {
        CallError::Panic(panic_message(join_error.into_panic().as_ref()))
    } else {
        CallError::Fatal("the run task was cancelled".to_owned())
    }
}

impl<C: Connector> Drop for Instance<C> {
    fn drop(&mut self) {
        if let State::Running(running) = std::mem::replace(&mut self.state, State::Stopped) {
            running.shutdown.send_replace(true);
            // Never block the host in destroy: threads still running are left to finish on their own.
            running.runtime.shutdown_background();
        }
    }
}
