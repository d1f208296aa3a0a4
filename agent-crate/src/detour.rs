#![cfg_attr(not(debug_assertions), allow(dead_code))] // only the debug-build agent thread detours
//! Entry detours: after `subsecond::apply_patch` succeeded, the entry of every function the patch
//! replaces — in the executable and in earlier patches — is overwritten with a jump to its newest
//! version, so callers that never go through the jump table (direct calls from code that is still
//! running, vtables, fn pointers, closures made before the patch, other threads) run the new code.
//!
//! What to detour comes from the server (`SubsecondAgent.DetourPlan`, sent right before the
//! `HotReload` frame, only to subsecond-agent clients): the executable's function sizes (an entry
//! shorter than the jump is left to the jump table), the sizes of the new versions (so the next
//! patch can detour them too), and names to leave alone (a changed signature: old callers would
//! pass the old arguments). See the crate README, "Entry detours", for what is and is not
//! guaranteed.
//!
//! Never decides what changed; never touches a function that is not in the plan.

pub(crate) mod aarch64;
#[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))]
mod memory;
#[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))]
mod stop;
pub(crate) mod x86_64;

#[cfg(target_arch = "aarch64")]
use self::aarch64 as arch;
#[cfg(target_arch = "x86_64")]
use self::x86_64 as arch;

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Instant;

use serde::{Deserialize, Serialize};

/// What the server sends before a `HotReload` frame for the same `lib`.
#[derive(Debug, Deserialize, PartialEq)]
pub(crate) struct DetourPlan {
    pub lib: String,
    /// The executable's static `main` the table was built against (the table's `aslr_reference`).
    pub aslr_reference: u64,
    /// `[static address in the executable, its size, static address in the patch, its size, name]`
    /// for each function of the jump table (tuples keep 10k entries small).
    pub entries: Vec<(u64, u64, u64, u64, String)>,
    /// Names (as in `entries`) whose entries must keep their current code.
    #[serde(default)]
    pub keep: Vec<String>,
    /// Names (as in `entries`) whose code is the code their entries already lead to: their new
    /// copies are recorded (a later patch detours them too), their entries are left as they are.
    #[serde(default)]
    pub unchanged: Vec<String>,
}

#[derive(Deserialize)]
enum Envelope {
    SubsecondAgent(Extension),
}

#[derive(Deserialize)]
enum Extension {
    DetourPlan(DetourPlan),
}

/// `{"SubsecondAgent":{"DetourPlan":{…}}}`, or `None` for any other frame.
pub(crate) fn parse_plan(text: &str) -> Option<DetourPlan> {
    // Cheap test first: HotReload frames can be large and are not ours.
    if !text.starts_with("{\"SubsecondAgent\"") {
        return None;
    }
    match serde_json::from_str(text).ok()? {
        Envelope::SubsecondAgent(Extension::DetourPlan(plan)) => Some(plan),
    }
}

/// The agent's answer about detours, carried in `PatchResult.detours`.
#[derive(Debug, Default, Serialize, PartialEq)]
pub(crate) struct DetourReport {
    /// Functions whose every known entry (executable and earlier patches) now reaches the newest version.
    pub detoured: usize,
    /// Functions of the plan whose code did not change: nothing rewritten, their new copies recorded.
    pub unchanged: usize,
    /// Functions not detoured (only their jump-table entry applies), all of them.
    pub skipped_total: usize,
    /// Up to `MAX_LISTED` of them, with the reason: `signature-changed`, `too-short`,
    /// `unknown-size`, `no-island`, `busy`, `not-in-table`, `failed`.
    pub skipped: Vec<Skipped>,
    /// Entry bytes written (stopping the other threads) and islands retargeted (no stop needed).
    pub entries_written: usize,
    pub islands_retargeted: usize,
    pub islands_allocated: usize,
    /// Entry writes that could not be one atomic store (the jump crossed an 8-byte boundary).
    pub non_atomic: usize,
    pub threads_stopped: usize,
    /// Time spent waiting for the other threads to park (scheduling latency; the rest is ours).
    pub stop_micros: u64,
    /// Stop attempts abandoned because a thread was inside an entry being written.
    pub retries: usize,
    pub micros: u64,
    /// CPU time the pass took on the agent thread (wall time minus waiting and preemption).
    pub cpu_micros: u64,
    /// Set when the whole pass failed; the jump table still applies.
    pub error: Option<String>,
}

