//! The ledger library: the package's lib target, a crate of its own that the binary links.

pub mod pricing;

/// Shown as `lib=...` in every tick line.
#[inline(never)]
pub fn lib_message() -> &'static str {
    "lib-v1"
}
