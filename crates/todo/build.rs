//! Optimised Linux builds of the binary link with `layout.ld` (made by `bench/code-layout`):
//! the code that starts the server and serves the everyday routes, placed together. The kernel
//! maps code 64 KB around each page that faults, so scattered it kept ~14 MB of the binary
//! resident where under 5 MB runs. The script only adds a section ahead of `.text` (`INSERT`), so a
//! pattern that matches nothing changes nothing.

fn main() {
    println!("cargo::rerun-if-changed=layout.ld");
    let optimised = std::env::var("PROFILE").is_ok_and(|profile| profile == "release");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    if optimised && linux {
        let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
        println!("cargo::rustc-link-arg-bins=-Wl,-T,{dir}/layout.ld");
    }
}
