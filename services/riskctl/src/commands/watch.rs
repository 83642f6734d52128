//! `riskctl watch`: a live subscription, one line per message, resumable from a cursor file.
//!
//! It follows the client contract of `proto/riskgate/v1/stream.proto` (see also
//! `../shared/reference/streaming.md`): it saves the cursor of every event, snapshot end and progress
//! message it processed; it skips events at or below the last position processed (delivery is at least
//! once), remembering that position in the cursor file too so a resumed run never prints an event
//! twice; on OUT_OF_RANGE it stops and says how to start over, since silently taking a new snapshot
//! would hide the events that were lost; and it treats three progress intervals of silence as a dead
//! stream.

use std::path::{Path, PathBuf};

use riskgate_proto::v1::{subscribe_response::Message, SubscribeRequest, SubscriptionFilter};
use serde::{Deserialize, Serialize};
use serde_json::json;
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
    let mut state = saved.unwrap_or_default();
    let request = SubscribeRequest {
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
    };
    let failed = |status: Status| stream_error(conn, &args, resumed, &status);
    let mut stream = conn
        .stream()
        .subscribe(request)
        .await
        .map_err(failed)?
        .into_inner();

    if args.max_events == Some(0) {
        return Ok(());
    }
    let dead_after = args.progress_interval.saturating_mul(3);
    let mut events_printed = 0u64;
    let mut idle_deadline = args.exit_after_idle.map(|idle| Instant::now() + idle);
    loop {
        let now = Instant::now();
        let wait = match idle_deadline {
            Some(deadline) => dead_after.min(deadline.saturating_duration_since(now)),
            None => dead_after,
        };
        let message = match tokio::time::timeout(wait, stream.message()).await {
            Err(_) if idle_deadline.is_some_and(|deadline| Instant::now() >= deadline) => {
                return Ok(());
            }
            Err(_) => {
                return Err(CliError::Unreachable {
                    url: conn.url().to_owned(),
                    detail: format!(
                        "nothing arrived on the stream for {}, so it is dead; run watch again to resume",
                        humantime::format_duration(dead_after)
                    ),
                })
            }
            Ok(Err(status)) => return Err(failed(status)),
            Ok(Ok(None)) => {
                return Err(CliError::Unreachable {
                    url: conn.url().to_owned(),
                    detail: "the server ended the stream (shutting down?); run watch again to resume"
                        .to_owned(),
                })
            }
            Ok(Ok(Some(response))) => response.message,
        };
        match message {
            Some(Message::Snapshot(snapshot)) => {
                if json {
                    let mut value = json_out::snapshot(&snapshot);
                    value["type"] = json!("snapshot");
                    output::json_line(&value)?;
                } else {
                    output::write(&format!("{}\n", text::snapshot_line(&snapshot)))?;
                }
                idle_deadline = args.exit_after_idle.map(|idle| Instant::now() + idle);
            }
            Some(Message::SnapshotEnd(end)) => {
                if json {
                    output::json_line(
                        &json!({ "type": "snapshot_end", "position": end.position }),
                    )?;
                } else {
                    output::write(&format!("snapshot_end position={}\n", end.position))?;
                }
                // The snapshot reflects every event up to this position.
                state = SavedCursor {
                    cursor: end.cursor,
                    position: state.position.max(end.position),
                };
                save(&args.cursor_file, &state)?;
            }
            Some(Message::Event(stream_event)) => {
                let event = stream_event.event.unwrap_or_default();
                if event.position > state.position {
                    if json {
                        let mut value = json_out::event(&event);
                        value["type"] = json!("event");
                        output::json_line(&value)?;
                    } else {
                        output::write(&format!("{}\n", text::event_line(&event)))?;
                    }
                    events_printed += 1;
                }
                state = SavedCursor {
                    cursor: stream_event.cursor,
                    position: state.position.max(event.position),
                };
                save(&args.cursor_file, &state)?;
                idle_deadline = args.exit_after_idle.map(|idle| Instant::now() + idle);
                if args.max_events.is_some_and(|max| events_printed >= max) {
                    return Ok(());
                }
            }
            Some(Message::Progress(progress)) => {
                // Every matching event up to the head was sent: nothing at or below it is new.
                state = SavedCursor {
                    cursor: progress.cursor,
                    position: state.position.max(progress.position),
                };
                save(&args.cursor_file, &state)?;
            }
            None => {}
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
