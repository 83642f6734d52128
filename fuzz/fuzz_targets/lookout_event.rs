//! libFuzzer harness: a Lookout SSE events payload through the fleet and report mapping
//! (`riskgate_fuzz_targets::lookout_event` holds the target and its invariants).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    riskgate_fuzz_targets::lookout_event(data);
});
