//! The plugin thread: the one thread that calls into the plugin instance, so calls are serialised as
//! the ABI requires. It pulls batches with a timeout, forwards them to the async side over a
//! one-slot channel (so the host pulls only as fast as the core acknowledges), delivers
//! acknowledgements, re-check requests and the stop request, asks for the vendor feed's health about once
//! a second (ABI minor 2), and records which call is in progress for the watchdog.

use std::{
    sync::{mpsc as std_mpsc, Arc, Mutex},
    time::{Duration, Instant},
};

use riskgate_sdk::pb;
use tokio::sync::{mpsc, oneshot};

use crate::loader::{CallError, Entry, Failure, Instance, NextBatch, Plugin};

/// What the async side asks the plugin thread to do.
#[derive(Debug)]
pub enum Command {
    /// Deliver an acknowledgement.
    Ack(u64),
    /// Pass a re-check request to the plugin and answer whether it took it.
    Recheck(pb::PluginRecheck, oneshot::Sender<Result<(), CallError>>),
    /// Stop the instance within the deadline, then exit the thread.
    Stop(Duration),
}

/// How often the plugin thread asks for the vendor feed's health.
const FEED_POLL: Duration = Duration::from_secs(1);

/// The plugin's last word on its vendor feed, as the plugin thread last read it.
#[derive(Debug, Clone, Default)]
pub struct FeedSlot(Arc<Mutex<Option<pb::FeedHealth>>>);

impl FeedSlot {
    /// What the plugin last said; `None` if nothing (or it predates ABI minor 2).
    pub fn get(&self) -> Option<pb::FeedHealth> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set(&self, health: Option<pb::FeedHealth>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = health;
    }
}

/// What the plugin thread reports.
#[derive(Debug)]
pub enum Event {
    /// `create` and `start` succeeded.
    Started,
    /// A batch, decoded.
    Batch(pb::PluginBatch),
    /// The plugin ended its feed.
    End,
    /// A call failed; the thread has exited.
    Failed(CallError),
    /// `stop` returned; the thread has exited.
    Stopped(Result<(), CallError>),
}

/// The call in progress on the plugin thread, if any, and when it began.
#[derive(Debug, Clone, Default)]
pub struct Watchdog(Arc<Mutex<Option<(Entry, Instant)>>>);

impl Watchdog {
    fn call<T>(&self, entry: Entry, f: impl FnOnce() -> T) -> T {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((entry, Instant::now()));
        let result = f();
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = None;
        result
    }

    /// The call in progress and how long it has been running.
    pub fn current(&self) -> Option<(Entry, Duration)> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map(|(entry, since)| (entry, since.elapsed()))
    }
}

/// Handles to a running plugin thread.
#[derive(Debug)]
pub struct Driver {
    /// Commands to the thread.
    pub commands: std_mpsc::Sender<Command>,
    /// Events from the thread.
    pub events: mpsc::Receiver<Event>,
    /// The call in progress.
    pub watchdog: Watchdog,
    /// The vendor feed's health.
    pub feed: FeedSlot,
}

/// Starts the plugin thread: create, start, then pull until stopped or failed.
pub fn spawn(
    plugin: Plugin,
    start: pb::PluginStart,
    pull_timeout: Duration,
) -> std::io::Result<Driver> {
    let (commands_tx, commands_rx) = std_mpsc::channel();
    let (events_tx, events_rx) = mpsc::channel(1);
    let watchdog = Watchdog::default();
    let thread_watchdog = watchdog.clone();
    let feed = FeedSlot::default();
    let thread_feed = feed.clone();
    std::thread::Builder::new()
        .name("plugin-driver".to_owned())
        .spawn(move || {
            drive(
                &plugin,
                &start,
                pull_timeout,
                &commands_rx,
                &events_tx,
                &thread_watchdog,
                &thread_feed,
            )
        })?;
    Ok(Driver {
        commands: commands_tx,
        events: events_rx,
        watchdog,
        feed,
    })
}

