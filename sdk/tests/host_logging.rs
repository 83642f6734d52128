//! ABI minor 1 from the plugin's side: after the host's `set_host`, the plugin's `tracing` and `log`
//! records reach the host's `log` callback with their level, target and formatted message, and
//! records above the host's `max_level` are not even sent.

// test code
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(unsafe_code)]

use std::{ffi::c_void, sync::Mutex};

use riskgate_sdk::{
    abi::{self, level, RgBytes, RgHostV1},
    tracing, Batch, BatchSink, Connector, ConnectorError, Manifest, Shutdown, StartContext,
};

struct Quiet;

impl Connector for Quiet {
    fn manifest() -> Manifest {
        Manifest {
            name: "quiet".to_owned(),
            vendor: "tests".to_owned(),
            version: "0".to_owned(),
        }
    }

    fn create(_start: &StartContext) -> Result<Self, ConnectorError> {
        Ok(Quiet)
    }

    async fn run(self, _sink: BatchSink, _shutdown: Shutdown) -> Result<(), ConnectorError> {
        let _ = Batch::default();
        Ok(())
    }
}

static RECORDS: Mutex<Vec<(u32, String, String)>> = Mutex::new(Vec::new());

unsafe extern "C" fn record(_ctx: *mut c_void, level: u32, target: RgBytes, message: RgBytes) {
    // SAFETY: the plugin lends both for the call (ABI rule).
    let (target, message) = unsafe { (abi::borrow_bytes(&target), abi::borrow_bytes(&message)) };
    RECORDS.lock().unwrap().push((
        level,
        String::from_utf8_lossy(target).into_owned(),
        String::from_utf8_lossy(message).into_owned(),
    ));
}

static HOST: RgHostV1Static = RgHostV1Static(RgHostV1 {
    struct_size: abi::HOST_V1_1_STRUCT_SIZE,
    max_level: level::INFO,
    ctx: std::ptr::null_mut(),
    log: record,
});

struct RgHostV1Static(RgHostV1);
// SAFETY: immutable, and its ctx is null.
unsafe impl Sync for RgHostV1Static {}

#[test]
fn the_table_is_minor_2_and_records_reach_the_host_with_level_target_and_fields() {
    let table = riskgate_sdk::export::vtable::<Quiet>();
    assert_eq!(table.abi_minor, 2);
    assert_eq!(table.struct_size, abi::V1_2_STRUCT_SIZE);
    assert_eq!(
        abi::V1_1_STRUCT_SIZE - abi::V1_0_STRUCT_SIZE,
        std::mem::size_of::<usize>() as u32,
        "minor 1 appends exactly one pointer"
    );
    assert_eq!(
        abi::V1_2_STRUCT_SIZE - abi::V1_1_STRUCT_SIZE,
        2 * std::mem::size_of::<usize>() as u32,
        "minor 2 appends exactly two pointers"
    );
    assert!(table.feed_health.is_some() && table.recheck.is_some());

    // Before set_host: nowhere to go, and nothing breaks.
    tracing::info!(target: "lookout::sync", "before the host");
    let set_host = table.set_host.expect("minor 1 has set_host");
    // SAFETY: a static host table, valid for the process.
    unsafe { set_host(&HOST.0) };
    // A second call is ignored.
    // SAFETY: as above.
    unsafe { set_host(&HOST.0) };

    tracing::info!(target: "lookout::sync", devices = 3, vendor = "lookout", "synced {} pages", 2);
    tracing::warn!(target: "lookout::stream", "reconnecting");
    tracing::debug!(target: "lookout::sync", "too verbose for the host");
    log::error!(target: "lookout::legacy", "from the log crate: {}", 42);
    log::debug!(target: "lookout::legacy", "too verbose too");
    std::thread::spawn(|| tracing::error!("from another thread"))
        .join()
        .unwrap();

    let records = RECORDS.lock().unwrap().clone();
    assert_eq!(
        records,
        vec![
            (
                level::INFO,
                "lookout::sync".to_owned(),
                "synced 2 pages devices=3 vendor=\"lookout\"".to_owned()
            ),
            (
                level::WARN,
                "lookout::stream".to_owned(),
                "reconnecting".to_owned()
            ),
            (
                level::ERROR,
                "lookout::legacy".to_owned(),
                "from the log crate: 42".to_owned()
            ),
            (
                level::ERROR,
                "host_logging".to_owned(),
                "from another thread".to_owned()
            ),
        ]
    );
}
