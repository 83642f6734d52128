//! `riskctl watch`: a live subscription, one line per message, resumable from a cursor file.
//!
//! It follows the client contract of `proto/riskgate/v1/stream.proto` (see also
//! as etcd watches and Kubernetes resource versions resume): it saves the cursor of every event, snapshot end and progress
//! message it processed; it skips events at or below the last position processed (delivery is at least
//! once), remembering that position in the cursor file too so a resumed run never prints an event
//! twice; on OUT_OF_RANGE it stops and says how to start over, since silently taking a new snapshot
//! would hide the events that were lost; and it treats three progress intervals of silence as a dead
//! stream.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use riskgate_proto::v1::{
    subscribe_response::Message, DeviceSnapshot, Event, SubscribeRequest, SubscriptionFilter,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::time::Instant;
use tonic::{Code, Status};

use crate::{
    cli::WatchArgs,
    connect::Connection,
    error::{one_line, CliError, CliResult},
    files::{parent_dir, replace_atomically},
    json as json_out,
    names::InputEnum as _,
    output, text,
};

/// What the cursor file holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct SavedCursor {
    /// The opaque cursor to resume after.
    cursor: String,
    /// The log position of the last event processed: events at or below it are not printed again.
    position: u64,
}

pub(super) async fn run(conn: &Connection, args: WatchArgs, json: bool) -> CliResult<()> {
    let saved = match &args.cursor_file {
        Some(path) if !args.reset => load_cursor(path)?,
        _ => None,
    };
    let resumed = saved.is_some();
    let state = saved.unwrap_or_default();
    let failed = |status: Status| stream_error(conn, &args, resumed, &status);
    let mut stream = conn
        .stream()
        .subscribe(subscribe_request(&args, &state))
        .await
        .map_err(failed)?
        .into_inner();

    if args.max_events == Some(0) {
        return Ok(());
    }
    let mut watch = Watch::new(&args, json, state);
    loop {
        let wait = watch.wait();
        let message = match tokio::time::timeout(wait, stream.message()).await {
            Err(_) if watch.idle_for_long_enough() => return Ok(()),
            Err(_) => return Err(dead_stream(conn, watch.dead_after)),
            Ok(Err(status)) => return Err(failed(status)),
            Ok(Ok(None)) => return Err(stream_ended(conn)),
            Ok(Ok(Some(response))) => response.message,
        };
        if watch.process(message)? == Flow::Done {
            return Ok(());
        }
    }
}

/// The subscription `args` select, resuming after `state`'s cursor.
fn subscribe_request(args: &WatchArgs, state: &SavedCursor) -> SubscribeRequest {
    SubscribeRequest {
        filter: Some(SubscriptionFilter {
            device_ids: args.devices.clone(),
            user_ids: args.users.clone(),
            groups: args.groups.clone(),
            platforms: args.platforms.iter().map(|p| p.to_proto()).collect(),
            kinds: args.kinds.iter().map(|k| k.to_proto()).collect(),
            min_level: args.min_level.map_or(0, |l| l.to_proto()),
            resources: args.resources.clone(),
        }),
        cursor: state.cursor.clone(),
        progress_interval_ms: u32::try_from(args.progress_interval.as_millis()).unwrap_or(u32::MAX),
    }
}

/// Nothing, not even progress, arrived for three intervals.
fn dead_stream(conn: &Connection, dead_after: Duration) -> CliError {
    CliError::Unreachable {
        url: conn.url().to_owned(),
        detail: format!(
            "nothing arrived on the stream for {}, so it is dead; run watch again to resume",
            humantime::format_duration(dead_after)
        ),
    }
}

/// The server closed the stream.
fn stream_ended(conn: &Connection) -> CliError {
    CliError::Unreachable {
        url: conn.url().to_owned(),
        detail: "the server ended the stream (shutting down?); run watch again to resume"
            .to_owned(),
    }
}

/// Whether watch goes on after a message.
#[derive(Debug, PartialEq, Eq)]
enum Flow {
    /// Wait for the next message.
    Continue,
    /// `--max-events` were printed.
    Done,
}

/// A running watch: what it prints, how far it got, and when it stops.
struct Watch<'a> {
    args: &'a WatchArgs,
    json: bool,
    /// The cursor and position of the last message processed.
    state: SavedCursor,
    events_printed: u64,
    /// When `--exit-after-idle` ends the watch unless something arrives first.
    idle_deadline: Option<Instant>,
    /// Silence this long means the stream is dead.
    dead_after: Duration,
}

impl<'a> Watch<'a> {
    fn new(args: &'a WatchArgs, json: bool, state: SavedCursor) -> Self {
        let mut watch = Watch {
            args,
            json,
            state,
            events_printed: 0,
            idle_deadline: None,
            dead_after: args.progress_interval.saturating_mul(3),
        };
        watch.restart_idle_clock();
        watch
    }

    /// How long to wait for the next message: until the stream counts as dead or the idle deadline.
    fn wait(&self) -> Duration {
        match self.idle_deadline {
            Some(deadline) => self
                .dead_after
                .min(deadline.saturating_duration_since(Instant::now())),
            None => self.dead_after,
        }
    }

