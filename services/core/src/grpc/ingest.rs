//! `IngestService`: the connector-facing stream of report batches and acknowledgements.

use std::sync::Arc;

use riskgate_proto::v1::{self as pb, ingest_service_server::IngestService};
use tokio::sync::{mpsc, oneshot};
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, Streaming};

use super::{
    lease::{IngestLeases, Lease},
    limits::{acting_for, caller, check_connector, client_key, message_size_status, StreamLimiter},
    parse, render, Limits,
};
use crate::{error::CoreError, metrics::Metrics};
use riskgate_policy::{
    domain::{Clock, ReportBatch},
    error::DomainError,
};
use riskgate_store::{BatchResult, RiskStore, WriteResult};

/// Batches one stream may have queued for the writer before its acknowledgements are read.
const PIPELINE_DEPTH: usize = 32;

/// Whether a read error of the inbound stream is a message the client sent and the server refuses
/// (over the size limit, or not a `ReportBatch` at all), which ends the stream with that status.
/// Anything else is the client going away, and there is nobody left to answer.
fn is_refused_message(status: &Status) -> bool {
    matches!(
        status.code(),
        tonic::Code::ResourceExhausted | tonic::Code::InvalidArgument
    )
}

/// What the ingest API serves with.
#[derive(Debug, Clone)]
pub(crate) struct IngestSetup {
    /// Where batches are written.
    pub(crate) store: RiskStore,
    /// The batch limits.
    pub(crate) limits: Limits,
    /// The "now" batches are checked at.
    pub(crate) clock: Arc<dyn Clock>,
    /// Where refused batches are counted.
    pub(crate) metrics: Arc<Metrics>,
    /// Streams end with UNAVAILABLE once it is cancelled.
    pub(crate) shutdown: CancellationToken,
    /// The per-client stream limit.
    pub(crate) streams: Arc<StreamLimiter>,
}

/// The ingest API.
#[derive(Debug, Clone)]
pub(crate) struct IngestApi {
    setup: IngestSetup,
    leases: Arc<IngestLeases>,
}

impl IngestApi {
    /// Serves ingest as `setup` says.
    pub(crate) fn new(setup: IngestSetup) -> Self {
        Self {
            setup,
            leases: Arc::default(),
        }
    }
}

impl IngestApi {
    /// Queues a parsed batch in the writer if this stream holds (or can take) its connector's lease.
    async fn queue(&self, held: &mut Vec<Lease>, batch: ReportBatch) -> Pending {
        let index = match held
            .iter()
            .position(|lease| lease.connector_id() == &batch.connector_id)
        {
            Some(index) => index,
            None => {
                held.push(self.leases.take(&batch.connector_id).await);
                held.len() - 1
            }
        };
        let batch_seq = batch.batch_seq;
        let queued = held[index]
            .while_held(self.setup.store.enqueue(batch))
            .await;
        match queued.and_then(|queued| queued.map_err(CoreError::from)) {
            Ok(result) => Pending::Ack { batch_seq, result },
            Err(err) => {
                if matches!(err, CoreError::Domain(DomainError::Aborted(_))) {
                    tracing::warn!(error = %err, "fenced off an older ingest stream");
                }
                Pending::Fail(err.into())
            }
        }
    }
}

/// The status an Ingest stream ends with when the server stops before a batch is answered.
fn shutting_down() -> Status {
    CoreError::Unavailable("server is shutting down".into()).into()
}

/// What the acknowledgement forwarder waits for, in stream order.
enum Pending {
    /// A batch queued in the writer.
    Ack {
        batch_seq: u64,
        result: oneshot::Receiver<WriteResult<BatchResult>>,
    },
    /// The stream ends with this status after the earlier acknowledgements.
    Fail(Status),
}

#[tonic::async_trait]
impl IngestService for IngestApi {
    type IngestStream = ReceiverStream<Result<pb::BatchAck, Status>>;

    async fn ingest(
        &self,
        request: Request<Streaming<pb::ReportBatch>>,
    ) -> Result<Response<Self::IngestStream>, Status> {
        let slot = self.setup.streams.acquire(client_key(&request))?;
        let principal = caller(&request);
        let mut inbound = request.into_inner();
        let (pending_tx, mut pending_rx) = mpsc::channel::<Pending>(PIPELINE_DEPTH);
        let (ack_tx, ack_rx) = mpsc::channel(PIPELINE_DEPTH);
        let api = self.clone();

        // Reader: parse each batch and queue it in the writer without waiting for earlier acknowledgements,
        // so one connector can keep several batches in a commit group.
        tokio::spawn(async move {
            // Held while the stream reads: the per-client stream limit.
            let _slot = slot;
            // The connectors this stream writes for, one lease each.
            let mut leases: Vec<Lease> = Vec::new();
            loop {
                let next = tokio::select! {
                    biased;
                    () = api.setup.shutdown.cancelled() => {
                        let _ = pending_tx.send(Pending::Fail(shutting_down())).await;
                        return;
                    }
                    next = inbound.message() => next,
                };
                let message = match next {
                    Ok(Some(message)) => message,
                    Ok(None) => return,
                    Err(status) => {
                        let status = message_size_status(status);
                        if is_refused_message(&status) {
                            tracing::warn!(%status, "refused ingest message");
                            api.setup.metrics.record_rejected(0);
                            let _ = pending_tx.send(Pending::Fail(status)).await;
                        } else {
                            tracing::debug!(%status, "ingest stream ended by the client");
                        }
                        return;
                    }
                };
                let report_count = message.reports.len();
                let parsed = parse::report_batch(message, &api.setup.limits, api.setup.clock.now())
                    .and_then(|batch| {
                        check_connector(principal.as_ref(), &batch.connector_id)?;
                        Ok(batch)
                    });
                let pending = match parsed {
                    Ok(batch) => api.queue(&mut leases, batch).await,
                    Err(err) => {
                        tracing::warn!(error = %err, "rejected ingest batch");
                        api.setup.metrics.record_rejected(report_count);
                        Pending::Fail(err.into())
                    }
                };
                let failed = matches!(pending, Pending::Fail(_));
                if pending_tx.send(pending).await.is_err() || failed {
                    return;
                }
            }
        });

        // Forwarder: acknowledge in stream order, each only once its batch is durable.
        tokio::spawn(async move {
            while let Some(pending) = pending_rx.recv().await {
                let item = match pending {
                    Pending::Ack { batch_seq, result } => match result.await {
                        Ok(Ok(result)) => Ok(render::batch_ack(batch_seq, &result)),
                        Ok(Err(err)) => Err(CoreError::from(err).into()),
                        Err(_) => Err(shutting_down()),
                    },
                    Pending::Fail(status) => Err(status),
                };
                let ends_stream = item.is_err();
                // A client that went away loses only its acknowledgements: its queued batches still commit.
                if ack_tx.send(item).await.is_err() || ends_stream {
                    return;
                }
            }
        });

        Ok(Response::new(ReceiverStream::new(ack_rx)))
    }

    async fn get_checkpoint(
        &self,
        request: Request<pb::GetCheckpointRequest>,
    ) -> Result<Response<pb::Checkpoint>, Status> {
        let connector_id = acting_for(&request, |m| &m.connector_id)?;
        let checkpoint = self
            .setup
            .store
            .checkpoint(&connector_id)
            .map_err(CoreError::from)?
            .ok_or_else(|| {
                CoreError::not_found("checkpoint for connector", connector_id.to_string())
            })?;
        Ok(Response::new(render::checkpoint(&connector_id, checkpoint)))
    }
}
