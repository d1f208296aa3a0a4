//! State migration: a patch that changes the layout of types held only in `HotState` handles is
//! applied together with their values, or not at all.
//!
//! Order (nothing is half-applied): take every handle's lock of the named types (no borrow
//! outstanding), load the patch library, find the patch's versions of each type's codec through
//! the jump table (refuse when one is missing: the new code would not be the one restoring),
//! serialize every value with the code that made it, restore every value with the patch's code,
//! and only then `subsecond::apply_patch` and swap the values in. Any failure before the swap (a
//! value that does not deserialize, a panic in user serde code) drops what the new code made and
//! leaves the old code and values running. The old values are dropped by the old code.
//!
//! What to migrate comes from the server (`SubsecondAgent.MigrateState`, sent right before the
//! `HotReload` frame of the same `lib`); the server decides that only these types changed layout.

#[cfg(feature = "hot-state")]
use std::panic::{catch_unwind, AssertUnwindSafe};
#[cfg(feature = "hot-state")]
use std::sync::{Arc, MutexGuard};
#[cfg(feature = "hot-state")]
use std::time::{Duration, Instant};

use serde::Deserialize;
#[cfg(feature = "hot-state")]
use subsecond::JumpTable;

#[cfg(feature = "hot-state")]
use crate::hot_state::{self, as_drop, as_restore, as_serialize, Codec, Slot, SlotState};
#[cfg(feature = "hot-state")]
use crate::transport::panic_text;

/// What the server sends before a `HotReload` frame for the same `lib`.
#[derive(Debug, Deserialize, PartialEq)]
pub(crate) struct MigratePlan {
    pub lib: String,
    /// `std::any::type_name` spellings (`counter::State`) of the types whose values to migrate.
    pub types: Vec<String>,
}

#[derive(Deserialize)]
enum Envelope {
    SubsecondAgent(Extension),
}

#[derive(Deserialize)]
enum Extension {
    MigrateState(MigratePlan),
}

/// `{"SubsecondAgent":{"MigrateState":{…}}}`, or `None` for any other frame.
pub(crate) fn parse_plan(text: &str) -> Option<MigratePlan> {
    if !text.starts_with("{\"SubsecondAgent\"") {
        return None;
    }
    match serde_json::from_str(text).ok()? {
        Envelope::SubsecondAgent(Extension::MigrateState(plan)) => Some(plan),
    }
}

#[cfg(feature = "hot-state")]
/// How long the agent waits for every handle to be free (between two `call`s).
pub(crate) const LOCK_WAIT: Duration = Duration::from_secs(3);

/// Where the patch's code will be once loaded, for a table not applied yet (as subsecond computes it).
#[cfg(feature = "hot-state")]
struct Loaded {
    old_offset: usize,
    new_offset: usize,
    base: usize,
}

#[cfg(feature = "hot-state")]
impl Loaded {
    /// The patch's version of the executable's function at runtime address `original`.
    fn newest(&self, table: &JumpTable, original: usize) -> Option<usize> {
        let key = original.wrapping_sub(self.old_offset) as u64;
        table.map.get(&key).map(|v| (*v as usize).wrapping_add(self.new_offset))
    }
}

#[cfg(feature = "hot-state")]
fn load(table: &JumpTable) -> Result<Loaded, String> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let path = CString::new(table.lib.as_os_str().as_bytes()).map_err(|_| "the patch library path holds a NUL byte".to_string())?;
    // subsecond's own dlopen of the same path later returns this same handle (reference counted).
    // SAFETY: the library is a patch built for this process; its initialisers are rustc's.
    let handle = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if handle.is_null() {
        // SAFETY: dlerror returns a thread-local C string or null.
        let err = unsafe { libc::dlerror() };
        let text = if err.is_null() { "unknown error".into() } else { unsafe { std::ffi::CStr::from_ptr(err) }.to_string_lossy().into_owned() };
        return Err(format!("dlopen of {} failed: {text}", table.lib.display()));
    }
    // SAFETY: a valid handle and a C string literal.
    let main = unsafe { libc::dlsym(handle, c"main".as_ptr()) } as usize;
    if main == 0 {
        return Err("the patch library exports no `main` (subsecond locates its code through it)".into());
    }
    let aslr = subsecond::aslr_reference();
    let base = crate::image::object_base(main).unwrap_or(0);
    Ok(Loaded { old_offset: aslr.wrapping_sub(table.aslr_reference as usize), new_offset: main.wrapping_sub(table.new_base_address as usize), base })
}

