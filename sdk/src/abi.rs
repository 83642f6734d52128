//! The connector plugin ABI, version 1: the `#[repr(C)]` function table a plugin exports and the
//! plain-data types its functions exchange.
//!
//! This module is the Rust mirror of `include/riskgate_connector_v1.h`; the two must agree field for
//! field. Only `extern "C"` functions, integers and raw pointers cross the boundary; every payload is
//! protobuf bytes (the messages of [`crate::pb`]).
//!
//! # Rules
//!
//! - **One symbol.** A plugin exports exactly one function, [`ENTRY_SYMBOL`]
//!   (`riskgate_connector_entry_v1`), returning a pointer to a [`RiskgateConnectorV1`] with static
//!   lifetime. The ABI major is in the symbol name *and* in [`RiskgateConnectorV1::abi_major`]; a
//!   breaking change gets a new symbol name.
//! - **Minor versions only append.** A new minor adds fields at the end of the table; a host reads a
//!   field only if [`RiskgateConnectorV1::struct_size`] covers it.
//! - **Memory is freed by the side that allocated it.** Input from the host ([`RgBytes`]) is borrowed
//!   for the duration of the call only. Output from the plugin ([`RgOwnedBytes`]) is allocated by the
//!   plugin and handed back to the plugin's [`RiskgateConnectorV1::free_bytes`], never freed by the host.
//! - **Calls on one instance are serialised**: the host never calls into the same instance from two
//!   threads at once. Different instances are independent.
//! - **No unwinding** crosses the boundary: every function returns a [`status`] code; a panic is
//!   reported as [`status::ERR_PANIC`] and poisons the instance.
//! - **Pull model.** The host pulls batches with [`RiskgateConnectorV1::next_batch`] and a timeout,
//!   and tells the plugin which batch was acknowledged with [`RiskgateConnectorV1::ack`]. The only
//!   call from the plugin into the host is logging, through the [`RgHostV1`] table (minor 1).
//!
//! # Minor 1: the host table and logging
//!
//! Minor 1 appends one field, [`RiskgateConnectorV1::set_host`]. A host that knows minor 1 reads it
//! only if the plugin's `struct_size` covers it (a minor-0 plugin's table ends before it) and only
//! if it is not null, and then calls it **once, right after loading, before any other function of
//! the table** (`manifest` included), with a pointer to an [`RgHostV1`]:
//!
//! - The [`RgHostV1`] and its `ctx` stay valid for the rest of the process (the host never unloads a
//!   plugin); the plugin may keep the pointer or copy the table. The table starts with its own
//!   `struct_size`; a plugin reads a field of it only if that size covers it (the host appends fields
//!   the same way the plugin table does).
//! - [`RgHostV1::log`] may be called from **any thread, concurrently**, at any time after
//!   `set_host` returned (also from inside `set_host`), for the life of the process. It never
//!   unwinds, never calls back into the plugin and does not block beyond writing the log line.
//!   `target` and `message` are borrowed for the call only and should be UTF-8 (the host replaces
//!   invalid sequences); `level` is one of [`level`]. Records above [`RgHostV1::max_level`] are
//!   dropped by the host, so the plugin should not even format them.
//! - `set_host` itself must not unwind and must return promptly. A second call is ignored.
//!
//! Compatibility both ways: a minor-0 plugin in a minor-1 host loads and runs, it just cannot log
//! (its `struct_size` ends before `set_host`); a minor-1 plugin in a minor-0 host loads and runs too,
//! `set_host` is never called and the plugin's logging is a no-op.
//!
//! # Minor 2: feed health and re-check
//!
//! Minor 2 appends two optional functions on a running instance, serialised with every other call on it:
//!
//! - [`RiskgateConnectorV1::feed_health`] writes the instance's `FeedHealth` (`riskgate/v1/types.proto`):
//!   whether the connector reaches its vendor (connected, degraded with a reason, disconnected since a
//!   time) and when it last synced successfully. OK with nothing written: it has said nothing yet. The
//!   host asks about once a second and forwards the answer with its heartbeats; the core turns the
//!   connector UNRESPONSIVE when the feed has been failing or silent for longer than the connector's
//!   threshold, even while the host heartbeats.
//! - [`RiskgateConnectorV1::recheck`] takes a `PluginRecheck` (device ids; none: every device) and
//!   returns OK once the request is queued for the connector, which then fetches those devices from
//!   its vendor and reports them as ordinary batches. [`status::ERR_UNSUPPORTED`]: the connector takes
//!   no re-checks; [`status::ERR_TRANSIENT`]: its queue is full, try later.
//!
//! A host reads either only if `struct_size` covers it and it is not null; older plugins keep loading
//! and simply report no feed health and take no re-checks.

