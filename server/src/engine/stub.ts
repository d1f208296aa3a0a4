// engine/stub.ts — the "stub" object that binds a patch to the running process.
//
// A patch's objects reference symbols that live in the running executable (functions and statics
// of crates that were not rebuilt). The stub defines each of them at its runtime address:
//   - functions: a trampoline in .text that jumps to the absolute address
//       x86_64:  FF 25 00 00 00 00   jmp *0(%rip)      followed by the 8-byte address
//       aarch64: 58000050 (ldr x16, #8)  D61F0200 (br x16)   followed by the 8-byte address
//     The address is data inside the trampoline, so the stub has no relocations. The symbols are
//     GLOBAL + HIDDEN: the patch's calls bind to them at link time, without PLT/GOT.
//   - data: an absolute (SHN_ABS) GLOBAL definition at the runtime address. Not hidden: GNU ld
//     rejects a PC32 relocation against a hidden absolute symbol in a shared object.
//   - thread-locals are not defined here at all: left undefined, ld.so binds them to the
//     executable's exported TLS symbol so the patch shares the app's thread-local state.
// The object is written directly (no assembler): faster, and names may contain any bytes.
//
// Also holds the symbol-resolution step that decides what goes into the stub. Never imports the
// LSP library or the devserver.
import {
  Arch, machineFor, STB_GLOBAL, STB_LOCAL, STT_FUNC, STT_OBJECT, STT_SECTION, STT_TLS, STT_GNU_IFUNC, STT_NOTYPE, STT_COMMON,
  STV_DEFAULT, STV_HIDDEN, SHN_ABS, SHT_PROGBITS, SHT_STRTAB, SHT_SYMTAB, SHF_ALLOC, SHF_EXECINSTR, ET_REL,
} from './elf';
import type { FatSymbols, FatSymbol, ObjectSymbols } from './symbols';

export interface StubFunction {
  name: string;
  /** Absolute runtime address the trampoline jumps to. */
  address: number;
}

export interface StubData {
  name: string;
  /** Absolute runtime address of the object. */
  address: number;
  size: number;
  /** ELF symbol type to give it (STT_OBJECT unless the executable says otherwise). */
  type?: number;
}

export interface StubSpec {
  arch: Arch;
  functions: StubFunction[];
  data: StubData[];
}

/** Bytes per trampoline slot (x86_64 uses 14 of them, aarch64 all 16 with the address 8-aligned). */
export const TRAMPOLINE_SLOT = 16;

/** Offset of the 8-byte address inside a trampoline. */
export function trampolineAddressOffset(arch: Arch): number {
  return arch === 'x86_64' ? 6 : 8;
}

/** Size recorded on a trampoline symbol (the bytes that matter). */
export function trampolineSize(arch: Arch): number {
  return arch === 'x86_64' ? 14 : 16;
}

/** Encodes one trampoline (16 bytes, padded). */
export function encodeTrampoline(arch: Arch, address: number): Buffer {
  const b = Buffer.alloc(TRAMPOLINE_SLOT);
  if (arch === 'x86_64') {
    b.set([0xff, 0x25, 0x00, 0x00, 0x00, 0x00], 0); // jmp *0(%rip): reads the 8 bytes that follow
    writeU64(b, 6, address);
    b.set([0xcc, 0xcc], 14); // int3 padding, never executed
  } else {
    b.writeUInt32LE(0x58000050, 0); // ldr x16, #8 (literal 8 bytes ahead of this instruction)
    b.writeUInt32LE(0xd61f0200, 4); // br x16
    writeU64(b, 8, address);
  }
  return b;
}

function writeU64(b: Buffer, off: number, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`address out of range: ${v}`);
  b.writeUInt32LE(v % 0x100000000, off);
  b.writeUInt32LE(Math.floor(v / 0x100000000), off + 4);
}

