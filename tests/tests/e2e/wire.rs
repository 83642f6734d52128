//! Bytes that are not the message they claim to be: a truncated message, a string field that is not
//! UTF-8, a wrong wire type. Sent as raw bytes over real gRPC, each is refused with INVALID_ARGUMENT
//! naming the message and field (never INTERNAL, which means a server fault, and never a clean end of
//! an Ingest stream), applies nothing, and leaves the server serving.

use std::time::Duration;

use prost::Message as _;
use riskgate_proto::codec::UNDECODABLE_PREFIX;
use riskgate_tests::{
    api::{
        risk_stream_client::RiskStreamClient, subscribe_response, BatchAck, Device,
        GetDeviceRequest, ReportBatch, SubscribeRequest, SubscribeResponse,
    },
    batch, expect_status, ingest, raw, register_connector,
    rpc::{get_checkpoint, get_device, store_info},
    CoreProcess,
};
use tempfile::tempdir;
use tonic::Code;

use crate::support::{check_applied, valid_report};

const GET_DEVICE: &str = "/riskgate.v1.DeviceService/GetDevice";
const INGEST: &str = "/riskgate.v1.IngestService/Ingest";
const SUBSCRIBE: &str = "/riskgate.v1.RiskStream/Subscribe";

/// A `ReportBatch` for `vendor-a` whose only report's `device_id` is not UTF-8.
fn batch_with_non_utf8_device_id(batch_seq: u64) -> Vec<u8> {
    let message = batch("vendor-a", batch_seq, b"cp", vec![valid_report("dev-XX")]);
    raw::encode_replacing(&message, b"dev-XX", b"dev-\xff\xfe")
}

/// A valid `ReportBatch` cut in the middle of its first report.
fn truncated_batch(device: &str) -> Vec<u8> {
    let mut bytes = batch("vendor-a", 1, b"cp", vec![valid_report(device)]).encode_to_vec();
    bytes.truncate(bytes.len() - 5);
    bytes
}

