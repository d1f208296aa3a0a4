//! A library whose build script sets `STATION_STAMP` at compile time.

/// Shown as `stamp=...` in every tick line.
#[inline(never)]
pub fn stamp() -> &'static str {
    env!("STATION_STAMP")
}
