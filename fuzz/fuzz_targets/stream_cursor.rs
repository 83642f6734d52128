//! libFuzzer harness: a subscription cursor through the core's signed cursor codec
//! (`riskgate_fuzz_targets::stream_cursor` holds the target and its invariants).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    riskgate_fuzz_targets::stream_cursor(data);
});
