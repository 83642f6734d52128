//! Deliberately broken connector plugins for the connector-host tests (issue 5, point 4).
//!
//! [`FaultyConnector`] first behaves: it emits `good_batches` valid batches and waits until the core
//! acknowledged them (so a test can check nothing acknowledged is lost), then commits the `fault`
//! named in its JSON configuration, `{"fault": "...", "good_batches": N}`. Its reports carry the health
//! state `health_state` names (`"HIGH_SEVERITY"`; default `"SECURED"`).
//!
//! | fault | what happens | where the host sees it |
//! |---|---|---|
//! | `none` | keeps emitting valid batches | - |
//! | `panic_in_create` | panics while reading its configuration | `create` returns PANIC |
//! | `panic_in_start` | panics while the SDK builds its runtime | `start` returns PANIC |
//! | `panic_in_next_batch` | its run task panics | `next_batch` returns PANIC |
//! | `panic_on_ack` | panics when it learns an acknowledgement | `next_batch` returns PANIC |
//! | `panic_in_stop` | panics while shutting down | `stop` returns PANIC |
//! | `fatal_error` | returns a fatal error | `next_batch` returns FATAL |
//! | `abort` | calls `std::process::abort` | the host dies of SIGABRT |
//! | `segfault` | raises SIGSEGV | the host dies of SIGSEGV |
//! | `hang_in_next_batch` | `next_batch` never returns | the host's watchdog |
//! | `garbage_bytes` | `next_batch` returns bytes that are not a `PluginBatch` | decoding in the host |
//! | `huge_batch` | emits a batch of 5000 reports | the host's batch check |
//!
//! The examples of this crate are the plugins: `faulty_connector` (the above),
//! `panic_manifest_connector` (panics in `manifest`, before any configuration exists),
//! `wrong_abi_connector` (a table claiming ABI 2), `missing_symbol_connector` (no entry symbol) and
//! `abi_1_0_connector` (the faulty connector behind a table of ABI minor 0, as an older SDK built it).
//!
//! The faulty connector logs (ABI minor 1, `sdk/LOGGING.md`): `tracing` INFO records with target
//! `lookout::sync` when it is created and for each good batch sent, and a `log` WARN record with
//! target `lookout::legacy` when it is created.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU8, Ordering},
        Mutex,
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use riskgate_sdk::{
    pb, prost_types, Batch, BatchSink, Connector, ConnectorError, Manifest, Shutdown, StartContext,
};

/// The faults, as configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Fault {
    /// No fault.
    None = 0,
    /// Panic in `create`.
    PanicInCreate,
    /// Panic in `start`.
    PanicInStart,
    /// Panic in the run task.
    PanicInNextBatch,
    /// Panic on learning an acknowledgement.
    PanicOnAck,
    /// Panic while stopping.
    PanicInStop,
    /// Return a fatal error.
    FatalError,
    /// Abort the process.
    Abort,
    /// Die of SIGSEGV.
    Segfault,
    /// Never return from `next_batch`.
    HangInNextBatch,
    /// Return undecodable bytes from `next_batch`.
    GarbageBytes,
    /// Emit a batch above the report limit.
    HugeBatch,
}

const FAULTS: [(&str, Fault); 12] = [
    ("none", Fault::None),
    ("panic_in_create", Fault::PanicInCreate),
    ("panic_in_start", Fault::PanicInStart),
    ("panic_in_next_batch", Fault::PanicInNextBatch),
    ("panic_on_ack", Fault::PanicOnAck),
    ("panic_in_stop", Fault::PanicInStop),
    ("fatal_error", Fault::FatalError),
    ("abort", Fault::Abort),
    ("segfault", Fault::Segfault),
    ("hang_in_next_batch", Fault::HangInNextBatch),
    ("garbage_bytes", Fault::GarbageBytes),
    ("huge_batch", Fault::HugeBatch),
];

