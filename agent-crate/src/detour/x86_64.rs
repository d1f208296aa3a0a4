#![cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // encodings are unit-tested on every host
//! x86_64 encodings of entry detours, and the few instructions that must be written in place.
//!
//! An entry gets `jmp rel32` (5 bytes). When the target is beyond ±2 GiB (the usual case from the
//! executable into a patch library) the entry jumps to an island near it instead:
//!
//! ```text
//! island+0:  ff 25 02 00 00 00    jmp *2(%rip)        ; reads the address at island+8
//! island+6:  cc cc                int3 padding
//! island+8:  <8-byte absolute target>
//! ```
//!
//! The target lives at an 8-aligned offset so a later patch can retarget the island with one
//! atomic 8-byte store, while other threads may be jumping through it.

/// Bytes an entry detour overwrites.
pub(crate) const ENTRY_LEN: usize = 5;

/// `jmp rel32` from `from` to `to`, if the displacement fits.
pub(crate) fn direct(from: usize, to: usize) -> Option<[u8; ENTRY_LEN]> {
    let next = (from as i128) + ENTRY_LEN as i128;
    let disp = i32::try_from(to as i128 - next).ok()?;
    let d = disp.to_le_bytes();
    Some([0xe9, d[0], d[1], d[2], d[3]])
}

/// The 16 bytes of an island jumping to `target`.
pub(crate) fn island(target: usize) -> [u8; 16] {
    let mut code = [0u8; 16];
    code[..8].copy_from_slice(&[0xff, 0x25, 0x02, 0x00, 0x00, 0x00, 0xcc, 0xcc]);
    code[8..].copy_from_slice(&(target as u64).to_le_bytes());
    code
}

/// Offset of the retargetable address inside an island.
pub(crate) const ISLAND_TARGET_OFFSET: usize = 8;

/// Whether a thread stopped with this program counter, or holding this return address, would be
/// broken by rewriting `[entry, entry + ENTRY_LEN)`: anywhere strictly inside the overwritten bytes
/// (the entry itself is fine: the thread then simply takes the jump).
pub(crate) fn breaks(entry: usize, addr: usize) -> bool {
    addr > entry && addr < entry + ENTRY_LEN
}

/// Writes `bytes` over the entry at `addr`. Returns whether it was one atomic store: true when the
/// 5 bytes lie inside one aligned 8-byte word (always for 8- or 16-aligned entries, which is how
/// rustc aligns functions), by re-storing the word's other 3 bytes unchanged. Otherwise the bytes
/// are written one by one, which is safe only because every other thread is stopped outside them.
///
/// # Safety
/// `addr..addr+5` must be writable code of a function at least 5 bytes long, not being executed.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
pub(crate) unsafe fn write_entry(addr: usize, bytes: &[u8; ENTRY_LEN]) -> bool {
    use std::sync::atomic::{AtomicU64, Ordering};
    let word = addr & !7;
    if addr + ENTRY_LEN <= word + 8 {
        let cell = AtomicU64::from_ptr(word as *mut u64);
        let mut v = cell.load(Ordering::SeqCst).to_le_bytes();
        let off = addr - word;
        v[off..off + ENTRY_LEN].copy_from_slice(bytes);
        cell.store(u64::from_le_bytes(v), Ordering::SeqCst);
        true
    } else {
        for (i, b) in bytes.iter().enumerate() {
            std::ptr::write_volatile((addr + i) as *mut u8, *b);
        }
        false
    }
}

/// Makes the current thread refetch instructions after another thread modified code (Intel SDM
/// 8.1.3, cross-modifying code: the executing processor runs a serializing instruction).
#[cfg(target_arch = "x86_64")]
pub(crate) fn serialize() {
    // cpuid is available on every x86_64 CPU and has no side effects.
    let _ = core::arch::x86_64::__cpuid(0);
}

/// Nothing to flush: x86 keeps instruction fetch coherent with stores.
#[cfg(target_arch = "x86_64")]
pub(crate) fn flush_icache(_addr: usize, _len: usize) {}

/// Program counter and stack pointer of a signal's interrupted context.
///
/// # Safety
/// `ctx` must be the third argument of an SA_SIGINFO handler.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
pub(crate) unsafe fn context_pc_sp(ctx: *mut libc::c_void) -> (usize, usize) {
    let uc = ctx as *const libc::ucontext_t;
    let gregs = &(*uc).uc_mcontext.gregs;
    (gregs[libc::REG_RIP as usize] as usize, gregs[libc::REG_RSP as usize] as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jmp_rel32_forward_and_backward() {
        // target = from + 5 + disp
        assert_eq!(direct(0x1000, 0x1005), Some([0xe9, 0, 0, 0, 0]));
        assert_eq!(direct(0x1000, 0x2000), Some([0xe9, 0xfb, 0x0f, 0, 0]));
        assert_eq!(direct(0x2000, 0x1000), Some([0xe9, 0xfb, 0xef, 0xff, 0xff]));
        // Both ends of the range.
        let from = 0x1_0000_0000usize;
        assert_eq!(direct(from, from + 5 + i32::MAX as usize), Some([0xe9, 0xff, 0xff, 0xff, 0x7f]));
        assert_eq!(direct(from, from + 5 + i32::MAX as usize + 1), None);
        assert_eq!(direct(from, from + 5 - (1usize << 31)), Some([0xe9, 0, 0, 0, 0x80]));
        assert_eq!(direct(from, from + 4 - (1usize << 31)), None);
        // An executable at 0x55.. and a library at 0x7f..: out of range.
        assert_eq!(direct(0x5555_5555_0000, 0x7fff_f7a0_0000), None);
    }

    #[test]
    fn island_bytes() {
        let code = island(0x7fff_f7a0_1234);
        assert_eq!(code, [0xff, 0x25, 0x02, 0, 0, 0, 0xcc, 0xcc, 0x34, 0x12, 0xa0, 0xf7, 0xff, 0x7f, 0, 0]);
        // `jmp *disp(%rip)` reads at (island + 6) + 2, the 8-aligned target slot.
        assert_eq!(6 + i32::from_le_bytes([code[2], code[3], code[4], code[5]]) as usize, ISLAND_TARGET_OFFSET);
    }

    #[test]
    fn only_strictly_inside_breaks() {
        assert!(!breaks(0x1000, 0x1000));
        assert!(breaks(0x1000, 0x1001));
        assert!(breaks(0x1000, 0x1004));
        assert!(!breaks(0x1000, 0x1005));
        assert!(!breaks(0x1000, 0xfff));
    }

    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    #[test]
    fn writes_atomically_inside_a_word() {
        let mut buf = [0x90u64; 4]; // 8-aligned
        let base = buf.as_mut_ptr() as usize;
        let bytes = [0xe9, 1, 2, 3, 4];
        assert!(unsafe { write_entry(base, &bytes) });
        assert!(unsafe { write_entry(base + 8 + 3, &bytes) });
        assert!(!unsafe { write_entry(base + 16 + 4, &bytes) });
        let raw: Vec<u8> = buf.iter().flat_map(|w| w.to_le_bytes()).collect();
        assert_eq!(&raw[0..8], &[0xe9, 1, 2, 3, 4, 0, 0, 0]);
        assert_eq!(&raw[8..16], &[0x90, 0, 0, 0xe9, 1, 2, 3, 4]);
        assert_eq!(&raw[16..24], &[0x90, 0, 0, 0, 0xe9, 1, 2, 3]);
        assert_eq!(&raw[24..26], &[4, 0]);
    }
}
