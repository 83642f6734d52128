//! Verifying and loading one connector plugin, and calling it through its ABI v1 function table.
//!
//! This is the only module of the host with `unsafe` code. The order matters:
//!
//! 1. The file is read once into memory and its SHA-256 compared with the pinned hash, **before**
//!    anything of it runs (loading a library runs its initialisers).
//! 2. The verified bytes are written to a private temporary file, which is what gets loaded, so the
//!    file cannot be swapped between the check and the load. The copy is removed right after loading.
//! 3. The library is opened with `RTLD_NOW | RTLD_LOCAL` and **never unloaded** (unloading Rust
//!    libraries with live threads or TLS destructors crashes); it lives until the process exits.
//! 4. The one entry symbol is looked up, its table's ABI major and size checked, and the table
//!    copied; only fields covered by the table's `struct_size` are ever read.
//! 5. If the table has `set_host` (ABI minor 1 and later), it is called right away with the host's
//!    table, whose `log` callback ([`host_log`]) re-emits the plugin's records in the host's log
//!    ([`crate::plugin_log`]).
//!
//! Calls on the instance are serialised by `&mut self`, as the ABI requires.

#![allow(unsafe_code)]

use std::{
    ffi::c_void,
    io::Write as _,
    os::unix::fs::PermissionsExt as _,
    path::{Path, PathBuf},
    sync::OnceLock,
    time::Duration,
};

use prost::Message;
use riskgate_sdk::{
    abi::{self, status, RgBytes, RgHostV1, RgOwnedBytes, RiskgateConnectorV1},
    pb,
};
use sha2::{Digest, Sha256};

/// Why a plugin could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read plugin file {path}: {source}")]
    Read {
        /// The plugin file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The pinned hash is not a SHA-256 in hex.
    #[error("the pinned sha256 {0:?} is not 64 hex digits")]
    BadPin(String),
    /// The file is not the pinned one.
    #[error("plugin file {path} was tampered with or replaced: its sha256 is {actual}, the pinned sha256 is {expected}")]
    HashMismatch {
        /// The plugin file.
        path: PathBuf,
        /// The pinned hash.
        expected: String,
        /// The file's hash.
        actual: String,
    },
    /// Copying the verified bytes for loading failed.
    #[error("cannot stage the verified plugin for loading: {0}")]
    Stage(std::io::Error),
    /// The dynamic loader refused the file.
    #[error("cannot load plugin {path}: {message}")]
    Open {
        /// The plugin file.
        path: PathBuf,
        /// The loader's message.
        message: String,
    },
    /// The entry symbol is missing.
    #[error("plugin {path} does not export `{symbol}`{hint}: not a riskgate connector for ABI 1")]
    MissingSymbol {
        /// The plugin file.
        path: PathBuf,
        /// The missing symbol.
        symbol: &'static str,
        /// What else was found, if anything.
        hint: String,
    },
    /// The function table is absent or of another ABI.
    #[error("plugin {path} has an incompatible ABI: {reason}")]
    Abi {
        /// The plugin file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A loaded plugin: its copied function table and its manifest. The library is never unloaded.
#[derive(Debug, Clone)]
pub struct Plugin {
    table: RiskgateConnectorV1,
    path: PathBuf,
}

/// Which ABI function a call went to, for errors and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// `manifest`.
    Manifest,
    /// `create`.
    Create,
    /// `start`.
    Start,
    /// `next_batch`.
    NextBatch,
    /// `ack`.
    Ack,
    /// `stop`.
    Stop,
    /// `feed_health` (minor 2).
    FeedHealth,
    /// `recheck` (minor 2).
    Recheck,
}

impl Entry {
    /// The ABI name of the function.
    pub fn name(self) -> &'static str {
        match self {
            Entry::Manifest => "manifest",
            Entry::Create => "create",
            Entry::Start => "start",
            Entry::NextBatch => "next_batch",
            Entry::Ack => "ack",
            Entry::Stop => "stop",
            Entry::FeedHealth => "feed_health",
            Entry::Recheck => "recheck",
        }
    }
}

