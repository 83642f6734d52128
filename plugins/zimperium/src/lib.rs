//! # riskgate-zimperium
//!
//! A riskgate connector plugin for Zimperium MTD (zConsole public API):
//!
//! - [`client`]: login with the API key, refresh before the JWT expires, `429 Retry-After`, and
//!   backoff with jitter on errors;
//! - [`mapping`]: threat and device items → riskgate's vocabulary (the README's table);
//! - [`fleet`]: each device's picture (attributes, health, threats), the reports owed, and the
//!   durable [`fleet::Cursor`];
//! - this module: the poll loop. Each cycle pages through the threats whose `lastModified` is in
//!   `[cursor, now - settle)` (sorted by `lastModified`, so mitigations are seen), syncs devices
//!   when due, and sends one report per changed device; the last batch of a cycle carries the new
//!   cursor as its checkpoint.
//!
//! After a restart the connector re-reads the lookback window to rebuild each device's picture,
//! reporting only what changed at or after the acknowledged cursor: nothing is lost, and what was
//! already reported is either not sent again or carries the same vendor event id (dropped by the
//! core).

pub mod client;
pub mod config;
pub mod fleet;
pub mod mapping;

use std::{
    fmt,
    time::{Duration, Instant, SystemTime},
};

use riskgate_sdk::{
    pb, tokio,
    toolkit::time::{format_rfc3339_millis, format_unix_ms, now_unix_ms as now_ms},
    validate, Batch, BatchSink, Connector, ConnectorError, Manifest, Shutdown, StartContext,
};
use serde_json::Value;

use crate::{
    client::{Client, ClientError, DEVICES_BY_ID_PATH, DEVICES_PATH, THREATS_PATH},
    config::ZimperiumConfig,
    fleet::{Cursor, Fleet},
};

/// Most pages one listing may have before the connector assumes the API is looping.
const MAX_PAGES: u32 = 100_000;
/// How often a threat window is paged again from the start when the listing shifts under it.
const MAX_WINDOW_RESTARTS: u32 = 5;

/// A log line on stderr, which the connector host keeps as its log.
pub(crate) fn log(level: &str, message: fmt::Arguments<'_>) {
    eprintln!(
        "{} {level} riskgate-zimperium: {message}",
        format_rfc3339_millis(SystemTime::now())
    );
}

/// Counters of skipped data, logged with every skip.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SkipStats {
    /// Threat items that did not parse.
    pub malformed_threats: u64,
    /// Device items that did not parse.
    pub malformed_devices: u64,
    /// Threat versions seen before (overlap, duplicates).
    pub duplicate_threats: u64,
    /// Reports the SDK's validation refused.
    pub invalid_reports: u64,
}

/// The connector.
#[derive(Debug)]
pub struct ZimperiumConnector {
    config: ZimperiumConfig,
    /// The acknowledged cursor, if any.
    resume: Option<Cursor>,
}

