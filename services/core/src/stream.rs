//! Streaming subscriptions, independent of the wire: opaque signed cursors and subscription filters. The
//! gRPC edge (`grpc/subscribe.rs`) runs the snapshot, catch-up and live phases on top of these.

pub(crate) mod filter;
