//! gRPC helpers: running the Ingest stream, following paged queries to the end, checking error
//! statuses, and snapshotting everything a store exposes so two states can be compared.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, ensure, Context as _};
use riskgate_proto::v1::{
    device_service_client::DeviceServiceClient, ingest_service_client::IngestServiceClient,
    BatchAck, Checkpoint, Device, DeviceHistoryRequest, Event, GetCheckpointRequest,
    GetDeviceRequest, GetStoreInfoRequest, ListDevicesRequest, ReportBatch, StoreInfo,
};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{transport::Channel, Code, Status, Streaming};

/// An `IngestService` client.
pub type IngestClient = IngestServiceClient<Channel>;

/// A `DeviceService` client.
pub type DeviceClient = DeviceServiceClient<Channel>;

/// Guard against a server that keeps returning page tokens.
const MAX_PAGES: usize = 10_000;

/// Opens one Ingest stream, sends `batches`, closes the sending side and collects every
/// acknowledgement. Returns the status that ended the stream if it was not OK (acknowledgements
/// received before it are dropped; see [`ingest_outcome`] to keep them).
pub async fn ingest(
    client: &mut IngestClient,
    batches: Vec<ReportBatch>,
) -> Result<Vec<BatchAck>, Status> {
    let outcome = ingest_outcome(client, batches).await;
    match outcome.error {
        None => Ok(outcome.acks),
        Some(status) => Err(status),
    }
}

/// What one Ingest stream produced: the acknowledgements, then possibly an error status.
#[derive(Debug, Clone)]
pub struct IngestOutcome {
    /// The acknowledgements received, in order.
    pub acks: Vec<BatchAck>,
    /// The status that ended the stream, if it was not OK.
    pub error: Option<Status>,
}

/// Like [`ingest`], but keeps the acknowledgements received before an error.
pub async fn ingest_outcome(client: &mut IngestClient, batches: Vec<ReportBatch>) -> IngestOutcome {
    let mut acks = Vec::new();
    let mut stream = match client.ingest(tokio_stream::iter(batches)).await {
        Ok(response) => response.into_inner(),
        Err(status) => {
            return IngestOutcome {
                acks,
                error: Some(status),
            }
        }
    };
    loop {
        match stream.message().await {
            Ok(Some(ack)) => acks.push(ack),
            Ok(None) => return IngestOutcome { acks, error: None },
            Err(status) => {
                return IngestOutcome {
                    acks,
                    error: Some(status),
                }
            }
        }
    }
}

/// An open Ingest stream whose sending side stays open until dropped, so a test can act between
/// acknowledgements (for example kill the server right after one).
#[derive(Debug)]
pub struct IngestSession {
    sender: mpsc::Sender<ReportBatch>,
    acks: Streaming<BatchAck>,
}

impl IngestSession {
    /// Opens a stream, queueing `initial` batches first (so a server that waits for the first
    /// message before answering works too).
    pub async fn open(
        client: &mut IngestClient,
        initial: Vec<ReportBatch>,
    ) -> Result<Self, Status> {
        let (sender, receiver) = mpsc::channel(initial.len().max(64));
        for batch in initial {
            sender
                .try_send(batch)
                .map_err(|_| Status::internal("test channel full"))?;
        }
        let acks = client
            .ingest(ReceiverStream::new(receiver))
            .await?
            .into_inner();
        Ok(IngestSession { sender, acks })
    }

    /// Queues one more batch on the stream.
    pub async fn send(&self, batch: ReportBatch) -> anyhow::Result<()> {
        self.sender
            .send(batch)
            .await
            .context("the Ingest request stream is closed")
    }

    /// The next acknowledgement; `Ok(None)` if the server ended the stream.
    pub async fn next_ack(&mut self) -> Result<Option<BatchAck>, Status> {
        self.acks.message().await
    }
}

/// Checks that `result` is an error with `code` whose message contains `field`, and returns the
/// message.
pub fn expect_status<T: std::fmt::Debug>(
    result: Result<T, Status>,
    code: Code,
    field: &str,
) -> anyhow::Result<String> {
    match result {
        Ok(value) => bail!("expected {code:?} naming {field:?}, got success: {value:?}"),
        Err(status) => {
            ensure!(
                status.code() == code,
                "expected {code:?} naming {field:?}, got {:?}: {:?}",
                status.code(),
                status.message()
            );
            ensure!(
                status.message().contains(field),
                "expected the {code:?} message to name {field:?}, got {:?}",
                status.message()
            );
            Ok(status.message().to_owned())
        }
    }
}

/// GetDevice, with `Ok(None)` for NOT_FOUND.
pub async fn get_device(
    client: &mut DeviceClient,
    device_id: &str,
) -> anyhow::Result<Option<Device>> {
    let request = GetDeviceRequest {
        device_id: device_id.to_owned(),
    };
    match client.get_device(request).await {
        Ok(response) => Ok(Some(response.into_inner())),
        Err(status) if status.code() == Code::NotFound => Ok(None),
        Err(status) => Err(status).with_context(|| format!("GetDevice {device_id:?}")),
    }
}

