//! Compiles the .proto files with protox (pure Rust, no system protoc) and generates prost/tonic code.

use std::{env, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "riskgate/v1/types.proto",
        "riskgate/v1/ingest.proto",
        "riskgate/v1/devices.proto",
        "riskgate/v1/policy.proto",
        "riskgate/v1/stream.proto",
        "riskgate/v1/plugin.proto",
    ];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    let descriptors = protox::compile(files, ["."])?;
    // Build scripts write only into OUT_DIR; the descriptor set is embedded for server reflection.
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("riskgate_descriptor.bin"),
        prost::Message::encode_to_vec(&descriptors),
    )?;
    // Decode errors are the sender's fault: INVALID_ARGUMENT, not tonic-prost's INTERNAL (src/codec.rs).
    tonic_prost_build::configure()
        .codec_path("crate::codec::StrictCodec")
        .compile_fds(descriptors)?;
    Ok(())
}
