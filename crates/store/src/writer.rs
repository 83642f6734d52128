//! The writer thread: the only code that writes to the store and changes the in-memory view.
//!
//! Each loop takes every request queued (up to a limit) as one commit group. Requests are planned in order
//! against the view plus the group's overlay (so later requests see earlier ones), the resulting writes are
//! applied atomically and flushed once (group commit), the view is updated, and only then is every request
//! answered. A report batch, an admin change or a clock tick re-evaluates the devices it affects in the same
//! commit, so the events it causes (compliance changes, access flips, due actions) are never lost or early.

use std::{collections::HashMap, sync::Arc, time::Instant};

use parking_lot::RwLock;
use tokio::sync::{mpsc, oneshot};

use crate::{
    backend::StoreBackend,
    commit::{Commit, Compacted, ConfigChange, DedupEntry},
    engine::StoreError,
    shared::{BatchOutcome, BatchResult, Shared},
};
use crate::{
    error::{WriteError, WriteResult},
    observer::WriterObserver,
};
use riskgate_policy::{
    domain::{
        policy::PolicyConfig, Checkpoint, Clock, ConnectorId, DeviceId, DeviceRecord, DeviceReport,
        DeviceReported, Event, EventKind, PartnerReport, ReportBatch, Timestamp,
    },
    error::DomainError,
    {
        admin::{self, AdminCommand, AdminOutcome},
        evaluate::{ConnectorStates, DeviceSummary},
        view::{reevaluate, ComplianceMemo, DeviceView, View},
    },
};

/// How much of the event log to keep.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Events older than this are dropped.
    pub max_age: std::time::Duration,
    /// At most this many events are kept.
    pub max_events: u64,
    /// Most events dropped per commit, so compaction never holds up ingest for long.
    pub chunk: usize,
}

/// What one compaction request did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compaction {
    /// Events dropped.
    pub removed: usize,
    /// The oldest retained position after it.
    pub first_retained: u64,
    /// Whether more events are due for removal.
    pub more: bool,
}

/// A request to the writer.
pub(crate) enum WriteRequest {
    /// Apply a connector's batch.
    Batch {
        batch: ReportBatch,
        reply: oneshot::Sender<WriteResult<BatchResult>>,
    },
    /// Apply an admin change.
    Admin {
        command: AdminCommand,
        reply: oneshot::Sender<WriteResult<AdminOutcome>>,
    },
    /// Clear a device's known risks (one connector's, or every connector's).
    ClearKnownRisk {
        device_id: DeviceId,
        connector_id: Option<ConnectorId>,
        reply: oneshot::Sender<WriteResult<DeviceRecord>>,
    },
    /// Re-evaluate what time has changed: connector states and devices whose deadline passed (or every device
    /// when `full`). Answers with the head position after the commit.
    Tick {
        full: bool,
        reply: oneshot::Sender<WriteResult<u64>>,
    },
    /// Drop events past retention, one chunk per request.
    Compact {
        retention: Retention,
        reply: oneshot::Sender<WriteResult<Compaction>>,
    },
    /// Commit what is queued, flush and stop.
    Shutdown {
        done: oneshot::Sender<Result<(), StoreError>>,
    },
}

/// An answer held back until the group's commit is durable.
enum Reply {
    Batch(
        oneshot::Sender<WriteResult<BatchResult>>,
        WriteResult<BatchResult>,
    ),
    Admin(
        oneshot::Sender<WriteResult<AdminOutcome>>,
        WriteResult<AdminOutcome>,
    ),
    Device(
        oneshot::Sender<WriteResult<DeviceRecord>>,
        WriteResult<DeviceRecord>,
    ),
    Tick(oneshot::Sender<WriteResult<u64>>),
    Compact(
        oneshot::Sender<WriteResult<Compaction>>,
        WriteResult<Compaction>,
    ),
}

/// The writer thread's state.
pub(crate) struct Writer {
    pub(crate) backend: Arc<dyn StoreBackend>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) observer: Arc<dyn WriterObserver>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) view: Arc<RwLock<View>>,
    /// Position of the newest applied event.
    pub(crate) head: u64,
    pub(crate) device_count: u64,
    /// Position of the oldest event still in the log.
    pub(crate) first_retained: u64,
    pub(crate) max_group: usize,
}

