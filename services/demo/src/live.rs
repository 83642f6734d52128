//! Following the core live: a `RiskStream.Subscribe` for the demo devices (stream.proto), and after
//! each of their events a `BatchCheckAccess` for both resources, which answers from the core's view
//! with the decision, the compliance and the level that counts. Every access flip the stream
//! carries is recorded on the board, where the scenario waits for it.

use riskgate_proto::v1::{self as api, subscribe_response::Message};
use tokio::sync::watch;
use tonic::Streaming;

use crate::{
    auth::CoreChannel,
    board::{compliance_name, decision_name, health_name, level_name, Board, Flip},
    resources::RESOURCES,
};

/// Subscribes to the demo devices' reports, compliance changes and access flips. Call it before
/// the connectors start, so that no event is missed (the snapshot covers what came before).
pub(crate) async fn subscribe(
    channel: &CoreChannel,
    board: &watch::Sender<Board>,
) -> anyhow::Result<Streaming<api::SubscribeResponse>> {
    let device_ids = board
        .borrow()
        .rows
        .iter()
        .map(|row| row.device.to_owned())
        .collect();
    let kinds = [
        api::EventKind::DeviceReported,
        api::EventKind::DeviceComplianceChange,
        api::EventKind::AccessDecisionChange,
    ];
    let mut client = api::risk_stream_client::RiskStreamClient::new(channel.clone());
    let stream = client
        .subscribe(api::SubscribeRequest {
            filter: Some(api::SubscriptionFilter {
                device_ids,
                kinds: kinds.iter().map(|kind| *kind as i32).collect(),
                ..Default::default()
            }),
            cursor: String::new(),
            // Progress messages move the stream's position past events it does not match, so
            // that the board knows soon when it has caught up with a decision (`Board::caught_up`).
            progress_interval_ms: 100,
        })
        .await?
        .into_inner();
    Ok(stream)
}

/// Applies the stream to the board until it ends (which only happens when the core stops).
pub(crate) async fn observe(
    mut stream: Streaming<api::SubscribeResponse>,
    channel: CoreChannel,
    board: &watch::Sender<Board>,
) -> anyhow::Result<()> {
    let mut decisions = api::decision_service_client::DecisionServiceClient::new(channel);
    while let Some(message) = stream.message().await? {
        let device_id = match message.message {
            Some(Message::Snapshot(snapshot)) => snapshot.device.map(|device| device.device_id),
            Some(Message::Event(api::StreamEvent {
                event: Some(event), ..
            })) => {
                record(board, &event);
                Some(event.device_id)
            }
            Some(Message::SnapshotEnd(end)) => {
                board.send_modify(|board| board.stream_position = end.position);
                None
            }
            Some(Message::Progress(progress)) => {
                board.send_modify(|board| board.stream_position = progress.position);
                None
            }
            _ => None,
        };
        if let Some(device_id) = device_id {
            refresh(&mut decisions, board, &device_id).await?;
        }
    }
    Ok(())
}

/// Notes an event as the latest one, and a flip in the flip list and the log.
fn record(board: &watch::Sender<Board>, event: &api::Event) {
    let device = &event.device_id;
    let text = match &event.kind {
        Some(api::event::Kind::DeviceReported(report)) => {
            let open: Vec<&str> = report
                .threats
                .iter()
                .filter(|threat| threat.status == api::ThreatStatus::Open as i32)
                .map(|threat| threat.classification.as_str())
                .collect();
            format!(
                "{device}: {} reports {} (device level {} -> {}){}",
                report.connector_id,
                health_name(report.health_state()),
                level_name(report.previous_level()),
                level_name(report.current_level()),
                if open.is_empty() {
                    String::new()
                } else {
                    format!(", open threats: {}", open.join(", "))
                }
            )
        }
        Some(api::event::Kind::DeviceComplianceChange(change)) => format!(
            "{device}: compliance {} -> {}{}",
            compliance_name(change.previous_status()),
            compliance_name(change.current_status()),
            first_reason(&change.reasons)
        ),
        Some(api::event::Kind::AccessDecisionChange(change)) => format!(
            "{device}: {} {} -> {}{}",
            change.resource,
            decision_name(change.previous_decision()),
            decision_name(change.current_decision()),
            first_reason(&change.reasons)
        ),
        _ => {
            board.send_modify(|board| board.stream_position = event.position);
            return;
        }
    };
    board.send_modify(|board| {
        board.stream_position = event.position;
        board.latest_event = format!("#{} {text}", event.position);
        if let Some(api::event::Kind::AccessDecisionChange(change)) = &event.kind {
            let flip = Flip {
                device: device.clone(),
                resource: change.resource.clone(),
                from: change.previous_decision(),
                to: change.current_decision(),
            };
            board.log.push(flip.line());
            board.flips.push(flip);
        }
    });
}

/// `: <first reason>`, or nothing.
fn first_reason(reasons: &[api::Reason]) -> String {
    reasons
        .first()
        .map(|reason| format!(": {}", reason.message))
        .unwrap_or_default()
}

/// Asks the core for the device's decisions and puts them in its row.
async fn refresh(
    decisions: &mut api::decision_service_client::DecisionServiceClient<CoreChannel>,
    board: &watch::Sender<Board>,
    device_id: &str,
) -> anyhow::Result<()> {
    if board.borrow().row(device_id).is_none() {
        return Ok(());
    }
    let checks = RESOURCES
        .iter()
        .map(|resource| api::CheckAccessRequest {
            device_id: device_id.to_owned(),
            user_id: String::new(),
            resource: (*resource).to_owned(),
        })
        .collect();
    let answers = decisions
        .batch_check_access(api::BatchCheckAccessRequest { checks })
        .await?
        .into_inner()
        .decisions;
    board.send_modify(|board| {
        let Some(row) = board.row_mut(device_id) else {
            return;
        };
        // The answers come in the order of the checks, one per resource.
        for (slot, answer) in row.access.iter_mut().zip(&answers) {
            *slot = answer.decision();
            row.position = row.position.max(answer.position);
            row.level = answer.level();
            row.compliance = answer.compliance();
        }
    });
    Ok(())
}