class StrTab {
  private parts: Buffer[] = [Buffer.from([0])];
  private size = 1;
  private index = new Map<string, number>();
  add(s: string): number {
    if (s === '') return 0;
    const hit = this.index.get(s);
    if (hit !== undefined) return hit;
    const off = this.size;
    const b = Buffer.from(s + '\0', 'latin1');
    if (b.indexOf(0) !== b.length - 1) throw new Error(`symbol name contains a NUL byte: ${JSON.stringify(s)}`);
    this.parts.push(b);
    this.size += b.length;
    this.index.set(s, off);
    return off;
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** Writes the stub as an ELF64 relocatable object. */
export function writeStubObject(spec: StubSpec): Buffer {
  const seen = new Set<string>();
  for (const s of [...spec.functions, ...spec.data]) {
    if (seen.has(s.name)) throw new Error(`stub: symbol defined twice: ${s.name}`);
    seen.add(s.name);
  }
  const text = Buffer.concat(spec.functions.map((f) => encodeTrampoline(spec.arch, f.address)));

  // Section indices (fixed layout).
  const SEC_TEXT = 1, SEC_NOTE = 2, SEC_SYMTAB = 3, SEC_STRTAB = 4, SEC_SHSTRTAB = 5, NSEC = 6;

  const strtab = new StrTab();
  const syms: Buffer[] = [];
  const sym = (name: number, info: number, other: number, shndx: number, value: number, size: number) => {
    const b = Buffer.alloc(24);
    b.writeUInt32LE(name, 0);
    b[4] = info;
    b[5] = other;
    b.writeUInt16LE(shndx, 6);
    writeU64(b, 8, value);
    writeU64(b, 16, size);
    syms.push(b);
  };
  sym(0, 0, 0, 0, 0, 0);
  sym(0, (STB_LOCAL << 4) | STT_SECTION, 0, SEC_TEXT, 0, 0);
  const firstGlobal = syms.length;
  spec.functions.forEach((f, i) => {
    sym(strtab.add(f.name), (STB_GLOBAL << 4) | STT_FUNC, STV_HIDDEN, SEC_TEXT, i * TRAMPOLINE_SLOT, trampolineSize(spec.arch));
  });
  for (const d of spec.data) {
    sym(strtab.add(d.name), (STB_GLOBAL << 4) | (d.type ?? STT_OBJECT), STV_DEFAULT, SHN_ABS, d.address, d.size);
  }
  const symtab = Buffer.concat(syms);
  const strBytes = strtab.bytes();

  const shstr = new StrTab();
  const nText = shstr.add('.text');
  const nNote = shstr.add('.note.GNU-stack');
  const nSymtab = shstr.add('.symtab');
  const nStrtab = shstr.add('.strtab');
  const nShstrtab = shstr.add('.shstrtab');
  const shstrBytes = shstr.bytes();

  // Layout: header | .text | .symtab | .strtab | .shstrtab | section headers
  const offText = 64;
  const offSymtab = align(offText + text.length, 8);
  const offStrtab = offSymtab + symtab.length;
  const offShstr = offStrtab + strBytes.length;
  const offSh = align(offShstr + shstrBytes.length, 8);
  const total = offSh + NSEC * 64;
  const out = Buffer.alloc(total);

  out.set([0x7f, 0x45, 0x4c, 0x46, 2 /* 64-bit */, 1 /* LE */, 1 /* version */, 0 /* SYSV ABI */], 0);
  out.writeUInt16LE(ET_REL, 16);
  out.writeUInt16LE(machineFor(spec.arch), 18);
  out.writeUInt32LE(1, 20);
  writeU64(out, 40, offSh);
  out.writeUInt16LE(64, 52); // e_ehsize
  out.writeUInt16LE(64, 58); // e_shentsize
  out.writeUInt16LE(NSEC, 60);
  out.writeUInt16LE(SEC_SHSTRTAB, 62);

  text.copy(out, offText);
  symtab.copy(out, offSymtab);
  strBytes.copy(out, offStrtab);
  shstrBytes.copy(out, offShstr);

  const sh = (i: number, name: number, type: number, flags: number, offset: number, size: number, link: number, info: number, alignment: number, entsize: number) => {
    const o = offSh + i * 64;
    out.writeUInt32LE(name, o);
    out.writeUInt32LE(type, o + 4);
    writeU64(out, o + 8, flags);
    writeU64(out, o + 24, offset);
    writeU64(out, o + 32, size);
    out.writeUInt32LE(link, o + 40);
    out.writeUInt32LE(info, o + 44);
    writeU64(out, o + 48, alignment);
    writeU64(out, o + 56, entsize);
  };
  sh(SEC_TEXT, nText, SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, offText, text.length, 0, 0, 16, 0);
  // An empty .note.GNU-stack without SHF_EXECINSTR: the patch does not ask for an executable stack.
  sh(SEC_NOTE, nNote, SHT_PROGBITS, 0, offSymtab, 0, 0, 0, 1, 0);
  sh(SEC_SYMTAB, nSymtab, SHT_SYMTAB, 0, offSymtab, symtab.length, SEC_STRTAB, firstGlobal, 8, 24);
  sh(SEC_STRTAB, nStrtab, SHT_STRTAB, 0, offStrtab, strBytes.length, 0, 0, 1, 0);
  sh(SEC_SHSTRTAB, nShstrtab, SHT_STRTAB, 0, offShstr, shstrBytes.length, 0, 0, 1, 0);
  return out;
}

/** Outcome of resolving a patch's undefined symbols against the fat executable. */
export interface StubPlan {
  spec: StubSpec;
  /** Thread-locals left undefined for ld.so. */
  threadLocals: string[];
  /** Names the executable does not define (libc, libm...: ld.so resolves them from -l libraries). */
  unresolved: string[];
  /** Names with several definitions at different addresses; the first global one was used. */
  ambiguous: string[];
  /** Names matched only after `.llvm.<hash>` suffix normalisation. */
  viaSuffix: number;
}

/**
 * Decides what the stub defines: every name undefined in the patch objects and not defined by any
 * of them, found in the executable. `slide` = runtime address of main − its static address.
 */
export function planStub(fat: FatSymbols, objects: ObjectSymbols[], slide: number): StubPlan {
  const defined = new Set<string>();
  for (const o of objects) for (const n of o.defined) defined.add(n);
  const needed = new Set<string>();
  const tlsByObject = new Set<string>();
  for (const o of objects) {
    for (const n of o.undefined) if (!defined.has(n)) needed.add(n);
    for (const n of o.undefinedTls) tlsByObject.add(n);
  }

  const functions: StubFunction[] = [];
  const data: StubData[] = [];
  const threadLocals: string[] = [];
  const unresolved: string[] = [];
  const ambiguous: string[] = [];
  let viaSuffix = 0;
  for (const name of [...needed].sort()) {
    const r = fat.lookup(name);
    if (r.kind === 'missing' || r.kind === 'undefined-in-exe') {
      // Not in the exe (or only imported by it): ld.so resolves it from the -l libraries.
      unresolved.push(name);
      continue;
    }
    let sym: FatSymbol;
    if (r.kind === 'ambiguous') {
      ambiguous.push(name);
      sym = r.candidates[0];
    } else {
      sym = r.symbol;
      if (r.viaSuffix) viaSuffix++;
    }
    if (sym.type === STT_TLS || tlsByObject.has(name)) {
      threadLocals.push(name);
      continue;
    }
    if (sym.type === STT_GNU_IFUNC) {
      // The symbol's value is the resolver, not the function: let ld.so resolve it.
      unresolved.push(name);
      continue;
    }
    const address = sym.value + slide;
    if (sym.code) functions.push({ name, address });
    else data.push({ name, address, size: sym.size, type: sym.type === STT_NOTYPE || sym.type === STT_COMMON ? STT_OBJECT : sym.type });
  }
  return { spec: { arch: fat.arch, functions, data }, threadLocals, unresolved, ambiguous, viaSuffix };
}
