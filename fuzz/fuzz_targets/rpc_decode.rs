//! libFuzzer harness: raw bytes as the request of every RPC, through the codec the services decode
//! with (`riskgate_fuzz_targets::rpc_decode` holds the target and its invariants).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    riskgate_fuzz_targets::rpc_decode(data);
});