/// Everything one commit group changes that is not yet in the store or the view. Planning reads through
/// it, so later requests of the group see earlier ones.
struct Overlay {
    head: u64,
    new_devices: u64,
    /// The new state of every device the group changed.
    records: HashMap<DeviceId, DeviceRecord>,
    views: HashMap<DeviceId, DeviceView>,
    /// Memos that changed, to store.
    memos: HashMap<DeviceId, ComplianceMemo>,
    /// Vendor events applied by the group, with the position that applied each.
    dedup: HashMap<(ConnectorId, String), u64>,
    checkpoints: HashMap<ConnectorId, Checkpoint>,
    config: Option<Arc<PolicyConfig>>,
    /// The configuration objects changed, to store, in order.
    config_changes: Vec<ConfigChange>,
    states: Option<Arc<ConnectorStates>>,
    /// Whether `states` differ from the stored connector states.
    states_changed: bool,
    /// The events written, for the store and then for subscribers once they are durable.
    events: Vec<Event>,
    /// What compaction removed.
    compaction: Option<Compacted>,
}

impl Overlay {
    fn new(head: u64) -> Self {
        Self {
            head,
            new_devices: 0,
            records: HashMap::new(),
            views: HashMap::new(),
            memos: HashMap::new(),
            dedup: HashMap::new(),
            checkpoints: HashMap::new(),
            config: None,
            config_changes: Vec::new(),
            states: None,
            states_changed: false,
            events: Vec::new(),
            compaction: None,
        }
    }

    /// Appends an event to the log and returns its position.
    fn push_event(&mut self, device_id: Option<&DeviceId>, kind: EventKind, now: Timestamp) -> u64 {
        self.head += 1;
        let position = self.head;
        self.events.push(Event {
            position,
            time: now,
            device_id: device_id.cloned(),
            kind,
        });
        position
    }

    /// The oldest retained position as the group left it, if its compaction moved it.
    fn first_retained(&self) -> Option<u64> {
        self.compaction
            .as_ref()
            .map(|compacted| compacted.first_retained)
    }

    /// Takes what the group stores, leaving what the view needs (views, configuration, states).
    fn take_commit(&mut self, device_count: u64) -> Commit {
        Commit {
            events: std::mem::take(&mut self.events),
            devices: self.records.drain().map(|(_, record)| record).collect(),
            memos: self.memos.drain().collect(),
            dedup: self
                .dedup
                .drain()
                .map(|((connector_id, vendor_event_id), position)| DedupEntry {
                    connector_id,
                    vendor_event_id,
                    position,
                })
                .collect(),
            checkpoints: self.checkpoints.drain().collect(),
            config: std::mem::take(&mut self.config_changes),
            connector_states: self
                .states
                .as_deref()
                .filter(|_| self.states_changed)
                .cloned(),
            compaction: self.compaction.take(),
            head: self.head,
            device_count,
        }
    }
}

impl Writer {
    pub(crate) fn run(mut self, mut receiver: mpsc::Receiver<WriteRequest>) {
        while let Some(first) = receiver.blocking_recv() {
            let mut group = vec![first];
            while group.len() < self.max_group {
                match receiver.try_recv() {
                    Ok(next) => group.push(next),
                    Err(_) => break,
                }
            }
            if self.commit_group(group) {
                return;
            }
        }
        // Every handle is gone: make what was applied durable before the thread ends.
        if let Err(err) = self.backend.flush() {
            tracing::error!(error = %err, "final flush failed");
        }
    }