/// Every slot's lock, or an error when some handle stays borrowed for `wait`. try_lock in a
/// loop, never a blocking lock: an app thread inside one handle's `call` may be waiting for another.
#[cfg(feature = "hot-state")]
pub(crate) fn lock_all(slots: &[Arc<Slot>], wait: Duration) -> Result<Vec<MutexGuard<'_, SlotState>>, String> {
    let start = Instant::now();
    loop {
        let mut guards = Vec::with_capacity(slots.len());
        let mut busy = None;
        for s in slots {
            match s.state.try_lock() {
                Ok(g) => guards.push(g),
                Err(std::sync::TryLockError::Poisoned(p)) => guards.push(p.into_inner()),
                Err(std::sync::TryLockError::WouldBlock) => {
                    busy = Some(s.type_name);
                    break;
                }
            }
        }
        match busy {
            None => return Ok(guards),
            Some(name) if start.elapsed() >= wait => {
                return Err(format!("a HotState<{name}> stayed borrowed for {} ms (a `call` that does not return?)", wait.as_millis()))
            }
            Some(_) => {
                drop(guards);
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}

#[cfg(feature = "hot-state")]
fn guarded<R>(what: &str, f: impl FnOnce() -> Result<R, String>) -> Result<R, String> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(panic) => Err(format!("{what} panicked: {}", panic_text(&*panic))),
    }
}

/// Migrates the values of `types` and applies `table`, all or nothing. `apply` is the agent's
/// own checked `subsecond::apply_patch`. Returns the migrated types' names and value counts.
#[cfg(feature = "hot-state")]
pub(crate) fn migrate_and_apply(table: JumpTable, types: &[String], apply: impl FnOnce(JumpTable) -> Result<(), String>) -> Result<Vec<String>, String> {
    let slots: Vec<Arc<Slot>> = hot_state::live_slots().into_iter().filter(|s| types.iter().any(|t| t == s.type_name)).collect();
    if let Some(missing) = types.iter().find(|t| !slots.iter().any(|s| s.type_name == t.as_str())) {
        return Err(format!("no live HotState<{missing}> in this process: its values are held some other way, so they cannot be migrated"));
    }
    let guards = lock_all(&slots, LOCK_WAIT)?;
    let loaded = load(&table)?;
    // The patch's own codecs: restoring with anything else would not be the new code.
    let mut next: Vec<Codec> = Vec::with_capacity(slots.len());
    for (slot, st) in slots.iter().zip(&guards) {
        let Some(original) = st.original else {
            return Err(format!("a HotState<{}> was made by patched code, whose functions no jump table maps: it cannot be migrated", slot.type_name));
        };
        let find = |addr: usize, what: &str| {
            let new = loaded.newest(&table, addr).ok_or_else(|| {
                format!("the patch has no version of HotState<{}>'s {what} function, so it cannot restore the value with the new code", slot.type_name)
            })?;
            if crate::image::object_base(new) != Some(loaded.base) {
                return Err(format!("the jump table's {what} function of HotState<{}> is not in the patch library", slot.type_name));
            }
            Ok(new)
        };
        next.push(Codec { serialize: find(original.serialize, "serialize")?, restore: find(original.restore, "restore")?, drop: find(original.drop, "drop")? });
    }
    swap_all(&slots, guards, next, move || apply(table))
}