/// The configured fault, for the parts of the ABI that run before or outside the connector value.
static FAULT: AtomicU8 = AtomicU8::new(0);
/// Set once the good batches are acknowledged: the raw-ABI faults strike only then.
static ARMED: AtomicBool = AtomicBool::new(false);
static CONFIG_ERROR: Mutex<Option<String>> = Mutex::new(None);

fn fault() -> Fault {
    let raw = FAULT.load(Ordering::SeqCst);
    FAULTS
        .iter()
        .map(|(_, f)| *f)
        .find(|f| *f as u8 == raw)
        .unwrap_or(Fault::None)
}

/// Whether the raw-ABI fault `wanted` should strike now.
pub fn armed(wanted: Fault) -> bool {
    fault() == wanted && ARMED.load(Ordering::SeqCst)
}

/// A connector that behaves, then fails as configured.
#[derive(Debug)]
pub struct FaultyConnector {
    fault: Fault,
    good_batches: u64,
    cursor: u64,
    /// The health state every report carries.
    health_state: pb::HealthState,
}

impl Connector for FaultyConnector {
    fn manifest() -> Manifest {
        Manifest {
            name: "faulty".to_owned(),
            vendor: "riskgate tests".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }

    fn create(start: &StartContext) -> Result<Self, ConnectorError> {
        let value: serde_json::Value = serde_json::from_slice(&start.config)
            .map_err(|e| ConnectorError::Config(format!("not valid JSON: {e}")))?;
        let name = value["fault"].as_str().unwrap_or("none");
        let fault = FAULTS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| *f)
            .ok_or_else(|| ConnectorError::Config(format!("fault: unknown fault {name:?}")))?;
        let good_batches = value["good_batches"].as_u64().unwrap_or(2);
        let health_name = value["health_state"].as_str().unwrap_or("SECURED");
        let health_state = pb::HealthState::from_str_name(&format!("HEALTH_STATE_{health_name}"))
            .ok_or_else(|| {
            ConnectorError::Config(format!("health_state: unknown state {health_name:?}"))
        })?;
        if fault == Fault::PanicInCreate {
            panic!("faulty connector: deliberate panic in create");
        }
        riskgate_sdk::tracing::info!(
            target: "lookout::sync",
            fault = name,
            good_batches,
            "faulty connector created"
        );
        log::warn!(target: "lookout::legacy", "faulty connector: a record through the log crate");
        FAULT.store(fault as u8, Ordering::SeqCst);
        *CONFIG_ERROR.lock().unwrap_or_else(|e| e.into_inner()) = None;
        let cursor = start
            .checkpoint
            .as_deref()
            .and_then(|raw| std::str::from_utf8(raw).ok()?.parse().ok())
            .unwrap_or(0);
        Ok(FaultyConnector {
            fault,
            good_batches,
            cursor,
            health_state,
        })
    }

    fn worker_threads() -> usize {
        if fault() == Fault::PanicInStart {
            panic!("faulty connector: deliberate panic in start");
        }
        1
    }

    async fn run(mut self, sink: BatchSink, shutdown: Shutdown) -> Result<(), ConnectorError> {
        let mut last = None;
        for _ in 0..self.good_batches {
            let batch = self.batch(3);
            match sink.send(batch).await {
                Ok(id) => {
                    riskgate_sdk::tracing::info!(target: "lookout::sync", cursor = self.cursor, "sent a good batch");
                    last = Some(id);
                }
                Err(_) => return self.stopped(),
            }
        }
        if let Some(last) = last {
            if sink.wait_acknowledged(last).await.is_err() {
                return self.stopped();
            }
        }
        ARMED.store(true, Ordering::SeqCst);
        match self.fault {
            Fault::PanicInNextBatch => panic!("faulty connector: deliberate panic in next_batch"),
            Fault::PanicOnAck => panic!("faulty connector: deliberate panic on ack"),
            Fault::FatalError => {
                return Err(ConnectorError::Fatal(
                    "faulty connector: deliberate fatal error".to_owned(),
                ))
            }
            Fault::Abort => std::process::abort(),
            Fault::Segfault => segfault(),
            Fault::HugeBatch => {
                let batch = self.batch(5000);
                let _ = sink.send(batch).await;
            }
            _ => {}
        }
        loop {
            tokio_select_sleep(&shutdown).await;
            if shutdown.is_shutdown() {
                return self.stopped();
            }
            if self.fault == Fault::None {
                let batch = self.batch(3);
                if sink.send(batch).await.is_err() {
                    return self.stopped();
                }
            }
        }
    }
}

