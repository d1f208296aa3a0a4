//! Facts about the running process image: the runtime address of `main` (the ASLR reference the
//! devserver needs) and whether an address lies inside the main executable (used by `hot!`).
//! Read-only: never loads, patches or modifies anything.

use std::sync::OnceLock;

/// Runtime address of the executable's `main`, or 0 when it cannot be found.
///
/// First asks the dynamic linker (what subsecond and dx use). That only works when `main` is in
/// `.dynsym`, i.e. the binary was linked with `--export-dynamic` (subsecond-lsp) or
/// `--export-dynamic-symbol,main` (dx). A plain `cargo build` exports nothing, so on Linux we fall
/// back to reading `main` from the executable's own `.symtab` and adding the load bias: the
/// devserver then still learns the real process image, even though subsecond itself will not be
/// able to apply patches to it (the agent reports that clearly instead).
pub fn runtime_main_address() -> usize {
    static MAIN: OnceLock<usize> = OnceLock::new();
    *MAIN.get_or_init(|| {
        let dynamic = subsecond::aslr_reference();
        if dynamic != 0 {
            return dynamic;
        }
        symtab_main().unwrap_or(0)
    })
}

/// Whether `main` is visible to `dlsym`, which `subsecond::apply_patch` requires.
pub fn main_is_exported() -> bool {
    subsecond::aslr_reference() != 0
}

/// The base address of the object (executable or shared library) containing `addr`.
pub(crate) fn object_base(addr: usize) -> Option<usize> {
    if addr == 0 {
        return None;
    }
    // SAFETY: dladdr only reads the loader's tables; a zeroed Dl_info is a valid out-parameter.
    unsafe {
        let mut info: libc::Dl_info = std::mem::zeroed();
        if libc::dladdr(addr as *const libc::c_void, &mut info) == 0 {
            return None;
        }
        Some(info.dli_fbase as usize)
    }
}

/// Base address of the main executable, found through `main` (which always lives there).
pub(crate) fn exe_base() -> Option<usize> {
    static BASE: OnceLock<Option<usize>> = OnceLock::new();
    *BASE.get_or_init(|| object_base(runtime_main_address()))
}

/// True when `addr` is code of the original executable rather than of a loaded patch.
pub(crate) fn in_main_exe(addr: usize) -> bool {
    match (exe_base(), object_base(addr)) {
        (Some(exe), Some(obj)) => exe == obj,
        _ => false,
    }
}

#[cfg(all(target_os = "linux", target_pointer_width = "64", target_endian = "little"))]
fn symtab_main() -> Option<usize> {
    elf::main_runtime_address()
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64", target_endian = "little")))]
fn symtab_main() -> Option<usize> {
    None
}

/// A minimal ELF64 reader for exactly one question: where is `main`? A full ELF crate would be a
/// heavy dependency for 60 lines of header walking, and any failure here just means "unknown".
#[cfg(all(target_os = "linux", target_pointer_width = "64", target_endian = "little"))]
mod elf {
    use std::fs::File;
    use std::os::unix::fs::FileExt;

    const PT_LOAD: u32 = 1;
    const PT_PHDR: u32 = 6;
    const SHT_SYMTAB: u32 = 2;
    const STT_FUNC: u8 = 2;
    /// Sections larger than this are not read (a sanity bound, not a real-world limit).
    const MAX_SECTION: u64 = 1 << 30;

    fn read_at(f: &File, off: u64, len: u64) -> Option<Vec<u8>> {
        if len > MAX_SECTION {
            return None;
        }
        let mut buf = vec![0u8; len as usize];
        f.read_exact_at(&mut buf, off).ok()?;
        Some(buf)
    }
    fn u16_at(b: &[u8], o: usize) -> Option<u16> {
        Some(u16::from_le_bytes(b.get(o..o + 2)?.try_into().ok()?))
    }
    fn u32_at(b: &[u8], o: usize) -> Option<u32> {
        Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?))
    }
    fn u64_at(b: &[u8], o: usize) -> Option<u64> {
        Some(u64::from_le_bytes(b.get(o..o + 8)?.try_into().ok()?))
    }

    pub(super) fn main_runtime_address() -> Option<usize> {
        let f = File::open("/proc/self/exe").ok()?;
        let eh = read_at(&f, 0, 64)?;
        if &eh[0..4] != b"\x7fELF" || eh[4] != 2 || eh[5] != 1 {
            return None;
        }
        let phoff = u64_at(&eh, 0x20)?;
        let shoff = u64_at(&eh, 0x28)?;
        let phentsize = u64::from(u16_at(&eh, 0x36)?);
        let phnum = u64::from(u16_at(&eh, 0x38)?);
        let shentsize = u64::from(u16_at(&eh, 0x3a)?);
        let shnum = u64::from(u16_at(&eh, 0x3c)?);
        if phentsize < 56 || shentsize < 64 || shnum == 0 {
            return None;
        }

        // Load bias: where the kernel put the program headers vs. where the file says they are.
        let phdrs = read_at(&f, phoff, phentsize * phnum)?;
        let mut static_phdr = None;
        for i in 0..phnum as usize {
            let p = &phdrs[i * phentsize as usize..];
            let (ty, off, vaddr, filesz) = (u32_at(p, 0)?, u64_at(p, 8)?, u64_at(p, 16)?, u64_at(p, 32)?);
            if ty == PT_PHDR {
                static_phdr = Some(vaddr);
                break;
            }
            if ty == PT_LOAD && static_phdr.is_none() && off <= phoff && phoff < off + filesz {
                static_phdr = Some(vaddr + (phoff - off));
            }
        }
        // SAFETY: getauxval is always safe to call; 0 means "not available".
        let runtime_phdr = unsafe { libc::getauxval(libc::AT_PHDR) } as u64;
        if runtime_phdr == 0 {
            return None;
        }
        let bias = runtime_phdr.checked_sub(static_phdr?)?;

        let shdrs = read_at(&f, shoff, shentsize * shnum)?;
        for i in 0..shnum as usize {
            let s = &shdrs[i * shentsize as usize..];
            if u32_at(s, 4)? != SHT_SYMTAB {
                continue;
            }
            let (sym_off, sym_size, link) = (u64_at(s, 24)?, u64_at(s, 32)?, u32_at(s, 40)? as usize);
            let strtab_hdr = shdrs.get(link * shentsize as usize..)?;
            let strtab = read_at(&f, u64_at(strtab_hdr, 24)?, u64_at(strtab_hdr, 32)?)?;
            let syms = read_at(&f, sym_off, sym_size)?;
            for sym in syms.chunks_exact(24) {
                let name = u32_at(sym, 0)? as usize;
                if sym[4] & 0xf != STT_FUNC || strtab.get(name..name + 5) != Some(b"main\0") {
                    continue;
                }
                let value = u64_at(sym, 8)?;
                if value != 0 {
                    return usize::try_from(value.checked_add(bias)?).ok();
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_main_of_the_test_binary() {
        // The test harness has a C `main` like any executable; whichever way it is found, it must
        // be inside this executable.
        let main = runtime_main_address();
        assert_ne!(main, 0);
        assert!(in_main_exe(main));
        assert!(in_main_exe(finds_main_of_the_test_binary as *const () as usize));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn symtab_agrees_with_dlsym_when_exported() {
        if main_is_exported() {
            assert_eq!(symtab_main(), Some(subsecond::aslr_reference()));
        } else {
            assert!(symtab_main().is_some());
        }
    }

    #[test]
    fn libc_code_is_not_in_the_exe() {
        assert!(!in_main_exe(libc::malloc as *const () as usize));
    }
}