/// With every slot's lock held: serialize each value with its current codec, restore each with
/// `next`, then `apply` (the jump table goes live), then swap. All or nothing until `apply`
/// succeeded.
#[cfg(feature = "hot-state")]
pub(crate) fn swap_all(slots: &[Arc<Slot>], mut guards: Vec<MutexGuard<'_, SlotState>>, next: Vec<Codec>, apply: impl FnOnce() -> Result<(), String>) -> Result<Vec<String>, String> {
    // Old code serializes every value...
    let mut saved = Vec::with_capacity(guards.len());
    for (slot, st) in slots.iter().zip(&guards) {
        let ser = as_serialize(st.current.serialize);
        let value = st.value;
        // SAFETY: value and codec describe the same layout (the slot swaps them together).
        let bytes = guarded("serializing", || unsafe { ser(value) }).map_err(|e| format!("HotState<{}>: serializing the value with the old code failed: {e}", slot.type_name))?;
        saved.push(bytes);
    }
    // ...the new code restores every value, before anything is applied.
    let mut restored: Vec<*mut ()> = Vec::with_capacity(saved.len());
    let discard = |restored: &[*mut ()], next: &[Codec]| {
        for (v, c) in restored.iter().zip(next) {
            // SAFETY: made by this codec's restore; a panicking Drop is contained.
            let _ = catch_unwind(AssertUnwindSafe(|| unsafe { as_drop(c.drop)(*v) }));
        }
    };
    for ((slot, bytes), codec) in slots.iter().zip(&saved).zip(&next) {
        let restore = as_restore(codec.restore);
        match guarded("deserializing", || restore(bytes)) {
            Ok(v) => restored.push(v),
            Err(e) => {
                discard(&restored, &next);
                return Err(format!(
                    "HotState<{}>: the new code could not deserialize the value ({e}); the app keeps its old code and values",
                    slot.type_name
                ));
            }
        }
    }
    if let Err(e) = apply() {
        discard(&restored, &next);
        return Err(e);
    }
    // The jump table is live: new values in, old values dropped by the code that made them.
    let mut migrated = Vec::new();
    for ((slot, st), (value, codec)) in slots.iter().zip(guards.iter_mut()).zip(restored.into_iter().zip(next)) {
        let old = std::mem::replace(&mut st.value, value);
        let old_codec = std::mem::replace(&mut st.current, codec);
        st.layout_versions = vec![codec.restore];
        st.migrations += 1;
        let old_drop = as_drop(old_codec.drop);
        // SAFETY: `old` was made for `old_codec`'s layout. A panicking Drop only leaks.
        if catch_unwind(AssertUnwindSafe(|| unsafe { old_drop(old) })).is_err() {
            eprintln!("[subsecond-agent] dropping the old HotState<{}> value panicked (the new value is in place)", slot.type_name);
        }
        if !migrated.iter().any(|m| m == slot.type_name) {
            migrated.push(slot.type_name.to_string());
        }
    }
    drop(guards);
    Ok(migrated)
}


#[cfg(all(test, feature = "hot-state"))]
mod tests {
    use super::*;
    use crate::hot_state::HotState;