/// How an ABI call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// [`status::ERR_CONFIG`].
    Config,
    /// [`status::ERR_TRANSIENT`].
    Transient,
    /// [`status::ERR_FATAL`].
    Fatal,
    /// [`status::ERR_PANIC`].
    Panic,
    /// [`status::ERR_INVALID`].
    Invalid,
    /// [`status::ERR_UNSUPPORTED`], or a function of a later minor the plugin's table lacks.
    Unsupported,
    /// A status code the ABI does not define.
    UnknownStatus(u32),
    /// The call returned bytes that do not decode as the expected message.
    Garbage,
}

/// An ABI call that failed, with the plugin's message.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", self.describe())]
pub struct CallError {
    /// The function.
    pub entry: Entry,
    /// How it failed.
    pub failure: Failure,
    /// The plugin's `PluginError` message, or the host's description.
    pub message: String,
    /// `PluginError.origin`: where the failure happened when not in `entry` itself (`run`), or empty.
    pub origin: String,
}

impl CallError {
    fn describe(&self) -> String {
        let entry = match self.origin.as_str() {
            "" => self.entry.name().to_owned(),
            origin => format!("{origin} (found by {})", self.entry.name()),
        };
        let message = &self.message;
        match &self.failure {
            Failure::Config => format!("invalid configuration (in {entry}): {message}"),
            Failure::Transient => format!("transient failure in {entry}: {message}"),
            Failure::Fatal => format!("fatal failure in {entry}: {message}"),
            Failure::Panic => format!("panicked in {entry}: {message}"),
            Failure::Invalid => format!("refused a call to {entry} as invalid: {message}"),
            Failure::Unsupported => format!("does not support {entry}: {message}"),
            Failure::UnknownStatus(code) => {
                format!("returned unknown status {code} from {entry}: {message}")
            }
            Failure::Garbage => format!("returned garbage from {entry}: {message}"),
        }
    }
}

/// What `next_batch` produced.
#[derive(Debug, Clone, PartialEq)]
pub enum NextBatch {
    /// A batch, decoded.
    Batch(pb::PluginBatch),
    /// No batch within the timeout.
    Timeout,
    /// The feed ended.
    End,
}

/// Step 1: the file's bytes and their SHA-256, if it matches the pinned hash. Nothing of it runs.
fn verified_bytes(path: &Path, pinned_sha256: &str) -> Result<(Vec<u8>, String), LoadError> {
    let pinned = pinned_sha256.trim().to_ascii_lowercase();
    if pinned.len() != 64 || !pinned.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(LoadError::BadPin(pinned_sha256.to_owned()));
    }
    let bytes = std::fs::read(path).map_err(|source| LoadError::Read {
        path: path.to_owned(),
        source,
    })?;
    let actual = sha256_hex(&bytes);
    if actual != pinned {
        return Err(LoadError::HashMismatch {
            path: path.to_owned(),
            expected: pinned,
            actual,
        });
    }
    Ok((bytes, actual))
}

/// Steps 2 and 3: loads exactly the verified bytes, from a private copy the original path cannot
/// affect, which is removed once loaded.
fn open_private_copy(
    path: &Path,
    bytes: &[u8],
    sha256: &str,
) -> Result<libloading::os::unix::Library, LoadError> {
    let staging = tempfile::Builder::new()
        .prefix("riskgate-connector-host-")
        .tempdir()
        .map_err(LoadError::Stage)?;
    let staged = staging.path().join(format!("{sha256}.so"));
    let mut file = std::fs::File::create(&staged).map_err(LoadError::Stage)?;
    file.write_all(bytes).map_err(LoadError::Stage)?;
    file.sync_all().map_err(LoadError::Stage)?;
    std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(0o500))
        .map_err(LoadError::Stage)?;
    drop(file);

    let flags = libloading::os::unix::RTLD_NOW | libloading::os::unix::RTLD_LOCAL;
    // SAFETY: loading runs the library's initialisers; this is the point of no return the
    // hash check guards, and this process exists to isolate exactly this plugin.
    let library =
        unsafe { libloading::os::unix::Library::open(Some(&staged), flags) }.map_err(|e| {
            LoadError::Open {
                path: path.to_owned(),
                message: e.to_string(),
            }
        })?;
    // The staged copy stays mapped after its file is removed.
    drop(staging);
    Ok(library)
}

