// engine/code-change.ts — did a function's code change? Answers for the detour plan: only
// functions whose code differs from the code the app runs for them get their entries rewritten
// (every other entry already leads to the same code).
//
// A function is described from the relocatable objects the patch is linked from: its bytes with
// every relocated field blanked, and per relocation the target's identity:
//   - a function the plan tracks, or a symbol the patch leaves undefined (bound to the app's
//     through the stub, or rebound by fixups.ts): its name, so the same call resolved through the
//     stub or inside the patch counts as the same;
//   - any other function the patch defines (new in the patch, a generic instantiated there): its
//     name and, recursively, its code — the patch's callers reach the patch's own copy, which no
//     detour ever reaches, so an edit of it is an edit of theirs;
//   - read-only data (also `.data.rel.ro`, read-only after relocation), by content and,
//     recursively, what it points at; an element of a mergeable section by that element.
// Anything else (writable data the patch keeps for itself, a relocation type not understood)
// makes the function "uncertain", and an uncertain function counts as changed: detouring an
// unchanged function only costs a jump, while skipping a changed one would leave old code
// running under a success message.
//
// Two comparisons:
//   - with a description recorded when an earlier patch's copy was detoured (the code the
//     entries lead to since): descriptions are compared as strings;
//   - with the executable (never detoured before): the executable's bytes must equal the object's
//     outside the relocated fields, and each field must resolve to the same target (x86_64 only;
//     on aarch64 every function counts as changed).
// Never imports the LSP library or the devserver.
import { createHash } from 'node:crypto';
import {
  ElfFile,
  ElfRelocation,
  ElfSection,
  ElfSymbol,
  PT_LOAD,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHF_MERGE,
  SHF_STRINGS,
  SHF_WRITE,
  SHN_UNDEF,
  SHN_LORESERVE,
  SHT_PROGBITS,
  SHT_RELA,
  STB_LOCAL,
  STT_FUNC,
  STT_SECTION,
} from './elf';
import { FatSymbols, stripLlvmSuffix } from './symbols';

const R_X86_64_64 = 1;
const R_X86_64_PC32 = 2;
const R_X86_64_PLT32 = 4;
const R_X86_64_GLOB_DAT = 6;
const R_X86_64_JUMP_SLOT = 7;
const R_X86_64_RELATIVE = 8;
const R_X86_64_GOTPCREL = 9;
const R_X86_64_GOTPCRELX = 41;
const R_X86_64_REX_GOTPCRELX = 42;
/** How deep data referenced by data (a format string's pieces, a vtable) is followed. */
const MAX_DEPTH = 4;
/** How deep calls into untracked functions the patch defines are followed. */
const MAX_CALL_DEPTH = 64;

/** How a relocated field reaches its target: PC-relative, through a GOT slot, or an absolute address. */
type Mode = 'pc' | 'got' | 'abs';

function modeOf(type: number, inCode: boolean): Mode | undefined {
  if (type === R_X86_64_PC32 || type === R_X86_64_PLT32) return 'pc';
  if (inCode && (type === R_X86_64_GOTPCREL || type === R_X86_64_GOTPCRELX || type === R_X86_64_REX_GOTPCRELX)) return 'got';
  if (!inCode && type === R_X86_64_64) return 'abs';
  return undefined;
}

/**
 * A function or imported/rebound symbol by name; `code` when it is a function the patch defines
 * whose copies are not tracked (a new function, a generic instantiated here): the patch's callers
 * reach the patch's own copy, which no later patch detours, so its code is part of theirs.
 */
type Target = { kind: 'symbol'; name: string; code?: Piece } | { kind: 'data'; piece: Piece };

interface Field {
  offset: number;
  mode: Mode;
  addend: number;
  target: Target;
}

/** Bytes (code or read-only data) with every relocated field blanked, and those fields. */
interface Piece {
  masked: Buffer;
  fields: Field[];
  /** Hash of the bytes and, recursively, of what the fields lead to. */
  hash: string;
}

/** A function's code as the objects hold it. */
export type FunctionCode = Piece;

