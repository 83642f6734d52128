//! Past the core's retention (`OUT_OF_RANGE`): the stream's status says so and its receiver hears it in
//! a `stream-updated`; then the task reads a snapshot and sends each device's current state as events:
//! its compliance (`previous_status` equal to `current_status`, since what came before is gone), its
//! level (no `previous_level`) and a `session-revoked` per resource it may not reach.

use riskgate_caep::{
    translate::{self, Change, Compliance},
    ComplianceStatus, Event, StreamStatus, Subject,
};

use super::Stop;
use crate::{
    poll::Batch,
    source::DeviceState,
    store::Position,
    streams::StreamHandle,
    transmitter::{unix_now, Transmitter},
};

/// Past the core's retention: the status says so and the receiver hears it in a `stream-updated`.
pub(super) fn out_of_range(transmitter: &Transmitter, handle: &StreamHandle) {
    let reason = "the transmitter fell behind the core's retention; events in between are lost, the current state of each subject follows".to_owned();
    tracing::warn!(stream = %handle.record().stream_id, "{reason}");
    let updated = handle.update(&transmitter.store, |record| {
        record.status_reason = Some(reason.clone());
        record.acked.clear();
        record.clone()
    });
    let record = match updated {
        Ok(record) => record,
        Err(err) => {
            tracing::error!(error = %err, "saving the stream's status");
            return;
        }
    };
    let event = Event::StreamUpdated {
        status: StreamStatus::Enabled,
        reason: Some(reason),
    };
    let subject = Subject::Opaque {
        id: record.stream_id.clone(),
    };
    match transmitter.sign_own(&record, subject, event) {
        Ok(set) => handle.inject(set),
        Err(err) => tracing::error!(error = %err, "signing stream-updated"),
    }
}

/// After falling past the core's retention: each device's current state, as of the snapshot's end.
pub(super) fn state_batch(
    transmitter: &Transmitter,
    handle: &StreamHandle,
    devices: Vec<DeviceState>,
    position: Position,
) -> Result<Batch, Stop> {
    let record = handle.record();
    let mut sets = Vec::new();
    for device in devices {
        transmitter
            .core
            .remember(&device.device_id, device.position, device.owner.clone());
        let subject = Subject::device(
            &device.device_id,
            device.owner.as_deref(),
            transmitter.tenant.as_deref(),
        );
        if !handle.wants(&subject, transmitter.default_subjects) {
            continue;
        }
        for event in current_state(&device, unix_now()) {
            if !Transmitter::delivers(&record, &event.uri()) {
                continue;
            }
            let jti = format!(
                "{}.{}.state.{}",
                record.stream_id,
                position.position,
                sets.len()
            );
            let set = transmitter
                .sign(
                    &record,
                    jti,
                    Some(position.position),
                    subject.clone(),
                    event,
                )
                .map_err(|err| Stop::Failed(err.to_string()))?;
            sets.push(set);
        }
    }
    Ok(Batch {
        position: Some(position),
        sets,
    })
}

/// A device's state as events: its compliance (previous = current, since what came before is past the
/// retention), its level, and a session-revoked per resource it may not reach.
fn current_state(device: &DeviceState, timestamp: u64) -> Vec<Event> {
    let as_change = |change: Change| translate::event(&change, timestamp);
    let compliance = as_change(Change::Compliance {
        previous: flipped(device.compliance),
        current: device.compliance,
        reasons: vec![
            "current state (the transmitter fell behind the core's retention)".to_owned(),
        ],
    })
    .map(|event| match event {
        Event::DeviceComplianceChange {
            current, context, ..
        } => Event::DeviceComplianceChange {
            previous: current,
            current,
            context,
        },
        other => other,
    });
    let level = device.level.and_then(|level| {
        as_change(Change::RiskLevel {
            previous: None,
            current: level,
            threats: Vec::new(),
        })
    });
    let revoked = device.denied.iter().filter_map(|resource| {
        as_change(Change::AccessDenied {
            resource: resource.clone(),
            reasons: vec!["current state".to_owned()],
        })
    });
    compliance.into_iter().chain(level).chain(revoked).collect()
}

/// A compliance of the other CAEP status, so the translation yields an event (its `previous` is then
/// replaced by the current status).
fn flipped(compliance: Compliance) -> Compliance {
    match compliance.caep() {
        ComplianceStatus::Compliant => Compliance::Noncompliant,
        ComplianceStatus::NotCompliant => Compliance::Compliant,
    }
}