/// Step 4, first half: the ABI's entry function; without it, a hint names the ABI major the plugin
/// was built for, if it exports another one's entry.
fn entry_function(
    library: &libloading::os::unix::Library,
    path: &Path,
) -> Result<abi::EntryFn, LoadError> {
    let entry_name = format!("{}\0", abi::ENTRY_SYMBOL);
    // SAFETY: the symbol, if present, is the ABI's entry function with the `EntryFn` signature;
    // that is what the exported name promises.
    if let Ok(entry) = unsafe { library.get::<abi::EntryFn>(entry_name.as_bytes()) } {
        return Ok(*entry);
    }
    let other_major = (2..=9).find(|major| {
        let name = format!("riskgate_connector_entry_v{major}\0");
        // SAFETY: only the symbol's presence is checked; it is never called.
        unsafe { library.get::<*const c_void>(name.as_bytes()) }.is_ok()
    });
    let hint = other_major
        .map(|major| {
            format!(" (it exports riskgate_connector_entry_v{major}: built for ABI {major})")
        })
        .unwrap_or_default();
    Err(LoadError::MissingSymbol {
        path: path.to_owned(),
        symbol: abi::ENTRY_SYMBOL,
        hint,
    })
}

/// Step 4, second half: calls the entry function, checks the table's ABI major and size, and copies
/// exactly the fields the plugin's table has.
fn function_table(entry: abi::EntryFn, path: &Path) -> Result<RiskgateConnectorV1, LoadError> {
    // SAFETY: calling the plugin's entry function, which takes no arguments and returns a pointer.
    let table_ptr = unsafe { entry() };
    let abi_error = |reason: String| LoadError::Abi {
        path: path.to_owned(),
        reason,
    };
    if table_ptr.is_null() {
        return Err(abi_error(
            "the entry function returned a null table".to_owned(),
        ));
    }
    // SAFETY: every ABI major starts with three u32s (struct_size, abi_major, abi_minor), so
    // reading the header is valid for any table the symbol can return.
    let (struct_size, abi_major, abi_minor) = unsafe {
        let header = table_ptr.cast::<u32>();
        (header.read(), header.add(1).read(), header.add(2).read())
    };
    if abi_major != abi::ABI_MAJOR {
        return Err(abi_error(format!(
            "its table has ABI {abi_major}.{abi_minor}, this host supports ABI {}.x",
            abi::ABI_MAJOR
        )));
    }
    if struct_size < abi::V1_0_STRUCT_SIZE {
        return Err(abi_error(format!(
            "its table is {struct_size} bytes, smaller than the {} bytes of ABI 1.0",
            abi::V1_0_STRUCT_SIZE
        )));
    }
    // Copy exactly the fields the plugin's table has: a minor-0 table ends before `set_host`,
    // which then stays zero, i.e. `None`.
    let known = (struct_size as usize).min(std::mem::size_of::<RiskgateConnectorV1>());
    let mut table = std::mem::MaybeUninit::<RiskgateConnectorV1>::zeroed();
    // SAFETY: the plugin's table is valid for reads of its `struct_size` bytes (ABI rule) and
    // `known` is no more than that nor than the destination; the regions cannot overlap.
    unsafe {
        std::ptr::copy_nonoverlapping(
            table_ptr.cast::<u8>(),
            table.as_mut_ptr().cast::<u8>(),
            known,
        );
    }
    // SAFETY: `known` covers the whole v1.0 table (checked above), whose function pointers the
    // ABI requires to be non-null; the optional fields of later minors it does not cover are
    // zero, which is `None` for an `Option` of a function pointer.
    Ok(unsafe { table.assume_init() })
}