interface Located {
  elf: ElfFile;
  symbols: ElfSymbol[];
  sym: ElfSymbol;
}

const width = (m: Mode) => (m === 'abs' ? 8 : 4);

/** Reads the code of named functions from the objects a patch is linked from. */
export class ObjectCode {
  private readonly relaOf = new Map<ElfFile, Map<number, ElfSection>>();
  private readonly open: ElfFile[] = [];
  private readonly relocs = new Map<ElfSection, ElfRelocation[]>();

  private readonly defined = new Map<string, Located[]>();
  /** Functions some object defines globally (an undefined reference can bind only to those). */
  private readonly globalFunctions = new Set<string>();
  /** Data the objects define globally, which other objects reach as an undefined symbol. */
  private readonly definedData = new Map<string, Located[]>();
  private readonly memo = new Map<string, Piece | string>();
  private readonly inProgress = new Set<string>();
  /** Bumped when a description relies on a function still being described (a cycle). */
  private cycles = 0;

  /**
   * `tracked`: the functions whose copies the agent tracks (the plan's names): a reference to one
   * is its name; any other function the objects define is described with its code.
   */
  constructor(
    objects: string[],
    private readonly tracked: ReadonlySet<string>,
  ) {
    for (const o of objects) {
      let elf: ElfFile;
      let symbols: ElfSymbol[];
      try {
        elf = ElfFile.open(o);
      } catch {
        continue; // unreadable: its functions stay unknown, hence changed
      }
      try {
        symbols = elf.symtab() ?? [];
      } catch {
        elf.close();
        continue;
      }
      this.open.push(elf);
      for (const sym of symbols) {
        if (sym.shndx === SHN_UNDEF || sym.shndx >= SHN_LORESERVE || !sym.name || sym.type === STT_SECTION) continue;
        // (fixups.ts leaves a rebound static's local definition beside a global undefined twin)
        if (sym.type !== STT_FUNC && sym.bind === STB_LOCAL) continue;
        if (sym.type === STT_FUNC && sym.bind !== STB_LOCAL) this.globalFunctions.add(sym.name);
        const map = sym.type === STT_FUNC ? this.defined : this.definedData;
        const list = map.get(sym.name);
        if (list) list.push({ elf, symbols, sym });
        else map.set(sym.name, [{ elf, symbols, sym }]);
      }
    }
  }

  close(): void {
    for (const e of this.open) e.close();
    this.open.length = 0;
  }

  /** The function's code, or why it cannot be described with certainty. */
  codeOf(name: string, callDepth = 0): FunctionCode | string {
    const known = this.memo.get(name);
    if (known !== undefined) return known;
    if (callDepth > MAX_CALL_DEPTH) return 'calls nested too deep';
    const defs = this.defined.get(name);
    if (!defs) return 'not found in the objects';
    const cyclesBefore = this.cycles;
    this.inProgress.add(name);
    let result: Piece | string | undefined;
    try {
      // Several definitions (a local or inline function in several codegen units): the same
      // code, or uncertain.
      for (const d of defs) {
        const p = this.functionPiece(d, callDepth);
        if (typeof p === 'string') {
          result = p;
          break;
        }
        if (result !== undefined && typeof result !== 'string' && result.hash !== p.hash) {
          result = 'defined more than once, differently';
          break;
        }
        result = p;
      }
    } finally {
      this.inProgress.delete(name);
    }
    // A description made while a caller was still being described names that caller without its
    // code: right inside the cycle, not on its own.
    if (this.cycles === cyclesBefore) this.memo.set(name, result!);
    return result!;
  }

  private functionPiece({ elf, symbols, sym }: Located, callDepth: number): Piece | string {
    if (elf.arch !== 'x86_64') return `not compared on ${elf.arch}`;
    const section = elf.sections[sym.shndx];
    if (!section || section.type !== SHT_PROGBITS || (section.flags & SHF_EXECINSTR) === 0) return 'not in a code section';
    if (sym.size === 0) return 'no size';
    return this.piece(elf, symbols, section, sym.value, sym.size, 0, callDepth);
  }