    /// Plans, applies and flushes one group, updates the view, then answers. Returns true on shutdown.
    fn commit_group(&mut self, group: Vec<WriteRequest>) -> bool {
        let now = self.clock.now();
        let view_lock = self.view.clone();
        let view = view_lock.read();
        let mut overlay = Overlay::new(self.head);
        let mut replies = Vec::with_capacity(group.len());
        let mut shutdown = None;
        let mut storage_failure: Option<StoreError> = None;
        for request in group {
            match request {
                WriteRequest::Batch { batch, reply } => {
                    let result = self.plan_batch(&view, &mut overlay, &batch, now);
                    note_storage_failure(&result, &mut storage_failure);
                    replies.push(Reply::Batch(reply, result));
                }
                WriteRequest::Admin { command, reply } => {
                    let result = self.plan_admin(&view, &mut overlay, command, now);
                    note_storage_failure(&result, &mut storage_failure);
                    replies.push(Reply::Admin(reply, result));
                }
                WriteRequest::ClearKnownRisk {
                    device_id,
                    connector_id,
                    reply,
                } => {
                    let result = self.plan_clear_known_risk(
                        &view,
                        &mut overlay,
                        &device_id,
                        connector_id.as_ref(),
                        now,
                    );
                    note_storage_failure(&result, &mut storage_failure);
                    replies.push(Reply::Device(reply, result));
                }
                WriteRequest::Tick { full, reply } => {
                    let result = self.plan_tick(&view, &mut overlay, full, now);
                    note_storage_failure(&result, &mut storage_failure);
                    replies.push(Reply::Tick(reply));
                }
                WriteRequest::Compact { retention, reply } => {
                    let result = self.plan_compaction(&mut overlay, retention, now);
                    note_storage_failure(&result, &mut storage_failure);
                    replies.push(Reply::Compact(reply, result));
                }
                WriteRequest::Shutdown { done } => shutdown = Some(done),
            }
        }
        drop(view);

        // A storage read that failed while planning fails the whole group: the overlay may be incomplete.
        let committed = match storage_failure {
            Some(err) => Err(err),
            None => self.commit(overlay),
        };
        self.answer(replies, &committed);
        match shutdown {
            Some(done) => {
                let _ = done.send(committed.and_then(|()| self.backend.flush()));
                true
            }
            None => false,
        }
    }

    /// Answers every request of a committed (or failed) group, counting committed batches.
    fn answer(&self, replies: Vec<Reply>, committed: &Result<(), StoreError>) {
        let head = self.head;
        for reply in replies {
            match reply {
                Reply::Batch(sender, result) => {
                    let result = after_commit(committed, result);
                    if let Ok(result) = &result {
                        self.observer.batch_committed(result);
                    }
                    // The submitter may be gone (stream cancelled); the batch is durable all the same.
                    let _ = sender.send(result);
                }
                Reply::Admin(sender, result) => {
                    let _ = sender.send(after_commit(committed, result));
                }
                Reply::Device(sender, result) => {
                    let _ = sender.send(after_commit(committed, result));
                }
                Reply::Tick(sender) => {
                    let _ = sender.send(after_commit(committed, Ok(head)));
                }
                Reply::Compact(sender, result) => {
                    let _ = sender.send(after_commit(committed, result));
                }
            }
        }
    }

    /// Applies the planned writes atomically, flushes them, and installs the overlay in the view. A group
    /// that wrote nothing (a tick that changed no decision) still installs its re-evaluations: they carry
    /// reasons and deadlines the view needs.
    fn commit(&mut self, mut overlay: Overlay) -> Result<(), StoreError> {
        let device_count = self.device_count + overlay.new_devices;
        let first_retained = overlay.first_retained();
        let commit = overlay.take_commit(device_count);
        // Readers wait from the apply until the new head is published, so they never see a write that a
        // crash could still lose. (The writer's own reads during planning do not take this lock.)
        let shared = self.shared.clone();
        let visibility = shared.visibility.write();
        if !commit.is_empty() {
            self.backend.apply(&commit)?;
            let started = Instant::now();
            self.backend.flush()?;
            self.observer.flushed(started.elapsed());
        }

        let mut view = self.view.write();
        if let Some(config) = overlay.config {
            view.config = config;
        }
        if let Some(states) = overlay.states {
            view.states = states;
        }
        for (device_id, device_view) in overlay.views {
            if let Some(old) = view
                .devices
                .get(&device_id)
                .and_then(|old| old.compliance.next_deadline)
            {
                view.deadlines.remove(&(old, device_id.clone()));
            }
            if let Some(next) = device_view.compliance.next_deadline {
                view.deadlines.insert((next, device_id.clone()));
            }
            view.devices.insert(device_id, Box::new(device_view));
        }
        view.head = overlay.head;
        drop(view);

        self.head = overlay.head;
        self.device_count = device_count;
        if let Some(first_retained) = first_retained {
            self.first_retained = first_retained;
        }
        // Publish the head before broadcasting: a subscriber that reads the new head skips these events,
        // one that read the old head receives them (subscribe, then read the head, as etcd and Kubernetes watches do).
        self.shared
            .publish(overlay.head, device_count, self.first_retained);
        drop(visibility);
        self.observer.head_moved(overlay.head);
        if !commit.events.is_empty() {
            // No subscriber is an error only for the sender; events are in the log either way.
            let _ = self.shared.events.send(Arc::from(commit.events));
        }
        Ok(())
    }