impl Plugin {
    /// Verifies `path` against `pinned_sha256`, then loads it and checks its function table (the
    /// steps of the module docs, in their order).
    pub fn load(path: &Path, pinned_sha256: &str) -> Result<Plugin, LoadError> {
        let (bytes, sha256) = verified_bytes(path, pinned_sha256)?;
        let library = open_private_copy(path, &bytes, &sha256)?;
        let entry = entry_function(&library, path)?;
        // Never unload: the function table and any plugin thread need the code for the process's life.
        std::mem::forget(library);
        let table = function_table(entry, path)?;
        if let Some(set_host) = table.set_host {
            // SAFETY: `set_host` is the plugin's, covered by its `struct_size`; `host_table` is
            // static, valid for the rest of the process, as the ABI requires.
            unsafe { set_host(host_table()) };
        }
        Ok(Plugin {
            table,
            path: path.to_owned(),
        })
    }

    /// The plugin file as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The ABI minor the plugin was built against.
    pub fn abi_minor(&self) -> u32 {
        self.table.abi_minor
    }

    /// Calls `manifest` and decodes it.
    pub fn manifest(&self) -> Result<pb::PluginManifest, CallError> {
        let mut out = RgOwnedBytes::empty();
        // SAFETY: `manifest` takes a valid out-pointer; `out` lives across the call.
        let code = unsafe { (self.table.manifest)(&mut out) };
        let bytes = self.take(out);
        self.decode_result(Entry::Manifest, code, bytes)
    }

    /// Calls `create` with the connector's start message.
    pub fn create(&self, start: &pb::PluginStart) -> Result<Instance, CallError> {
        self.create_raw(&start.encode_to_vec())
    }

    /// Calls `create` with arbitrary bytes (the conformance suite checks undecodable input is refused).
    pub fn create_raw(&self, input: &[u8]) -> Result<Instance, CallError> {
        let mut out = RgOwnedBytes::empty();
        let mut instance: *mut c_void = std::ptr::null_mut();
        // SAFETY: `input` is borrowed for the call; `instance` and `out` are valid out-pointers.
        let code = unsafe { (self.table.create)(borrowed(input), &mut instance, &mut out) };
        let bytes = self.take(out);
        self.status_only(Entry::Create, code, bytes)?;
        if instance.is_null() {
            return Err(CallError {
                entry: Entry::Create,
                failure: Failure::Garbage,
                message: "create returned OK without an instance".to_owned(),
                origin: String::new(),
            });
        }
        Ok(Instance {
            plugin: self.clone(),
            raw: instance,
            destroyed: false,
        })
    }

    /// Copies plugin-owned bytes and hands them back to the plugin's `free_bytes`.
    fn take(&self, out: RgOwnedBytes) -> Option<Vec<u8>> {
        if out.ptr.is_null() {
            return None;
        }
        // SAFETY: a non-null `out` from the plugin points at `len` initialised bytes until freed.
        let bytes = unsafe { std::slice::from_raw_parts(out.ptr, out.len) }.to_vec();
        // SAFETY: returned unchanged, once, to the allocator that produced it (ABI ownership rule).
        unsafe { (self.table.free_bytes)(out) };
        Some(bytes)
    }

    fn error(entry: Entry, code: u32, bytes: Option<Vec<u8>>) -> CallError {
        let failure = match code {
            status::ERR_CONFIG => Failure::Config,
            status::ERR_TRANSIENT => Failure::Transient,
            status::ERR_FATAL => Failure::Fatal,
            status::ERR_PANIC => Failure::Panic,
            status::ERR_INVALID => Failure::Invalid,
            status::ERR_UNSUPPORTED => Failure::Unsupported,
            other => Failure::UnknownStatus(other),
        };
        let (message, origin) = match bytes {
            None => ("(no message)".to_owned(), String::new()),
            Some(bytes) => match pb::PluginError::decode(bytes.as_slice()) {
                Ok(error) => (error.message, error.origin),
                Err(_) => (
                    format!("(undecodable error message of {} bytes)", bytes.len()),
                    String::new(),
                ),
            },
        };
        CallError {
            entry,
            failure,
            message,
            origin,
        }
    }

