//! `HotState<T>`: app state a patch may migrate when `T`'s layout changes (feature `hot-state`).
//!
//! The value lives on the heap behind a lock, and with it the three functions that know its
//! layout (serialize, restore, drop), monomorphized for `T` by the code that made the handle. A
//! patch that changes `T`'s layout is applied by the agent thread only while it holds every
//! handle's lock (no borrow is outstanding): each value is serialized by the code that made it,
//! restored by the patch's own `restore::<T>` (found through the jump table), and swapped in as
//! the jump table goes live (see `migrate.rs`).
//!
//! Code compiled for the old layout may still be on a thread's stack (blocked on the lock while
//! the agent migrated). `HotState::call` is the only way in: before it hands out `&mut T` it checks
//! that its own code is compiled for the value's layout, and otherwise unwinds (without the panic
//! hook) back to `call`, which re-enters through the jump table's newest version.

use std::any::type_name;
use std::marker::PhantomData;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Serializes the value behind the pointer (a `T` of the codec's layout) as JSON.
pub(crate) type SerializeFn = unsafe fn(*const ()) -> Result<Vec<u8>, String>;
/// Makes a boxed value from JSON; the pointer is a `Box<T>` of the codec's layout.
pub(crate) type RestoreFn = fn(&[u8]) -> Result<*mut (), String>;
/// Drops a boxed value of the codec's layout.
pub(crate) type DropFn = unsafe fn(*mut ());

/// The functions that know one layout of `T`, as addresses (they are compared and looked up in
/// jump tables, whose keys and values are addresses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Codec {
    pub serialize: usize,
    pub restore: usize,
    pub drop: usize,
}

impl Codec {
    pub(crate) fn of<T: Serialize + DeserializeOwned + 'static>() -> Codec {
        Codec {
            serialize: serialize_erased::<T> as SerializeFn as usize,
            restore: restore_erased::<T> as RestoreFn as usize,
            drop: drop_erased::<T> as DropFn as usize,
        }
    }
}

unsafe fn serialize_erased<T: Serialize>(value: *const ()) -> Result<Vec<u8>, String> {
    // SAFETY: the slot's codec and value always describe the same layout (swapped together).
    serde_json::to_vec(unsafe { &*(value as *const T) }).map_err(|e| e.to_string())
}

fn restore_erased<T: DeserializeOwned>(bytes: &[u8]) -> Result<*mut (), String> {
    serde_json::from_slice::<T>(bytes).map(|v| Box::into_raw(Box::new(v)) as *mut ()).map_err(|e| e.to_string())
}

unsafe fn drop_erased<T>(value: *mut ()) {
    // SAFETY: as for serialize_erased; the pointer came from Box::into_raw of this layout.
    drop(unsafe { Box::from_raw(value as *mut T) })
}

/// What a handle's lock protects.
#[derive(Debug)]
pub(crate) struct SlotState {
    /// `Box<T>` of the layout `current` knows.
    pub value: *mut (),
    /// The functions to serialize and drop the present value with.
    pub current: Codec,
    /// The same functions' addresses in the executable (the jump tables' keys); `None` when the
    /// handle was made by patched code, whose functions no table maps: such a handle never migrates.
    pub original: Option<Codec>,
    /// `restore` addresses of code versions known to be compiled for the present layout (besides
    /// the jump table's newest, which is always such a version once a migration succeeded).
    pub layout_versions: Vec<usize>,
    /// Migrations done on this value (0 before the first).
    pub migrations: u32,
}

// SAFETY: the raw pointer is a Box owned by the slot; it is only touched under the slot's lock,
// and `HotState<T>` is Send/Sync only when `T: Send` (its PhantomData).
unsafe impl Send for SlotState {}

