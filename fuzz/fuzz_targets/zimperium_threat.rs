//! libFuzzer harness: Zimperium threat items through the threat and device parsers and the fleet
//! (`riskgate_fuzz_targets::zimperium_threat` holds the target and its invariants).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    riskgate_fuzz_targets::zimperium_threat(data);
});