    /// Whether `--exit-after-idle` has run out.
    fn idle_for_long_enough(&self) -> bool {
        self.idle_deadline
            .is_some_and(|deadline| Instant::now() >= deadline)
    }

    fn restart_idle_clock(&mut self) {
        self.idle_deadline = self.args.exit_after_idle.map(|idle| Instant::now() + idle);
    }

    /// Prints the message if it is new and saves the cursor after it.
    fn process(&mut self, message: Option<Message>) -> CliResult<Flow> {
        match message {
            Some(Message::Snapshot(snapshot)) => {
                self.print_snapshot(&snapshot)?;
                self.restart_idle_clock();
            }
            Some(Message::SnapshotEnd(end)) => {
                self.print_snapshot_end(end.position)?;
                // The snapshot reflects every event up to this position.
                self.advance(end.cursor, end.position)?;
            }
            Some(Message::Event(stream_event)) => {
                let event = stream_event.event.unwrap_or_default();
                let is_new = event.position > self.state.position;
                if is_new {
                    self.print_event(&event)?;
                }
                self.advance(stream_event.cursor, event.position)?;
                self.restart_idle_clock();
                if is_new && self.printed_enough() {
                    return Ok(Flow::Done);
                }
            }
            Some(Message::Progress(progress)) => {
                // Every matching event up to the head was sent: nothing at or below it is new.
                self.advance(progress.cursor, progress.position)?;
            }
            None => {}
        }
        Ok(Flow::Continue)
    }

    /// Records `cursor` and `position` as processed and saves them.
    fn advance(&mut self, cursor: String, position: u64) -> CliResult<()> {
        self.state = SavedCursor {
            cursor,
            position: self.state.position.max(position),
        };
        save(&self.args.cursor_file, &self.state)
    }

    fn printed_enough(&mut self) -> bool {
        self.events_printed += 1;
        self.args
            .max_events
            .is_some_and(|max| self.events_printed >= max)
    }

    fn print_snapshot(&self, snapshot: &DeviceSnapshot) -> CliResult<()> {
        self.print(
            "snapshot",
            || json_out::snapshot(snapshot),
            || text::snapshot_line(snapshot),
        )
    }

    fn print_snapshot_end(&self, position: u64) -> CliResult<()> {
        if self.json {
            output::json_line(&json!({ "type": "snapshot_end", "position": position }))
        } else {
            output::write(&format!("snapshot_end position={position}\n"))
        }
    }

    fn print_event(&self, event: &Event) -> CliResult<()> {
        self.print(
            "event",
            || json_out::event(event),
            || text::event_line(event),
        )
    }

    /// Prints a message as its JSON object with `type` added, or as its text line.
    fn print(
        &self,
        kind: &str,
        as_json: impl FnOnce() -> Value,
        as_line: impl FnOnce() -> String,
    ) -> CliResult<()> {
        if self.json {
            let mut value = as_json();
            value["type"] = json!(kind);
            output::json_line(&value)
        } else {
            output::write(&format!("{}\n", as_line()))
        }
    }
}

/// The error a failed subscription ends with; OUT_OF_RANGE says how to start over.
fn stream_error(conn: &Connection, args: &WatchArgs, resumed: bool, status: &Status) -> CliError {
    if status.code() != Code::OutOfRange {
        return conn.status(status);
    }
    let server = one_line(status.message());
    CliError::CursorOutOfRange(match &args.cursor_file {
        Some(path) if resumed => format!(
            "cannot resume from the cursor saved in {}: it is out of range ({server}); events were \
             compacted away or the store was recreated. Run watch with --reset to start again from a snapshot",
            path.display()
        ),
        Some(path) => format!(
            "the subscription fell behind retention ({server}); run watch again with --reset \
             --cursor-file {} to start again from a snapshot",
            path.display()
        ),
        None => format!(
            "the subscription fell behind retention ({server}); run watch again to start from a snapshot"
        ),
    })
}

/// The saved cursor, or `None` if the file does not exist or is empty.
fn load_cursor(path: &Path) -> CliResult<Option<SavedCursor>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(CliError::file(path, err)),
    };
    if text.trim().is_empty() {
        return Ok(None);
    }
    serde_json::from_str::<SavedCursor>(&text)
        .map(Some)
        .map_err(|err| {
            CliError::file_at(
                path,
                err.line(),
                err.column(),
                &format!("not a riskctl cursor file ({err}); use --reset to start over"),
            )
        })
}

/// Saves the cursor atomically, if there is a cursor file.
fn save(path: &Option<PathBuf>, state: &SavedCursor) -> CliResult<()> {
    let Some(path) = path else { return Ok(()) };
    let text = serde_json::to_string(state)
        .map_err(|err| CliError::Other(format!("cannot encode the cursor: {err}")))?;
    replace_atomically(path, &format!("{text}\n")).map_err(|err| {
        CliError::Other(format!(
            "cannot save the cursor to {} (in {}): {err}",
            path.display(),
            parent_dir(path).display()
        ))
    })
}