    fn status_only(
        &self,
        entry: Entry,
        code: u32,
        bytes: Option<Vec<u8>>,
    ) -> Result<(), CallError> {
        if code == status::OK {
            Ok(())
        } else {
            Err(Self::error(entry, code, bytes))
        }
    }

    fn decode_result<M: Message + Default>(
        &self,
        entry: Entry,
        code: u32,
        bytes: Option<Vec<u8>>,
    ) -> Result<M, CallError> {
        if code != status::OK {
            return Err(Self::error(entry, code, bytes));
        }
        let bytes = bytes.unwrap_or_default();
        M::decode(bytes.as_slice()).map_err(|e| CallError {
            entry,
            failure: Failure::Garbage,
            message: format!("{} bytes that do not decode: {e}", bytes.len()),
            origin: String::new(),
        })
    }
}

/// The host's table for `set_host` (ABI minor 1), built once. Its `max_level` is the level the
/// host's subscriber records when the first plugin is loaded (after logging is set up).
fn host_table() -> &'static RgHostV1 {
    struct Table(RgHostV1);
    // SAFETY: the table is immutable; its `ctx` is null and never dereferenced.
    unsafe impl Sync for Table {}
    // SAFETY: as for `Sync`: nothing in it is tied to a thread.
    unsafe impl Send for Table {}
    static TABLE: OnceLock<Table> = OnceLock::new();
    &TABLE
        .get_or_init(|| {
            Table(RgHostV1 {
                struct_size: abi::HOST_V1_1_STRUCT_SIZE,
                max_level: crate::plugin_log::max_level(),
                ctx: std::ptr::null_mut(),
                log: host_log,
            })
        })
        .0
}

/// The host's `log` callback (ABI minor 1): copies nothing, re-emits the record through
/// [`crate::plugin_log::emit`] and never unwinds into the plugin.
unsafe extern "C" fn host_log(_ctx: *mut c_void, level: u32, target: RgBytes, message: RgBytes) {
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: the plugin lends `target` and `message` for this call (ABI rule).
        let (target, message) =
            unsafe { (abi::borrow_bytes(&target), abi::borrow_bytes(&message)) };
        crate::plugin_log::emit(
            level,
            &String::from_utf8_lossy(target),
            &String::from_utf8_lossy(message),
        );
    });
}

/// Lends host bytes for one call.
fn borrowed(bytes: &[u8]) -> RgBytes {
    RgBytes {
        ptr: bytes.as_ptr(),
        len: bytes.len(),
    }
}

/// One plugin instance. Destroyed on drop (unless leaked after a panic).
#[derive(Debug)]
pub struct Instance {
    plugin: Plugin,
    raw: *mut c_void,
    destroyed: bool,
}

// SAFETY: the ABI lets the host call an instance from any thread as long as calls are serialised,
// which `&mut self` on every method guarantees.
unsafe impl Send for Instance {}

impl Instance {
    /// Calls `start`.
    pub fn start(&mut self) -> Result<(), CallError> {
        let mut out = RgOwnedBytes::empty();
        // SAFETY: `raw` is a live instance of this plugin; `out` is a valid out-pointer.
        let code = unsafe { (self.plugin.table.start)(self.raw, &mut out) };
        let bytes = self.plugin.take(out);
        self.plugin.status_only(Entry::Start, code, bytes)
    }

