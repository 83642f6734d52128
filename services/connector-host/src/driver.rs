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
    if let Err(err) = watchdog.call(Entry::Start, || instance.start()) {
        fail(instance, err, events);
        return;
    }
    if events.blocking_send(Event::Started).is_err() {
        return;
    }
    let mut ended = false;
    let mut feed_polled: Option<Instant> = None;
    loop {
        if feed_polled.is_none_or(|at| at.elapsed() >= FEED_POLL) {
            feed_polled = Some(Instant::now());
            match watchdog.call(Entry::FeedHealth, || instance.feed_health()) {
                Ok(health) => feed.set(health),
                Err(err) => {
                    fail(instance, err, events);
                    return;
                }
            }
        }
        // Acknowledgements and the stop request go first.
        loop {
            let command = if ended {
                match commands.recv() {
                    Ok(command) => command,
                    Err(_) => return,
                }
            } else {
                match commands.try_recv() {
                    Ok(command) => command,
                    Err(std_mpsc::TryRecvError::Empty) => break,
                    Err(std_mpsc::TryRecvError::Disconnected) => return,
                }
            };
            match command {
                Command::Ack(batch_id) => {
                    if let Err(err) = watchdog.call(Entry::Ack, || instance.ack(batch_id)) {
                        fail(instance, err, events);
                        return;
                    }
                }
                Command::Recheck(request, reply) => {
                    let result = watchdog.call(Entry::Recheck, || instance.recheck(&request));
                    if let Err(err) = &result {
                        if err.failure == Failure::Panic {
                            let _ = reply.send(result.clone());
                            fail(instance, err.clone(), events);
                            return;
                        }
                    }
                    let _ = reply.send(result);
                }
                Command::Stop(deadline) => {
                    let result = watchdog.call(Entry::Stop, || instance.stop(deadline));
                    drop(instance);
                    let _ = events.blocking_send(Event::Stopped(result));
                    return;
                }
            }
        }
        match watchdog.call(Entry::NextBatch, || instance.next_batch(pull_timeout)) {
            Ok(NextBatch::Batch(batch)) => {
                if events.blocking_send(Event::Batch(batch)).is_err() {
                    return;
                }
            }
            Ok(NextBatch::Timeout) => {}
            Ok(NextBatch::End) => {
                ended = true;
                if events.blocking_send(Event::End).is_err() {
                    return;
                }
            }
            Err(err) => {
                fail(instance, err, events);
                return;
            }
        }
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
