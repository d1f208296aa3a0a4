//! Memory the detours touch: the process's mappings, page protections around writes, and
//! trampoline islands allocated near the code that jumps to them.

use std::sync::atomic::{AtomicU64, Ordering};

pub(crate) const ISLAND_SIZE: usize = 16;

pub(crate) fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as usize
    } else {
        4096
    }
}

/// One line of /proc/self/maps: [start, end).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Mapping {
    pub start: usize,
    pub end: usize,
}

/// The process's mappings, sorted by address.
pub(crate) fn mappings() -> Vec<Mapping> {
    let text = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    parse_maps(&text)
}

pub(crate) fn parse_maps(text: &str) -> Vec<Mapping> {
    let mut out: Vec<Mapping> = text
        .lines()
        .filter_map(|line| {
            let range = line.split_whitespace().next()?;
            let (a, b) = range.split_once('-')?;
            Some(Mapping { start: usize::from_str_radix(a, 16).ok()?, end: usize::from_str_radix(b, 16).ok()? })
        })
        .collect();
    out.sort_by_key(|m| m.start);
    out
}

/// The mapping containing `addr`.
pub(crate) fn mapping_of(maps: &[Mapping], addr: usize) -> Option<Mapping> {
    let i = maps.partition_point(|m| m.start <= addr);
    let m = *maps.get(i.checked_sub(1)?)?;
    (addr < m.end).then_some(m)
}

/// Page-aligned [start, end) runs covering the given byte ranges, merged.
pub(crate) fn page_runs(ranges: impl IntoIterator<Item = (usize, usize)>, page: usize) -> Vec<(usize, usize)> {
    let mut pages: Vec<(usize, usize)> =
        ranges.into_iter().map(|(a, len)| (a & !(page - 1), (a + len + page - 1) & !(page - 1))).collect();
    pages.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::with_capacity(pages.len());
    for (s, e) in pages {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// Sets the protection of page runs. Code stays executable while writable: threads that were
/// not stopped (islands are retargeted without stopping anyone) may be running on these pages.
pub(crate) fn protect(runs: &[(usize, usize)], writable: bool) -> Result<(), String> {
    let prot = libc::PROT_READ | libc::PROT_EXEC | if writable { libc::PROT_WRITE } else { 0 };
    for &(s, e) in runs {
        // SAFETY: page-aligned runs of mapped code (function entries and our islands).
        if unsafe { libc::mprotect(s as *mut libc::c_void, e - s, prot) } != 0 {
            return Err(format!(
                "mprotect({s:#x}, {}, {}) failed: {}",
                e - s,
                if writable { "rwx" } else { "r-x" },
                std::io::Error::last_os_error()
            ));
        }
    }
    Ok(())
}

/// Retargets an island with one atomic 8-byte store (its page must be writable).
///
/// # Safety
/// `slot` must be the 8-aligned target slot of an island we allocated.
pub(crate) unsafe fn store_target(slot: usize, target: usize) {
    AtomicU64::from_ptr(slot as *mut u64).store(target as u64, Ordering::SeqCst);
}

/// Pages of islands, each page within reach of the code that was near it when it was allocated.
#[derive(Default)]
pub(crate) struct IslandPool {
    pages: Vec<IslandPage>,
}

struct IslandPage {
    base: usize,
    used: usize,
}

impl IslandPool {
    /// An unused island slot reachable from `from` (by `reach(from, island)`), allocating a page if
    /// needed. The island's memory is mapped read-write-execute only while we write it.
    pub(crate) fn take(&mut self, from: usize, maps: &mut Vec<Mapping>, reach: impl Fn(usize, usize) -> bool) -> Option<usize> {
        let page = page_size();
        for p in &mut self.pages {
            if p.used + ISLAND_SIZE <= page && reach(from, p.base + p.used) && reach(from, p.base + page - ISLAND_SIZE) {
                let at = p.base + p.used;
                p.used += ISLAND_SIZE;
                return Some(at);
            }
        }
        let base = alloc_near(from, page, maps, &reach)?;
        maps.push(Mapping { start: base, end: base + page });
        maps.sort_by_key(|m| m.start);
        self.pages.push(IslandPage { base, used: ISLAND_SIZE });
        Some(base)
    }

    #[cfg(test)]
    pub(crate) fn pages(&self) -> usize {
        self.pages.len()
    }
}

/// Maps one page in a gap of the address space as close to `near` as possible, within reach.
fn alloc_near(near: usize, page: usize, maps: &[Mapping], reach: &impl Fn(usize, usize) -> bool) -> Option<usize> {
    // Candidate addresses: the page-aligned ends (just below the next mapping) and starts (just
    // above the previous one) of the gaps, nearest first.
    let mut candidates: Vec<usize> = Vec::new();
    let min_addr = 0x10000usize; // above vm.mmap_min_addr
    for w in maps.windows(2) {
        let (gap_start, gap_end) = ((w[0].end + page - 1) & !(page - 1), w[1].start & !(page - 1));
        if gap_end >= gap_start + page && gap_start >= min_addr {
            candidates.push(gap_start);
            candidates.push(gap_end - page);
        }
    }
    if let Some(first) = maps.first() {
        let below = (first.start & !(page - 1)).checked_sub(page);
        if let Some(b) = below.filter(|&b| b >= min_addr) {
            candidates.push(b);
        }
    }
    candidates.retain(|&c| reach(near, c) && reach(near, c + page - ISLAND_SIZE));
    candidates.sort_by_key(|&c| c.abs_diff(near));
    for c in candidates.into_iter().take(16) {
        // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing mapping; kernels older than 4.17
        // treat it as a hint, which is checked below.
        let p = unsafe {
            libc::mmap(
                c as *mut libc::c_void,
                page,
                libc::PROT_READ | libc::PROT_EXEC,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            continue;
        }
        let got = p as usize;
        if got == c {
            return Some(got);
        }
        unsafe { libc::munmap(p, page) };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_maps_and_finds_mappings() {
        let maps = parse_maps(
            "7f0000001000-7f0000003000 r-xp 00000000 00:00 0 \n\
             555555554000-555555556000 r--p 00000000 08:01 123 /bin/app\n\
             garbage\n",
        );
        assert_eq!(maps.len(), 2);
        assert_eq!(maps[0].start, 0x5555_5555_4000);
        assert_eq!(mapping_of(&maps, 0x5555_5555_5fff), Some(maps[0]));
        assert_eq!(mapping_of(&maps, 0x5555_5555_6000), None);
        assert_eq!(mapping_of(&maps, 0x7f00_0000_1000), Some(maps[1]));
        assert_eq!(mapping_of(&maps, 0x1000), None);
    }

    #[test]
    fn merges_page_runs() {
        let runs = page_runs([(0x1ffe, 5), (0x3000, 16), (0x1000, 1), (0x8000, 1)], 0x1000);
        assert_eq!(runs, vec![(0x1000, 0x4000), (0x8000, 0x9000)]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn islands_land_near_the_code() {
        let mut maps = mappings();
        let mut pool = IslandPool::default();
        let code = islands_land_near_the_code as *const () as usize;
        let within_2g = |from: usize, to: usize| from.abs_diff(to) < (1 << 31) - 4096;
        let a = pool.take(code, &mut maps, within_2g).expect("island near the test binary");
        let b = pool.take(code, &mut maps, within_2g).expect("second island");
        assert_eq!(b, a + ISLAND_SIZE);
        assert!(within_2g(code, a));
        assert_eq!(pool.pages(), 1);
        assert_eq!(a % 16, 0);
    }
}
