# riskgate developer menu. See https://just.systems/man/en
# Everything here is a thin layer over cargo; CI does not need just.

# List the recipes
default:
    @just --list

# Build every crate and binary
build *args='':
    cargo build --workspace {{args}}

# Run every test (the README's test command)
test *args='':
    cargo test --workspace {{args}}

# Check formatting and run clippy with warnings as errors
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings
    bash .ci/guardrails

# Format the code
fmt:
    cargo fmt --all

# Run the core risk service on the default data dir (./riskgate-data) and address (127.0.0.1:50051)
run *args='':
    cargo run --release -p riskgate-core -- {{args}}

# Run the benchmarks: all (default), check, decide, ingest, subscribe or scale; --quick for a smoke run. See BENCHMARKS.md
bench *args='':
    cargo run --release -p riskgate-bench -- {{args}}

# Run CI exactly as it runs on a clean clone
ci:
    bash .ci/run

# Audit dependencies for advisories, licences and duplicates
deny:
    cargo deny check

# Fuzz one target for `secs` seconds with libFuzzer (needs nightly and `cargo install cargo-fuzz --locked`; see docs/fuzzing.md)
fuzz target='lookout_event' secs='60':
    mkdir -p fuzz/target/corpus/{{target}}
    cd fuzz && cargo +nightly fuzz run {{target}} target/corpus/{{target}} corpus/{{target}} -- -max_total_time={{secs}} -print_final_stats=1