fn drive(
    plugin: &Plugin,
    start: &pb::PluginStart,
    pull_timeout: Duration,
    commands: &std_mpsc::Receiver<Command>,
    events: &mpsc::Sender<Event>,
    watchdog: &Watchdog,
    feed: &FeedSlot,
) {
    let mut instance = match watchdog.call(Entry::Create, || plugin.create(start)) {
        Ok(instance) => instance,
        Err(err) => {
            let _ = events.blocking_send(Event::Failed(err));
            return;
        }
    };
    let thread = PluginThread {
        pull_timeout,
        commands,
        events,
        watchdog,
        feed,
    };
    match thread.run(&mut instance) {
        Ok(Ending::HostGone) => {}
        Ok(Ending::Stop(deadline)) => {
            let result = watchdog.call(Entry::Stop, || instance.stop(deadline));
            drop(instance);
            let _ = events.blocking_send(Event::Stopped(result));
        }
        Err(err) => fail(instance, err, events),
    }
}

/// How the plugin thread's work ends, unless a call fails.
enum Ending {
    /// The async side has gone: nothing is left to report to.
    HostGone,
    /// The host asked the instance to stop within this deadline.
    Stop(Duration),
}

/// What the plugin thread works with, once the instance exists.
struct PluginThread<'a> {
    pull_timeout: Duration,
    commands: &'a std_mpsc::Receiver<Command>,
    events: &'a mpsc::Sender<Event>,
    watchdog: &'a Watchdog,
    feed: &'a FeedSlot,
}

impl PluginThread<'_> {
    /// Starts the instance, then repeats until the end: read the feed's health when due, carry out
    /// the host's commands, pull the next batch.
    fn run(&self, instance: &mut Instance) -> Result<Ending, CallError> {
        self.watchdog.call(Entry::Start, || instance.start())?;
        if self.events.blocking_send(Event::Started).is_err() {
            return Ok(Ending::HostGone);
        }
        let mut ended = false;
        let mut feed_polled: Option<Instant> = None;
        loop {
            if feed_polled.is_none_or(|at| at.elapsed() >= FEED_POLL) {
                feed_polled = Some(Instant::now());
                let health = self
                    .watchdog
                    .call(Entry::FeedHealth, || instance.feed_health())?;
                self.feed.set(health);
            }
            if let Some(ending) = self.run_commands(instance, ended)? {
                return Ok(ending);
            }
            if let Some(ending) = self.pull(instance, &mut ended)? {
                return Ok(ending);
            }
        }
    }

    /// Acknowledgements, re-checks and the stop request go before the next pull. Once the feed has
    /// ended, this waits for them, since nothing is left to pull.
    fn run_commands(
        &self,
        instance: &mut Instance,
        ended: bool,
    ) -> Result<Option<Ending>, CallError> {
        loop {
            let command = if ended {
                match self.commands.recv() {
                    Ok(command) => command,
                    Err(_) => return Ok(Some(Ending::HostGone)),
                }
            } else {
                match self.commands.try_recv() {
                    Ok(command) => command,
                    Err(std_mpsc::TryRecvError::Empty) => return Ok(None),
                    Err(std_mpsc::TryRecvError::Disconnected) => return Ok(Some(Ending::HostGone)),
                }
            };
            match command {
                Command::Ack(batch_id) => {
                    self.watchdog.call(Entry::Ack, || instance.ack(batch_id))?;
                }
                Command::Recheck(request, reply) => {
                    let result = self
                        .watchdog
                        .call(Entry::Recheck, || instance.recheck(&request));
                    let _ = reply.send(result.clone());
                    // A refused re-check is the plugin's answer; a panic poisons the instance.
                    match result {
                        Err(err) if err.failure == Failure::Panic => return Err(err),
                        _ => {}
                    }
                }
                Command::Stop(deadline) => return Ok(Some(Ending::Stop(deadline))),
            }
        }
    }

    /// Pulls the next batch (waiting at most the pull timeout) and passes it, or the feed's end, on.
    fn pull(&self, instance: &mut Instance, ended: &mut bool) -> Result<Option<Ending>, CallError> {
        let event = match self
            .watchdog
            .call(Entry::NextBatch, || instance.next_batch(self.pull_timeout))?
        {
            NextBatch::Batch(batch) => Event::Batch(batch),
            NextBatch::Timeout => return Ok(None),
            NextBatch::End => {
                *ended = true;
                Event::End
            }
        };
        Ok(self
            .events
            .blocking_send(event)
            .is_err()
            .then_some(Ending::HostGone))
    }
}

/// Reports a failed call; a panicked (poisoned) instance is leaked rather than destroyed.
fn fail(instance: Instance, err: CallError, events: &mpsc::Sender<Event>) {
    if err.failure == Failure::Panic {
        instance.leak();
    } else {
        drop(instance);
    }
    let _ = events.blocking_send(Event::Failed(err));
}
