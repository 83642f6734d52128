//! Lets the fuzz binaries link all three connector plugins at once (see fuzz/targets/build.rs):
//! each plugin exports the same C entry point, which these binaries never call.

fn main() {
    println!("cargo::rustc-link-arg-bins=-Wl,--allow-multiple-definition");
}
