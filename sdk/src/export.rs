//! The `extern "C"` trampolines behind [`crate::export_connector!`]: they decode the host's protobuf
//! input, drive an [`Instance`], encode the result into plugin-owned bytes, and never let a panic
//! unwind into the host.
//!
//! Every function here is generic over the connector type; the macro instantiates them for one type
//! and puts them in a static [`RiskgateConnectorV1`].

#![allow(unsafe_code)]

use std::{ffi::c_void, time::Duration};

use prost::Message;

use crate::{
    abi::{self, status, HostLogger, RgBytes, RgHostV1, RgOwnedBytes, RiskgateConnectorV1},
    connector::{Connector, StartContext},
    instance::{guarded, CallError, Instance, Pulled},
    pb,
};

/// The function table for connector type `C`. Used by [`crate::export_connector!`].
pub const fn vtable<C: Connector>() -> RiskgateConnectorV1 {
    RiskgateConnectorV1 {
        struct_size: abi::V1_2_STRUCT_SIZE,
        abi_major: abi::ABI_MAJOR,
        abi_minor: abi::ABI_MINOR,
        manifest: manifest::<C>,
        create: create::<C>,
        start: start::<C>,
        next_batch: next_batch::<C>,
        ack: ack::<C>,
        stop: stop::<C>,
        destroy: destroy::<C>,
        free_bytes,
        set_host: Some(set_host),
        feed_health: Some(feed_health::<C>),
        recheck: Some(recheck::<C>),
    }
}

/// Writes `bytes` into the host's `out` parameter, if there is one.
///
/// # Safety
///
/// `out` must be null or valid for writes of one [`RgOwnedBytes`].
unsafe fn write_out(out: *mut RgOwnedBytes, bytes: Vec<u8>) {
    if out.is_null() {
        return;
    }
    // SAFETY: the caller guarantees `out` is valid for writes; it holds no plugin allocation yet
    // (the host passes an empty value), so overwriting leaks nothing.
    unsafe { out.write(abi::into_owned(bytes)) };
}

/// Encodes `result` for the ABI: the status code, and a `PluginError` in `out` on error.
///
/// # Safety
///
/// As [`write_out`].
unsafe fn finish(result: Result<Option<Vec<u8>>, CallError>, out: *mut RgOwnedBytes) -> u32 {
    match result {
        Ok(payload) => {
            if let Some(payload) = payload {
                // SAFETY: forwarded caller guarantee on `out`.
                unsafe { write_out(out, payload) };
            }
            status::OK
        }
        Err(err) => {
            let message = pb::PluginError {
                message: err.message().to_owned(),
                origin: err.origin().to_owned(),
            };
            // SAFETY: forwarded caller guarantee on `out`.
            unsafe { write_out(out, message.encode_to_vec()) };
            err.status()
        }
    }
}

/// Borrows the instance behind the host's pointer.
///
/// # Safety
///
/// `instance` must be null or a pointer returned by [`create`] for the same `C`, not yet destroyed,
/// and not used concurrently (the ABI serialises calls on one instance).
unsafe fn instance_mut<'a, C: Connector>(
    instance: *mut c_void,
) -> Result<&'a mut Instance<C>, CallError> {
    if instance.is_null() {
        return Err(CallError::Invalid("null instance pointer".to_owned()));
    }
    // SAFETY: guaranteed by the caller: a live, exclusively used `Box<Instance<C>>` pointer.
    Ok(unsafe { &mut *instance.cast::<Instance<C>>() })
}

unsafe extern "C" fn manifest<C: Connector>(out: *mut RgOwnedBytes) -> u32 {
    let result = guarded(|| Ok(Some(C::manifest().to_proto().encode_to_vec())));
    // SAFETY: the host passes a valid `out` (ABI contract).
    unsafe { finish(result, out) }
}

unsafe extern "C" fn create<C: Connector>(
    start_pb: RgBytes,
    instance: *mut *mut c_void,
    out: *mut RgOwnedBytes,
) -> u32 {
    let result = guarded(|| {
        if instance.is_null() {
            return Err(CallError::Invalid("null instance out-pointer".to_owned()));
        }
        // SAFETY: the host lends `start_pb` valid for this call (ABI contract).
        let bytes = unsafe { abi::borrow_bytes(&start_pb) };
        let start = pb::PluginStart::decode(bytes)
            .map_err(|e| CallError::Invalid(format!("undecodable PluginStart: {e}")))?;
        let created = Instance::<C>::create(StartContext::from_proto(start))?;
        let raw = Box::into_raw(Box::new(created)).cast::<c_void>();
        // SAFETY: checked non-null above; the host passes a writable out-pointer.
        unsafe { instance.write(raw) };
        Ok(None)
    });
    // SAFETY: the host passes a valid `out` (ABI contract).
    unsafe { finish(result, out) }
}

unsafe extern "C" fn start<C: Connector>(instance: *mut c_void, out: *mut RgOwnedBytes) -> u32 {
    let result = guarded(|| {
        // SAFETY: the host passes the pointer `create` returned (ABI contract).
        let instance = unsafe { instance_mut::<C>(instance) }?;
        instance.start().map(|()| None)
    });
    // SAFETY: the host passes a valid `out` (ABI contract).
    unsafe { finish(result, out) }
}