    /// Calls `next_batch`, waiting at most `timeout`.
    pub fn next_batch(&mut self, timeout: Duration) -> Result<NextBatch, CallError> {
        let timeout_ms = u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX);
        let mut out = RgOwnedBytes::empty();
        // SAFETY: `raw` is a live instance of this plugin; `out` is a valid out-pointer.
        let code = unsafe { (self.plugin.table.next_batch)(self.raw, timeout_ms, &mut out) };
        let bytes = self.plugin.take(out);
        match code {
            status::TIMEOUT => Ok(NextBatch::Timeout),
            status::END => Ok(NextBatch::End),
            _ => self
                .plugin
                .decode_result::<pb::PluginBatch>(Entry::NextBatch, code, bytes)
                .map(NextBatch::Batch),
        }
    }

    /// Calls `ack` for `batch_id`.
    pub fn ack(&mut self, batch_id: u64) -> Result<(), CallError> {
        let input = pb::PluginAck { batch_id }.encode_to_vec();
        let mut out = RgOwnedBytes::empty();
        // SAFETY: `raw` is a live instance; `input` is borrowed for the call; `out` is valid.
        let code = unsafe { (self.plugin.table.ack)(self.raw, borrowed(&input), &mut out) };
        let bytes = self.plugin.take(out);
        self.plugin.status_only(Entry::Ack, code, bytes)
    }

    /// Calls `stop`, giving the plugin `deadline`.
    pub fn stop(&mut self, deadline: Duration) -> Result<(), CallError> {
        let deadline_ms = u32::try_from(deadline.as_millis()).unwrap_or(u32::MAX);
        let mut out = RgOwnedBytes::empty();
        // SAFETY: `raw` is a live instance of this plugin; `out` is a valid out-pointer.
        let code = unsafe { (self.plugin.table.stop)(self.raw, deadline_ms, &mut out) };
        let bytes = self.plugin.take(out);
        self.plugin.status_only(Entry::Stop, code, bytes)
    }

    /// Calls `feed_health` (minor 2): the connector's last word on its vendor feed. `None` when it has
    /// said nothing or its table has no `feed_health` (an older plugin).
    pub fn feed_health(&mut self) -> Result<Option<pb::FeedHealth>, CallError> {
        let Some(feed_health) = self.plugin.table.feed_health else {
            return Ok(None);
        };
        let mut out = RgOwnedBytes::empty();
        // SAFETY: `raw` is a live instance of this plugin; `feed_health` is covered by its table's
        // `struct_size` (copied as zero, i.e. `None`, otherwise); `out` is a valid out-pointer.
        let code = unsafe { feed_health(self.raw, &mut out) };
        let bytes = self.plugin.take(out);
        if code == status::OK && bytes.is_none() {
            return Ok(None);
        }
        self.plugin
            .decode_result::<pb::FeedHealth>(Entry::FeedHealth, code, bytes)
            .map(Some)
    }

    /// Calls `recheck` (minor 2) with `request`. An older plugin without it fails as unsupported.
    pub fn recheck(&mut self, request: &pb::PluginRecheck) -> Result<(), CallError> {
        let Some(recheck) = self.plugin.table.recheck else {
            return Err(CallError {
                entry: Entry::Recheck,
                failure: Failure::Unsupported,
                message: format!(
                    "the plugin implements ABI 1.{}, re-checks came with 1.2",
                    self.plugin.abi_minor()
                ),
                origin: String::new(),
            });
        };
        let input = request.encode_to_vec();
        let mut out = RgOwnedBytes::empty();
        // SAFETY: `raw` is a live instance; `recheck` is covered by the table's `struct_size`;
        // `input` is borrowed for the call; `out` is valid.
        let code = unsafe { recheck(self.raw, borrowed(&input), &mut out) };
        let bytes = self.plugin.take(out);
        self.plugin.status_only(Entry::Recheck, code, bytes)
    }

    /// Leaks the instance instead of destroying it (after a panic poisoned it, the plugin's state
    /// may be inconsistent; the process is about to exit anyway).
    pub fn leak(mut self) {
        self.destroyed = true;
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if !self.destroyed {
            self.destroyed = true;
            // SAFETY: `raw` is a live instance, destroyed exactly once, never used afterwards.
            unsafe { (self.plugin.table.destroy)(self.raw) };
        }
    }
}