  /** `length` bytes at `start` of `section`, described; a string says why they cannot be. */
  private piece(elf: ElfFile, symbols: ElfSymbol[], section: ElfSection, start: number, length: number, depth: number, callDepth: number): Piece | string {
    let data: Buffer;
    try {
      data = elf.sectionData(section);
    } catch {
      return `section ${section.name} unreadable`;
    }
    if (start + length > data.length) return `beyond section ${section.name}`;
    const inCode = (section.flags & SHF_EXECINSTR) !== 0;
    const masked = Buffer.from(data.subarray(start, start + length));
    const fields: Field[] = [];
    const rela = this.relaFor(elf, section.index);
    for (const r of rela ? this.relocationsOf(elf, rela) : []) {
      if (r.offset < start || r.offset >= start + length) continue;
      const mode = modeOf(r.type, inCode);
      if (!mode) return `relocation type ${r.type} in ${section.name}`;
      const off = r.offset - start;
      if (off + width(mode) > masked.length) return 'a relocation out of range';
      const target = this.targetOf(elf, symbols, symbols[r.sym], mode, r.addend, depth, callDepth);
      if (typeof target === 'string') return target;
      masked.fill(0, off, off + width(mode));
      fields.push({ offset: off, mode, addend: target.addend, target: target.target });
    }
    const h = createHash('sha1').update(masked);
    for (const f of fields) {
      const t = f.target;
      h.update(`|${f.offset}:${f.mode}:${f.addend}:${t.kind === 'symbol' ? `s:${t.name}${t.code ? `#${t.code.hash}` : ''}` : `d:${t.piece.hash}`}`);
    }
    return { masked, fields, hash: `${length}:${h.digest('hex')}` };
  }

  private relocationsOf(elf: ElfFile, rela: ElfSection): ElfRelocation[] {
    let list = this.relocs.get(rela);
    if (!list) this.relocs.set(rela, (list = elf.relocations(rela)));
    return list;
  }

  private relaFor(elf: ElfFile, sectionIndex: number): ElfSection | undefined {
    let m = this.relaOf.get(elf);
    if (!m) {
      m = new Map();
      for (const s of elf.sections) if (s.type === SHT_RELA) m.set(s.info, s);
      this.relaOf.set(elf, m);
    }
    return m.get(sectionIndex);
  }

