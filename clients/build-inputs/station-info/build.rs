//! The build script: cargo runs it before compiling the library, which reads what it set.

fn main() {
    println!("cargo:rustc-env=STATION_STAMP=stamp-v1");
    println!("cargo:rerun-if-changed=build.rs");
}