#[derive(Debug, Serialize, PartialEq, Clone)]
pub(crate) struct Skipped {
    pub name: String,
    pub reason: &'static str,
}

const MAX_LISTED: usize = 100;

impl DetourReport {
    fn skip(&mut self, name: &str, reason: &'static str) {
        self.skipped_total += 1;
        if self.skipped.len() < MAX_LISTED {
            self.skipped.push(Skipped { name: name.to_string(), reason });
        }
    }
}

/// One function of a patch, in runtime addresses.
pub(crate) struct RuntimeEntry {
    /// The executable's copy (the jump table key).
    pub key: usize,
    pub size: usize,
    /// The newest version, in the patch just loaded.
    pub target: usize,
    pub target_size: usize,
    pub name: String,
    pub keep: bool,
    /// Same code as what its entries lead to now: record the new copy, rewrite nothing.
    pub unchanged: bool,
}

/// One known copy of a function: the executable's, or one from an earlier patch.
struct Site {
    addr: usize,
    size: usize,
    /// Its entry must keep jumping where it does now (a later signature change).
    frozen: bool,
    /// The island its entry jumps through, if any.
    island: Option<usize>,
    /// Where its entry currently leads (0: its own code).
    target: usize,
}

#[derive(Default)]
struct Registry {
    /// Jump-table key → every copy of that function, oldest first (the newest is not detoured).
    keys: HashMap<usize, Vec<Site>>,
    #[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))]
    islands: memory::IslandPool,
    /// (jump-table key, 1 GiB region) → the island the function's copies in that region jump through.
    #[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))]
    shared: HashMap<(usize, usize), usize>,
    #[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))]
    scratch: Option<stop::Scratch>,
}

static REGISTRY: Mutex<Option<Registry>> = Mutex::new(None);

/// Runs the plan against the table subsecond just installed. `None` when the plan is for another
/// library (then nothing is touched).
pub(crate) fn apply_plan(plan: DetourPlan, lib: &str) -> Option<DetourReport> {
    if plan.lib != lib {
        return None;
    }
    let start = Instant::now();
    let main = subsecond::aslr_reference();
    let Some(exe_offset) = main.checked_sub(plan.aslr_reference as usize).filter(|_| main != 0) else {
        return Some(DetourReport { error: Some("the executable's main is not where the plan expects it".into()), ..Default::default() });
    };
    // SAFETY: read once, right after apply_patch on this same thread.
    let Some(table) = (unsafe { subsecond::get_jump_table() }) else {
        return Some(DetourReport { error: Some("subsecond has no jump table after the patch".into()), ..Default::default() });
    };
    let keep: HashSet<&str> = plan.keep.iter().map(String::as_str).collect();
    let unchanged: HashSet<&str> = plan.unchanged.iter().map(String::as_str).collect();
    let mut missing = DetourReport::default();
    let mut entries = Vec::with_capacity(plan.entries.len());
    for (from, size, _to, to_size, name) in &plan.entries {
        let key = (*from as usize).wrapping_add(exe_offset);
        match table.map.get(&(key as u64)) {
            Some(&target) => entries.push(RuntimeEntry {
                key,
                size: *size as usize,
                target: target as usize,
                target_size: *to_size as usize,
                keep: keep.contains(name.as_str()),
                unchanged: unchanged.contains(name.as_str()),
                name: name.clone(),
            }),
            None => missing.skip(name, "not-in-table"),
        }
    }
    let mut report = apply_runtime(entries);
    report.skipped_total += missing.skipped_total;
    for s in missing.skipped {
        if report.skipped.len() < MAX_LISTED {
            report.skipped.push(s);
        }
    }
    report.micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
    Some(report)
}