  /** What a relocation points at, when its identity survives linking into another image. */
  private targetOf(
    elf: ElfFile,
    symbols: ElfSymbol[],
    s: ElfSymbol | undefined,
    mode: Mode,
    addend: number,
    depth: number,
    callDepth: number,
  ): { target: Target; addend: number } | string {
    if (!s) return 'a relocation without a symbol';
    if (s.shndx === SHN_UNDEF && !s.name) return 'an unnamed undefined symbol';
    if (s.name && s.shndx === SHN_UNDEF && this.definedData.has(s.name)) {
      // Data another object of the patch defines: judged as that definition.
      const defs = this.definedData.get(s.name)!;
      if (defs.length !== 1) return `${s.name} is defined more than once`;
      return this.targetOf(defs[0].elf, defs[0].symbols, defs[0].sym, mode, addend, depth, callDepth);
    }
    // An undefined function the objects define only locally is bound to the executable's (stub).
    if (s.name && s.shndx === SHN_UNDEF && !this.globalFunctions.has(s.name)) return { target: { kind: 'symbol', name: stripLlvmSuffix(s.name) }, addend };
    if (s.name && (s.shndx === SHN_UNDEF || s.type === STT_FUNC)) return this.functionTarget(s.name, addend, callDepth);
    // Data the patch defines: read-only bytes (or read-only after relocation, `.data.rel.ro`) are
    // the same as the app's when their content and what they point at are; a patch's own
    // writable data is another instance than the app's.
    const section = s.shndx < SHN_LORESERVE ? elf.sections[s.shndx] : undefined;
    const what = s.name || section?.name || 'data';
    if (section && s.type === STT_SECTION && (section.flags & SHF_EXECINSTR) !== 0) {
      // A function reached through its section's symbol (a vtable's entry, a local function).
      const at = offsetsMeant(mode, addend).flatMap((e) => symbols.filter((f) => f.type === STT_FUNC && f.shndx === s.shndx && f.value === e && f.name));
      if (at.length !== 1) return `a reference into ${section.name} whose function cannot be told`;
      return this.functionTarget(at[0].name, addend - at[0].value, callDepth);
    }
    if (!section || section.type !== SHT_PROGBITS || (section.flags & SHF_EXECINSTR) !== 0) return `a reference to ${what}`;
    if ((section.flags & SHF_WRITE) !== 0 && !section.name.startsWith('.data.rel.ro')) return `a reference to writable data (${what})`;
    if (depth >= MAX_DEPTH) return 'data nested too deep';
    if (s.type === STT_SECTION && (section.flags & SHF_MERGE) !== 0) {
      // The linker moves each element of a mergeable section on its own (and shares equal ones):
      // the element referenced is what counts, and the field is taken relative to it.
      const element = this.mergeElement(elf, section, mode, addend);
      if (typeof element === 'string') return element;
      const piece = this.piece(elf, symbols, section, element.start, element.length, depth + 1, callDepth);
      return typeof piece === 'string' ? piece : { target: { kind: 'data', piece }, addend: addend - element.start };
    }
    const piece =
      s.type === STT_SECTION
        ? this.piece(elf, symbols, section, 0, section.size, depth + 1, callDepth)
        : s.size > 0
          ? this.piece(elf, symbols, section, s.value, s.size, depth + 1, callDepth)
          : `${what} has no size`;
    return typeof piece === 'string' ? piece : { target: { kind: 'data', piece }, addend };
  }

  /** A reference to a function (or an undefined symbol) by name, with its code when untracked. */
  private functionTarget(rawName: string, addend: number, callDepth: number): { target: Target; addend: number } | string {
    const name = stripLlvmSuffix(rawName);
    if (this.tracked.has(rawName) || !this.defined.has(rawName)) return { target: { kind: 'symbol', name }, addend };
    if (this.inProgress.has(rawName)) {
      this.cycles++;
      return { target: { kind: 'symbol', name }, addend };
    }
    const code = this.codeOf(rawName, callDepth + 1);
    // "calls a → b → c: why", the chain of untracked callees down to the uncertain one
    if (typeof code === 'string') return code.startsWith('calls ') ? `calls ${name} → ${code.slice(6)}` : `calls ${name}: ${code}`;
    return { target: { kind: 'symbol', name, code }, addend };
  }

  /**
   * The element of a mergeable section a reference against its section symbol means. An absolute
   * pointer's addend is the element's offset; a PC-relative field's addend is that offset minus
   * the bytes from the field to the instruction's end (4, or more with an immediate after it): the
   * one candidate that starts an element is taken, and several make it uncertain.
   */
  private mergeElement(elf: ElfFile, section: ElfSection, mode: Mode, addend: number): { start: number; length: number } | string {
    let data: Buffer;
    try {
      data = elf.sectionData(section);
    } catch {
      return `section ${section.name} unreadable`;
    }
    const strings = (section.flags & SHF_STRINGS) !== 0;
    if (!strings) {
      // Fixed-size constants (`.rodata.cst8`…): the element holding the offset, if all the
      // offsets the field may mean fall into one.
      const size = section.entsize;
      if (size <= 0) return `mergeable section ${section.name} without an element size`;
      const elements = new Set(offsetsMeant(mode, addend).filter((e) => e >= 0 && e < data.length).map((e) => e - (e % size)));
      if (elements.size !== 1) return `a reference into ${section.name} whose element cannot be told`;
      const start = [...elements][0];
      return start + size <= data.length ? { start, length: size } : `a reference beyond ${section.name}`;
    }
    const size = 1;
    const starts = offsetsMeant(mode, addend).filter((e) => e >= 0 && e < data.length && e % size === 0 && (!strings || e === 0 || data[e - 1] === 0));
    if (starts.length !== 1) return `a reference into ${section.name} whose element cannot be told`;
    const start = starts[0];
    const nul = data.indexOf(0, start);
    return nul < 0 ? `an unterminated string in ${section.name}` : { start, length: nul + 1 - start };
  }
}