#![allow(unsafe_code)]

use std::ffi::c_void;

/// The ABI major this SDK implements. A breaking change increments it and renames [`ENTRY_SYMBOL`].
pub const ABI_MAJOR: u32 = 1;

/// The ABI minor this SDK implements: the number of additive revisions of the v1 table.
pub const ABI_MINOR: u32 = 2;

/// The version of the protobuf payloads (`riskgate/v1/plugin.proto`).
pub const PROTO_VERSION: u32 = 1;

/// The name of the one symbol a plugin exports (without the trailing NUL).
pub const ENTRY_SYMBOL: &str = "riskgate_connector_entry_v1";

/// The signature of [`ENTRY_SYMBOL`]: returns the plugin's function table, valid for the life of the process.
pub type EntryFn = unsafe extern "C" fn() -> *const RiskgateConnectorV1;

/// Status codes every ABI function returns.
pub mod status {
    /// Success.
    pub const OK: u32 = 0;
    /// `next_batch` only: no batch became ready within the timeout.
    pub const TIMEOUT: u32 = 1;
    /// `next_batch` only: the connector finished its feed; no batch will follow.
    pub const END: u32 = 2;
    /// The configuration is invalid. Restarting will not help until the configuration changes.
    pub const ERR_CONFIG: u32 = 10;
    /// A temporary failure (vendor unreachable, ...). The host may restart the plugin later.
    pub const ERR_TRANSIENT: u32 = 11;
    /// A permanent failure of this instance.
    pub const ERR_FATAL: u32 = 12;
    /// The plugin panicked. The instance is poisoned: every later call returns this code again.
    pub const ERR_PANIC: u32 = 13;
    /// The host broke the protocol: undecodable input, a call out of order, an unknown batch id.
    pub const ERR_INVALID: u32 = 14;
    /// `recheck` only (minor 2): the connector does not take this request.
    pub const ERR_UNSUPPORTED: u32 = 15;
}

/// Bytes the host lends to the plugin, valid only for the duration of one call.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RgBytes {
    /// Start of the bytes; may be null when `len` is 0.
    pub ptr: *const u8,
    /// Number of bytes.
    pub len: usize,
}

/// Bytes the plugin allocated and hands to the host. The host copies them and then passes the
/// struct, unchanged, to the plugin's `free_bytes`.
#[repr(C)]
#[derive(Debug)]
pub struct RgOwnedBytes {
    /// Start of the bytes; null means "nothing was returned" and must not be freed.
    pub ptr: *mut u8,
    /// Number of initialised bytes.
    pub len: usize,
    /// Allocation capacity, meaningful only to the plugin's allocator.
    pub cap: usize,
}

impl RgOwnedBytes {
    /// The empty value a host passes as an output parameter.
    pub const fn empty() -> Self {
        RgOwnedBytes {
            ptr: std::ptr::null_mut(),
            len: 0,
            cap: 0,
        }
    }
}

/// Log levels of [`RgHostV1::log`] and [`RgHostV1::max_level`], most severe first (those of `log`
/// and `tracing`).
pub mod level {
    /// `max_level` only: the host records nothing.
    pub const OFF: u32 = 0;
    /// Errors.
    pub const ERROR: u32 = 1;
    /// Warnings.
    pub const WARN: u32 = 2;
    /// Information.
    pub const INFO: u32 = 3;
    /// Debugging detail.
    pub const DEBUG: u32 = 4;
    /// Tracing detail, the most verbose.
    pub const TRACE: u32 = 5;
}

/// The host's logging callback: one record with its level, target (such as `lookout::sync`) and
/// fully formatted message. See the module docs for the rules (any thread, no unwinding, borrowed bytes).
pub type LogFn =
    unsafe extern "C" fn(ctx: *mut c_void, level: u32, target: RgBytes, message: RgBytes);

