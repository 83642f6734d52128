//! Lets this crate's test and example binaries link all three connector plugins at once.
//!
//! Each plugin exports the same C entry point, `riskgate_connector_entry_v1` (one per `cdylib`, by
//! the plugin ABI), and rustc keeps every `#[no_mangle]` symbol of an rlib in the executables that
//! link it, so linking two plugins defines the symbol twice. These binaries never call it: the
//! linker may keep either definition.

fn main() {
    println!("cargo::rustc-link-arg=-Wl,--allow-multiple-definition");
}
