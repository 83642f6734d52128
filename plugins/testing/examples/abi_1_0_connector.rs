//! The faulty connector as a plugin built against ABI 1.0 (minor 0) exports it: a table that ends
//! after `free_bytes`, with `struct_size` and `abi_minor` of minor 0 and a manifest saying 1.0. A
//! newer host must load and run it, and must not read past its `struct_size`: right behind the
//! table lies a poisoned word where minor 1's `set_host` would be, which crashes the host if it is
//! ever called.

#![allow(unsafe_code)]

use riskgate_sdk::abi::{self, status, RgBytes, RgOwnedBytes, RiskgateConnectorV1};
use riskgate_test_plugins::raw::SDK_TABLE;

/// The v1.0 table, field for field (`riskgate_connector_v1.h` at minor 0).
#[repr(C)]
struct TableV1_0 {
    struct_size: u32,
    abi_major: u32,
    abi_minor: u32,
    manifest: unsafe extern "C" fn(out: *mut RgOwnedBytes) -> u32,
    create: unsafe extern "C" fn(RgBytes, *mut *mut std::ffi::c_void, *mut RgOwnedBytes) -> u32,
    start: unsafe extern "C" fn(*mut std::ffi::c_void, *mut RgOwnedBytes) -> u32,
    next_batch: unsafe extern "C" fn(*mut std::ffi::c_void, u32, *mut RgOwnedBytes) -> u32,
    ack: unsafe extern "C" fn(*mut std::ffi::c_void, RgBytes, *mut RgOwnedBytes) -> u32,
    stop: unsafe extern "C" fn(*mut std::ffi::c_void, u32, *mut RgOwnedBytes) -> u32,
    destroy: unsafe extern "C" fn(*mut std::ffi::c_void),
    free_bytes: unsafe extern "C" fn(RgOwnedBytes),
}

/// The table and, where a minor-1 table has `set_host`, a non-null word that is no function.
#[repr(C)]
struct Exported {
    table: TableV1_0,
    poison: usize,
}

static EXPORTED: Exported = Exported {
    table: TableV1_0 {
        struct_size: std::mem::size_of::<TableV1_0>() as u32,
        abi_major: 1,
        abi_minor: 0,
        manifest,
        create: SDK_TABLE.create,
        start: SDK_TABLE.start,
        next_batch: SDK_TABLE.next_batch,
        ack: SDK_TABLE.ack,
        stop: SDK_TABLE.stop,
        destroy: SDK_TABLE.destroy,
        free_bytes: SDK_TABLE.free_bytes,
    },
    poison: 0x8,
};

const _: () = assert!(std::mem::size_of::<TableV1_0>() as u32 == abi::V1_0_STRUCT_SIZE);

/// The SDK's manifest with the ABI minor this table has: 0.
unsafe extern "C" fn manifest(out: *mut RgOwnedBytes) -> u32 {
    use prost::Message as _;
    // SAFETY: forwarding the host's out-parameter to the SDK's implementation.
    let code = unsafe { (SDK_TABLE.manifest)(out) };
    if code != status::OK || out.is_null() {
        return code;
    }
    // SAFETY: on OK the SDK wrote its manifest into `out` (bytes of this library's allocator).
    let owned = unsafe { out.read() };
    let lent = RgBytes {
        ptr: owned.ptr,
        len: owned.len,
    };
    // SAFETY: `lent` points at `len` initialised bytes until `owned` is freed below.
    let bytes = unsafe { abi::borrow_bytes(&lent) };
    let mut decoded = riskgate_sdk::pb::PluginManifest::decode(bytes).unwrap_or_default();
    // SAFETY: freed once, by the allocator that made it.
    unsafe { abi::free_owned(owned) };
    decoded.abi_minor = 0;
    // SAFETY: the host's `out` is valid for writes; its previous content was just freed.
    unsafe { out.write(abi::into_owned(decoded.encode_to_vec())) };
    status::OK
}

/// The entry point, returning the v1.0 table.
#[unsafe(no_mangle)]
pub extern "C" fn riskgate_connector_entry_v1() -> *const RiskgateConnectorV1 {
    std::ptr::addr_of!(EXPORTED.table).cast()
}