async fn tokio_select_sleep(shutdown: &Shutdown) {
    riskgate_sdk::tokio::select! {
        () = riskgate_sdk::tokio::time::sleep(Duration::from_millis(50)) => {}
        () = shutdown.wait() => {}
    }
}

/// Dies of SIGSEGV the way a wild pointer does: a store to an unmapped address. (Sending the signal
/// with `kill` is not enough: Rust's stack-overflow handler swallows one externally sent SIGSEGV.)
#[allow(unsafe_code)]
fn segfault() -> ! {
    let wild = std::hint::black_box(8usize) as *mut u8;
    // SAFETY: none; this is the deliberate crash the test plugin exists for. Address 8 is never
    // mapped on Linux, so the volatile store faults and the process dies of SIGSEGV.
    unsafe { wild.write_volatile(1) };
    std::process::abort()
}

impl FaultyConnector {
    /// The end of `run` on shutdown, where the `panic_in_stop` fault strikes.
    fn stopped(&self) -> Result<(), ConnectorError> {
        if self.fault == Fault::PanicInStop {
            panic!("faulty connector: deliberate panic in stop");
        }
        Ok(())
    }

    fn batch(&mut self, reports: u64) -> Batch {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let reports = (self.cursor..self.cursor + reports)
            .map(|event| pb::DeviceReport {
                device_id: format!("faulty-device-{}", event % 7),
                platform: pb::Platform::Android as i32,
                health_state: self.health_state as i32,
                observed_at: Some(prost_types::Timestamp {
                    seconds: i64::try_from(now.as_secs()).unwrap_or(i64::MAX),
                    nanos: 0,
                }),
                vendor_event_id: format!("faulty-event-{event}"),
                ..Default::default()
            })
            .collect::<Vec<_>>();
        self.cursor += reports.len() as u64;
        Batch {
            checkpoint: self.cursor.to_string().into_bytes(),
            reports,
        }
    }
}

/// Raw ABI overrides for the faults the SDK would never let a connector commit.
#[allow(unsafe_code)]
pub mod raw {
    use riskgate_sdk::abi::{self, status, RgOwnedBytes, RiskgateConnectorV1};

    use super::{armed, Fault, FaultyConnector};

    /// The SDK's table for [`FaultyConnector`].
    pub static SDK_TABLE: RiskgateConnectorV1 = riskgate_sdk::export::vtable::<FaultyConnector>();

    /// The exported table: the SDK's, with `next_batch` able to hang or return garbage.
    pub static TABLE: RiskgateConnectorV1 = RiskgateConnectorV1 {
        next_batch,
        ..SDK_TABLE
    };

    unsafe extern "C" fn next_batch(
        instance: *mut std::ffi::c_void,
        timeout_ms: u32,
        out: *mut RgOwnedBytes,
    ) -> u32 {
        if armed(Fault::HangInNextBatch) {
            loop {
                std::thread::sleep(std::time::Duration::from_secs(3600));
            }
        }
        if armed(Fault::GarbageBytes) {
            let garbage = vec![0xff_u8; 64];
            // SAFETY: the host passes a valid, empty out-parameter (ABI contract); the bytes are
            // freed by this library's `free_bytes`, which is the SDK's `free_owned`.
            unsafe { out.write(abi::into_owned(garbage)) };
            return status::OK;
        }
        // SAFETY: forwarding the host's arguments unchanged to the SDK's implementation.
        unsafe { (SDK_TABLE.next_batch)(instance, timeout_ms, out) }
    }
}
