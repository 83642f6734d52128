//! Logging into the host's log (ABI minor 1).
//!
//! A connector logs with the ordinary `tracing` macros (or the `log` crate's). When the host passes
//! its [`HostLogger`] through `set_host`, [`install`] makes a small subscriber this plugin's global
//! `tracing` default, and a `log::Log` this plugin's logger: both format each record's message and
//! fields into one line and hand level, target and message to the host, which writes them into its
//! own log in its own format. Records more verbose than the host records are filtered out before
//! anything is formatted. Without a host (an older host, or the in-process [`crate::testing`] kit)
//! nothing is installed and logging costs what `tracing` without a subscriber costs.
//!
//! Spans are not forwarded: an event's own fields are, the fields of the spans around it are not.

use std::{
    fmt::{self, Write as _},
    sync::{
        atomic::{AtomicU64, Ordering},
        OnceLock,
    },
};

use tracing::{
    field::{Field, Visit},
    level_filters::LevelFilter,
    span, Event, Level, Metadata, Subscriber,
};

use crate::abi::{level, HostLogger};

static HOST: OnceLock<HostLogger> = OnceLock::new();

/// Routes this plugin's `tracing` and `log` records to `host`. Only the first call has an effect;
/// a global `tracing` subscriber or `log` logger the plugin installed itself is left alone.
pub(crate) fn install(host: HostLogger) {
    if HOST.set(host).is_err() {
        return;
    }
    let _ = tracing::dispatcher::set_global_default(tracing::Dispatch::new(HostSubscriber {
        host,
        next_span: AtomicU64::new(1),
    }));
    if log::set_logger(&HostLog).is_ok() {
        log::set_max_level(match host.max_level() {
            level::OFF => log::LevelFilter::Off,
            level::ERROR => log::LevelFilter::Error,
            level::WARN => log::LevelFilter::Warn,
            level::INFO => log::LevelFilter::Info,
            level::DEBUG => log::LevelFilter::Debug,
            _ => log::LevelFilter::Trace,
        });
    }
}

fn tracing_level(level: &Level) -> u32 {
    match *level {
        Level::ERROR => level::ERROR,
        Level::WARN => level::WARN,
        Level::INFO => level::INFO,
        Level::DEBUG => level::DEBUG,
        Level::TRACE => level::TRACE,
    }
}

/// The `tracing` subscriber that forwards events to the host.
struct HostSubscriber {
    host: HostLogger,
    next_span: AtomicU64,
}

impl Subscriber for HostSubscriber {
    fn register_callsite(
        &self,
        metadata: &'static Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        if self.enabled(metadata) {
            tracing::subscriber::Interest::always()
        } else {
            tracing::subscriber::Interest::never()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        tracing_level(metadata.level()) <= self.host.max_level()
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(match self.host.max_level() {
            level::OFF => LevelFilter::OFF,
            level::ERROR => LevelFilter::ERROR,
            level::WARN => LevelFilter::WARN,
            level::INFO => LevelFilter::INFO,
            level::DEBUG => LevelFilter::DEBUG,
            _ => LevelFilter::TRACE,
        })
    }

    fn new_span(&self, _span: &span::Attributes<'_>) -> span::Id {
        // Spans are not tracked; ids only need to be non-zero.
        span::Id::from_u64(self.next_span.fetch_add(1, Ordering::Relaxed).max(1))
    }

    fn record(&self, _span: &span::Id, _values: &span::Record<'_>) {}

    fn record_follows_from(&self, _span: &span::Id, _follows: &span::Id) {}

    fn event(&self, event: &Event<'_>) {
        let metadata = event.metadata();
        let mut line = Line::default();
        event.record(&mut line);
        self.host.log(
            tracing_level(metadata.level()),
            metadata.target(),
            &line.finish(),
        );
    }

    fn enter(&self, _span: &span::Id) {}

    fn exit(&self, _span: &span::Id) {}
}

/// One event formatted as `message key=value key=value`.
#[derive(Default)]
struct Line {
    message: String,
    fields: String,
}

impl Line {
    fn finish(mut self) -> String {
        if self.message.is_empty() {
            return self.fields;
        }
        if !self.fields.is_empty() {
            self.message.push(' ');
            self.message.push_str(&self.fields);
        }
        self.message
    }
}

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let name = field.name();
        if name == "message" {
            let _ = write!(self.message, "{value:?}");
        } else if !name.starts_with("log.") {
            if !self.fields.is_empty() {
                self.fields.push(' ');
            }
            let _ = write!(self.fields, "{name}={value:?}");
        }
    }
}

/// The `log` logger that forwards records to the host.
struct HostLog;

impl log::Log for HostLog {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        HOST.get()
            .is_some_and(|host| metadata.level() as u32 <= host.max_level())
    }

    fn log(&self, record: &log::Record<'_>) {
        if let Some(host) = HOST.get() {
            // `log::Level` is numbered like the ABI's levels: Error = 1 ... Trace = 5.
            host.log(
                record.level() as u32,
                record.target(),
                &record.args().to_string(),
            );
        }
    }

    fn flush(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_levels_are_numbered_like_the_abi() {
        assert_eq!(log::Level::Error as u32, level::ERROR);
        assert_eq!(log::Level::Warn as u32, level::WARN);
        assert_eq!(log::Level::Info as u32, level::INFO);
        assert_eq!(log::Level::Debug as u32, level::DEBUG);
        assert_eq!(log::Level::Trace as u32, level::TRACE);
    }
}
