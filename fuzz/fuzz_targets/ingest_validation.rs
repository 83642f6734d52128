//! libFuzzer harness: a protobuf ReportBatch through the core's Ingest parse
//! (`riskgate_fuzz_targets::ingest_validation` holds the target and its invariants).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    riskgate_fuzz_targets::ingest_validation(data);
});