    /// Plans one chunk of compaction: deletes the oldest events that are past the age or count limit, with
    /// their device index entries and the dedup entries they own, and moves the oldest retained position.
    fn plan_compaction(
        &self,
        overlay: &mut Overlay,
        retention: Retention,
        now: Timestamp,
    ) -> WriteResult<Compaction> {
        let first = overlay.first_retained().unwrap_or(self.first_retained);
        let head = overlay.head;
        let keep_from_count = head.saturating_sub(retention.max_events).saturating_add(1);
        let cutoff = Timestamp(
            now.0
                .saturating_sub(i64::try_from(retention.max_age.as_nanos()).unwrap_or(i64::MAX)),
        );
        let mut compacted = overlay.compaction.take().unwrap_or_default();
        let mut removed = 0;
        let mut more = false;
        for event in self.backend.events(first, head) {
            let event = event?;
            if event.position >= keep_from_count && event.time >= cutoff {
                break;
            }
            if removed == retention.chunk {
                more = true;
                break;
            }
            if let EventKind::DeviceReported(reported) = &event.kind {
                let (connector_id, vendor_event_id) =
                    (&reported.connector_id, &reported.vendor_event_id);
                let applied_at = self.backend.dedup_position(connector_id, vendor_event_id)?;
                if applied_at == Some(event.position) {
                    compacted
                        .released_dedup
                        .push((connector_id.clone(), vendor_event_id.clone()));
                }
            }
            compacted.events.push((event.position, event.device_id));
            compacted.first_retained = event.position + 1;
            removed += 1;
        }
        let first_retained = if removed > 0 {
            compacted.first_retained
        } else {
            first
        };
        overlay.compaction = (!compacted.events.is_empty()).then_some(compacted);
        Ok(Compaction {
            removed,
            first_retained,
            more,
        })
    }

    fn config<'a>(view: &'a View, overlay: &'a Overlay) -> &'a Arc<PolicyConfig> {
        overlay.config.as_ref().unwrap_or(&view.config)
    }

    fn states<'a>(view: &'a View, overlay: &'a Overlay) -> &'a Arc<ConnectorStates> {
        overlay.states.as_ref().unwrap_or(&view.states)
    }

    /// Plans one connector batch: refuses it if the connector may not report, drops replays, duplicates and
    /// stale reports, writes the rest with their events, and re-evaluates the devices it touched.
    fn plan_batch(
        &self,
        view: &View,
        overlay: &mut Overlay,
        batch: &ReportBatch,
        now: Timestamp,
    ) -> WriteResult<BatchResult> {
        let connector_id = &batch.connector_id;
        Self::check_accepts_reports(view, overlay, connector_id, now)?;
        let mut result = BatchResult {
            outcome: BatchOutcome::Applied,
            applied: 0,
            stale: 0,
            duplicates: 0,
            position: overlay.head,
        };
        let last_acked = match overlay.checkpoints.get(connector_id) {
            Some(checkpoint) => Some(checkpoint.batch_seq),
            None => self
                .backend
                .checkpoint(connector_id)?
                .map(|checkpoint| checkpoint.batch_seq),
        };
        if last_acked.is_some_and(|last| batch.batch_seq <= last) {
            result.outcome = BatchOutcome::Duplicate;
            return Ok(result);
        }
        let mut touched = Vec::new();
        for report in &batch.reports {
            match self.stage_report(overlay, connector_id, report, now)? {
                ReportFate::Duplicate => result.duplicates += 1,
                ReportFate::Stale => result.stale += 1,
                ReportFate::Applied(device_id) => {
                    if !touched.contains(&device_id) {
                        touched.push(device_id);
                    }
                    result.applied += 1;
                }
            }
        }
        self.reevaluate_devices(view, overlay, touched, now);
        result.position = overlay.head;
        stage_checkpoint(overlay, batch, now);
        Ok(result)
    }

