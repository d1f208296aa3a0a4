#![cfg_attr(not(target_arch = "aarch64"), allow(dead_code))] // encodings are unit-tested on every host
//! aarch64 encodings of entry detours.
//!
//! An entry gets one `b <target>` (4 bytes, ±128 MiB). Farther targets go through an island
//! placed within ±128 MiB of the entry:
//!
//! ```text
//! island+0:  58000050   ldr x16, #8     ; x16 = *(island + 8)
//! island+4:  d61f0200   br  x16
//! island+8:  <8-byte absolute target>
//! ```
//!
//! x16 is the intra-procedure-call scratch register (IP0) the AAPCS64 lets veneers clobber at a
//! call boundary, which a function entry is. Replacing one `B` instruction is one of the
//! modifications the architecture allows while other cores execute it (ARM ARM B2.2.5,
//! "concurrent modification and execution of instructions"); the 8-byte target is one aligned
//! single-copy-atomic store.

/// Bytes an entry detour overwrites.
pub(crate) const ENTRY_LEN: usize = 4;

const B_RANGE: i64 = 1 << 27;

/// `b` from `from` to `to`, if in range (both 4-aligned).
pub(crate) fn direct_insn(from: usize, to: usize) -> Option<u32> {
    let off = to as i128 - from as i128;
    if off % 4 != 0 || off < -(B_RANGE as i128) || off >= B_RANGE as i128 {
        return None;
    }
    Some(0x1400_0000 | (((off >> 2) as u32) & 0x03ff_ffff))
}

/// `b` as bytes.
pub(crate) fn direct(from: usize, to: usize) -> Option<[u8; ENTRY_LEN]> {
    direct_insn(from, to).map(u32::to_le_bytes)
}

/// The 16 bytes of an island jumping to `target`.
pub(crate) fn island(target: usize) -> [u8; 16] {
    let mut code = [0u8; 16];
    code[0..4].copy_from_slice(&0x5800_0050u32.to_le_bytes());
    code[4..8].copy_from_slice(&0xd61f_0200u32.to_le_bytes());
    code[8..].copy_from_slice(&(target as u64).to_le_bytes());
    code
}

/// Offset of the retargetable address inside an island.
pub(crate) const ISLAND_TARGET_OFFSET: usize = 8;

/// A single instruction is replaced, so no program counter or return address can lie strictly
/// inside it.
pub(crate) fn breaks(entry: usize, addr: usize) -> bool {
    addr > entry && addr < entry + ENTRY_LEN
}

/// One 4-byte store of the `b` instruction (always atomic: entries are 4-aligned).
///
/// # Safety
/// `addr` must be writable, 4-aligned code of a function at least 4 bytes long.
#[cfg(all(target_arch = "aarch64", target_os = "linux"))]
pub(crate) unsafe fn write_entry(addr: usize, bytes: &[u8; ENTRY_LEN]) -> bool {
    use std::sync::atomic::{AtomicU32, Ordering};
    if addr % 4 != 0 {
        return false;
    }
    AtomicU32::from_ptr(addr as *mut u32).store(u32::from_le_bytes(*bytes), Ordering::SeqCst);
    true
}

/// Resynchronises this core's instruction fetch after code was modified elsewhere.
#[cfg(target_arch = "aarch64")]
pub(crate) fn serialize() {
    // SAFETY: isb has no side effects beyond flushing the pipeline.
    unsafe { core::arch::asm!("isb", options(nostack, preserves_flags)) }
}

/// Cleans the data cache and invalidates the instruction cache for freshly written code, as the
/// architecture requires before any core executes it (what `__clear_cache` does).
#[cfg(target_arch = "aarch64")]
pub(crate) fn flush_icache(addr: usize, len: usize) {
    if len == 0 {
        return;
    }
    let ctr: u64;
    // SAFETY: CTR_EL0 is readable at EL0 on Linux; the cache maintenance instructions operate on
    // addresses we just wrote, which are mapped.
    unsafe {
        core::arch::asm!("mrs {}, ctr_el0", out(reg) ctr, options(nomem, nostack, preserves_flags));
        let dline = 4usize << ((ctr >> 16) & 0xf);
        let iline = 4usize << (ctr & 0xf);
        let end = addr + len;
        let mut a = addr & !(dline - 1);
        while a < end {
            core::arch::asm!("dc cvau, {}", in(reg) a, options(nostack, preserves_flags));
            a += dline;
        }
        core::arch::asm!("dsb ish", options(nostack, preserves_flags));
        let mut a = addr & !(iline - 1);
        while a < end {
            core::arch::asm!("ic ivau, {}", in(reg) a, options(nostack, preserves_flags));
            a += iline;
        }
        core::arch::asm!("dsb ish", "isb", options(nostack, preserves_flags));
    }
}

/// Program counter and stack pointer of a signal's interrupted context.
///
/// # Safety
/// `ctx` must be the third argument of an SA_SIGINFO handler.
#[cfg(all(target_arch = "aarch64", target_os = "linux"))]
pub(crate) unsafe fn context_pc_sp(ctx: *mut libc::c_void) -> (usize, usize) {
    let uc = ctx as *const libc::ucontext_t;
    ((*uc).uc_mcontext.pc as usize, (*uc).uc_mcontext.sp as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn b_encoding() {
        assert_eq!(direct_insn(0x1000, 0x1000), Some(0x1400_0000));
        assert_eq!(direct_insn(0x1000, 0x1004), Some(0x1400_0001));
        assert_eq!(direct_insn(0x1004, 0x1000), Some(0x17ff_ffff)); // b .-4
        assert_eq!(direct(0x1000, 0x1008), Some([0x02, 0x00, 0x00, 0x14]));
        let from = 0x4000_0000usize;
        assert_eq!(direct_insn(from, from + (1 << 27) - 4), Some(0x15ff_ffff));
        assert_eq!(direct_insn(from, from + (1 << 27)), None);
        assert_eq!(direct_insn(from, from - (1 << 27)), Some(0x1600_0000));
        assert_eq!(direct_insn(from, from - (1 << 27) - 4), None);
        assert_eq!(direct_insn(from, from + 2), None); // misaligned
    }

    #[test]
    fn island_bytes() {
        let code = island(0x0000_ffff_b7a0_1234);
        assert_eq!(&code[0..4], &[0x50, 0x00, 0x00, 0x58]); // ldr x16, #8
        assert_eq!(&code[4..8], &[0x00, 0x02, 0x1f, 0xd6]); // br x16
        assert_eq!(&code[8..16], &[0x34, 0x12, 0xa0, 0xb7, 0xff, 0xff, 0, 0]);
        // ldr literal: imm19 (bits 5..24) * 4 = offset of the literal from the instruction.
        let ldr = u32::from_le_bytes(code[0..4].try_into().unwrap());
        assert_eq!(((ldr >> 5) & 0x7ffff) * 4, ISLAND_TARGET_OFFSET as u32);
        assert_eq!(ldr & 0x1f, 16);
        assert_eq!(ldr >> 24, 0x58); // LDR (literal), 64-bit
    }

    #[test]
    fn nothing_is_strictly_inside_one_instruction() {
        for a in [0x1000usize, 0x1004, 0xffc] {
            assert!(!breaks(0x1000, a));
        }
    }
}
