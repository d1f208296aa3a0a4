//! The `hot!` helper: call a function through subsecond's jump table by its ORIGINAL address.
//!
//! Why it exists: the jump table maps addresses in the original executable to addresses in the
//! newest patch. Once a patch is live, the tip crate's code runs from the patch library, and
//! there `some_crate::f as *const ()` (or a call to it) yields an address inside that library:
//! the library's own copy, a trampoline, or whatever the dynamic linker bound it to. None of those
//! are keys of the jump table, so `subsecond::HotFn`/`subsecond::call` on such a pointer silently
//! keeps calling whatever that address happens to be. `hot!` remembers the executable's address
//! of the function (captured the first time the call site runs in the original executable) and
//! looks that up instead.
//!
//! This module never applies patches; it only reads the current table.

use std::sync::OnceLock;

/// Evaluates to a plain `fn` pointer for the current version of a (non-generic-closure, Rust-ABI)
/// function: the newest patched version if the jump table has one, else the function itself.
///
/// ```ignore
/// let text = subsecond_agent::hot!(my_widgets::label_text)(&state);
/// subsecond_agent::hot!(my_widgets::panel)(ui, &mut model);
/// ```
///
/// Use it for calls from the tip (binary) crate into **workspace crates** (and between tip
/// functions you want to hot-swap individually). Use `subsecond::call` once at the top of your
/// loop/frame (code that is never patched itself): that makes the whole tip crate hot. In release
/// builds `hot!` is just the function pointer.
///
/// The pointer is resolved against the table current at evaluation time: do not keep it across
/// frames, re-evaluate `hot!(..)` at each call.
#[macro_export]
macro_rules! hot {
    ($f:expr) => {{
        // One slot per call site; see `HotSite` for why it may hold no value yet.
        static __SUBSECOND_AGENT_SITE: $crate::__private::HotSite = $crate::__private::HotSite::new();
        $crate::__private::resolve(
            &__SUBSECOND_AGENT_SITE,
            $f,
            $f as *const () as usize,
            ::core::cfg!(debug_assertions),
        )
    }};
}

/// Links a function item type to its `fn` pointer type, so `hot!` can hand back a typed pointer
/// without the caller spelling out the signature. Implemented for everything callable with up to
/// 10 arguments; only real function items get through `hot!` (the `as *const ()` cast rejects
/// closures with captures).
pub trait HotFnItem<P: Copy>: Copy {}

macro_rules! impl_hot_fn_item {
    ($($arg:ident),*) => {
        impl<F, R, $($arg),*> HotFnItem<fn($($arg),*) -> R> for F where F: Fn($($arg),*) -> R + Copy {}
    };
}
impl_hot_fn_item!();
impl_hot_fn_item!(A);
impl_hot_fn_item!(A, B);
impl_hot_fn_item!(A, B, C);
impl_hot_fn_item!(A, B, C, D);
impl_hot_fn_item!(A, B, C, D, E);
impl_hot_fn_item!(A, B, C, D, E, G);
impl_hot_fn_item!(A, B, C, D, E, G, H);
impl_hot_fn_item!(A, B, C, D, E, G, H, I);
impl_hot_fn_item!(A, B, C, D, E, G, H, I, J);
impl_hot_fn_item!(A, B, C, D, E, G, H, I, J, K);

/// Per-call-site memory of the function's address in the original executable.
///
/// It stays empty until the site first runs in original (unpatched) code. A site that first runs
/// inside a patch has no original address to remember; it then resolves the address it sees, which
/// is still correct for the running patch (patches carry every changed crate cumulatively).
/// The type name guards against a site in a generic function seeing several instantiations: the
/// first one is remembered, the others are resolved by the address they see.
pub struct HotSite {
    slot: OnceLock<(usize, &'static str)>,
}

impl HotSite {
    /// An empty site; `hot!` puts one in a `static` at each call site.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Self { slot: OnceLock::new() }
    }
}

/// The address to call for a function currently at `current`, given the site's memory.
fn resolve_addr<F>(site: &HotSite, current: usize) -> usize {
    let original = match site.slot.get() {
        Some(&(orig, _)) if orig == current => current,
        Some(&(orig, name)) if name == std::any::type_name::<F>() => orig,
        Some(_) => current,
        None => {
            if crate::image::in_main_exe(current) {
                let _ = site.slot.set((current, std::any::type_name::<F>()));
            }
            current
        }
    };
    // SAFETY: the reference is used immediately and not kept across patches.
    let patched = unsafe { subsecond::get_jump_table() }
        .and_then(|table| table.map.get(&(original as u64)).copied());
    match patched {
        Some(new) => new as usize,
        // Not in the table: the function was not patched. Call what the running code sees, which
        // is the original or (inside a patch) the patch's own up-to-date copy.
        None => current,
    }
}

/// Implementation of `hot!`; not a public API.
#[doc(hidden)]
pub fn resolve<F: HotFnItem<P>, P: Copy>(site: &HotSite, _f: F, current: usize, hot: bool) -> P {
    const { assert!(std::mem::size_of::<P>() == std::mem::size_of::<usize>()) };
    let addr = if hot { resolve_addr::<F>(site, current) } else { current };
    // SAFETY: P is `fn(..) -> R` matching F's signature (HotFnItem), and `addr` is either F itself
    // or its patched version from the jump table, which has the same signature (a signature change
    // of a hot entry is a restart-class change that subsecond-lsp refuses to patch).
    unsafe { std::mem::transmute_copy::<usize, P>(&addr) }
}

#[cfg(test)]
mod tests {
    #[inline(never)]
    fn answer() -> u32 {
        42
    }
    #[inline(never)]
    fn add(a: u32, b: &u32) -> u32 {
        a + *b
    }
    #[inline(never)]
    fn touch(v: &mut Vec<u8>) {
        v.push(1);
    }
    #[inline(never)]
    fn generic<T: Default>() -> T {
        T::default()
    }
    fn via_generic<T: Default>() -> T {
        crate::hot!(generic::<T>)()
    }

    #[test]
    fn hot_calls_the_function_without_a_table() {
        assert_eq!(crate::hot!(answer)(), 42);
        assert_eq!(crate::hot!(add)(1, &2), 3);
        let mut v = Vec::new();
        crate::hot!(touch)(&mut v);
        assert_eq!(v, [1]);
        let p: fn() -> u32 = crate::hot!(answer);
        assert_eq!(p as usize, answer as *const () as usize);
    }

    #[test]
    fn generic_site_keeps_instantiations_apart() {
        assert_eq!(via_generic::<u32>(), 0);
        assert_eq!(via_generic::<String>(), String::new());
        assert_eq!(via_generic::<u64>(), 0);
    }
}
