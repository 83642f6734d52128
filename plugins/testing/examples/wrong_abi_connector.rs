//! A plugin whose function table claims ABI major 2 under the v1 symbol: the host must refuse it
//! before calling anything.

#![allow(unsafe_code)]

use riskgate_sdk::abi::RiskgateConnectorV1;

static TABLE: RiskgateConnectorV1 = RiskgateConnectorV1 {
    abi_major: 2,
    abi_minor: 0,
    ..riskgate_test_plugins::raw::SDK_TABLE
};

/// The entry point, returning a table of the wrong ABI major.
#[unsafe(no_mangle)]
pub extern "C" fn riskgate_connector_entry_v1() -> *const RiskgateConnectorV1 {
    &TABLE
}
