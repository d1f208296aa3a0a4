//! Readable Rust paths from linker symbols, legacy (`_ZN…17h<hash>E`) and v0 (`_R…`) alike.
//! The hash and the crates' disambiguators are left out (`{:#}`), so both manglings of one
//! function read the same, except where v0 says more: generic arguments of a function's own
//! instance, and closures numbered as `{closure#N}` where legacy says `{{closure}}`.

use crate::abi;

/// One name; not a Rust symbol (a C name, `main`): `None`.
pub fn demangle_one(sym: &str) -> Option<String> {
    rustc_demangle::try_demangle(sym).ok().map(|d| format!("{:#}", d))
}

/// Input: names separated by `\n`. Output: the same number of lines, each the demangled name or,
/// where a name is not a Rust symbol, the name unchanged.
#[no_mangle]
pub extern "C" fn sd_demangle(ptr: *mut u8, len: usize) -> *mut u8 {
    let input = abi::take_input(ptr, len);
    let text = String::from_utf8_lossy(input.bytes());
    let mut out = String::with_capacity(text.len() * 2);
    for (i, sym) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match demangle_one(sym) {
            Some(d) => out.push_str(&d),
            None => out.push_str(sym),
        }
    }
    abi::result(out.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::demangle_one;

    #[test]
    fn legacy_and_v0_read_alike() {
        assert_eq!(demangle_one("_ZN7counter4tick17h0123456789abcdefE").as_deref(), Some("counter::tick"));
        assert_eq!(demangle_one("_RNvCs1234_7counter4tick").as_deref(), Some("counter::tick"));
        assert_eq!(demangle_one("main"), None);
    }

    #[test]
    fn v0_closures_are_numbered() {
        // counter::main::{closure#1}
        assert_eq!(demangle_one("_RNCNvCs1234_7counter4mains_0").as_deref(), Some("counter::main::{closure#1}"));
    }
}
