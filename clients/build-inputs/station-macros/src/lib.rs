//! A proc-macro crate: `banner!()` expands to a string literal. Its code runs inside rustc, so the
//! running app holds what it expanded to at the last full build.

use proc_macro::TokenStream;

/// Expands to the `banner=...` literal of the tick line.
#[proc_macro]
pub fn banner(_input: TokenStream) -> TokenStream {
    "\"banner-v1\"".parse().unwrap()
}