impl Connector for ZimperiumConnector {
    fn manifest() -> Manifest {
        Manifest {
            name: "zimperium".to_owned(),
            vendor: "Zimperium".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }

    fn create(start: &StartContext) -> Result<Self, ConnectorError> {
        let config = ZimperiumConfig::parse(&start.config, |var| std::env::var(var).ok())
            .map_err(|e| ConnectorError::Config(e.0))?;
        let resume = match &start.checkpoint {
            None => None,
            Some(raw) => Some(
                Cursor::decode(raw)
                    .map_err(|e| ConnectorError::Fatal(format!("unreadable checkpoint: {e}")))?,
            ),
        };
        Ok(ZimperiumConnector { config, resume })
    }

    fn takes_rechecks() -> bool {
        true
    }

    async fn run(self, sink: BatchSink, shutdown: Shutdown) -> Result<(), ConnectorError> {
        let client = Client::new(&self.config).map_err(|e| ConnectorError::Fatal(e.to_string()))?;
        let mut poller = Poller::new(self.config, self.resume, client);
        match poller.run(&sink, &shutdown).await {
            Ok(()) | Err(ClientError::Stopped) => Ok(()),
            Err(ClientError::Credentials(why)) => {
                Err(ConnectorError::Config(format!("client_id, secret: {why}")))
            }
            Err(ClientError::Unexpected(why)) => Err(ConnectorError::Transient(why)),
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The poll loop's state.
#[derive(Debug)]
struct Poller {
    config: ZimperiumConfig,
    client: Client,
    fleet: Fleet,
    /// Threat versions modified before this were reported before a restart: re-read silently.
    reported_below_ms: u64,
    /// The start of the next threat window.
    window_start_ms: u64,
    /// The cursor of the last batch sent.
    sent_cursor: Option<Cursor>,
    last_checkpoint_sent: Instant,
    next_device_sync: Instant,
    skips: SkipStats,
}

impl Poller {
    fn new(config: ZimperiumConfig, resume: Option<Cursor>, client: Client) -> Poller {
        let lookback_start = now_ms().saturating_sub(millis(config.lookback));
        let (reported_below_ms, window_start_ms) = match resume {
            // First start: everything in the lookback window is news.
            None => (lookback_start, lookback_start),
            // Restart: re-read the lookback window (or more, if the cursor is older) to rebuild
            // the picture, reporting only changes at or after the cursor.
            Some(cursor) => (cursor.after_ms, lookback_start.min(cursor.after_ms)),
        };
        log(
            "INFO",
            format_args!(
                "starting: {} from {} (reporting changes from {})",
                if resume.is_some() {
                    "resuming"
                } else {
                    "first start"
                },
                format_unix_ms(window_start_ms),
                format_unix_ms(reported_below_ms)
            ),
        );
        Poller {
            config,
            client,
            fleet: Fleet::default(),
            reported_below_ms,
            window_start_ms,
            sent_cursor: resume,
            last_checkpoint_sent: Instant::now(),
            next_device_sync: Instant::now(),
            skips: SkipStats::default(),
        }
    }

    async fn run(&mut self, sink: &BatchSink, shutdown: &Shutdown) -> Result<(), ClientError> {
        let mut failures = 0u32;
        while !shutdown.is_shutdown() {
            let polled = match self.cycle(sink, shutdown).await {
                Ok(()) => {
                    // A poll that went through is Zimperium's word that the feed is alive.
                    sink.feed().synced();
                    match sleep_or_recheck(self.config.poll_interval, sink, shutdown).await? {
                        Some(recheck) => self.recheck(&recheck.device_ids, sink, shutdown).await,
                        None => Ok(()),
                    }
                }
                Err(err) => Err(err),
            };
            match polled {
                Ok(()) => failures = 0,
                Err(ClientError::Unexpected(why)) => {
                    failures = failures.saturating_add(1);
                    sink.feed()
                        .disconnected(format!("poll failed {failures} times in a row: {why}"));
                    let wait = client::retry_policy(self.config.max_backoff).delay(failures + 2);
                    log(
                        "WARN",
                        format_args!("poll failed: {why}; retrying in {}ms", wait.as_millis()),
                    );
                    sleep(wait, shutdown).await?;
                }
                Err(other) => return Err(other),
            }
        }
        Ok(())
    }

    /// One poll: the threat window, the devices when due, then the reports and the cursor.
    async fn cycle(&mut self, sink: &BatchSink, shutdown: &Shutdown) -> Result<(), ClientError> {
        let before_ms = now_ms().saturating_sub(millis(self.config.settle));
        if before_ms > self.window_start_ms {
            self.poll_threats(self.window_start_ms, before_ms, shutdown)
                .await?;
        }
        if Instant::now() >= self.next_device_sync {
            self.sync_devices(shutdown).await?;
            self.next_device_sync = Instant::now() + self.config.device_sync_interval;
        }
        let cursor = Cursor {
            after_ms: before_ms.max(self.window_start_ms),
        };
        self.window_start_ms = cursor.after_ms;
        let reports = self.valid_reports();
        self.send(reports, cursor, sink).await
    }

    async fn poll_threats(
        &mut self,
        after_ms: u64,
        before_ms: u64,
        shutdown: &Shutdown,
    ) -> Result<(), ClientError> {
        let mut restarts = 0;
        'window: loop {
            let mut total: Option<u64> = None;
            for page in 0..MAX_PAGES {
                let query = [
                    ("module", "ZIPS".to_owned()),
                    ("after", format_unix_ms(after_ms)),
                    ("before", format_unix_ms(before_ms)),
                    ("page", page.to_string()),
                    ("size", self.config.page_size.to_string()),
                    ("sort", "lastModified,asc".to_owned()),
                ];
                let body = self.client.get_json(THREATS_PATH, &query, shutdown).await?;
                let content = body.get("content").and_then(Value::as_array);
                let Some(content) = content else {
                    return Err(ClientError::Unexpected(format!(
                        "threats page {page}: no content array"
                    )));
                };
                // Items leave the window when they are modified while it is paged (their
                // lastModified moves past `before`), which shifts later pages: page again.
                let page_total = body.get("totalElements").and_then(Value::as_u64);
                if let (Some(first), Some(now)) = (total, page_total) {
                    if now < first && restarts < MAX_WINDOW_RESTARTS {
                        restarts += 1;
                        log(
                            "INFO",
                            format_args!("the threat listing shrank from {first} to {now} while paging; paging the window again"),
                        );
                        continue 'window;
                    }
                }
                total = total.or(page_total);
                for item in content {
                    self.apply_threat_item(item);
                }
                let last = body.get("last").and_then(Value::as_bool);
                if content.is_empty()
                    || last == Some(true)
                    || (last.is_none() && content.len() < self.config.page_size as usize)
                {
                    return Ok(());
                }
            }
            return Err(ClientError::Unexpected(format!(
                "the threat listing did not end after {MAX_PAGES} pages"
            )));
        }
    }

    fn apply_threat_item(&mut self, item: &Value) {
        match mapping::threat(item, self.config.device_id) {
            Ok(threat) => {
                let report = threat.modified_ms >= self.reported_below_ms;
                if !self.fleet.apply_threat(threat, report) {
                    self.skips.duplicate_threats += 1;
                }
            }
            Err(why) => {
                self.skips.malformed_threats += 1;
                log(
                    "WARN",
                    format_args!(
                        "skipped malformed threat {} ({why}); {} skipped so far",
                        item.get("id").unwrap_or(&Value::Null),
                        self.skips.malformed_threats
                    ),
                );
            }
        }
    }

    async fn sync_devices(&mut self, shutdown: &Shutdown) -> Result<(), ClientError> {
        let size = self.config.page_size;
        let mut seen = 0u64;
        for page in 0..MAX_PAGES {
            let query = [("page", page.to_string()), ("size", size.to_string())];
            let body = self.client.get_json(DEVICES_PATH, &query, shutdown).await?;
            let Some(content) = body.get("content").and_then(Value::as_array) else {
                return Err(ClientError::Unexpected(format!(
                    "devices page {page}: no content array"
                )));
            };
            for item in content {
                match mapping::device(item, self.config.device_id) {
                    Ok(device) => self.fleet.apply_device(device),
                    Err(why) => {
                        self.skips.malformed_devices += 1;
                        log(
                            "WARN",
                            format_args!(
                                "skipped malformed device {} ({why}); {} skipped so far",
                                item.get("id").unwrap_or(&Value::Null),
                                self.skips.malformed_devices
                            ),
                        );
                    }
                }
            }
            seen += content.len() as u64;
            let total = body.get("totalHits").and_then(Value::as_u64);
            if content.len() < size as usize || total.is_some_and(|total| seen >= total) {
                return Ok(());
            }
        }
        Err(ClientError::Unexpected(format!(
            "the device listing did not end after {MAX_PAGES} pages"
        )))
    }

    /// An admin's re-check: fetches the named devices (none: every device) from the devices API, polls
    /// the threat window, and reports each named device whether it changed or not, under a fresh event id.
    async fn recheck(
        &mut self,
        device_ids: &[String],
        sink: &BatchSink,
        shutdown: &Shutdown,
    ) -> Result<(), ClientError> {
        let wanted = if device_ids.is_empty() {
            self.sync_devices(shutdown).await?;
            self.fleet.device_ids()
        } else {
            for device_id in device_ids {
                let path = format!("{DEVICES_BY_ID_PATH}/{device_id}");
                let item = self.client.get_json(&path, &[], shutdown).await?;
                match mapping::device(&item, self.config.device_id) {
                    Ok(device) => self.fleet.apply_device(device),
                    Err(why) => log(
                        "WARN",
                        format_args!("recheck: device {device_id} skipped ({why})"),
                    ),
                }
            }
            device_ids.to_vec()
        };
        // Threats changed since the last poll, and whatever else changed, go out as usual first.
        self.cycle(sink, shutdown).await?;
        let round = now_ms();
        let reports: Vec<pb::DeviceReport> = wanted
            .iter()
            .filter_map(|device_id| self.fleet.current_report(device_id))
            .map(|mut report| {
                report.vendor_event_id = format!("recheck-{round}-{}", report.device_id);
                report
            })
            .filter(|report| validate::report(report).is_ok())
            .collect();
        log(
            "INFO",
            format_args!(
                "recheck: re-reported {} of {} devices",
                reports.len(),
                wanted.len()
            ),
        );
        let cursor = self.sent_cursor.unwrap_or(Cursor {
            after_ms: self.window_start_ms,
        });
        self.send(reports, cursor, sink).await
    }

    /// The reports owed, each checked with the SDK's validation; an invalid one is skipped.
    fn valid_reports(&mut self) -> Vec<pb::DeviceReport> {
        let now = SystemTime::now();
        let limits = validate::Limits::default();
        let mut valid = Vec::new();
        for report in self.fleet.take_reports() {
            match validate::report_at(&report, &limits, now) {
                Ok(()) => valid.push(report),
                Err(why) => {
                    self.skips.invalid_reports += 1;
                    log(
                        "WARN",
                        format_args!(
                            "skipped an invalid report for device {:?} ({why}); {} skipped so far",
                            report.device_id, self.skips.invalid_reports
                        ),
                    );
                }
            }
        }
        valid
    }

    /// Sends the reports in batches; the last carries `cursor`, earlier ones the previous cursor
    /// (so a restart in between re-reads the window). With no report, the cursor alone is sent
    /// at most every `checkpoint_interval`.
    async fn send(
        &mut self,
        reports: Vec<pb::DeviceReport>,
        cursor: Cursor,
        sink: &BatchSink,
    ) -> Result<(), ClientError> {
        if reports.is_empty()
            && (self.sent_cursor == Some(cursor)
                || self.last_checkpoint_sent.elapsed() < self.config.checkpoint_interval)
        {
            return Ok(());
        }
        let previous = self.sent_cursor.unwrap_or(Cursor {
            after_ms: self.reported_below_ms,
        });
        let chunks: Vec<Vec<pb::DeviceReport>> = if reports.is_empty() {
            vec![Vec::new()]
        } else {
            reports
                .chunks(self.config.max_batch_reports)
                .map(<[_]>::to_vec)
                .collect()
        };
        let count = chunks.len();
        for (index, chunk) in chunks.into_iter().enumerate() {
            let at = if index + 1 == count { cursor } else { previous };
            if !chunk.is_empty() {
                log(
                    "INFO",
                    format_args!(
                        "sending {} device reports (cursor {})",
                        chunk.len(),
                        format_unix_ms(at.after_ms)
                    ),
                );
            }
            sink.send(Batch {
                checkpoint: at.encode(),
                reports: chunk,
            })
            .await
            .map_err(|_| ClientError::Stopped)?;
        }
        self.sent_cursor = Some(cursor);
        self.last_checkpoint_sent = Instant::now();
        Ok(())
    }
}

/// Waits `wait` unless a re-check arrives first, which it returns.
async fn sleep_or_recheck(
    wait: Duration,
    sink: &BatchSink,
    shutdown: &Shutdown,
) -> Result<Option<riskgate_sdk::Recheck>, ClientError> {
    tokio::select! {
        () = tokio::time::sleep(wait) => Ok(None),
        recheck = sink.recheck_requested() => Ok(Some(recheck)),
        () = shutdown.wait() => Err(ClientError::Stopped),
    }
}

async fn sleep(wait: Duration, shutdown: &Shutdown) -> Result<(), ClientError> {
    tokio::select! {
        () = tokio::time::sleep(wait) => Ok(()),
        () = shutdown.wait() => Err(ClientError::Stopped),
    }
}

riskgate_sdk::export_connector!(ZimperiumConnector);