/// What the host offers the plugin (ABI minor 1), passed to [`RiskgateConnectorV1::set_host`].
/// Valid, with `ctx`, for the rest of the process. Grows like the plugin table: fields are only
/// appended, and a plugin reads one only if `struct_size` covers it.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RgHostV1 {
    /// `size_of::<RgHostV1>()` as the host was compiled.
    pub struct_size: u32,
    /// The most verbose [`level`] the host records ([`level::OFF`]: none). Records above it are
    /// dropped by the host; the plugin should not format them.
    pub max_level: u32,
    /// The host's context, passed back to `log` unchanged.
    pub ctx: *mut c_void,
    /// Logs one record. Callable from any thread, concurrently; never null.
    pub log: LogFn,
}

/// The function table of ABI major 1. Every function pointer of minor 0 is required (never null).
///
/// `out` parameters receive, on [`status::OK`], the call's result message (if it has one) and, on an
/// error status, a `PluginError`. A null `out.ptr` after the call means nothing was returned.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RiskgateConnectorV1 {
    /// `size_of::<RiskgateConnectorV1>()` as the plugin was compiled; grows with ABI minors.
    pub struct_size: u32,
    /// Must equal [`ABI_MAJOR`] (1).
    pub abi_major: u32,
    /// The ABI minor the plugin was built against.
    pub abi_minor: u32,
    /// Writes the plugin's `PluginManifest` into `out`. Called first, before any instance exists.
    pub manifest: unsafe extern "C" fn(out: *mut RgOwnedBytes) -> u32,
    /// Creates an instance from a `PluginStart` (configuration and last acknowledged checkpoint). Checks
    /// the configuration and returns [`status::ERR_CONFIG`] if it is invalid. Starts no threads.
    pub create: unsafe extern "C" fn(
        start_pb: RgBytes,
        instance: *mut *mut c_void,
        out: *mut RgOwnedBytes,
    ) -> u32,
    /// Starts the instance: the plugin spawns its own threads and runtime and begins producing batches.
    pub start: unsafe extern "C" fn(instance: *mut c_void, out: *mut RgOwnedBytes) -> u32,
    /// Waits at most `timeout_ms` for the next batch. [`status::OK`] writes a `PluginBatch` into `out`;
    /// [`status::TIMEOUT`] and [`status::END`] write nothing.
    pub next_batch:
        unsafe extern "C" fn(instance: *mut c_void, timeout_ms: u32, out: *mut RgOwnedBytes) -> u32,
    /// Tells the plugin that the core durably stored the batch in `ack_pb` (a `PluginAck`) and every
    /// batch before it.
    pub ack:
        unsafe extern "C" fn(instance: *mut c_void, ack_pb: RgBytes, out: *mut RgOwnedBytes) -> u32,
    /// Asks the instance to stop its threads, waiting at most `deadline_ms`.
    pub stop: unsafe extern "C" fn(
        instance: *mut c_void,
        deadline_ms: u32,
        out: *mut RgOwnedBytes,
    ) -> u32,
    /// Frees the instance. No call on it may follow. Must not block for long.
    pub destroy: unsafe extern "C" fn(instance: *mut c_void),
    /// Frees bytes the plugin returned. The only way plugin memory is freed.
    pub free_bytes: unsafe extern "C" fn(bytes: RgOwnedBytes),
    /// **Minor 1.** Gives the plugin the host's [`RgHostV1`] (logging). May be null. A host calls it
    /// once, before any other function, and only if `struct_size` is at least [`V1_1_STRUCT_SIZE`].
    pub set_host: Option<unsafe extern "C" fn(host: *const RgHostV1)>,
    /// **Minor 2.** Writes the running instance's `FeedHealth` into `out` (nothing: not reported yet).
    /// May be null. Read only if `struct_size` is at least [`V1_2_STRUCT_SIZE`].
    pub feed_health:
        Option<unsafe extern "C" fn(instance: *mut c_void, out: *mut RgOwnedBytes) -> u32>,
    /// **Minor 2.** Queues the `PluginRecheck` in `recheck_pb` for the running connector. May be null
    /// (no re-checks). Read only if `struct_size` is at least [`V1_2_STRUCT_SIZE`].
    pub recheck: Option<
        unsafe extern "C" fn(
            instance: *mut c_void,
            recheck_pb: RgBytes,
            out: *mut RgOwnedBytes,
        ) -> u32,
    >,
}

/// The size of the v1.0 table: the smallest `struct_size` a host accepts for ABI major 1.
pub const V1_0_STRUCT_SIZE: u32 = std::mem::offset_of!(RiskgateConnectorV1, set_host) as u32;