/// Detours every entry to its target. Public to the crate for the benchmark and tests.
pub(crate) fn apply_runtime(entries: Vec<RuntimeEntry>) -> DetourReport {
    let mut guard = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    let reg = guard.get_or_insert_with(Registry::default);
    let mut report = DetourReport::default();
    #[cfg(not(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64"))))]
    {
        let _ = reg;
        report.error = Some("entry detours are implemented for Linux on x86_64 and aarch64 only".into());
        report.skipped_total = entries.len();
        return report;
    }
    #[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let start = Instant::now();
        let cpu = thread_cpu_micros();
        linux::apply(reg, entries, &mut report);
        report.micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
        report.cpu_micros = thread_cpu_micros().saturating_sub(cpu);
        report
    }
}

#[cfg(target_os = "linux")]
fn thread_cpu_micros() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: plain clock query into a local.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (ts.tv_sec as u64) * 1_000_000 + (ts.tv_nsec as u64) / 1000
}

#[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))]
mod linux {
    use super::memory::{self, Mapping, ISLAND_SIZE};
    use super::{arch, stop, DetourReport, Registry, RuntimeEntry, Site};
    use std::collections::HashMap;
    use std::time::Duration;

    const ENTRY_LEN: usize = arch::ENTRY_LEN;
    /// Stop attempts before entries a thread is executing are given up (left to the jump table).
    const ATTEMPTS: usize = 20;
    const STOP_TIMEOUT: Duration = Duration::from_secs(1);
    /// Stack bytes scanned per thread for return addresses into entries being written.
    const MAX_STACK_SCAN: usize = 8 << 20;

    struct EntryWrite {
        addr: usize,
        bytes: [u8; ENTRY_LEN],
        /// Which key / site it belongs to.
        key: usize,
        site: usize,
        target: usize,
        island: Option<usize>,
        busy: bool,
    }

    fn reach(from: usize, to: usize) -> bool {
        arch::direct(from, to).is_some()
    }

