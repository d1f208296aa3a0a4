//! The build script: cargo runs it before compiling the library, which reads what it set. It reads
//! data/stations.txt (declared with rerun-if-changed) and asks its build-dependency station-gen
//! for the schema.

fn main() {
    println!("cargo:rustc-env=STATION_STAMP=stamp-v1");
    let stations = std::fs::read_to_string("data/stations.txt").expect("data/stations.txt");
    println!("cargo:rustc-env=STATION_LIST={}", stations.trim());
    println!("cargo:rustc-env=STATION_SCHEMA={}", station_gen::schema());
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=data/stations.txt");
}
