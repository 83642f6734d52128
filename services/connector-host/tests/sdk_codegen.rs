//! Checks that the protobuf code committed in `sdk/src/pb/` is what `proto/riskgate/v1/{types,plugin}.proto`
//! generate today. The SDK carries generated code (instead of a build script) so that it is
//! self-contained on crates.io; this test is what keeps it from going stale.
//!
//! To refresh it after changing the protos: `RISKGATE_BLESS=1 cargo test -p riskgate-connector-host --test sdk_codegen`.

// test code
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("services/connector-host is two levels below the root")
        .to_path_buf()
}

#[test]
fn committed_sdk_protobuf_code_matches_the_protos() -> anyhow::Result<()> {
    let root = workspace_root();
    let out = tempfile::tempdir()?;
    let descriptors = protox::compile(
        ["riskgate/v1/types.proto", "riskgate/v1/plugin.proto"],
        [root.join("proto")],
    )?;
    tonic_prost_build::configure()
        .build_client(false)
        .build_server(false)
        .out_dir(out.path())
        .compile_fds(descriptors)?;
    let generated = std::fs::read_to_string(out.path().join("riskgate.v1.rs"))?;
    let committed_path = root.join("sdk/src/pb/riskgate.v1.rs");
    if std::env::var_os("RISKGATE_BLESS").is_some() {
        std::fs::write(&committed_path, &generated)?;
    }
    let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is stale: run `RISKGATE_BLESS=1 cargo test -p riskgate-connector-host --test sdk_codegen` and commit the result",
        committed_path.display()
    );
    Ok(())
}
