//! The gRPC codec every riskgate service and client uses: prost's, except that a message that does
//! not decode is the sender's fault.
//!
//! `tonic-prost` maps every protobuf decode error to `INTERNAL`, following the gRPC status-code
//! guide's "Internal errors" wording (<https://grpc.github.io/grpc/core/md_doc_statuscodes.html>).
//! riskgate deviates on purpose: `INTERNAL` means a fault of the server, and a truncated message, a
//! string field that is not UTF-8 or a wrong wire type is a malformed request. It is answered with
//! `INVALID_ARGUMENT` naming the message and, where prost knows it, the field path, such as
//! `GetDeviceRequest.device_id`.

use std::marker::PhantomData;

use prost::{bytes::Buf, Message};
use tonic::{
    codec::{BufferSettings, Codec, DecodeBuf, Decoder},
    Status,
};
use tonic_prost::{ProstCodec, ProstDecoder, ProstEncoder};

/// prost's codec with decode errors mapped to `INVALID_ARGUMENT` (see the module docs).
/// Generated code names it through `tonic-prost-build`'s `codec_path`.
#[derive(Debug, Clone)]
pub struct StrictCodec<T, U> {
    inner: ProstCodec<T, U>,
}

impl<T, U> Default for StrictCodec<T, U> {
    fn default() -> Self {
        Self {
            inner: ProstCodec::default(),
        }
    }
}

impl<T, U> Codec for StrictCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = StrictDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        self.inner.encoder()
    }

    fn decoder(&mut self) -> Self::Decoder {
        StrictDecoder {
            inner: self.inner.decoder(),
            _message: PhantomData,
        }
    }
}

/// Decodes `U`; a malformed message is `INVALID_ARGUMENT`.
#[derive(Debug, Clone)]
pub struct StrictDecoder<U> {
    inner: ProstDecoder<U>,
    _message: PhantomData<U>,
}

impl<U: Message + Default> Decoder for StrictDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        decode_message(buf).map(Some)
    }

    fn buffer_settings(&self) -> BufferSettings {
        self.inner.buffer_settings()
    }
}

/// Decodes one `U` as every riskgate service does: a malformed message is `INVALID_ARGUMENT`
/// naming the message and field (the fuzz target `rpc_decode` holds every RPC to it).
pub fn decode_message<U: Message + Default>(buf: impl Buf) -> Result<U, Status> {
    U::decode(buf).map_err(|err| Status::invalid_argument(undecodable_message::<U>(&err)))
}

/// Prefix of every status message for a message that did not decode; clients and tests can rely on it.
pub const UNDECODABLE_PREFIX: &str = "malformed protobuf message";

/// `malformed protobuf message ReportBatch, field reports.device_id: invalid string value: …`: the
/// message, the path of the field inside it (rooted at the request, as every other field error of
/// the API is), and what was wrong.
pub fn undecodable_message<U>(err: &prost::DecodeError) -> String {
    let text = err.to_string();
    let (fields, detail) = field_path_and_detail(&text);
    let message = message_name::<U>();
    if fields.is_empty() {
        format!("{UNDECODABLE_PREFIX} {message}: {detail}")
    } else {
        format!("{UNDECODABLE_PREFIX} {message}, field {fields}: {detail}")
    }
}

/// Splits prost's error text, `failed to decode Protobuf message: Inner.field: Outer.field: what`
/// (innermost message first), into the field path from the outermost message (`field.field`) and
/// what was wrong.
fn field_path_and_detail(text: &str) -> (String, &str) {
    let mut rest = text
        .strip_prefix("failed to decode Protobuf message: ")
        .unwrap_or(text);
    let mut fields = Vec::new();
    while let Some((head, tail)) = rest.split_once(": ") {
        let Some((_, field)) = head
            .split_once('.')
            .filter(|(m, f)| is_ident(m) && is_ident(f))
        else {
            break;
        };
        fields.push(field);
        rest = tail;
    }
    fields.reverse();
    (fields.join("."), rest)
}

fn is_ident(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The generated type's name, which is the proto message's name (`riskgate_proto::v1::GetDeviceRequest`
/// → `GetDeviceRequest`).
fn message_name<U>() -> &'static str {
    let path = std::any::type_name::<U>();
    path.rsplit("::").next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1::{DeviceReport, GetDeviceRequest, ReportBatch};

    #[test]
    fn a_non_utf8_string_names_the_message_and_field() {
        // Field 1 (device_id), wire type 2, length 2, bytes that are not UTF-8.
        let err = GetDeviceRequest::decode(&[0x0a, 0x02, 0xff, 0xfe][..]).unwrap_err();
        assert_eq!(
            undecodable_message::<GetDeviceRequest>(&err),
            "malformed protobuf message GetDeviceRequest, field device_id: invalid string value: data is not UTF-8 encoded"
        );
    }

    #[test]
    fn a_nested_field_is_named_by_its_path_from_the_request() {
        let batch = ReportBatch {
            reports: vec![DeviceReport {
                device_id: "dev-XX".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let mut bytes = batch.encode_to_vec();
        let at = bytes.windows(2).position(|w| w == b"XX").unwrap();
        bytes[at..at + 2].copy_from_slice(&[0xff, 0xfe]);
        let err = ReportBatch::decode(&bytes[..]).unwrap_err();
        let text = undecodable_message::<ReportBatch>(&err);
        assert!(
            text.starts_with("malformed protobuf message ReportBatch, field reports.device_id: "),
            "{text}"
        );
    }

    #[test]
    fn a_truncated_message_names_the_message() {
        // Field 1 announces 5 bytes and 1 follows.
        let err = GetDeviceRequest::decode(&[0x0a, 0x05, b'a'][..]).unwrap_err();
        let text = undecodable_message::<GetDeviceRequest>(&err);
        assert!(
            text.starts_with("malformed protobuf message GetDeviceRequest"),
            "{text}"
        );
        assert!(text.ends_with("buffer underflow"), "{text}");
    }
}
