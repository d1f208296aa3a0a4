// engine/symbols.ts — symbol tables the engine works from:
//   - FatSymbols: the fat executable's full .symtab (locals included), read ONCE per fat build and
//     kept in memory; every patch resolves names against it.
//   - ObjectSymbols: what each patch object defines and needs, cached per file identity so
//     unchanged workspace-crate objects are not re-parsed on every patch.
// Never imports the LSP library or the devserver.
import * as fs from 'node:fs';
import {
  Arch, ElfFile, ElfSymbol, ElfError, readElf, SHN_UNDEF, SHN_ABS, SHN_COMMON, SHN_LORESERVE, STT_FUNC, STT_GNU_IFUNC,
  STT_NOTYPE, STT_TLS, STT_SECTION, STT_FILE, SHF_EXECINSTR, isGlobalBind, ET_REL, STB_LOCAL,
} from './elf';

/** `.llvm.<digits>` is appended to promoted local symbols; the digits differ between builds. */
const LLVM_SUFFIX = /\.llvm\.\d+$/;

export function stripLlvmSuffix(name: string): string {
  return name.replace(LLVM_SUFFIX, '');
}

export class SymbolError extends Error {}

export interface FatSymbol {
  name: string;
  value: number;
  size: number;
  type: number;
  bind: number;
  /** Defined in an executable section (so a NOTYPE symbol is code). */
  code: boolean;
}

export interface TlsLayout {
  vaddr: number;
  memsz: number;
  align: number;
}

export type Lookup =
  | { kind: 'found'; symbol: FatSymbol; viaSuffix: boolean }
  | { kind: 'ambiguous'; candidates: FatSymbol[] }
  | { kind: 'undefined-in-exe' }
  | { kind: 'missing' };

export class FatSymbols {
  readonly arch: Arch;
  readonly path: string;
  /** Static (link-time) address of the C `main`. */
  readonly mainAddress: number;
  readonly tls: TlsLayout | undefined;
  readonly symbolCount: number;
  private readonly defined = new Map<string, FatSymbol[]>();
  private readonly undefinedNames = new Set<string>();
  private byBase: Map<string, string[]> | undefined;
  private funcsByBase: Map<string, Set<number>> | undefined;
  private sizeByAddr: Map<number, number> | undefined;

  private constructor(path: string, arch: Arch, symbols: ElfSymbol[], sectionFlags: number[], tls: TlsLayout | undefined) {
    this.path = path;
    this.arch = arch;
    this.tls = tls;
    this.symbolCount = symbols.length;
    for (const s of symbols) {
      if (!s.name || s.type === STT_SECTION || s.type === STT_FILE) continue;
      if (s.shndx === SHN_UNDEF) {
        // GNU ld names versioned imports `printf@GLIBC_2.2.5` in .symtab
        this.undefinedNames.add(s.name);
        const at = s.name.indexOf('@');
        if (at > 0) this.undefinedNames.add(s.name.slice(0, at));
        continue;
      }
      // typed symbols say what they are; untyped ones (assembly labels) by their section
      const code = s.type === STT_FUNC || s.type === STT_GNU_IFUNC || (s.type === STT_NOTYPE && s.shndx < SHN_LORESERVE && ((sectionFlags[s.shndx] ?? 0) & SHF_EXECINSTR) !== 0);
      const entry: FatSymbol = { name: s.name, value: s.value, size: s.size, type: s.type, bind: s.bind, code };
      const list = this.defined.get(s.name);
      if (list) list.push(entry);
      else this.defined.set(s.name, [entry]);
    }
    const mains = (this.defined.get('main') ?? []).filter((m) => m.code);
    if (mains.length === 0) {
      throw new SymbolError(`${path}: no \`main\` symbol in the binary's symbol table; patches are located relative to it`);
    }
    this.mainAddress = mains[0].value;
  }

  /** Builds the table from already-parsed symbols (tests, or callers holding an ElfFile). */
  static fromSymbols(path: string, arch: Arch, symbols: ElfSymbol[], sectionFlags: number[] = [], tls?: TlsLayout): FatSymbols {
    return new FatSymbols(path, arch, symbols, sectionFlags, tls);
  }

  /** Reads an executable's .symtab. Throws SymbolError with a user-facing message. */
  static fromFile(path: string): FatSymbols {
    let elf: ElfFile;
    try {
      elf = ElfFile.open(path);
    } catch (e) {
      throw new SymbolError(e instanceof ElfError ? e.message : `${path}: ${(e as Error).message}`);
    }
    try {
      const arch = elf.arch;
      if (!arch) throw new SymbolError(`${path}: unsupported machine ${elf.machine} (x86_64 and aarch64 only)`);
      const syms = elf.symtab();
      if (!syms) throw new SymbolError(`${path}: the binary has no symbol table; set profile.dev.strip = false`);
      const tlsPh = elf.tlsSegment();
      const tls = tlsPh ? { vaddr: tlsPh.vaddr, memsz: tlsPh.memsz, align: Math.max(1, tlsPh.align) } : undefined;
      return new FatSymbols(path, arch, syms, elf.sections.map((s) => s.flags), tls);
    } finally {
      elf.close();
    }
  }