    /// Messages from a partner that is not registered, or not set up and alive, are rejected (Intune:
    /// Microsoft Learn, "Enable the Mobile Threat Defense connector in Intune").
    fn check_accepts_reports(
        view: &View,
        overlay: &Overlay,
        connector_id: &ConnectorId,
        now: Timestamp,
    ) -> WriteResult<()> {
        let Some(connector) = Self::config(view, overlay).connectors.get(connector_id) else {
            return Err(DomainError::FailedPrecondition(format!(
                "connector {connector_id} is not registered; create it with ConnectorService.CreateConnector"
            ))
            .into());
        };
        if !connector.accepts_reports(now) {
            return Err(DomainError::FailedPrecondition(format!(
                "connector {connector_id} is {}; its reports are refused until it is provisioned and has sent a heartbeat",
                connector.state(now).api_name()
            ))
            .into());
        }
        Ok(())
    }

    /// Stages one report: a vendor event already applied is a duplicate, a report older than the stored one
    /// is stale; otherwise the device is written, with a `DeviceReported` event unless the report only
    /// repeats what the partner said.
    fn stage_report(
        &self,
        overlay: &mut Overlay,
        connector_id: &ConnectorId,
        report: &DeviceReport,
        now: Timestamp,
    ) -> WriteResult<ReportFate> {
        let dedup_key = (connector_id.clone(), report.vendor_event_id.clone());
        if overlay.dedup.contains_key(&dedup_key)
            || self
                .backend
                .dedup_position(connector_id, &report.vendor_event_id)?
                .is_some()
        {
            return Ok(ReportFate::Duplicate);
        }
        let existing = match overlay.records.get(&report.device_id) {
            Some(device) => Some(device.clone()),
            None => self.backend.device(&report.device_id)?,
        };
        let is_stale = existing
            .as_ref()
            .and_then(|device| device.reports.get(connector_id))
            .is_some_and(|current| report.observed_at < current.observed_at);
        if is_stale {
            return Ok(ReportFate::Stale);
        }
        let (device, dedup_position) = match existing
            .as_ref()
            .and_then(|device| refreshed(device, connector_id, report, now))
        {
            // The partner's word again, unchanged: its freshness moves (received_at, last_seen and
            // with them the validity period), but the log gets no event.
            Some(device) => {
                let position = device.position;
                (device, position)
            }
            None => {
                if existing.is_none() {
                    overlay.new_devices += 1;
                }
                let position = overlay.head + 1;
                let (device, reported) =
                    apply_report(existing, connector_id, report, position, now);
                overlay.push_event(
                    Some(&device.device_id),
                    EventKind::DeviceReported(reported),
                    now,
                );
                (device, position)
            }
        };
        overlay.dedup.insert(dedup_key, dedup_position);
        let device_id = device.device_id.clone();
        overlay.records.insert(device_id.clone(), device);
        Ok(ReportFate::Applied(device_id))
    }

    /// Plans an admin change: applies it to the configuration, persists the changed object, logs it, and
    /// re-evaluates every device unless it was a heartbeat that changed no connector's state.
    fn plan_admin(
        &self,
        view: &View,
        overlay: &mut Overlay,
        command: AdminCommand,
        now: Timestamp,
    ) -> WriteResult<AdminOutcome> {
        let is_heartbeat = matches!(command, AdminCommand::Heartbeat { .. });
        let mut config = Self::config(view, overlay).clone();
        let (outcome, changed) = admin::apply(&mut config, command, now)?;
        overlay
            .config_changes
            .push(ConfigChange::of(&config, &changed));
        if !is_heartbeat {
            overlay.push_event(
                None,
                EventKind::ConfigChanged {
                    object: changed.object,
                    id: changed.id.clone(),
                    version: changed.version,
                },
                now,
            );
        }
        overlay.config = Some(config);
        let states_changed = self.update_connector_states(view, overlay, now);
        if !is_heartbeat || states_changed {
            let all = self.all_device_ids(view, overlay);
            self.reevaluate_devices(view, overlay, all, now);
        }
        Ok(outcome)
    }