    pub(super) fn apply(reg: &mut Registry, entries: Vec<RuntimeEntry>, report: &mut DetourReport) {
        let mut maps = memory::mappings();
        let mut writes: Vec<EntryWrite> = Vec::new();
        // island → new target: fresh islands (need their code) and existing ones (one store each).
        let mut fresh: HashMap<usize, usize> = HashMap::new();
        let mut retarget: HashMap<usize, usize> = HashMap::new();
        // Per key: the first reason it cannot be fully detoured.
        let mut failed: Vec<(usize, &'static str)> = Vec::new();
        let pool = &mut reg.islands;
        for e in &entries {
            let sites = reg.keys.entry(e.key).or_insert_with(|| {
                vec![Site { addr: e.key, size: e.size, frozen: false, island: None, target: 0 }]
            });
            if e.keep {
                // Frozen for the rest of the process: a later patch with an unchanged signature
                // still has old callers of these entries. Their islands are no longer shared.
                for s in sites.iter_mut() {
                    s.frozen = true;
                }
                reg.shared.retain(|&(k, _), _| k != e.key);
                continue;
            }
            if e.target == e.key || e.unchanged {
                continue;
            }
            for (i, s) in sites.iter().enumerate() {
                if s.frozen || s.target == e.target {
                    continue;
                }
                if s.addr == e.target {
                    // A version cannot jump to itself (patch libraries are never reloaded, so
                    // subsecond never hands out an old version again).
                    failed.push((e.key, "failed"));
                    continue;
                }
                if let Some(island) = s.island {
                    if !fresh.contains_key(&island) {
                        retarget.insert(island, e.target);
                    }
                    continue;
                }
                if s.size == 0 {
                    failed.push((e.key, "unknown-size"));
                    continue;
                }
                if s.size < ENTRY_LEN {
                    failed.push((e.key, "too-short"));
                    continue;
                }
                // Every entry jumps through an island its function shares with the other copies
                // in the same region: later patches then only retarget islands (no thread stop),
                // and an entry is written once in its life.
                let region = s.addr >> 30;
                let shared = reg.shared.get(&(e.key, region)).copied().filter(|&isl| reach(s.addr, isl));
                let island = match shared {
                    Some(isl) => {
                        if !fresh.contains_key(&isl) {
                            retarget.insert(isl, e.target);
                        }
                        Some(isl)
                    }
                    None => pool.take(s.addr, &mut maps, reach).inspect(|&isl| {
                        fresh.insert(isl, e.target);
                        reg.shared.insert((e.key, region), isl);
                    }),
                };
                match island.and_then(|isl| arch::direct(s.addr, isl).map(|b| (Some(isl), b))).or_else(|| arch::direct(s.addr, e.target).map(|b| (None, b))) {
                    Some((island, bytes)) => {
                        writes.push(EntryWrite { addr: s.addr, bytes, key: e.key, site: i, target: e.target, island, busy: false })
                    }
                    None => failed.push((e.key, "no-island")),
                }
            }
        }
        report.islands_allocated = fresh.len();

        // Islands: fresh ones get their code, old ones a new target. Both are safe while other
        // threads run: fresh islands are not reachable yet, and a target is one aligned 8-byte
        // store that a jumping thread reads with one aligned 8-byte load.
        let page = memory::page_size();
        let island_runs = memory::page_runs(fresh.keys().chain(retarget.keys()).map(|&isl| (isl, ISLAND_SIZE)), page);
        if !island_runs.is_empty() {
            if let Err(e) = memory::protect(&island_runs, true) {
                report.error = Some(e);
                count(reg, &entries, &failed, report);
                return;
            }
            for (&isl, &target) in &fresh {
                let code = arch::island(target);
                // SAFETY: our own freshly mapped island, now writable; nothing jumps to it yet.
                unsafe { std::ptr::copy_nonoverlapping(code.as_ptr(), isl as *mut u8, ISLAND_SIZE) };
                arch::flush_icache(isl, ISLAND_SIZE);
            }
            for (&isl, &target) in &retarget {
                // SAFETY: the target slot of one of our islands, writable.
                unsafe { memory::store_target(isl + arch::ISLAND_TARGET_OFFSET, target) };
                arch::flush_icache(isl + arch::ISLAND_TARGET_OFFSET, 8);
            }
            let _ = memory::protect(&island_runs, false);
        }
        report.islands_retargeted = retarget.len();
        for e in &entries {
            if let Some(sites) = reg.keys.get_mut(&e.key) {
                for s in sites.iter_mut().filter(|s| !s.frozen) {
                    if s.island.is_some_and(|isl| retarget.contains_key(&isl)) {
                        s.target = e.target;
                    }
                }
            }
        }

        if !writes.is_empty() {
            write_entries(reg, &mut writes, &mut maps, report);
            for w in &writes {
                if w.busy {
                    failed.push((w.key, if report.error.is_some() { "failed" } else { "busy" }));
                } else if let Some(s) = reg.keys.get_mut(&w.key).and_then(|v| v.get_mut(w.site)) {
                    s.target = w.target;
                    if w.island.is_some() {
                        s.island = w.island;
                    }
                }
            }
        }
        count(reg, &entries, &failed, report);
    }

    /// Counts outcomes per function and records the new versions as sites for the next patch.
    fn count(reg: &mut Registry, entries: &[RuntimeEntry], failed: &[(usize, &'static str)], report: &mut DetourReport) {
        let reasons: std::collections::HashMap<usize, &'static str> = failed.iter().rev().copied().collect();
        for e in entries {
            if e.keep {
                report.skip(&e.name, "signature-changed");
            } else if e.unchanged {
                report.unchanged += 1;
            } else if let Some(&reason) = reasons.get(&e.key) {
                report.skip(&e.name, reason);
            } else if report.error.is_some() {
                let done = reg.keys.get(&e.key).is_some_and(|v| v.iter().all(|s| s.frozen || s.target == e.target));
                if done {
                    report.detoured += 1;
                } else {
                    report.skip(&e.name, "failed");
                }
            } else {
                report.detoured += 1;
            }
            if e.target != e.key {
                let sites = reg.keys.entry(e.key).or_default();
                if !sites.iter().any(|s| s.addr == e.target) {
                    sites.push(Site { addr: e.target, size: e.target_size, frozen: false, island: None, target: 0 });
                }
            }
        }
    }

    fn write_entries(reg: &mut Registry, writes: &mut [EntryWrite], maps: &mut Vec<Mapping>, report: &mut DetourReport) {
        writes.sort_unstable_by_key(|w| w.addr);
        let runs = memory::page_runs(writes.iter().map(|w| (w.addr, ENTRY_LEN)), memory::page_size());
        if let Err(e) = memory::protect(&runs, true) {
            for w in writes.iter_mut() {
                w.busy = true;
            }
            report.error = Some(e);
            return;
        }
        let mut scratch = reg.scratch.take().unwrap_or_else(stop::Scratch::new);
        for attempt in 0..ATTEMPTS {
            let last = attempt + 1 == ATTEMPTS;
            let t_stop = std::time::Instant::now();
            let stopped = stop::stop_others(&mut scratch, STOP_TIMEOUT);
            report.stop_micros += u64::try_from(t_stop.elapsed().as_micros()).unwrap_or(u64::MAX);
            let stopped = match stopped {
                Ok(s) => s,
                Err(e) => {
                    for w in writes.iter_mut() {
                        w.busy = true;
                    }
                    report.error = Some(format!("could not stop the other threads: {e}"));
                    break;
                }
            };
            // Everything below until `finish` runs with the other threads parked: no allocation.
            let mut conflicts = 0usize;
            let mut unknown_stack = false;
            for w in writes.iter_mut() {
                w.busy = false;
            }
            // Most stack words are not code addresses: one range test before the search.
            let (lo, hi) = (writes[0].addr, writes[writes.len() - 1].addr + ENTRY_LEN);
            for p in &stopped.parked {
                conflicts += mark(writes, p.pc);
                match memory::mapping_of(maps, p.sp) {
                    Some(m) => {
                        let end = m.end.min(p.sp.saturating_add(MAX_STACK_SCAN));
                        let mut a = p.sp & !7;
                        while a + 8 <= end {
                            // SAFETY: inside a mapping that holds the parked thread's stack.
                            let word = unsafe { std::ptr::read_volatile(a as *const usize) };
                            if word > lo && word < hi {
                                conflicts += mark(writes, word);
                            }
                            a += 8;
                        }
                    }
                    None => unknown_stack = true,
                }
            }
            if (conflicts == 0 && !unknown_stack) || last {
                if unknown_stack {
                    for w in writes.iter_mut() {
                        w.busy = true;
                    }
                }
                for w in writes.iter() {
                    if w.busy {
                        continue;
                    }
                    // SAFETY: writable code of a function at least ENTRY_LEN long; no stopped
                    // thread is inside these bytes or will return into them.
                    let atomic = unsafe { arch::write_entry(w.addr, &w.bytes) };
                    if !atomic {
                        report.non_atomic += 1;
                    }
                    arch::flush_icache(w.addr, ENTRY_LEN);
                    report.entries_written += 1;
                }
                report.threads_stopped = stopped.parked.len();
                stopped.finish(&mut scratch);
                if unknown_stack {
                    report.error = Some("a thread's stack could not be located, so no entry was rewritten".into());
                }
                break;
            }
            stopped.finish(&mut scratch);
            report.retries += 1;
            std::thread::sleep(Duration::from_millis(1));
            *maps = memory::mappings();
        }
        reg.scratch = Some(scratch);
        let _ = memory::protect(&runs, false);
    }

    /// Marks the write (if any) that `addr` lies strictly inside. `writes` is sorted by address.
    fn mark(writes: &mut [EntryWrite], addr: usize) -> usize {
        let i = writes.partition_point(|w| w.addr < addr);
        if i == 0 {
            return 0;
        }
        let w = &mut writes[i - 1];
        if arch::breaks(w.addr, addr) && !w.busy {
            w.busy = true;
            return 1;
        }
        0
    }
}

struct DetourReportSummary<'a>(&'a DetourReport);
impl std::fmt::Debug for DetourReportSummary<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = self.0;
        write!(f, "detoured {} written {} retargeted {} islands {} threads {} retries {} non-atomic {} stop {} us, cpu {} us, total {} us", r.detoured, r.entries_written, r.islands_retargeted, r.islands_allocated, r.threads_stopped, r.retries, r.non_atomic, r.stop_micros, r.cpu_micros, r.micros)
    }
}