  /** All definitions of an exact name. */
  definitions(name: string): FatSymbol[] {
    return this.defined.get(name) ?? [];
  }

  /**
   * Resolves a name the patch needs. Exact name first; else the same name with a different (or
   * no) `.llvm.<hash>` suffix, if exactly one name matches.
   */
  lookup(name: string): Lookup {
    let cands = this.defined.get(name);
    let viaSuffix = false;
    if (!cands) {
      const base = stripLlvmSuffix(name);
      const names = this.baseIndex().get(base);
      if (names && names.length === 1) {
        cands = this.defined.get(names[0]);
        viaSuffix = true;
      }
    }
    if (!cands || cands.length === 0) return this.undefinedNames.has(name) ? { kind: 'undefined-in-exe' } : { kind: 'missing' };
    if (cands.length === 1) return { kind: 'found', symbol: cands[0], viaSuffix };
    // Several definitions (locals of the same name from different objects): prefer global ones.
    const globals = cands.filter((c) => isGlobalBind(c.bind));
    const pool = globals.length > 0 ? globals : cands;
    const addrs = new Set(pool.map((c) => c.value));
    if (addrs.size === 1) return { kind: 'found', symbol: pool[0], viaSuffix };
    return { kind: 'ambiguous', candidates: pool };
  }

  /** Static addresses of functions named `base` (after `.llvm.` suffix removal). */
  functionAddresses(base: string): Set<number> | undefined {
    return this.functionsByBase().get(base);
  }

  /** Names of the executable's functions (after `.llvm.` suffix removal). */
  functionNames(): Iterable<string> {
    return this.functionsByBase().keys();
  }

  private functionsByBase(): Map<string, Set<number>> {
    if (!this.funcsByBase) {
      const m = new Map<string, Set<number>>();
      for (const [name, list] of this.defined) {
        for (const s of list) {
          if (s.type !== STT_FUNC) continue;
          const b = stripLlvmSuffix(name);
          let set = m.get(b);
          if (!set) m.set(b, (set = new Set()));
          set.add(s.value);
        }
      }
      this.funcsByBase = m;
    }
    return this.funcsByBase;
  }

  /** Size of the function at a static address (the largest symbol there), if one is there. */
  functionSizeAt(addr: number): number | undefined {
    if (!this.sizeByAddr) {
      const m = new Map<number, number>();
      for (const list of this.defined.values()) {
        for (const s of list) if (s.type === STT_FUNC && (m.get(s.value) ?? -1) < s.size) m.set(s.value, s.size);
      }
      this.sizeByAddr = m;
    }
    return this.sizeByAddr.get(addr);
  }

  private baseIndex(): Map<string, string[]> {
    if (!this.byBase) {
      const m = new Map<string, string[]>();
      for (const name of this.defined.keys()) {
        const b = stripLlvmSuffix(name);
        const list = m.get(b);
        if (list) list.push(name);
        else m.set(b, [name]);
      }
      this.byBase = m;
    }
    return this.byBase;
  }
}

/** What one relocatable object defines (globally) and needs. */
export interface ObjectSymbols {
  path: string;
  /** Global/weak definitions. */
  defined: Set<string>;
  /** Names referenced but not defined in this object. */
  undefined: Set<string>;
  /** Thread-local names among `undefined` as far as this object knows (type STT_TLS). */
  undefinedTls: Set<string>;
  /** Local (file-scope) definitions by name (used by the static/TLS fixups). */
  locals: Set<string>;
}

const objectCache = new Map<string, { key: string; syms: ObjectSymbols }>();

/** Reads an object's symbol summary, cached by path + size + mtime + inode. */
export function objectSymbols(path: string): ObjectSymbols {
  const st = fs.statSync(path);
  const key = `${st.size}:${st.mtimeMs}:${st.ino}`;
  const hit = objectCache.get(path);
  if (hit && hit.key === key) return hit.syms;
  const elf = readElf(path);
  if (elf.type !== ET_REL) throw new SymbolError(`${path}: not a relocatable object`);
  const syms = summarize(path, elf.symtab() ?? []);
  objectCache.set(path, { key, syms });
  return syms;
}

export function summarize(path: string, symbols: ElfSymbol[]): ObjectSymbols {
  const defined = new Set<string>();
  const undef = new Set<string>();
  const undefinedTls = new Set<string>();
  const locals = new Set<string>();
  for (const s of symbols) {
    if (!s.name || s.type === STT_SECTION || s.type === STT_FILE) continue;
    if (s.shndx === SHN_UNDEF) {
      undef.add(s.name);
      if (s.type === STT_TLS) undefinedTls.add(s.name);
    } else if (s.bind === STB_LOCAL) {
      locals.add(s.name);
    } else if (isGlobalBind(s.bind) || s.shndx === SHN_COMMON || s.shndx === SHN_ABS) {
      defined.add(s.name);
    }
  }
  return { path, defined, undefined: undef, undefinedTls, locals };
}

/** Drops cached summaries of objects below a directory that is being deleted. */
export function forgetObjectsUnder(dir: string): void {
  const prefix = dir.endsWith('/') ? dir : dir + '/';
  for (const k of objectCache.keys()) if (k.startsWith(prefix)) objectCache.delete(k);
}