/// One handle's shared part: the registry and the agent see it type-erased.
pub(crate) struct Slot {
    pub type_name: &'static str,
    pub state: Mutex<SlotState>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let st = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
        // SAFETY: value and codec describe the same layout; nobody else holds the slot any more.
        unsafe { (as_drop(st.current.drop))(st.value) };
        // The agent reports the types again (this one may be gone).
        GENERATION.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

pub(crate) fn as_serialize(addr: usize) -> SerializeFn {
    // SAFETY: only addresses of serialize_erased instantiations (or their patched versions, same signature) are stored.
    unsafe { std::mem::transmute::<usize, SerializeFn>(addr) }
}
pub(crate) fn as_restore(addr: usize) -> RestoreFn {
    // SAFETY: as above, for restore_erased.
    unsafe { std::mem::transmute::<usize, RestoreFn>(addr) }
}
pub(crate) fn as_drop(addr: usize) -> DropFn {
    // SAFETY: as above, for drop_erased.
    unsafe { std::mem::transmute::<usize, DropFn>(addr) }
}

/// Every live handle, in creation order (the agent locks them in this order, with try_lock).
static REGISTRY: Mutex<Vec<Weak<Slot>>> = Mutex::new(Vec::new());

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic in user code while a value was borrowed poisons nothing we rely on: the value is
    // whatever the user code left, as with a plain `&mut`.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The live handles (dead ones are pruned).
pub(crate) fn live_slots() -> Vec<Arc<Slot>> {
    let mut reg = lock(&REGISTRY);
    reg.retain(|w| w.strong_count() > 0);
    reg.iter().filter_map(Weak::upgrade).collect()
}

/// The distinct type names of live handles, sorted (what the agent reports).
pub(crate) fn registered_types() -> Vec<String> {
    let mut names: Vec<String> = live_slots().iter().map(|s| s.type_name.to_string()).collect();
    names.sort();
    names.dedup();
    names
}

/// Bumped whenever a handle is made, so the agent thread knows to report the types again.
pub(crate) static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The payload `call` unwinds with when the code on the stack is compiled for a layout the value
/// no longer has. Sent with `resume_unwind`: no panic hook, no message.
struct StaleCode;

/// State that survives a patch changing `T`'s layout: the agent migrates it (serialize with the
/// old code, restore with the new) when subsecond-lsp asks it to.
///
/// ```ignore
/// #[derive(Default, serde::Serialize, serde::Deserialize)]
/// struct State { count: u64, #[serde(default)] speed: f32 }
///
/// let state = subsecond_agent::HotState::new(State::default());
/// loop {
///     state.call(|s| tick(s)); // in place of subsecond::call(|| tick(&mut s))
/// }
/// ```
///
/// `call` is `subsecond::call` plus the borrow: everything reached from the closure is
/// hot-patchable. Hold `&mut T` only inside the closure (a reference kept elsewhere, or a raw
/// pointer into the value, would point at the old value after a migration).
pub struct HotState<T> {
    slot: Arc<Slot>,
    // Send/Sync exactly when a Mutex<T> would be.
    _value: PhantomData<Mutex<T>>,
}

impl<T: Serialize + DeserializeOwned + 'static> HotState<T> {
    /// Moves `value` into a new handle and registers its type with the agent.
    pub fn new(value: T) -> Self {
        let codec = Codec::of::<T>();
        let original = if cfg!(debug_assertions) && crate::image::in_main_exe(codec.restore) { Some(codec) } else { None };
        let slot = Arc::new(Slot {
            type_name: type_name::<T>(),
            state: Mutex::new(SlotState {
                value: Box::into_raw(Box::new(value)) as *mut (),
                current: codec,
                original,
                layout_versions: vec![codec.restore],
                migrations: 0,
            }),
        });
        lock(&REGISTRY).push(Arc::downgrade(&slot));
        GENERATION.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        HotState { slot, _value: PhantomData }
    }

    /// Runs `f` on the value through `subsecond::call` (so the newest patched version runs).
    /// While `f` runs the agent cannot migrate the value; a migration waits for `f` to return.
    pub fn call<R>(&self, mut f: impl FnMut(&mut T) -> R) -> R {
        if !cfg!(debug_assertions) {
            return self.enter(&mut f);
        }
        let mut stale_under: Option<usize> = None;
        loop {
            let attempt = catch_unwind(AssertUnwindSafe(|| subsecond::call(|| self.enter(&mut f))));
            match attempt {
                Ok(r) => return r,
                Err(payload) if payload.is::<StaleCode>() => {
                    // The retry goes through the newest jump table; the same table twice means no
                    // newer code for this call site exists (it is not in the patch).
                    let table = current_table_ptr();
                    if stale_under == Some(table) {
                        panic!(
                            "HotState<{}>: its value was migrated to a new layout, but this call site has no patched \
                             version compiled for it (it is not in the patch); restart the app",
                            type_name::<T>()
                        );
                    }
                    stale_under = Some(table);
                }
                Err(payload) => resume_unwind(payload),
            }
        }
    }

