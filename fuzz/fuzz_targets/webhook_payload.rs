//! libFuzzer harness: a webhook push (headers and body) through the signature check and mapping
//! (`riskgate_fuzz_targets::webhook_payload` holds the target and its invariants).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    riskgate_fuzz_targets::webhook_payload(data);
});
