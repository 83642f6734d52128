//! The control channel to connector hosts: each host holds a `ConnectorService.Control` stream open (the
//! host only dials out, so this is how the core reaches it), and `ConnectorService.Recheck` sends a
//! command down it and waits for the host's `CompleteControl` answer. Nothing here is stored: a command
//! is answered within its timeout or not at all, and a host that reconnects simply opens a new stream.

use std::{collections::HashMap, sync::Arc, time::Duration};

use crate::error::{CoreError, CoreResult};
use parking_lot::Mutex;
use riskgate_proto::v1 as pb;
use tokio::sync::{mpsc, oneshot};
use tonic::Status;

use riskgate_policy::{domain::ConnectorId, error::DomainError};

/// Commands waiting in one control stream before `Recheck` refuses more.
const STREAM_QUEUE: usize = 16;

/// What the stream's receiver yields.
pub(crate) type ControlItem = Result<pb::ControlCommand, Status>;

/// The open control streams and the commands waiting for an answer.
#[derive(Debug, Clone, Default)]
pub(crate) struct ControlHub {
    state: Arc<Mutex<HubState>>,
}

#[derive(Debug, Default)]
struct HubState {
    streams: HashMap<ConnectorId, mpsc::Sender<ControlItem>>,
    pending: HashMap<u64, (ConnectorId, oneshot::Sender<pb::ControlResult>)>,
    next_command: u64,
}

impl ControlHub {
    fn lock(&self) -> parking_lot::MutexGuard<'_, HubState> {
        self.state.lock()
    }

    /// Opens the control stream of `connector_id`; an older one ends with ABORTED.
    pub(crate) fn open(&self, connector_id: ConnectorId) -> mpsc::Receiver<ControlItem> {
        let (tx, rx) = mpsc::channel(STREAM_QUEUE);
        if let Some(older) = self.lock().streams.insert(connector_id.clone(), tx) {
            let _ = older.try_send(Err(CoreError::Domain(DomainError::Aborted(format!(
                "a newer control stream for connector {connector_id} replaced this one"
            )))
            .into()));
        }
        rx
    }

    /// Sends a re-check to `connector_id`'s host and waits at most `timeout` for its answer.
    pub(crate) async fn recheck(
        &self,
        connector_id: &ConnectorId,
        device_ids: Vec<String>,
        timeout: Duration,
    ) -> CoreResult<pb::ControlResult> {
        let (answer_tx, answer_rx) = oneshot::channel();
        let command_id = {
            let mut state = self.lock();
            let stream = state
                .streams
                .get(connector_id)
                .filter(|stream| !stream.is_closed())
                .cloned()
                .ok_or_else(|| {
                    CoreError::Unavailable(format!(
                        "no host of connector {connector_id} holds a control stream open: it is not running, or predates re-checks"
                    ))
                })?;
            state.next_command += 1;
            let command_id = state.next_command;
            let command = pb::ControlCommand {
                command_id,
                command: Some(pb::control_command::Command::Recheck(pb::RecheckCommand {
                    device_ids,
                })),
            };
            stream.try_send(Ok(command)).map_err(|_| {
                CoreError::Unavailable(format!(
                    "the control stream of connector {connector_id} is full or closed; try again"
                ))
            })?;
            state
                .pending
                .insert(command_id, (connector_id.clone(), answer_tx));
            command_id
        };
        let answer = tokio::time::timeout(timeout, answer_rx).await;
        self.lock().pending.remove(&command_id);
        match answer {
            Ok(Ok(result)) => Ok(result),
            Ok(Err(_)) | Err(_) => Err(CoreError::DeadlineExceeded(format!(
                "the host of connector {connector_id} did not answer the re-check within {timeout:?}"
            ))),
        }
    }

    /// A host's answer to a command of its stream.
    pub(crate) fn complete(
        &self,
        connector_id: &ConnectorId,
        result: pb::ControlResult,
    ) -> CoreResult<()> {
        let mut state = self.lock();
        match state.pending.get(&result.command_id) {
            Some((owner, _)) if owner == connector_id => {}
            _ => {
                return Err(CoreError::not_found(
                    "control command",
                    result.command_id.to_string(),
                ))
            }
        }
        if let Some((_, answer)) = state.pending.remove(&result.command_id) {
            let _ = answer.send(result);
        }
        Ok(())
    }
}