    /// Borrows the value if this code is compiled for its layout, else unwinds with `StaleCode`.
    fn enter<R>(&self, f: &mut impl FnMut(&mut T) -> R) -> R {
        let st = lock(&self.slot.state);
        if !fresh(&st, restore_erased::<T> as RestoreFn as usize) {
            drop(st);
            resume_unwind(Box::new(StaleCode));
        }
        let value = st.value as *mut T;
        // SAFETY: the lock is held for the whole borrow, and `fresh` proved this code's `T` is the
        // value's layout.
        let r = f(unsafe { &mut *value });
        drop(st);
        r
    }
}

impl<T: Default + Serialize + DeserializeOwned + 'static> Default for HotState<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

fn current_table_ptr() -> usize {
    // SAFETY: only the reference's address is kept, never dereferenced later.
    unsafe { subsecond::get_jump_table() }.map_or(0, |t| t as *const _ as usize)
}

/// Whether code whose `restore::<T>` is at `mine` is compiled for the value's present layout:
/// it is one of the versions recorded for it, or the jump table's newest version of the
/// original (a patch after the last migration that left `T` alone).
fn fresh(st: &SlotState, mine: usize) -> bool {
    if st.layout_versions.contains(&mine) {
        return true;
    }
    let Some(original) = st.original else {
        // Made by patched code: never migrated, so every version shares the layout.
        return true;
    };
    // SAFETY: the table is read and dropped at once.
    let newest = unsafe { subsecond::get_jump_table() }
        .and_then(|t| t.map.get(&(original.restore as u64)).copied())
        .map_or(original.restore, |a| a as usize);
    mine == newest && (st.migrations == 0 || mine != original.restore)
}

#[cfg(test)]
impl<T> HotState<T> {
    pub(crate) fn slot(&self) -> Arc<Slot> {
        self.slot.clone()
    }
    /// The same slot seen by code compiled for another layout (what a patch's code is).
    pub(crate) fn viewed_as<U>(&self) -> HotState<U> {
        HotState { slot: self.slot.clone(), _value: PhantomData }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[derive(Default, Serialize, serde::Deserialize, PartialEq, Debug)]
    pub(crate) struct Sample {
        pub count: u64,
        pub name: String,
    }

    #[test]
    fn call_borrows_and_keeps_the_value() {
        let state = HotState::new(Sample::default());
        for _ in 0..3 {
            state.call(|s| s.count += 1);
        }
        assert_eq!(state.call(|s| s.count), 3);
        assert!(registered_types().iter().any(|t| t.ends_with("hot_state::tests::Sample")));
    }

    #[test]
    fn codec_round_trip_through_erased_functions() {
        let state = HotState::new(Sample { count: 7, name: "x".into() });
        let st = lock(&state.slot.state);
        let bytes = unsafe { as_serialize(st.current.serialize)(st.value) }.unwrap();
        assert_eq!(std::str::from_utf8(&bytes).unwrap(), r#"{"count":7,"name":"x"}"#);
        let copy = as_restore(st.current.restore)(&bytes).unwrap();
        assert_eq!(unsafe { &*(copy as *const Sample) }, &Sample { count: 7, name: "x".into() });
        unsafe { as_drop(st.current.drop)(copy) };
    }

    #[test]
    fn code_of_a_retired_layout_is_stale() {
        let state = HotState::new(Sample::default());
        let mine = restore_erased::<Sample> as RestoreFn as usize;
        {
            let mut st = lock(&state.slot.state);
            assert!(fresh(&st, mine));
            // As after a migration to another version of the code: this code's layout is retired.
            st.layout_versions = vec![mine + 1];
            st.migrations = 1;
            st.original = Some(Codec { restore: mine, ..st.current });
            assert!(!fresh(&st, mine));
            assert!(fresh(&st, mine + 1));
        }
        let mut ran = false;
        let outcome = catch_unwind(AssertUnwindSafe(|| state.call(|_| ran = true)));
        assert!(outcome.is_err(), "stale code must never borrow the value");
        assert!(!ran);
    }
}
