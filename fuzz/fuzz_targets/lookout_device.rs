//! libFuzzer harness: Lookout REST device and threat items through the fleet and report mapping
//! (`riskgate_fuzz_targets::lookout_device` holds the target and its invariants).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    riskgate_fuzz_targets::lookout_device(data);
});