/// GetCheckpoint, with `Ok(None)` for NOT_FOUND.
pub async fn get_checkpoint(
    client: &mut IngestClient,
    connector_id: &str,
) -> anyhow::Result<Option<Checkpoint>> {
    let request = GetCheckpointRequest {
        connector_id: connector_id.to_owned(),
    };
    match client.get_checkpoint(request).await {
        Ok(response) => Ok(Some(response.into_inner())),
        Err(status) if status.code() == Code::NotFound => Ok(None),
        Err(status) => Err(status).with_context(|| format!("GetCheckpoint {connector_id:?}")),
    }
}

/// GetStoreInfo.
pub async fn store_info(client: &mut DeviceClient) -> anyhow::Result<StoreInfo> {
    Ok(client
        .get_store_info(GetStoreInfoRequest {})
        .await
        .context("GetStoreInfo")?
        .into_inner())
}

/// Follows ListDevices pages from the first one (`request.page_token` is ignored) until the token
/// is empty. Returns every device and the size of each page.
pub async fn list_all_devices(
    client: &mut DeviceClient,
    request: ListDevicesRequest,
) -> anyhow::Result<(Vec<Device>, Vec<usize>)> {
    let mut devices = Vec::new();
    let mut page_sizes = Vec::new();
    let mut seen_tokens = BTreeSet::new();
    let mut token = String::new();
    for _ in 0..MAX_PAGES {
        let page = client
            .list_devices(ListDevicesRequest {
                page_token: token.clone(),
                ..request.clone()
            })
            .await
            .with_context(|| format!("ListDevices page {} of {request:?}", page_sizes.len() + 1))?
            .into_inner();
        page_sizes.push(page.devices.len());
        devices.extend(page.devices);
        if page.next_page_token.is_empty() {
            return Ok((devices, page_sizes));
        }
        ensure!(
            seen_tokens.insert(page.next_page_token.clone()),
            "ListDevices returned the page token {:?} twice",
            page.next_page_token
        );
        token = page.next_page_token;
    }
    bail!("ListDevices did not end after {MAX_PAGES} pages")
}

/// Follows DeviceHistory pages of `page_size` until the token is empty. Returns every event and the
/// size of each page.
pub async fn full_history(
    client: &mut DeviceClient,
    device_id: &str,
    page_size: u32,
) -> anyhow::Result<(Vec<Event>, Vec<usize>)> {
    let mut events = Vec::new();
    let mut page_sizes = Vec::new();
    let mut seen_tokens = BTreeSet::new();
    let mut token = String::new();
    for _ in 0..MAX_PAGES {
        let page = client
            .device_history(DeviceHistoryRequest {
                device_id: device_id.to_owned(),
                page_size,
                page_token: token.clone(),
            })
            .await
            .with_context(|| format!("DeviceHistory {device_id:?} page {}", page_sizes.len() + 1))?
            .into_inner();
        page_sizes.push(page.events.len());
        events.extend(page.events);
        if page.next_page_token.is_empty() {
            return Ok((events, page_sizes));
        }
        ensure!(
            seen_tokens.insert(page.next_page_token.clone()),
            "DeviceHistory returned the page token {:?} twice",
            page.next_page_token
        );
        token = page.next_page_token;
    }
    bail!("DeviceHistory of {device_id:?} did not end after {MAX_PAGES} pages")
}

/// Everything a store exposes through the API, for comparing two states (before and after a
/// restart, before and after a replay).
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// GetStoreInfo.
    pub info: StoreInfo,
    /// Every device from ListDevices, in order.
    pub devices: Vec<Device>,
    /// Every device's full history, by device id.
    pub histories: BTreeMap<String, Vec<Event>>,
    /// GetCheckpoint of each requested connector (`None` for NOT_FOUND).
    pub checkpoints: BTreeMap<String, Option<Checkpoint>>,
}

/// Takes a [`Snapshot`] of the server behind `channel`, with the checkpoints of `connectors`.
pub async fn snapshot(channel: Channel, connectors: &[&str]) -> anyhow::Result<Snapshot> {
    let mut devices_client = DeviceClient::new(channel.clone());
    let mut ingest_client = IngestClient::new(channel);
    let info = store_info(&mut devices_client).await?;
    let (devices, _) = list_all_devices(
        &mut devices_client,
        ListDevicesRequest {
            page_size: 1000,
            ..Default::default()
        },
    )
    .await?;
    let mut histories = BTreeMap::new();
    for device in &devices {
        let (events, _) = full_history(&mut devices_client, &device.device_id, 1000).await?;
        histories.insert(device.device_id.clone(), events);
    }
    let mut checkpoints = BTreeMap::new();
    for connector in connectors {
        checkpoints.insert(
            (*connector).to_owned(),
            get_checkpoint(&mut ingest_client, connector).await?,
        );
    }
    Ok(Snapshot {
        info,
        devices,
        histories,
        checkpoints,
    })
}
