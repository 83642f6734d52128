//! The faulty connector plugin: valid batches first, then the fault its configuration names
//! (see the crate docs of `riskgate-test-plugins`).

/// The plugin's entry point: the SDK table with raw-ABI fault injection in `next_batch`.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn riskgate_connector_entry_v1() -> *const riskgate_sdk::abi::RiskgateConnectorV1 {
    &riskgate_test_plugins::raw::TABLE
}
