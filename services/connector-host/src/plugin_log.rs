//! The plugin's log records in the host's log (ABI minor 1).
//!
//! The plugin's SDK formats each of its `tracing` or `log` records into one message and calls the
//! host's `log` callback ([`crate::loader`]) with its level and target. `tracing`'s macros need a
//! static target, so the record goes through the `log` crate instead: a `log::Record` with the
//! plugin's target is handed to `tracing_log::LogTracer`, which turns it into a `tracing` event;
//! the fmt layer normalises such events, so the text and the JSON output show the plugin's own
//! target (`lookout::sync`) and level, filtered by `RUST_LOG` like the host's own events. Each
//! record is emitted inside the span `plugin{plugin=<manifest name>}`, which marks it as the
//! plugin's (in text the span prefixes the line; in JSON it is the `span` object).

use std::sync::OnceLock;

use log::Log as _;
use riskgate_sdk::abi::level;
use tracing::level_filters::LevelFilter;

fn span() -> &'static tracing::Span {
    static SPAN: OnceLock<tracing::Span> = OnceLock::new();
    SPAN.get_or_init(|| tracing::info_span!("plugin", plugin = tracing::field::Empty))
}

/// Names the plugin in the span of its records, once its manifest is known.
pub fn set_plugin_name(name: &str) {
    span().record("plugin", tracing::field::display(name));
}

/// The most verbose ABI log level the host's subscriber records, for `RgHostV1::max_level`.
pub fn max_level() -> u32 {
    match LevelFilter::current() {
        LevelFilter::OFF => level::OFF,
        LevelFilter::ERROR => level::ERROR,
        LevelFilter::WARN => level::WARN,
        LevelFilter::INFO => level::INFO,
        LevelFilter::DEBUG => level::DEBUG,
        _ => level::TRACE,
    }
}

/// Re-emits one plugin record as an event of the host's log. Unknown levels are dropped; an empty
/// target becomes `plugin`.
pub fn emit(level: u32, target: &str, message: &str) {
    let level = match level {
        level::ERROR => log::Level::Error,
        level::WARN => log::Level::Warn,
        level::INFO => log::Level::Info,
        level::DEBUG => log::Level::Debug,
        level::TRACE => log::Level::Trace,
        _ => return,
    };
    let target = if target.is_empty() { "plugin" } else { target };
    let _entered = span().enter();
    tracing_log::LogTracer::new().log(
        &log::Record::builder()
            .level(level)
            .target(target)
            .args(format_args!("{message}"))
            .build(),
    );
}