/// The size of the v1.1 table, which ends with [`RiskgateConnectorV1::set_host`].
pub const V1_1_STRUCT_SIZE: u32 = std::mem::offset_of!(RiskgateConnectorV1, feed_health) as u32;

/// The size of the v1.2 table, which ends with [`RiskgateConnectorV1::recheck`].
pub const V1_2_STRUCT_SIZE: u32 = std::mem::size_of::<RiskgateConnectorV1>() as u32;

/// The smallest [`RgHostV1::struct_size`] a plugin accepts (the table of minor 1).
pub const HOST_V1_1_STRUCT_SIZE: u32 = std::mem::size_of::<RgHostV1>() as u32;

/// The host's logging callback as a plugin keeps it: a copy of the [`RgHostV1`] fields it knows.
#[derive(Debug, Clone, Copy)]
pub struct HostLogger {
    max_level: u32,
    ctx: *mut c_void,
    log: LogFn,
}

// SAFETY: the ABI requires `log` to be callable with `ctx` from any thread, concurrently, for the
// life of the process; the plugin never dereferences `ctx` itself.
unsafe impl Send for HostLogger {}
// SAFETY: as for `Send`: shared use means concurrent calls of `log`, which the ABI allows.
unsafe impl Sync for HostLogger {}

impl HostLogger {
    /// Copies the host table the host passed to `set_host`. `None` if it is null or too small.
    ///
    /// # Safety
    ///
    /// `host` must be null or point at an [`RgHostV1`] prefix of at least its own `struct_size`
    /// bytes, valid (with its `ctx`) for the rest of the process, as the ABI requires of hosts.
    pub unsafe fn from_raw(host: *const RgHostV1) -> Option<HostLogger> {
        if host.is_null() {
            return None;
        }
        // SAFETY: every host table starts with its `struct_size` (caller guarantee: valid pointer).
        let size = unsafe { host.cast::<u32>().read() };
        if size < HOST_V1_1_STRUCT_SIZE {
            return None;
        }
        // SAFETY: `struct_size` covers the whole minor-1 table; later fields are not read.
        let host = unsafe { host.read() };
        Some(HostLogger {
            max_level: host.max_level.min(level::TRACE),
            ctx: host.ctx,
            log: host.log,
        })
    }

    /// The most verbose [`level`] the host records.
    pub fn max_level(&self) -> u32 {
        self.max_level
    }

    /// Sends one record to the host, if its level is one the host records.
    pub fn log(&self, level: u32, target: &str, message: &str) {
        if level == level::OFF || level > self.max_level {
            return;
        }
        let target = RgBytes {
            ptr: target.as_ptr(),
            len: target.len(),
        };
        let message = RgBytes {
            ptr: message.as_ptr(),
            len: message.len(),
        };
        // SAFETY: `log` and `ctx` come from the host's table, valid for the process and callable
        // from any thread (ABI rules); the bytes are borrowed for the call and outlive it.
        unsafe { (self.log)(self.ctx, level, target, message) };
    }
}

/// Turns a vector into plugin-owned bytes for an `out` parameter. Pair with [`free_owned`].
pub fn into_owned(bytes: Vec<u8>) -> RgOwnedBytes {
    let mut bytes = std::mem::ManuallyDrop::new(bytes);
    RgOwnedBytes {
        ptr: bytes.as_mut_ptr(),
        len: bytes.len(),
        cap: bytes.capacity(),
    }
}

/// Frees bytes made by [`into_owned`] in this same library.
///
/// # Safety
///
/// `bytes` must come from [`into_owned`] of this library, unchanged, and must not be freed twice.
pub unsafe fn free_owned(bytes: RgOwnedBytes) {
    if bytes.ptr.is_null() {
        return;
    }
    // SAFETY: the caller guarantees ptr/len/cap came from a Vec<u8> of this allocator via
    // `into_owned`, and that it is freed once.
    drop(unsafe { Vec::from_raw_parts(bytes.ptr, bytes.len, bytes.cap) });
}

/// Copies borrowed host bytes into a vector.
///
/// # Safety
///
/// `bytes.ptr` must be valid for reads of `bytes.len` bytes (or `len` must be 0).
pub unsafe fn borrow_bytes(bytes: &RgBytes) -> &[u8] {
    if bytes.len == 0 || bytes.ptr.is_null() {
        return &[];
    }
    // SAFETY: the caller guarantees ptr is valid for len bytes for the duration of the call.
    unsafe { std::slice::from_raw_parts(bytes.ptr, bytes.len) }
}