/// Not public API: drives detours over synthetic functions for `examples/detour_bench.rs`.
#[doc(hidden)]
pub mod bench {
    /// `(entry, size, target, target size)` in runtime addresses. Returns (detoured, micros).
    /// Returns (detoured, wall micros, agent-thread CPU micros, micros waiting for threads to stop, error).
    pub fn detour(functions: &[(usize, usize, usize, usize)]) -> (usize, u64, u64, u64, Option<String>) {
        let entries = functions
            .iter()
            .enumerate()
            .map(|(i, &(key, size, target, target_size))| super::RuntimeEntry {
                key,
                size,
                target,
                target_size,
                name: format!("f{i}"),
                keep: false,
                unchanged: false,
            })
            .collect();
        let r = super::apply_runtime(entries);
        if std::env::var_os("DETOUR_BENCH_DEBUG").is_some() {
            eprintln!("{:?}", super::DetourReportSummary(&r));
        }
        (r.detoured, r.micros, r.cpu_micros, r.stop_micros, r.error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plans_and_ignores_other_frames() {
        let text = r#"{"SubsecondAgent":{"DetourPlan":{"lib":"/t/libapp-patch-1.so","aslr_reference":4198000,"entries":[[4198400,64,12288,80,"_ZN3app4tick17h0123456789abcdefE"]],"keep":["x"]}}}"#;
        let plan = parse_plan(text).expect("a plan");
        assert_eq!(plan.lib, "/t/libapp-patch-1.so");
        assert_eq!(plan.entries, vec![(4198400, 64, 12288, 80, "_ZN3app4tick17h0123456789abcdefE".to_string())]);
        assert_eq!(plan.keep, vec!["x".to_string()]);
        assert!(parse_plan(r#"{"HotReload":{}}"#).is_none());
        assert!(parse_plan(r#"{"SubsecondAgent":{"Other":{}}}"#).is_none());
        assert!(parse_plan(r#"{"SubsecondAgent":{"DetourPlan":{"lib":"/x"}}}"#).is_none());
        // keep is optional
        let p = parse_plan(r#"{"SubsecondAgent":{"DetourPlan":{"lib":"/x","aslr_reference":1,"entries":[]}}}"#).unwrap();
        assert!(p.keep.is_empty());
    }

    #[test]
    fn report_serialises_with_reasons() {
        let mut r = DetourReport { detoured: 2, ..Default::default() };
        r.skip("f", "too-short");
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.starts_with(r#"{"detoured":2,"unchanged":0,"skipped_total":1,"skipped":[{"name":"f","reason":"too-short"}]"#), "{json}");
    }
}

#[cfg(all(test, target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))]
mod live_tests {
    use super::*;
    use std::hint::black_box;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;

    macro_rules! versions {
        ($($name:ident = $v:expr;)*) => {
            $(#[inline(never)] #[no_mangle] extern "C" fn $name(x: u64) -> u64 { black_box(x).wrapping_mul(1000).wrapping_add($v) })*
        };
    }
    versions! {
        detour_test_v0 = 0; detour_test_v1 = 1; detour_test_v2 = 2; detour_test_v3 = 3; detour_test_v4 = 4;
        detour_test_v5 = 5; detour_test_v6 = 6; detour_test_v7 = 7; detour_test_v8 = 8;
    }
    extern "C" fn tiny() {}
    fn addr(f: extern "C" fn(u64) -> u64) -> usize {
        f as usize
    }
    fn entry(key: usize, target: usize, name: &str) -> RuntimeEntry {
        RuntimeEntry { key, size: 32, target, target_size: 32, name: name.into(), keep: false, unchanged: false }
    }

    /// Every caller of an old version — a stored fn pointer, other threads in a tight loop —
    /// runs the newest version after each detour pass. One test, so versions are not shared.
    #[test]
    fn fn_pointers_and_busy_threads_reach_the_newest_version() {
        let v: [extern "C" fn(u64) -> u64; 9] = [
            detour_test_v0, detour_test_v1, detour_test_v2, detour_test_v3, detour_test_v4, detour_test_v5,
            detour_test_v6, detour_test_v7, detour_test_v8,
        ];
        let stored: extern "C" fn(u64) -> u64 = black_box(v[0]);
        assert_eq!(stored(1), 1000);
        let run = Arc::new(AtomicBool::new(true));
        let seen: Vec<Arc<AtomicU64>> = (0..2).map(|_| Arc::new(AtomicU64::new(0))).collect();
        let threads: Vec<_> = seen
            .iter()
            .map(|seen| {
                let (seen, run) = (seen.clone(), run.clone());
                std::thread::spawn(move || {
                    let f: extern "C" fn(u64) -> u64 = black_box(detour_test_v0);
                    while run.load(Ordering::Relaxed) {
                        seen.store(f(0), Ordering::Relaxed);
                    }
                })
            })
            .collect();
        let mut islands = 0;
        for (i, f) in v.iter().enumerate().skip(1) {
            let report = apply_runtime(vec![entry(addr(v[0]), addr(*f), "v")]);
            assert_eq!(report.error, None);
            assert_eq!(report.detoured, 1, "{report:?}");
            islands += report.islands_allocated;
            // The executable's copy and every earlier version lead to the newest.
            assert_eq!(stored(1), 1000 + i as u64);
            for old in &v[..i] {
                assert_eq!(black_box(*old)(2), 2000 + i as u64);
            }
            let deadline = Instant::now() + std::time::Duration::from_secs(20);
            while seen.iter().any(|s| s.load(Ordering::Relaxed) != i as u64) {
                assert!(Instant::now() < deadline, "a looping thread still runs old code");
                std::thread::yield_now();
            }
        }
        run.store(false, Ordering::Relaxed);
        for t in threads {
            t.join().unwrap();
        }
        // Islands are per function and 1 GiB region, retargeted by later patches: eight patches
        // of one function whose copies all lie in one region cost one island, not eight.
        assert_eq!(islands, 1, "islands allocated over 8 patches");
    }

    versions! { detour_unchanged_v0 = 0; detour_unchanged_v1 = 1; detour_unchanged_v2 = 2; }

    /// A function the server judged unchanged keeps its entries; its new copy is recorded, so the
    /// next patch that does change it detours that copy as well (code in that patch calls it).
    #[test]
    fn unchanged_functions_are_recorded_not_rewritten() {
        let (key, copy, next) = (addr(detour_unchanged_v0), addr(detour_unchanged_v1), addr(detour_unchanged_v2));
        let r = apply_runtime(vec![RuntimeEntry { unchanged: true, ..entry(key, copy, "u") }]);
        assert_eq!((r.detoured, r.unchanged, r.entries_written, r.skipped_total), (0, 1, 0, 0), "{r:?}");
        assert_eq!(black_box(detour_unchanged_v0 as extern "C" fn(u64) -> u64)(1), 1000, "the entry was not rewritten");
        let r = apply_runtime(vec![entry(key, next, "u")]);
        assert_eq!((r.detoured, r.unchanged), (1, 0), "{r:?}");
        assert_eq!(black_box(detour_unchanged_v0 as extern "C" fn(u64) -> u64)(1), 1002);
        assert_eq!(black_box(detour_unchanged_v1 as extern "C" fn(u64) -> u64)(1), 1002, "the recorded copy leads to the newest version");
    }

    #[test]
    fn short_and_kept_functions_are_left_alone() {
        let key = tiny as *const () as usize;
        let report = apply_runtime(vec![RuntimeEntry { key, size: 1, target: addr(detour_test_v8), target_size: 32, name: "tiny".into(), keep: false, unchanged: false }]);
        assert_eq!(report.detoured, 0);
        assert_eq!(report.skipped, vec![Skipped { name: "tiny".into(), reason: "too-short" }]);
        tiny(); // still its own code
        let report = apply_runtime(vec![RuntimeEntry { key: key + 1, size: 0, target: addr(detour_test_v8), target_size: 32, name: "nosize".into(), keep: false, unchanged: false }]);
        assert_eq!(report.skipped[0].reason, "unknown-size");
        let report = apply_runtime(vec![RuntimeEntry { key: key + 2, size: 64, target: addr(detour_test_v8), target_size: 32, name: "sig".into(), keep: true, unchanged: false }]);
        assert_eq!((report.detoured, report.entries_written), (0, 0));
        assert_eq!(report.skipped[0].reason, "signature-changed");
    }
}