    /// Plans an admin's clearing of a device's known risks: each cleared risk is logged as its own event,
    /// and the device is re-evaluated in the same commit.
    fn plan_clear_known_risk(
        &self,
        view: &View,
        overlay: &mut Overlay,
        device_id: &DeviceId,
        connector_id: Option<&ConnectorId>,
        now: Timestamp,
    ) -> WriteResult<DeviceRecord> {
        let mut device = match overlay.records.get(device_id) {
            Some(device) => device.clone(),
            None => self.backend.device(device_id)?.ok_or_else(|| {
                WriteError::from(DomainError::NotFound {
                    what: "device",
                    id: device_id.to_string(),
                })
            })?,
        };
        let mut cleared = Vec::new();
        for (reporter, report) in &mut device.reports {
            if connector_id.is_none_or(|wanted| wanted == reporter) {
                if let Some(risk) = report.known_risk.take() {
                    cleared.push((reporter.clone(), risk));
                }
            }
        }
        if cleared.is_empty() {
            let whose =
                connector_id.map_or("any connector".to_owned(), |id| format!("connector {id}"));
            return Err(DomainError::FailedPrecondition(format!(
                "device {device_id} has no known risk from {whose} to clear"
            ))
            .into());
        }
        for (connector_id, risk) in cleared {
            tracing::info!(
                device = %device_id,
                connector = %connector_id,
                level = risk.level().api_name(),
                "known risk cleared by an admin"
            );
            overlay.push_event(
                Some(device_id),
                EventKind::KnownRiskCleared { connector_id, risk },
                now,
            );
        }
        overlay.records.insert(device_id.clone(), device.clone());
        self.reevaluate_devices(view, overlay, vec![device_id.clone()], now);
        Ok(device)
    }

    /// Plans a clock tick: connector states that time changed, and devices whose deadline passed.
    fn plan_tick(
        &self,
        view: &View,
        overlay: &mut Overlay,
        full: bool,
        now: Timestamp,
    ) -> WriteResult<u64> {
        let states_changed = self.update_connector_states(view, overlay, now);
        let devices = if full || states_changed {
            self.all_device_ids(view, overlay)
        } else {
            view.deadlines
                .iter()
                .take_while(|(deadline, _)| *deadline <= now)
                .map(|(_, device_id)| device_id.clone())
                .collect()
        };
        self.reevaluate_devices(view, overlay, devices, now);
        Ok(overlay.head)
    }

    /// Recomputes connector states at `now`, logging each change. Returns whether any changed.
    fn update_connector_states(&self, view: &View, overlay: &mut Overlay, now: Timestamp) -> bool {
        let config = Self::config(view, overlay).clone();
        let before = Self::states(view, overlay).clone();
        let after = ConnectorStates::at(&config, now);
        let mut ids: Vec<&ConnectorId> = config.connectors.keys().collect();
        ids.extend(
            before
                .ids()
                .filter(|id| !config.connectors.contains_key(*id)),
        );
        let mut changed = false;
        for connector_id in ids {
            let (previous, current) = (before.get(connector_id), after.get(connector_id));
            if previous != current {
                changed = true;
                overlay.push_event(
                    None,
                    EventKind::ConnectorStateChanged {
                        connector_id: connector_id.clone(),
                        previous,
                        current,
                    },
                    now,
                );
            }
        }
        overlay.states_changed |= changed;
        overlay.states = Some(Arc::new(after));
        changed
    }

    fn all_device_ids(&self, view: &View, overlay: &Overlay) -> Vec<DeviceId> {
        let mut ids: Vec<DeviceId> = view.devices.keys().cloned().collect();
        ids.extend(
            overlay
                .records
                .keys()
                .filter(|id| !view.devices.contains_key(*id))
                .cloned(),
        );
        ids
    }

    /// Re-evaluates devices against the group's configuration, logging what changed and persisting memos.
    fn reevaluate_devices(
        &self,
        view: &View,
        overlay: &mut Overlay,
        device_ids: Vec<DeviceId>,
        now: Timestamp,
    ) {
        let config = Self::config(view, overlay).clone();
        let states = Self::states(view, overlay).clone();
        for device_id in device_ids {
            let summary = match overlay.records.get(&device_id) {
                Some(record) => DeviceSummary::from_record(record),
                None => match view.devices.get(&device_id) {
                    Some(device) => device.summary.clone(),
                    None => continue,
                },
            };
            let previous = overlay
                .views
                .get(&device_id)
                .or_else(|| view.devices.get(&device_id).map(|device| &**device));
            let previous_memo = previous.map(DeviceView::memo);
            let (device_view, events) = reevaluate(&config, &states, summary, previous, now);
            for kind in events {
                overlay.push_event(Some(&device_id), kind, now);
            }
            let memo = device_view.memo();
            if previous_memo.as_ref() != Some(&memo) {
                overlay.memos.insert(device_id.clone(), memo);
            }
            overlay.views.insert(device_id, device_view);
        }
    }
}

