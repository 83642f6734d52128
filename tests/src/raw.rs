//! Raw protobuf bytes over real gRPC: what a client that gets the encoding wrong sends (truncated
//! messages, strings that are not UTF-8, wrong wire types). Answers decode with the API's own codec.

use std::marker::PhantomData;

use prost::{bytes::BufMut as _, Message};
use riskgate_proto::codec::{StrictCodec, StrictDecoder};
use tonic::{
    codec::{Codec, EncodeBuf, Encoder},
    transport::Channel,
    Status,
};

/// Sends `Vec<u8>` as the message bytes, unchanged; decodes answers as `U`.
#[derive(Debug)]
struct RawCodec<U>(PhantomData<U>);

/// Writes the bytes it is given.
#[derive(Debug)]
struct RawEncoder;

impl Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, buf: &mut EncodeBuf<'_>) -> Result<(), Status> {
        buf.put_slice(&item);
        Ok(())
    }
}

impl<U: Message + Default + Send + 'static> Codec for RawCodec<U> {
    type Encode = Vec<u8>;
    type Decode = U;
    type Encoder = RawEncoder;
    type Decoder = StrictDecoder<U>;

    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }

    fn decoder(&mut self) -> StrictDecoder<U> {
        StrictCodec::<U, U>::default().decoder()
    }
}

/// Calls the unary method at `path` (such as `/riskgate.v1.DeviceService/GetDevice`) with `bytes`
/// as the request message.
pub async fn unary<U: Message + Default + Send + 'static>(
    channel: Channel,
    path: &'static str,
    bytes: Vec<u8>,
) -> Result<U, Status> {
    unary_request(channel, path, tonic::Request::new(bytes)).await
}

/// [`unary`] with the request's metadata set by the caller (such as a bearer token).
pub async fn unary_request<U: Message + Default + Send + 'static>(
    channel: Channel,
    path: &'static str,
    request: tonic::Request<Vec<u8>>,
) -> Result<U, Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| Status::unavailable(e.to_string()))?;
    let path = http::uri::PathAndQuery::from_static(path);
    grpc.unary(request, path, RawCodec(PhantomData))
        .await
        .map(tonic::Response::into_inner)
}

/// Opens the streaming method at `path` with `messages` as the request stream, and collects the
/// answers until the stream ends: every message received, then the status if it was not OK.
pub async fn streaming<U: Message + Default + Send + 'static>(
    channel: Channel,
    path: &'static str,
    messages: Vec<Vec<u8>>,
) -> (Vec<U>, Option<Status>) {
    let mut grpc = tonic::client::Grpc::new(channel);
    if let Err(e) = grpc.ready().await {
        return (Vec::new(), Some(Status::unavailable(e.to_string())));
    }
    let path = http::uri::PathAndQuery::from_static(path);
    let request = tonic::Request::new(tokio_stream::iter(messages));
    let mut stream = match grpc.streaming(request, path, RawCodec(PhantomData)).await {
        Ok(response) => response.into_inner(),
        Err(status) => return (Vec::new(), Some(status)),
    };
    let mut received = Vec::new();
    loop {
        match stream.message().await {
            Ok(Some(message)) => received.push(message),
            Ok(None) => return (received, None),
            Err(status) => return (received, Some(status)),
        }
    }
}

/// `message` encoded, with the first occurrence of `marker` overwritten by `replacement` of the same
/// length: a way to put bytes that are not UTF-8 into a string field while every length stays right.
pub fn encode_replacing(message: &impl Message, marker: &[u8], replacement: &[u8]) -> Vec<u8> {
    assert_eq!(
        marker.len(),
        replacement.len(),
        "same length keeps the framing"
    );
    let mut bytes = message.encode_to_vec();
    let at = bytes
        .windows(marker.len())
        .position(|w| w == marker)
        .expect("marker in the encoded message");
    bytes[at..at + marker.len()].copy_from_slice(replacement);
    bytes
}
