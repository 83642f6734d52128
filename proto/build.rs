//! Compiles the .proto files with protox (pure Rust, no system protoc) and generates prost/tonic code.
//!
//! The messages of `types.proto` and `plugin.proto` (device reports, the plugin ABI's messages) are
//! not generated again: they are the SDK's (`riskgate_sdk::pb`, generated from the same files), so a
//! report a plugin builds is the report the core receives, with no re-encoding between two copies.

use std::{env, path::PathBuf};

/// The files whose messages the SDK generates and this crate reuses (`sdk/src/pb/`).
const SDK_FILES: [&str; 2] = ["riskgate/v1/types.proto", "riskgate/v1/plugin.proto"];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "riskgate/v1/types.proto",
        "riskgate/v1/ingest.proto",
        "riskgate/v1/devices.proto",
        "riskgate/v1/policy.proto",
        "riskgate/v1/stream.proto",
        "riskgate/v1/plugin.proto",
        "riskgate/v1/auth.proto",
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
    let mut config = tonic_prost_build::configure().codec_path("crate::codec::StrictCodec");
    for file in descriptors
        .file
        .iter()
        .filter(|file| SDK_FILES.contains(&file.name()))
    {
        let names = file
            .message_type
            .iter()
            .map(|message| message.name())
            .chain(file.enum_type.iter().map(|enumeration| enumeration.name()));
        for name in names {
            config = config.extern_path(
                format!(".{}.{name}", file.package()),
                format!("::riskgate_sdk::pb::{name}"),
            );
        }
    }
    config.compile_fds(descriptors)?;
    Ok(())
}