fn note_storage_failure<T>(result: &WriteResult<T>, failure: &mut Option<StoreError>) {
    if let Err(WriteError::Store(err)) = result {
        failure.get_or_insert_with(|| err.clone());
    }
}

/// What became of one report of a batch.
enum ReportFate {
    /// Its vendor event was already applied.
    Duplicate,
    /// Older than the stored report of its device and connector.
    Stale,
    /// Written, for this device.
    Applied(DeviceId),
}

/// Stages the batch's checkpoint: the connector's cursor after it, durable with the batch.
fn stage_checkpoint(overlay: &mut Overlay, batch: &ReportBatch, now: Timestamp) {
    let checkpoint = Checkpoint {
        cursor: batch.checkpoint.clone(),
        batch_seq: batch.batch_seq,
        position: overlay.head,
        updated_at: now,
    };
    overlay
        .checkpoints
        .insert(batch.connector_id.clone(), checkpoint);
}

/// A planned result once the commit is known: a failed commit fails every request that was to be applied.
fn after_commit<T>(committed: &Result<(), StoreError>, planned: WriteResult<T>) -> WriteResult<T> {
    match (committed, planned) {
        (Ok(()), planned) => planned,
        (Err(err), Ok(_)) => Err(WriteError::Store(err.clone())),
        (Err(_), Err(err)) => Err(err),
    }
}

/// The device's new state and the event payload recording one applied report.
/// The device with `connector`'s report refreshed, when `report` says what the stored report says (same
/// health state, threats and inventory): only its times and event id move. `None` when it changes
/// anything, which makes it a full report with its own event.
fn refreshed(
    device: &DeviceRecord,
    connector: &ConnectorId,
    report: &DeviceReport,
    now: Timestamp,
) -> Option<DeviceRecord> {
    let current = device.reports.get(connector)?;
    let unchanged = current.health_state == report.health_state
        && current.threats == report.threats
        && device.info == report.info;
    if !unchanged {
        return None;
    }
    let mut device = device.clone();
    device.last_seen = now;
    let current = device.reports.get_mut(connector)?;
    current.observed_at = report.observed_at;
    current.received_at = now;
    current.vendor_event_id.clone_from(&report.vendor_event_id);
    Some(device)
}

fn apply_report(
    existing: Option<DeviceRecord>,
    connector: &ConnectorId,
    report: &DeviceReport,
    position: u64,
    now: Timestamp,
) -> (DeviceRecord, DeviceReported) {
    let mut device = existing.unwrap_or_else(|| DeviceRecord {
        device_id: report.device_id.clone(),
        info: report.info.clone(),
        first_seen: now,
        last_seen: now,
        reports: Default::default(),
        position,
    });
    let previous_level = device.level();
    let known_risk = device
        .reports
        .get(connector)
        .and_then(|previous| previous.risk_kept_for(report.health_state));
    device.info = report.info.clone();
    device.last_seen = now;
    device.position = position;
    device.reports.insert(
        connector.clone(),
        PartnerReport {
            health_state: report.health_state,
            threats: report.threats.clone(),
            observed_at: report.observed_at,
            received_at: now,
            vendor_event_id: report.vendor_event_id.clone(),
            position,
            known_risk,
        },
    );
    let reported = DeviceReported {
        connector_id: connector.clone(),
        health_state: report.health_state,
        previous_level,
        current_level: device.level(),
        vendor_event_id: report.vendor_event_id.clone(),
        observed_at: report.observed_at,
        threats: report.threats.clone(),
    };
    (device, reported)
}

impl std::fmt::Debug for WriteRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteRequest::Batch { batch, .. } => {
                write!(f, "Batch({}#{})", batch.connector_id, batch.batch_seq)
            }
            WriteRequest::Admin { command, .. } => write!(f, "Admin({command:?})"),
            WriteRequest::ClearKnownRisk {
                device_id,
                connector_id,
                ..
            } => write!(f, "ClearKnownRisk({device_id}, {connector_id:?})"),
            WriteRequest::Tick { full, .. } => write!(f, "Tick(full: {full})"),
            WriteRequest::Compact { retention, .. } => write!(f, "Compact({retention:?})"),
            WriteRequest::Shutdown { .. } => f.write_str("Shutdown"),
        }
    }
}
