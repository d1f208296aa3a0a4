//! A module of the library (declared in src/lib.rs).

/// Shown as `mod=...` in every tick line.
#[inline(never)]
pub fn pricing_message() -> &'static str {
    "mod-v1"
}
