//! A proc-macro crate: `banner!()` expands to a string literal, `gauge!()` to a struct with its
//! methods. Its code runs inside rustc, so the running app holds what it expanded to at the last
//! build; an edit is patched only when the layout gate verifies the expansion's layouts.

use proc_macro::TokenStream;

/// What `banner!()` expands to. It lives in rustc while the macro runs, never in the app: its
/// layout is not the app's concern.
struct Banner {
    text: &'static str,
}

/// Expands to the `banner=...` literal of the tick line.
#[proc_macro]
pub fn banner(_input: TokenStream) -> TokenStream {
    let banner = Banner { text: "banner-v1" };
    format!("{:?}", banner.text).parse().unwrap()
}

/// Expands to `Gauge`, the `gauge=...` value of the tick line: a field added here changes its layout.
#[proc_macro]
pub fn gauge(_input: TokenStream) -> TokenStream {
    r#"
    pub struct Gauge {
        pub level: u32,
    }

    impl Gauge {
        #[inline(never)]
        pub fn new(level: u32) -> Self {
            Gauge { level }
        }

        #[inline(never)]
        pub fn shown(&self) -> u32 {
            self.level
        }
    }
    "#
    .parse()
    .unwrap()
}