/**
 * Offsets a relocation against a section symbol may mean: an absolute pointer's addend is the
 * offset; a PC-relative field's addend is the offset minus the bytes from the field to the
 * instruction's end (4, or more with an immediate after the field).
 */
function offsetsMeant(mode: Mode, addend: number): number[] {
  return (mode === 'pc' ? [4, 5, 6, 8] : [0]).map((k) => addend + k);
}

/** Where a pointer-sized slot of the executable leads once loaded: an address, or an imported name. */
type Pointer = { addr: number } | { name: string };

/** Reads the executable's code and data by static address. */
export class ExecutableCode {
  private readonly elf: ElfFile | undefined;
  /** `addr:hash` → the difference ('' for none), for functions compared more than once. */
  private readonly memo = new Map<string, string>();
  private readonly inProgress = new Set<string>();
  private cycles = 0;

  /** `links`: the executable's dynamic relocations and PLT entries (see executableLinks). */
  constructor(
    private readonly fat: FatSymbols,
    private readonly links: () => ExecutableLinks,
  ) {
    try {
      this.elf = ElfFile.open(fat.path);
    } catch {
      this.elf = undefined;
    }
  }

  close(): void {
    this.elf?.close();
  }

  /** `length` bytes at static address `addr`, if a loaded segment holds them in the file. */
  bytesAt(addr: number, length: number): Buffer | undefined {
    if (!this.elf) return undefined;
    for (const p of this.elf.programHeaders) {
      if (p.type !== PT_LOAD || addr < p.vaddr || addr + length > p.vaddr + p.filesz) continue;
      try {
        return this.elf.readBytes(p.offset + (addr - p.vaddr), length);
      } catch {
        return undefined;
      }
    }
    return undefined;
  }

  /**
   * Why the executable's function at `addr` is not the same code as `code`; undefined when it
   * certainly is.
   */
  differenceFrom(addr: number, code: FunctionCode, callDepth = 0): string | undefined {
    if (this.fat.arch !== 'x86_64') return `not compared on ${this.fat.arch}`;
    const key = `${addr}:${code.hash}`;
    const known = this.memo.get(key);
    if (known !== undefined) return known || undefined;
    // A cycle (recursion among untracked functions): assumed the same while it is compared, and
    // what was concluded under that assumption is not remembered.
    if (this.inProgress.has(key)) {
      this.cycles++;
      return undefined;
    }
    if (callDepth > MAX_CALL_DEPTH) return 'calls nested too deep';
    const size = this.fat.functionSizeAt(addr);
    if (size !== code.masked.length) return `size ${size} in the executable, ${code.masked.length} now`;
    const cyclesBefore = this.cycles;
    this.inProgress.add(key);
    let why: string | undefined;
    try {
      why = this.pieceDifference(addr, code, 0, callDepth);
    } finally {
      this.inProgress.delete(key);
    }
    if (why !== undefined || this.cycles === cyclesBefore) this.memo.set(key, why ?? '');
    return why;
  }

