//! A library whose build script sets `STATION_STAMP`, `STATION_LIST` (from data/stations.txt) and
//! `STATION_SCHEMA` (from its build-dependency station-gen) at compile time.

/// Shown as `stamp=...` in every tick line.
#[inline(never)]
pub fn stamp() -> &'static str {
    env!("STATION_STAMP")
}

/// Shown as `stations=...`: data/stations.txt as the build script read it.
#[inline(never)]
pub fn stations() -> &'static str {
    env!("STATION_LIST")
}

/// Shown as `schema=...`: what station-gen told the build script.
#[inline(never)]
pub fn schema() -> &'static str {
    env!("STATION_SCHEMA")
}