/// Expects INVALID_ARGUMENT whose message starts with the codec's prefix and names `path`.
fn expect_undecodable<T: std::fmt::Debug>(
    result: Result<T, tonic::Status>,
    path: &str,
) -> anyhow::Result<()> {
    let message = expect_status(result, Code::InvalidArgument, path)?;
    anyhow::ensure!(
        message.starts_with(UNDECODABLE_PREFIX),
        "message does not say the bytes were not a valid message: {message}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_unary_requests_get_invalid_argument_naming_message_and_field(
) -> anyhow::Result<()> {
    let dir = tempdir()?;
    let core = CoreProcess::start(dir.path(), &[]).await;
    let channel = core.channel().await?;

    let non_utf8 = raw::encode_replacing(
        &GetDeviceRequest {
            device_id: "dev-XX".into(),
        },
        b"dev-XX",
        b"dev-\xff\xfe",
    );
    expect_undecodable(
        raw::unary::<Device>(channel.clone(), GET_DEVICE, non_utf8).await,
        "GetDeviceRequest, field device_id",
    )?;

    // Field 1 announces 16 bytes; 3 follow.
    let truncated = vec![0x0a, 0x10, b'd', b'e', b'v'];
    expect_undecodable(
        raw::unary::<Device>(channel.clone(), GET_DEVICE, truncated).await,
        "GetDeviceRequest",
    )?;

    // Field 1 (a string) sent as a varint: a wrong wire type.
    let wrong_wire_type = vec![0x08, 0x01];
    expect_undecodable(
        raw::unary::<Device>(channel.clone(), GET_DEVICE, wrong_wire_type).await,
        "GetDeviceRequest, field device_id",
    )?;

    // Still serving: a well-formed request gets its ordinary answer.
    let mut devices = core.device_client().await?;
    assert!(get_device(&mut devices, "dev-unknown").await?.is_none());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_subscribe_request_gets_invalid_argument_naming_the_cursor(
) -> anyhow::Result<()> {
    let dir = tempdir()?;
    let core = CoreProcess::start(dir.path(), &[]).await;
    let channel = core.channel().await?;
    let request = SubscribeRequest {
        cursor: "cursor-XX".into(),
        ..Default::default()
    };
    let bytes = raw::encode_replacing(&request, b"cursor-XX", b"cursor-\xff\xfe");
    let (received, status) =
        raw::streaming::<SubscribeResponse>(channel.clone(), SUBSCRIBE, vec![bytes]).await;
    assert!(received.is_empty(), "nothing was streamed: {received:?}");
    expect_undecodable(status.map_or(Ok(()), Err), "SubscribeRequest, field cursor")?;

    // Still serving: a well-formed subscription gets its snapshot end (an empty store has no
    // snapshot entries), within a generous deadline.
    let mut stream = RiskStreamClient::new(channel)
        .subscribe(SubscribeRequest::default())
        .await?
        .into_inner();
    let first = tokio::time::timeout(Duration::from_secs(30), stream.message())
        .await
        .map_err(|_| anyhow::anyhow!("no answer to a valid subscription within 30 s"))??;
    assert!(
        matches!(
            first.and_then(|response| response.message),
            Some(subscribe_response::Message::SnapshotEnd(_))
        ),
        "a valid subscription after the malformed one starts with its snapshot end"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_ingest_batch_ends_the_stream_with_invalid_argument_and_applies_nothing(
) -> anyhow::Result<()> {
    let dir = tempdir()?;
    let core = CoreProcess::start(dir.path(), &[]).await;
    register_connector(&core, "vendor-a").await?;
    let channel = core.channel().await?;
    let mut devices = core.device_client().await?;
    let mut ingest_client = core.ingest_client().await?;
    let head_before = store_info(&mut devices).await?.head_position;

    let cases: [(&str, Vec<u8>, &str); 2] = [
        (
            "device_id not UTF-8",
            batch_with_non_utf8_device_id(1),
            "ReportBatch, field reports.device_id",
        ),
        ("truncated", truncated_batch("dev-truncated"), "ReportBatch"),
    ];
    for (name, bytes, path) in cases {
        let (acks, status) = raw::streaming::<BatchAck>(channel.clone(), INGEST, vec![bytes]).await;
        assert!(
            acks.is_empty(),
            "[{name}] no batch is acknowledged: {acks:?}"
        );
        expect_undecodable(status.map_or(Ok(()), Err), path)
            .map_err(|e| e.context(format!("[{name}]")))?;
    }
    assert_eq!(
        store_info(&mut devices).await?.head_position,
        head_before,
        "nothing was written to the event log"
    );
    assert!(get_device(&mut devices, "dev-truncated").await?.is_none());
    assert!(get_checkpoint(&mut ingest_client, "vendor-a")
        .await?
        .is_none());

    // Still serving: the same connector's batch 1, well-formed, is applied.
    let acks = ingest(
        &mut ingest_client,
        vec![batch("vendor-a", 1, b"ok", vec![valid_report("dev-ok")])],
    )
    .await?;
    check_applied(&acks[0], 1, 1)?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_batch_after_a_good_one_keeps_the_earlier_ack() -> anyhow::Result<()> {
    let dir = tempdir()?;
    let core = CoreProcess::start(dir.path(), &[]).await;
    register_connector(&core, "vendor-a").await?;
    let channel = core.channel().await?;
    let mut devices = core.device_client().await?;

    let good: ReportBatch = batch("vendor-a", 1, b"good", vec![valid_report("dev-good")]);
    let (acks, status) = raw::streaming::<BatchAck>(
        channel,
        INGEST,
        vec![good.encode_to_vec(), batch_with_non_utf8_device_id(2)],
    )
    .await;
    assert_eq!(
        acks.len(),
        1,
        "only the good batch is acknowledged: {acks:?}"
    );
    check_applied(&acks[0], 1, 1)?;
    expect_undecodable(
        status.map_or(Ok(()), Err),
        "ReportBatch, field reports.device_id",
    )?;
    assert!(get_device(&mut devices, "dev-good").await?.is_some());
    Ok(())
}