unsafe extern "C" fn next_batch<C: Connector>(
    instance: *mut c_void,
    timeout_ms: u32,
    out: *mut RgOwnedBytes,
) -> u32 {
    let result = guarded(|| {
        // SAFETY: the host passes the pointer `create` returned (ABI contract).
        let instance = unsafe { instance_mut::<C>(instance) }?;
        instance.next_batch(Duration::from_millis(u64::from(timeout_ms)))
    });
    match result {
        Ok(Pulled::Batch(batch)) => {
            // SAFETY: the host passes a valid `out` (ABI contract).
            unsafe { write_out(out, batch.encode_to_vec()) };
            status::OK
        }
        Ok(Pulled::Timeout) => status::TIMEOUT,
        Ok(Pulled::End) => status::END,
        // SAFETY: the host passes a valid `out` (ABI contract).
        Err(err) => unsafe { finish(Err(err), out) },
    }
}

unsafe extern "C" fn ack<C: Connector>(
    instance: *mut c_void,
    ack_pb: RgBytes,
    out: *mut RgOwnedBytes,
) -> u32 {
    let result = guarded(|| {
        // SAFETY: the host passes the pointer `create` returned (ABI contract).
        let instance = unsafe { instance_mut::<C>(instance) }?;
        // SAFETY: the host lends `ack_pb` valid for this call (ABI contract).
        let bytes = unsafe { abi::borrow_bytes(&ack_pb) };
        let ack = pb::PluginAck::decode(bytes)
            .map_err(|e| CallError::Invalid(format!("undecodable PluginAck: {e}")))?;
        instance.ack(ack.batch_id).map(|()| None)
    });
    // SAFETY: the host passes a valid `out` (ABI contract).
    unsafe { finish(result, out) }
}

unsafe extern "C" fn stop<C: Connector>(
    instance: *mut c_void,
    deadline_ms: u32,
    out: *mut RgOwnedBytes,
) -> u32 {
    let result = guarded(|| {
        // SAFETY: the host passes the pointer `create` returned (ABI contract).
        let instance = unsafe { instance_mut::<C>(instance) }?;
        instance
            .stop(Duration::from_millis(u64::from(deadline_ms)))
            .map(|()| None)
    });
    // SAFETY: the host passes a valid `out` (ABI contract).
    unsafe { finish(result, out) }
}

/// `feed_health` (minor 2): the connector's last word on its vendor feed.
unsafe extern "C" fn feed_health<C: Connector>(
    instance: *mut c_void,
    out: *mut RgOwnedBytes,
) -> u32 {
    let result = guarded(|| {
        // SAFETY: the host passes an instance `create` made, and serialises calls on it (ABI rules).
        let instance = unsafe { instance_mut::<C>(instance) }?;
        Ok(instance.feed_health()?.map(|health| health.encode_to_vec()))
    });
    // SAFETY: `out` is the host's out-pointer for this call.
    unsafe { finish(result, out) }
}

/// `recheck` (minor 2): queues a `PluginRecheck` for the connector.
unsafe extern "C" fn recheck<C: Connector>(
    instance: *mut c_void,
    recheck_pb: RgBytes,
    out: *mut RgOwnedBytes,
) -> u32 {
    let result = guarded(|| {
        // SAFETY: as for `feed_health`.
        let instance = unsafe { instance_mut::<C>(instance) }?;
        // SAFETY: the host lends `recheck_pb` for this call (ABI rule).
        let bytes = unsafe { abi::borrow_bytes(&recheck_pb) };
        let request = pb::PluginRecheck::decode(bytes)
            .map_err(|e| CallError::Invalid(format!("undecodable PluginRecheck: {e}")))?;
        instance.recheck(request).map(|()| None)
    });
    // SAFETY: `out` is the host's out-pointer for this call.
    unsafe { finish(result, out) }
}

unsafe extern "C" fn destroy<C: Connector>(instance: *mut c_void) {
    if instance.is_null() {
        return;
    }
    // SAFETY: the host passes the pointer `create` returned, once, and never uses it again.
    let boxed = unsafe { Box::from_raw(instance.cast::<Instance<C>>()) };
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(boxed))).is_err() {
        // A connector whose drop panics is leaked: the panic already unwound past its fields.
    }
}

unsafe extern "C" fn free_bytes(bytes: RgOwnedBytes) {
    // SAFETY: the host returns, unchanged and once, bytes this library produced with `into_owned`.
    let _ = std::panic::catch_unwind(move || unsafe { abi::free_owned(bytes) });
}

unsafe extern "C" fn set_host(host: *const RgHostV1) {
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: the host passes null or its table, valid for the life of the process (ABI rules).
        if let Some(host) = unsafe { HostLogger::from_raw(host) } {
            crate::logging::install(host);
        }
    });
}

/// Exports a [`Connector`] type as a riskgate connector plugin.
///
/// Expands to the one exported symbol, `riskgate_connector_entry_v1`, returning a static function
/// table whose every function catches panics. Use it once per `cdylib`:
///
/// ```text
/// riskgate_sdk::export_connector!(MyConnector);
/// ```
#[macro_export]
macro_rules! export_connector {
    ($connector:ty) => {
        /// The plugin's entry point: its riskgate connector ABI v1 function table.
        #[allow(unsafe_code)]
        #[unsafe(no_mangle)]
        pub extern "C" fn riskgate_connector_entry_v1() -> *const $crate::abi::RiskgateConnectorV1 {
            static TABLE: $crate::abi::RiskgateConnectorV1 = $crate::export::vtable::<$connector>();
            &TABLE
        }
    };
}
