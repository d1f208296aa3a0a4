//! counter-core: the workspace (non-tip) crate of the counter fixture. Tests edit the string
//! literal below and expect the running app to print the new value without restarting.

/// Shown in every tick line as `core=...`.
// Kept out of line so the function has its own symbol (and jump-table entry) to patch.
#[inline(never)]
pub fn core_message() -> &'static str {
    "core-v1"
}
