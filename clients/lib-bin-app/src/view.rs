//! A module of the binary (declared in src/main.rs), although it sits beside the library's files.

/// Shown as `view=...` in every tick line.
#[inline(never)]
pub fn view_message() -> &'static str {
    "view-v1"
}