  private pieceDifference(addr: number, piece: Piece, depth: number, callDepth: number): string | undefined {
    if (depth > MAX_DEPTH) return 'data nested too deep';
    const bytes = this.bytesAt(addr, piece.masked.length);
    if (!bytes) return 'executable bytes unreadable';
    const masked = Buffer.from(bytes);
    // The linker turns `call *f@GOTPCREL(%rip)` into `addr32 call f` and `mov f@GOTPCREL(%rip)`
    // into `lea f(%rip)` when f is in the executable (and fixups.ts does the reverse for statics
    // it rebinds): same length, same value, and the executable's field then leads to f itself.
    const relaxed = new Set<Field>();
    for (const f of piece.fields) {
      const o = f.offset;
      if (f.mode !== 'got' || o < 2) continue;
      if (piece.masked[o - 2] === 0xff && piece.masked[o - 1] === 0x15 && bytes[o - 2] === 0x67 && bytes[o - 1] === 0xe8) {
        masked[o - 2] = 0xff;
        masked[o - 1] = 0x15;
        relaxed.add(f);
      } else if (piece.masked[o - 2] === 0x8b && bytes[o - 2] === 0x8d) {
        masked[o - 2] = 0x8b;
        relaxed.add(f);
      }
    }
    for (const f of piece.fields) masked.fill(0, f.offset, f.offset + width(f.mode));
    if (!masked.equals(piece.masked)) return depth === 0 ? 'instructions differ' : 'referenced data differs';
    for (const f of piece.fields) {
      const at = addr + f.offset;
      let to: Pointer | undefined;
      if (f.mode === 'pc' || relaxed.has(f)) {
        // field = S + A − P, so S = field + P − A.
        to = { addr: bytes.readInt32LE(f.offset) + at - f.addend };
      } else if (f.mode === 'got') {
        // field = slot + A − P; the slot holds S.
        to = this.links().pointers.get(bytes.readInt32LE(f.offset) + at - f.addend);
      } else {
        const p = this.links().pointers.get(at);
        to = p && 'addr' in p ? { addr: p.addr - f.addend } : p;
      }
      if (!to) return `the reference at +${f.offset} cannot be followed in the executable`;
      if (f.target.kind === 'symbol') {
        if ('name' in to) {
          if (to.name !== f.target.name) return `the reference at +${f.offset} leads to ${to.name}, not ${f.target.name}`;
          continue;
        }
        const found = this.fat.lookup(f.target.name);
        if (f.target.code) {
          // An untracked function: the executable's copy the field leads to must be the same code
          // (a local function may be there more than once under one name).
          const copies = found.kind === 'found' ? [found.symbol.value] : found.kind === 'ambiguous' ? found.candidates.map((c) => c.value) : [];
          if (!copies.includes(to.addr)) return `the reference at +${f.offset} does not lead to ${f.target.name}`;
          const why = this.differenceFrom(to.addr, f.target.code, callDepth + 1);
          if (why) return why.startsWith('calls ') ? `calls ${f.target.name} → ${why.slice(6)}` : `calls ${f.target.name}: ${why}`;
          continue;
        }
        if (found.kind !== 'found') {
          // An import called through the executable's PLT.
          if (this.links().plt.get(to.addr) === f.target.name) continue;
          return `${f.target.name} is ${found.kind} in the executable`;
        }
        if (found.symbol.value !== to.addr) return `the reference at +${f.offset} does not lead to ${f.target.name}`;
      } else {
        if (!('addr' in to)) return `the reference at +${f.offset} leads to an import, not to data`;
        const why = this.pieceDifference(to.addr, f.target.piece, depth + 1, callDepth);
        if (why) return why;
      }
    }
    return undefined;
  }
}

/** What the executable's pointer slots and PLT entries lead to once loaded. */
export interface ExecutableLinks {
  /** Slot address → target (GOT entries, pointers in `.data.rel.ro`). */
  pointers: Map<number, Pointer>;
  /** PLT entry address → the imported function it jumps to. */
  plt: Map<number, string>;
}

/**
 * The executable's dynamic relocations that fill pointer slots: RELATIVE ones lead to an address,
 * GLOB_DAT / 64 / JUMP_SLOT ones to a symbol; and its PLT entries (`jmp *slot(%rip)` within each
 * 16-byte entry of `.plt`, `.plt.sec`, `.plt.got`) by the slot they jump through.
 */
