//! Compiles bench/proto/echo.proto with protox (pure Rust, no system protoc) into prost/tonic code, the way
//! proto/build.rs compiles riskgate's API.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let file = "echo.proto";
    println!("cargo:rerun-if-changed=proto/{file}");
    let descriptors = protox::compile([file], ["proto"])?;
    tonic_prost_build::configure().compile_fds(descriptors)?;
    Ok(())
}