    #[test]
    fn parses_plans() {
        let plan = parse_plan(r#"{"SubsecondAgent":{"MigrateState":{"lib":"/a/lib.so","types":["counter::State"]}}}"#).unwrap();
        assert_eq!(plan, MigratePlan { lib: "/a/lib.so".into(), types: vec!["counter::State".into()] });
        assert!(parse_plan(r#"{"SubsecondAgent":{"DetourPlan":{"lib":"x","aslr_reference":1,"entries":[]}}}"#).is_none());
        assert!(parse_plan(r#"{"HotReload":{}}"#).is_none());
    }

    #[derive(Default, serde::Serialize, serde::Deserialize)]
    struct Unregistered {
        n: u8,
    }

    #[test]
    fn refuses_types_without_a_live_handle() {
        let table = JumpTable { lib: "/nonexistent.so".into(), map: Default::default(), aslr_reference: 0, new_base_address: 0, ifunc_count: 0 };
        let mut applied = false;
        let err = migrate_and_apply(table, &["nowhere::Gone".into()], |_| {
            applied = true;
            Ok(())
        })
        .unwrap_err();
        assert!(err.contains("no live HotState<nowhere::Gone>"), "{err}");
        assert!(!applied);
    }

    #[test]
    fn a_borrowed_handle_times_out_and_nothing_is_applied() {
        let state = HotState::new(Unregistered::default());
        let slots: Vec<_> = hot_state::live_slots().into_iter().filter(|s| s.type_name.ends_with("Unregistered")).collect();
        let held = slots[0].state.lock().unwrap();
        let err = lock_all(&slots, Duration::from_millis(30)).unwrap_err();
        assert!(err.contains("stayed borrowed"), "{err}");
        drop(held);
        assert_eq!(lock_all(&slots, Duration::from_millis(30)).unwrap().len(), 1);
        drop(state);
    }

    #[test]
    fn a_missing_library_leaves_the_values_alone() {
        let state = HotState::new(Unregistered { n: 4 });
        let name = std::any::type_name::<Unregistered>().to_string();
        let table = JumpTable { lib: "/nonexistent/libx-patch-1.so".into(), map: Default::default(), aslr_reference: 0, new_base_address: 0, ifunc_count: 0 };
        let err = migrate_and_apply(table, &[name], |_| Ok(())).unwrap_err();
        // Unit tests run from the test executable: either the handle is refused or the library is missing.
        assert!(err.contains("dlopen") || err.contains("made by patched code"), "{err}");
        assert_eq!(state.call(|s| s.n), 4);
    }

    use std::sync::atomic::{AtomicUsize, Ordering};

    static V1_DROPS: AtomicUsize = AtomicUsize::new(0);
    static V2_DROPS: AtomicUsize = AtomicUsize::new(0);

    // The "old code": what the app was built with.
    #[derive(serde::Serialize, serde::Deserialize)]
    struct V1 {
        count: u64,
        label: String,
    }
    impl Drop for V1 {
        fn drop(&mut self) {
            V1_DROPS.fetch_add(1, Ordering::SeqCst);
        }
    }
    // "New code": a field added with a default.
    #[derive(serde::Serialize, serde::Deserialize)]
    struct V2 {
        count: u64,
        label: String,
        #[serde(default)]
        speed: f32,
    }
    impl Drop for V2 {
        fn drop(&mut self) {
            V2_DROPS.fetch_add(1, Ordering::SeqCst);
        }
    }
    // "New code" that cannot read the old value: a field retyped.
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Retyped {
        count: String,
    }
    // "New code" whose Deserialize panics.
    #[derive(serde::Serialize)]
    struct Panics;
    impl<'de> serde::Deserialize<'de> for Panics {
        fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
            panic!("user serde code panicked")
        }
    }

    // The drop counters are shared: these tests run one at a time.
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn v1(count: u64) -> HotState<V1> {
        HotState::new(V1 { count, label: "lvl".into() })
    }

    #[test]
    fn swap_restores_with_the_new_code_and_drops_the_old_value_with_the_old() {
        let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        let (a, b) = (v1(41), v1(7));
        let slots = vec![a.slot(), b.slot()];
        let guards = lock_all(&slots, LOCK_WAIT).unwrap();
        let (v1_before, v2_before) = (V1_DROPS.load(Ordering::SeqCst), V2_DROPS.load(Ordering::SeqCst));
        let mut applied = false;
        let migrated = swap_all(&slots, guards, vec![Codec::of::<V2>(); 2], || {
            applied = true;
            Ok(())
        })
        .unwrap();
        assert!(applied);
        assert_eq!(migrated, vec![std::any::type_name::<V1>().to_string()]);
        assert_eq!(V1_DROPS.load(Ordering::SeqCst) - v1_before, 2, "both old values dropped by the old code");
        assert_eq!(V2_DROPS.load(Ordering::SeqCst), v2_before, "no new value dropped");
        // The new code sees the values, the new field defaulted.
        assert_eq!(a.viewed_as::<V2>().call(|s| (s.count, s.label.clone(), s.speed)), (41, "lvl".to_string(), 0.0));
        assert_eq!(b.viewed_as::<V2>().call(|s| s.count), 7);
        // The old code never borrows the migrated value.
        let mut old_ran = false;
        assert!(catch_unwind(AssertUnwindSafe(|| a.call(|_| old_ran = true))).is_err());
        assert!(!old_ran);
        drop((a, b, slots));
        assert_eq!(V2_DROPS.load(Ordering::SeqCst) - v2_before, 2, "the slots drop their values with the new code");
    }

    #[test]
    fn a_value_the_new_code_cannot_read_leaves_everything_old() {
        let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        let (a, b) = (v1(3), v1(4));
        let slots = vec![a.slot(), b.slot()];
        let guards = lock_all(&slots, LOCK_WAIT).unwrap();
        let v1_before = V1_DROPS.load(Ordering::SeqCst);
        let mut applied = false;
        let err = swap_all(&slots, guards, vec![Codec::of::<Retyped>(); 2], || {
            applied = true;
            Ok(())
        })
        .unwrap_err();
        assert!(err.contains("could not deserialize") && err.contains("keeps its old code"), "{err}");
        assert!(!applied, "the jump table must not go live");
        assert_eq!(V1_DROPS.load(Ordering::SeqCst), v1_before);
        assert_eq!(a.call(|s| s.count), 3);
        assert_eq!(b.call(|s| (s.count, s.label.clone())), (4, "lvl".to_string()));
    }

    #[test]
    fn a_panic_in_user_serde_code_or_a_failed_apply_leaves_everything_old() {
        let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        let a = v1(9);
        let slots = vec![a.slot()];
        let err = swap_all(&slots, lock_all(&slots, LOCK_WAIT).unwrap(), vec![Codec::of::<Panics>()], || Ok(())).unwrap_err();
        assert!(err.contains("panicked: user serde code panicked"), "{err}");
        assert_eq!(a.call(|s| s.count), 9);

        let v2_before = V2_DROPS.load(Ordering::SeqCst);
        let err = swap_all(&slots, lock_all(&slots, LOCK_WAIT).unwrap(), vec![Codec::of::<V2>()], || Err("dlopen failed".into())).unwrap_err();
        assert_eq!(err, "dlopen failed");
        assert_eq!(V2_DROPS.load(Ordering::SeqCst) - v2_before, 1, "the restored value is dropped by the new code");
        assert_eq!(a.call(|s| s.count), 9);
    }
}