export function executableLinks(exePath: string): ExecutableLinks {
  const out = new Map<number, Pointer>();
  const plt = new Map<number, string>();
  let elf: ElfFile;
  try {
    elf = ElfFile.open(exePath);
  } catch {
    return { pointers: out, plt };
  }
  try {
    const dynsym = elf.dynsym() ?? [];
    for (const sec of elf.sections) {
      if (sec.type !== SHT_RELA || (sec.flags & SHF_ALLOC) === 0) continue;
      for (const r of elf.relocations(sec)) {
        if (r.type === R_X86_64_RELATIVE) out.set(r.offset, { addr: r.addend });
        else if (r.type === R_X86_64_GLOB_DAT || r.type === R_X86_64_64 || r.type === R_X86_64_JUMP_SLOT) {
          const s = dynsym[r.sym];
          if (!s) continue;
          if (s.shndx !== SHN_UNDEF && s.shndx < SHN_LORESERVE) out.set(r.offset, { addr: s.value + r.addend });
          else if (r.addend === 0 && s.name) out.set(r.offset, { name: stripLlvmSuffix(s.name.split('@')[0]) });
        }
      }
    }
    for (const sec of elf.sections) {
      if (sec.name !== '.plt' && sec.name !== '.plt.sec' && sec.name !== '.plt.got') continue;
      const code = elf.sectionData(sec);
      for (let e = 0; e + 16 <= code.length; e += 16) {
        for (let i = e; i + 6 <= e + 16; i++) {
          if (code[i] !== 0xff || code[i + 1] !== 0x25) continue;
          const slot = sec.addr + i + 6 + code.readInt32LE(i + 2);
          const to = out.get(slot);
          if (to && 'name' in to) plt.set(sec.addr + e, to.name);
          break;
        }
      }
    }
  } catch {
    /* a partial map: what it lacks counts as changed */
  } finally {
    elf.close();
  }
  return { pointers: out, plt };
}

/** A detour plan's entry as judged: `[static address in the executable, symbol name]`. */
export interface CodeChange {
  from: number;
  name: string;
  /** The new copy's description, recorded once its entries lead to it; undefined: uncertain. */
  signature: string | undefined;
  /** Why it counts as changed. */
  why?: string;
}

/**
 * Per app (per fat build): the code the entries of each detoured function lead to. A function
 * without a record still runs the executable's code from its entries; a record without a
 * signature means "not known" (a detour that did not happen or not for sure) and every later
 * patch treats that function as changed.
 */
export class RunningCode {
  private readonly recorded = new Map<number, string | undefined>();
  private links: ExecutableLinks | undefined;

  /**
   * Splits plan entries into changed (rewrite their entries) and unchanged (their entries already
   * lead to the same code). `entries`: `[static address in the executable, symbol name]`.
   */
  judge(fat: FatSymbols, objects: string[], entries: Array<[number, string]>): { changed: CodeChange[]; unchanged: string[] } {
    const changed: CodeChange[] = [];
    const unchanged: string[] = [];
    if (entries.length === 0) return { changed, unchanged };
    const code = new ObjectCode(objects, new Set(entries.map(([, name]) => name)));
    const exe = new ExecutableCode(fat, () => (this.links ??= executableLinks(fat.path)));
    try {
      for (const [from, name] of entries) {
        const now = code.codeOf(name);
        if (typeof now === 'string') {
          changed.push({ from, name, signature: undefined, why: `uncertain: ${now}` });
          continue;
        }
        const why = this.recorded.has(from)
          ? this.recorded.get(from) === now.hash
            ? undefined
            : 'differs from the code its entries lead to'
          : exe.differenceFrom(from, now);
        if (why === undefined) unchanged.push(name);
        else changed.push({ from, name, signature: now.hash, why });
      }
    } finally {
      code.close();
      exe.close();
    }
    return { changed, unchanged };
  }

  /**
   * A patch with these changes is on its way: until it is settled, what its functions' entries
   * lead to is not known (a build judged meanwhile counts them as changed).
   */
  pending(changes: CodeChange[]): void {
    for (const c of changes) this.recorded.set(c.from, undefined);
  }

  /**
   * After a delivery: `detoured` are the names whose every entry now leads to the new copy (all
   * of `changes` but those the agent skipped), or undefined when that is not known for any.
   */
  settle(changes: CodeChange[], detoured: ((name: string) => boolean) | undefined): void {
    for (const c of changes) this.recorded.set(c.from, detoured?.(c.name) ? c.signature : undefined);
  }
}
