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

# Format the code
fmt:
    cargo fmt --all

# Run the core risk service on the default data dir (./riskgate-data) and address (127.0.0.1:50051)
run *args='':
    cargo run --release -p riskgate-core -- {{args}}

# Run CI exactly as it runs on a clean clone
ci:
    bash .ci/run

# Audit dependencies for advisories, licences and duplicates
deny:
    cargo deny check
