//! A shared library that is not a riskgate connector: it exports no `riskgate_connector_entry_v1`.

#![allow(unsafe_code)]

/// Some unrelated exported function.
#[unsafe(no_mangle)]
pub extern "C" fn not_a_riskgate_connector() -> u32 {
    42
}
