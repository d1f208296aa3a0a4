// engine/fixups.ts — keeps the app's state when a patch contains crate-local statics and
// thread-locals (x86_64 and aarch64; rustc at opt-level 0).
//
// Problem: a static that is local to a recompiled crate (every static of the tip, private statics
// of workspace crates) is *defined* by the patch's objects, so the patch would get a fresh copy
// (value 0) instead of the app's live one. A `thread_local!` of the tip uses local-exec TLS
// (R_X86_64_TPOFF32), which cannot even be linked into a shared object.
//
// Fix, on private copies of the objects (never the originals: captured objects share inodes with
// rustc's incremental cache):
//   statics   `lea X(%rip),%r64` (R_X86_64_PC32, rustc's opt-level-0 access) becomes
//             `mov X@GOTPCREL(%rip),%r64` — same length, opcode 0x8d → 0x8b — against a global,
//             default-visibility *undefined* X (definitions in the patch are turned into
//             references; a local X gets a global twin appended to .symtab). The stub then
//             defines X absolute at the app's runtime address, so the GOT slot holds the live
//             static's address. Keeping X preemptible matters: GNU ld "relaxes" a GOT load of a
//             local symbol back into lea and then rejects it against an absolute address.
//             Only writable statics that the executable defines exactly once are rebound. If any access to X has another shape (opt-level ≥ 1 folds loads
//             and stores into the instruction), X is left alone everywhere and a note says it
//             starts fresh.
//   TLS       R_X86_64_TPOFF32 against a thread-local the executable has: the executable's
//             constant %fs offset (x86-64 TLS variant II: st_value − alignTo(p_memsz, p_align)) is
//             written into the instruction and the relocation becomes R_X86_64_NONE, so the
//             patch reads the app's thread-local. A thread-local that is new in the patch cannot
//             work this way: the link then fails and we say "restart".
// aarch64 does the same with its own instructions (fixups-aarch64.ts): statics `adrp`+`add` become
// `adrp`+`ldr` through the GOT, local-exec TLS immediates get the executable's constant offset from
// tp, and the TLS descriptors of workspace crates are relaxed to local-exec.
//
// Never imports the LSP library or the devserver.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  ElfFile, ElfSection, ElfSymbol, SHF_EXECINSTR, SHF_TLS, SHF_WRITE, SHF_ALLOC, SHN_UNDEF, SHN_LORESERVE, SHT_RELA,
  SHT_SYMTAB_SHNDX, STB_GLOBAL, STB_LOCAL, STT_OBJECT, STT_SECTION, STT_TLS, STT_NOTYPE, EM_X86_64, EM_AARCH64,
} from './elf';
import { A64_WANTED, a64TpOffset, scanAarch64Section } from './fixups-aarch64';
import { FatSymbols, ObjectSymbols, stripLlvmSuffix, summarize } from './symbols';
import { demangle } from './demangle';
import { isRsxTemplateCache } from '../dioxus/template-cache';

export interface FixupResult {
  /** The object list to link, with rewritten objects replaced by their copies. */
  objects: string[];
  notes: string[];
  staticsRebound: number;
  threadLocalsRebound: number;
  /** Symbol summaries of the objects parsed here, by final path (saves a second parse). */
  summaries: Map<string, ObjectSymbols>;
}

export interface FixupRequest {
  fat: FatSymbols;
  objects: string[];
  /** Where rewritten copies go (created if needed). */
  outDir: string;
}

const R_X86_64_NONE = 0;
const R_X86_64_PC32 = 2;
const R_X86_64_PLT32 = 4;
const R_X86_64_GOTPCREL = 9;
const R_X86_64_TLSGD = 19;
const R_X86_64_TLSLD = 20;
const R_X86_64_DTPOFF32 = 21;
const R_X86_64_TPOFF32 = 23;
const WANTED = new Set([R_X86_64_PC32, R_X86_64_TPOFF32, R_X86_64_TLSGD, R_X86_64_TLSLD, R_X86_64_DTPOFF32]);

/** `mov %fs:0,%rax`, padded with data16 prefixes to the 12 bytes of `lea x@tlsld(%rip),%rdi; call __tls_get_addr`. */
const LE_FOR_LD = Buffer.from([0x66, 0x66, 0x66, 0x64, 0x48, 0x8b, 0x04, 0x25, 0, 0, 0, 0]);
/** `mov %fs:0,%rax; lea OFF(%rax),%rax`: the 16 bytes of the general-dynamic sequence (OFF at +12). */
const LE_FOR_GD = Buffer.from([0x64, 0x48, 0x8b, 0x04, 0x25, 0, 0, 0, 0, 0x48, 0x8d, 0x80, 0, 0, 0, 0]);

interface ObjCtx {
  path: string;
  buf: Buffer;
  elf: ElfFile;
  syms: ElfSymbol[];
  symtab: ElfSection;
  /** Byte edits to apply if the object is rewritten. */
  edits: Array<() => void>;
  /** Global undefined symbols to append to .symtab (references to rebound local statics). */
  appended: Array<{ name: string; index: number; nameOff: number }>;
}

/**
 * Appends symbols to an object's .symtab: the grown table (and its SHT_SYMTAB_SHNDX companion,
 * if any) is written at the end of the file and the section headers are pointed at it. Globals
 * go last in a symbol table anyway, so no index changes.
 */
function withAppendedSymbols(ctx: ObjCtx): Buffer {
  const { buf, symtab } = ctx;
  const extra = Buffer.alloc(ctx.appended.length * 24);
  ctx.appended.forEach((a, k) => {
    extra.writeUInt32LE(a.nameOff, k * 24);
    extra[k * 24 + 4] = (STB_GLOBAL << 4) | STT_NOTYPE; // undefined, default visibility, value 0
  });
  const parts: Buffer[] = [buf];
  let size = buf.length;
  const place = (data: Buffer): number => {
    const pad = (8 - (size % 8)) % 8;
    if (pad) parts.push(Buffer.alloc(pad));
    const off = size + pad;
    parts.push(data);
    size = off + data.length;
    return off;
  };
  const shoff = buf.readUInt32LE(40) + buf.readUInt32LE(44) * 0x100000000;
  const shent = buf.readUInt16LE(58);
  const setSection = (index: number, offset: number, length: number) => {
    const h = shoff + index * shent;
    buf.writeUInt32LE(offset % 0x100000000, h + 24);
    buf.writeUInt32LE(Math.floor(offset / 0x100000000), h + 28);
    buf.writeUInt32LE(length % 0x100000000, h + 32);
    buf.writeUInt32LE(Math.floor(length / 0x100000000), h + 36);
  };
  const newSymtab = Buffer.concat([buf.subarray(symtab.offset, symtab.offset + symtab.size), extra]);
  setSection(symtab.index, place(newSymtab), newSymtab.length);
  const shndx = ctx.elf.sections.find((x) => x.type === SHT_SYMTAB_SHNDX && x.link === symtab.index);
  if (shndx) {
    const grown = Buffer.concat([buf.subarray(shndx.offset, shndx.offset + shndx.size), Buffer.alloc(ctx.appended.length * 4)]);
    setSection(shndx.index, place(grown), grown.length);
  }
  return Buffer.concat(parts);
}

interface StaticAccess {
  obj: ObjCtx;
  /** symbol index the GOT relocation must name (a local one gets a global twin) */
  symIndex: number;
  /** Turns the access into a GOT load against symbol index `ref`. */
  rewrite: (ref: number) => void;
}

/**
 * File offset of the RELA entry of `call __tls_get_addr@PLT` whose rel32 is at section offset
 * `callRel` (usually the entry right after the TLS one; else found by a scan). Undefined if absent.
 */
function tlsGetAddrCall(buf: Buffer, rela: ElfSection, syms: ElfSymbol[], tlsEntry: number, callRel: number): number | undefined {
  const matches = (e: number) => {
    const type = buf.readUInt32LE(e + 8);
    return (
      (type === R_X86_64_PLT32 || type === R_X86_64_PC32) &&
      Number(buf.readBigUInt64LE(e)) === callRel &&
      syms[buf.readUInt32LE(e + 12)]?.name === '__tls_get_addr'
    );
  };
  const next = tlsEntry + 24;
  if (next + 24 <= rela.offset + rela.size && matches(next)) return next;
  for (let e = rela.offset; e + 24 <= rela.offset + rela.size; e += 24) if (matches(e)) return e;
  return undefined;
}

/** The executable's TLS offset (from %fs) of a thread-local whose st_value is `value`. */
export function x86TpOffset(value: number, tls: { memsz: number; align: number }): number {
  const al = Math.max(1, tls.align);
  return value - Math.ceil(tls.memsz / al) * al;
}

/** A RELRO data section: `.data.rel.ro` (and `.data.rel.ro.local`), one per static with data sections. */
export function isRelro(sectionName: string): boolean {
  return sectionName === '.data.rel.ro' || sectionName.startsWith('.data.rel.ro.');
}

/** AArch64 mapping symbols (`$x`, `$d`, `$x.N`: where code and data start, AAELF64 §5.5.5): no statics. */
const isMappingSymbol = (name: string) => /^\$[xd](\.|$)/.test(name);

function fatUnique(fat: FatSymbols, name: string, want: (type: number, code: boolean) => boolean): number | undefined {
  let defs = fat.definitions(name).filter((d) => want(d.type, d.code));
  if (defs.length === 0) {
    // `.llvm.<hash>` differs between the fat and the thin build
    const base = stripLlvmSuffix(name);
    if (base !== name || name.includes('.llvm.')) {
      const r = fat.lookup(name);
      if (r.kind === 'found' && want(r.symbol.type, r.symbol.code)) defs = [r.symbol];
    }
  }
  const addrs = new Set(defs.map((d) => d.value));
  return addrs.size === 1 ? defs[0].value : undefined;
}

export function applyFixups(req: FixupRequest): FixupResult {
  const { fat } = req;
  const result: FixupResult = { objects: [...req.objects], notes: [], staticsRebound: 0, threadLocalsRebound: 0, summaries: new Map() };
  const machine = fat.arch === 'x86_64' ? EM_X86_64 : fat.arch === 'aarch64' ? EM_AARCH64 : undefined;
  if (machine === undefined) return result;

  const accesses = new Map<string, StaticAccess[]>();
  const blocked = new Map<string, string>();
  /** name → objects (and symbol indices) that define it */
  const definitions = new Map<string, Array<{ obj: ObjCtx; index: number }>>();
  /** Statics some patch object defines in a RELRO section (`.data.rel.ro*`): never rebound, see below. */
  const relroDefined = new Set<string>();
  const touched = new Set<ObjCtx>();
  const newTls = new Set<string>();
  /** Dynamic-model thread-locals rewritten to the app's (by name), and those left to the patch's own block. */
  const reboundTls = new Set<string>();
  const freshTls = new Set<string>();
  const ctxs: ObjCtx[] = [];
  const tlsFirstbyte = fat.tls ? (-fat.tls.vaddr % fat.tls.align + fat.tls.align) % fat.tls.align : 0;

  for (const p of req.objects) {
    const buf = fs.readFileSync(p);
    let elf: ElfFile;
    try {
      elf = ElfFile.parse(buf, p);
    } catch {
      continue; // not ELF: the link will say so
    }
    if (elf.machine !== machine) continue;
    const symtab = elf.sections.find((s) => s.type === 2);
    if (!symtab) continue;
    const syms = elf.symbolsOf(symtab);
    const ctx: ObjCtx = { path: p, buf, elf, syms, symtab, edits: [], appended: [] };
    ctxs.push(ctx);
    const secs = elf.sections;

    // Named symbols per section, for relocations against section symbols (rustc emits one
    // section per static, so the named symbol at that offset is the static).
    const bySection = new Map<number, ElfSymbol[]>();
    for (const c of syms) {
      if (!c.name || c.shndx === SHN_UNDEF || c.shndx >= SHN_LORESERVE) continue;
      if (c.type !== STT_OBJECT && c.type !== STT_TLS && c.type !== STT_NOTYPE) continue;
      if (isMappingSymbol(c.name)) continue;
      const l = bySection.get(c.shndx);
      if (l) l.push(c);
      else bySection.set(c.shndx, [c]);
    }
    const atOffset = (shndx: number, off: number): ElfSymbol | undefined => {
      let best: ElfSymbol | undefined;
      for (const c of bySection.get(shndx) ?? []) {
        if (c.value <= off && off < c.value + Math.max(1, c.size) && (!best || c.value === off)) best = c;
      }
      return best;
    };
    // Which named symbol a (symbol, addend) pair reaches; `bias` is what the addend leaves out
    // (x86_64 PC32: 4, the end of the instruction; aarch64: 0).
    const target = (symIndex: number, addend: number, bias: number): { name: string; index: number; exact: boolean } | undefined => {
      const s = syms[symIndex];
      if (!s) return undefined;
      if (s.type !== STT_SECTION) return s.name ? { name: s.name, index: symIndex, exact: true } : undefined;
      const hit = atOffset(s.shndx, addend + bias);
      return hit ? { name: hit.name, index: hit.index, exact: hit.value === addend + bias } : undefined;
    };
    // The executable's writable static that a relocation reaches, if it is one to rebind.
    const staticTarget = (symIndex: number, addend: number, bias: number) => {
      const s = syms[symIndex];
      if (!s) return undefined;
      // statics only: data symbols, undefined names, or section symbols of data sections
      let dataSec: ElfSection | undefined;
      if (s.type === STT_SECTION) dataSec = secs[s.shndx];
      else if (s.type === STT_OBJECT) dataSec = s.shndx !== SHN_UNDEF && s.shndx < SHN_LORESERVE ? secs[s.shndx] : undefined;
      else if (!(s.shndx === SHN_UNDEF && s.type === STT_NOTYPE)) return undefined;
      if (dataSec && ((dataSec.flags & SHF_WRITE) === 0 || (dataSec.flags & SHF_TLS) !== 0 || (dataSec.flags & SHF_ALLOC) === 0 || (dataSec.flags & SHF_EXECINSTR) !== 0)) return undefined;
      // `.data.rel.ro`: writable only while the loader relocates it (an immutable static
      // holding pointers, e.g. a Dioxus `Asset`). Its value is its initialiser, in the app and
      // in the patch alike: nothing to keep, nothing to warn about.
      if (dataSec && isRelro(dataSec.name)) return undefined;
      const t = target(symIndex, addend, bias);
      if (!t) return undefined;
      // Dioxus' cache of the rsx! template as compiled must come from the patch (see dioxus/).
      if (isRsxTemplateCache(t.name)) return undefined;
      // not a static of the executable (new, or ambiguous)
      if (fatUnique(fat, t.name, (type, isCode) => !isCode && type !== STT_TLS) === undefined) return undefined;
      return t;
    };
    // The thread-local a (symbol, addend) pair reaches, and the offset into it.
    const tlsName = (symIndex: number, addend: number): { name: string; extra: number } | undefined => {
      const s = syms[symIndex];
      if (!s) return undefined;
      if (s.type !== STT_SECTION) return s.name ? { name: s.name, extra: addend } : undefined;
      const hit = atOffset(s.shndx, addend);
      return hit?.type === STT_TLS ? { name: hit.name, extra: addend - hit.value } : undefined;
    };

    for (const rel of secs) {
      if (rel.type !== SHT_RELA || rel.link !== symtab.index) continue;
      const tsec = secs[rel.info];
      // debug info and other non-loaded sections never hold the accesses we rewrite
      if (!tsec || (tsec.flags & SHF_ALLOC) === 0) continue;
      const code = (tsec.flags & SHF_EXECINSTR) !== 0;
      if (machine === EM_AARCH64) {
        const found = scanAarch64Section(
          { buf, sectionOffset: tsec.offset, code, relocs: elf.relocationsOfTypes(rel, A64_WANTED), syms },
          {
            staticTarget: (symIndex, addend) => staticTarget(symIndex, addend, 0),
            tlsTarget: tlsName,
            tpOffset: (name) => {
              const v = fatUnique(fat, name, (t) => t === STT_TLS);
              return v === undefined || !fat.tls || tlsFirstbyte !== 0 ? undefined : a64TpOffset(v, fat.tls);
            },
          },
        );
        for (const b of found.blocked) if (!blocked.has(b.name)) blocked.set(b.name, b.why);
        for (const a of found.statics) {
          const list = accesses.get(a.name) ?? [];
          list.push({ obj: ctx, symIndex: a.symIndex, rewrite: a.rewrite });
          accesses.set(a.name, list);
        }
        if (found.tlsEdits.length > 0) {
          ctx.edits.push(...found.tlsEdits);
          touched.add(ctx);
        }
        for (const n of found.reboundTls) reboundTls.add(n);
        for (const n of found.freshTls) freshTls.add(n);
        for (const n of found.newTls) newTls.add(n);
        continue;
      }
      const relocs = elf.relocationsOfTypes(rel, WANTED);
      // Workspace crates are compiled position-independent: their thread-locals are reached
      // through __tls_get_addr (local- or general-dynamic), which in a patch would find the
      // patch's own, fresh TLS block. Rewritten to local-exec against the executable's static
      // TLS block (the linker's own LD/GD→LE relaxation), they reach the app's thread-locals.
      if (code && relocs.some((r) => r.type === R_X86_64_TLSLD || r.type === R_X86_64_TLSGD || r.type === R_X86_64_DTPOFF32)) {
        const tpOffsetOf = (name: string): number | undefined => {
          const v = fatUnique(fat, name, (t) => t === STT_TLS);
          return v === undefined || !fat.tls || tlsFirstbyte !== 0 ? undefined : x86TpOffset(v, fat.tls);
        };
        const edits: Array<() => void> = [];
        const names: string[] = [];
        let ok = true;
        for (const r of relocs) {
          const at = tsec.offset + r.offset;
          if (r.type === R_X86_64_TLSLD) {
            // 48 8d 3d <tlsld>  e8 <__tls_get_addr@PLT>
            const call = tlsGetAddrCall(buf, rel, syms, r.entryOffset, r.offset + 5);
            if (buf[at - 3] !== 0x48 || buf[at - 2] !== 0x8d || buf[at - 1] !== 0x3d || buf[at + 4] !== 0xe8 || call === undefined) ok = false;
            else edits.push(() => {
              LE_FOR_LD.copy(buf, at - 3);
              buf.writeUInt32LE(R_X86_64_NONE, r.entryOffset + 8);
              buf.fill(0, call + 8, call + 16); // R_X86_64_NONE against no symbol (GNU ld rejects NONE against __tls_get_addr)
            });
          } else if (r.type === R_X86_64_TLSGD) {
            // 66 48 8d 3d <tlsgd>  66 66 48 e8 <__tls_get_addr@PLT>
            const t = tlsName(r.sym, r.addend + 4);
            const off = t ? tpOffsetOf(t.name) : undefined;
            const call = tlsGetAddrCall(buf, rel, syms, r.entryOffset, r.offset + 8);
            const shape = buf[at - 4] === 0x66 && buf[at - 3] === 0x48 && buf[at - 2] === 0x8d && buf[at - 1] === 0x3d &&
              buf[at + 4] === 0x66 && buf[at + 5] === 0x66 && buf[at + 6] === 0x48 && buf[at + 7] === 0xe8;
            if (!t || off === undefined || !shape || call === undefined) {
              ok = false;
              if (t) names.push(t.name);
            } else {
              names.push(t.name);
              edits.push(() => {
                LE_FOR_GD.copy(buf, at - 4);
                buf.writeInt32LE(off + t.extra, at - 4 + 12);
                buf.writeUInt32LE(R_X86_64_NONE, r.entryOffset + 8);
                buf.fill(0, call + 8, call + 16); // R_X86_64_NONE against no symbol (GNU ld rejects NONE against __tls_get_addr)
              });
            }
          } else if (r.type === R_X86_64_DTPOFF32) {
            const t = tlsName(r.sym, r.addend);
            const off = t ? tpOffsetOf(t.name) : undefined;
            if (t) names.push(t.name);
            if (!t || off === undefined) ok = false;
            else edits.push(() => {
              buf.writeInt32LE(off + t.extra, at);
              buf.writeUInt32LE(R_X86_64_NONE, r.entryOffset + 8);
            });
          }
        }
        // All or nothing per function: a half-rewritten sequence would mix two TLS blocks.
        if (ok && edits.length > 0) {
          ctx.edits.push(...edits);
          touched.add(ctx);
          for (const n of new Set(names)) reboundTls.add(n);
        } else {
          for (const n of names) freshTls.add(n);
        }
      }
      for (const r of relocs) {
        if (r.type === R_X86_64_TPOFF32) {
          const s = syms[r.sym];
          let name: string | undefined = s?.name;
          let extra = r.addend;
          if (s && s.type === STT_SECTION) {
            // local-exec against a section symbol: find the thread-local at that offset
            const hit = atOffset(s.shndx, r.addend);
            name = hit?.type === STT_TLS ? hit.name : undefined;
            extra = hit && name ? r.addend - hit.value : 0;
          }
          if (!name) continue;
          const v = fatUnique(fat, name, (t) => t === STT_TLS);
          if (v === undefined || !fat.tls || tlsFirstbyte !== 0) {
            newTls.add(name);
            continue;
          }
          const value = x86TpOffset(v, fat.tls) + extra;
          const at = tsec.offset + r.offset;
          ctx.edits.push(() => {
            buf.writeInt32LE(value, at);
            // keep r_sym, set the type to R_X86_64_NONE
            buf.writeUInt32LE(R_X86_64_NONE, r.entryOffset + 8);
          });
          touched.add(ctx);
          result.threadLocalsRebound++;
          continue;
        }
        if (r.type !== R_X86_64_PC32) continue;
        const s = syms[r.sym];
        const t = staticTarget(r.sym, r.addend, 4);
        if (!t) continue;
        if (!code) {
          blocked.set(t.name, 'referenced PC-relative from data');
          continue;
        }
        const at = tsec.offset + r.offset;
        const isLea = at >= 3 && buf[at - 2] === 0x8d && (buf[at - 1] & 0xc7) === 0x05 && (buf[at - 3] === 0x48 || buf[at - 3] === 0x4c);
        if (!isLea || !t.exact || (s.type !== STT_SECTION && r.addend !== -4)) {
          blocked.set(
            t.name,
            isLea
              ? 'accessed at an offset'
              : 'read or written in place, as a `static mut` is (or any static in optimized code), which cannot be pointed at the app\'s copy',
          );
          continue;
        }
        const list = accesses.get(t.name) ?? [];
        const opcodeAt = at - 2;
        const relEntry = r.entryOffset;
        list.push({
          obj: ctx,
          symIndex: t.index,
          rewrite: (ref) => {
            buf[opcodeAt] = 0x8b; // lea → mov (load the GOT slot)
            buf.writeUInt32LE(R_X86_64_GOTPCREL, relEntry + 8);
            buf.writeUInt32LE(ref, relEntry + 12);
            buf.writeInt32LE(-4, relEntry + 16);
            buf.writeInt32LE(-1, relEntry + 20);
          },
        });
        accesses.set(t.name, list);
      }
    }
    syms.forEach((s, i) => {
      if (!s.name || s.shndx === SHN_UNDEF || s.shndx >= SHN_LORESERVE || (s.type !== STT_OBJECT && s.type !== STT_NOTYPE)) return;
      if (secs[s.shndx] && isRelro(secs[s.shndx].name)) relroDefined.add(s.name);
      const list = definitions.get(s.name) ?? [];
      list.push({ obj: ctx, index: i });
      definitions.set(s.name, list);
    });
  }

  // Name → symbol indices per object, built only for objects that matter.
  const nameIndex = new Map<ObjCtx, Map<string, number[]>>();
  const indicesOf = (ctx: ObjCtx, name: string): number[] => {
    let m = nameIndex.get(ctx);
    if (!m) {
      m = new Map();
      ctx.syms.forEach((sy, i) => {
        if (!sy.name) return;
        const l = m!.get(sy.name);
        if (l) l.push(i);
        else m!.set(sy.name, [i]);
      });
      nameIndex.set(ctx, m);
    }
    return m.get(name) ?? [];
  };
  const symOff = (ctx: ObjCtx, i: number) => ctx.symtab.offset + i * 24;
  /** A global, default-visibility undefined symbol named like local symbol `local` (appended). */
  const globalRef = (ctx: ObjCtx, name: string, local: number): number => {
    const hit = ctx.appended.find((x) => x.name === name);
    if (hit) return hit.index;
    const index = ctx.syms.length + ctx.appended.length;
    ctx.appended.push({ name, index, nameOff: ctx.buf.readUInt32LE(symOff(ctx, local)) });
    return index;
  };

  for (const [name, list] of accesses) {
    // A RELRO static (immutable, holding pointers: a Dioxus `GlobalSignal`, an `Asset`) is read
    // where it is defined. Its accesses from another codegen unit of the crate name it as an
    // undefined symbol, which says nothing about its section: without this, those were rebound,
    // the definition turned into a reference to the stub, and the defining unit's own
    // (untouched) PC-relative accesses failed to link against the stub's absolute symbol.
    if (blocked.has(name) || relroDefined.has(name)) continue;
    // Every global occurrence becomes a default-visibility undefined reference: the stub then
    // defines it absolute at the app's address. Preemptible, so no linker "relaxes" the GOT load
    // back into a PC-relative access (GNU ld would, and then reject it against an absolute symbol).
    for (const ctx of ctxs) {
      for (const i of indicesOf(ctx, name)) {
        const sy = ctx.syms[i];
        if (sy.bind === STB_LOCAL) continue;
        const o = symOff(ctx, i);
        ctx.edits.push(() => {
          ctx.buf[o + 5] &= ~0x3; // STV_DEFAULT
          if (sy.shndx !== SHN_UNDEF) {
            ctx.buf.writeUInt16LE(SHN_UNDEF, o + 6);
            ctx.buf.fill(0, o + 8, o + 16); // st_value
          }
        });
        touched.add(ctx);
      }
    }
    for (const a of list) {
      const { obj } = a;
      const ref = obj.syms[a.symIndex].bind === STB_LOCAL ? globalRef(obj, name, a.symIndex) : a.symIndex;
      obj.edits.push(() => a.rewrite(ref));
      touched.add(obj);
    }
    result.staticsRebound++;
  }

  for (const [name, why] of blocked) {
    if (!definitions.has(name)) continue; // defined outside the patch: the stub binds it to the app's
    if (/^(DW\.ref\.|__|\.L|GCC_except_table)/.test(name)) continue; // unwinder/linker internals, not user state
    // Macro-generated statics (tracing's `__CALLSITE`, `__META`): the user did not write them, and
    // a fresh copy only re-registers itself.
    if (/(^|::)__[A-Za-z0-9_]*$/.test(demangle(name).replace(/::\{\{[^}]*\}\}|::\{[^{}]*\}/g, ''))) continue; // legacy `{{constant}}`, v0 `{K#0}`
    result.notes.push(`static \`${demangle(name)}\` starts fresh in the patch (${why}); the app's value is not visible to patched code`);
  }
  result.threadLocalsRebound += reboundTls.size;
  for (const name of freshTls) {
    if (reboundTls.has(name)) continue;
    const known = fatUnique(fat, name, (t) => t === STT_TLS) !== undefined;
    result.notes.push(
      known
        ? `thread_local \`${demangle(name)}\` starts fresh in patched code (an access the engine cannot rebind); the app's value is not visible to it`
        : `thread_local \`${demangle(name)}\` is new in this patch: it starts from its initial value, separately for every patch; restart the app to make it permanent`,
    );
  }
  for (const name of newTls) {
    result.notes.push(`thread_local \`${demangle(name)}\` cannot be bound to the app's (new in this patch, or unknown layout): restart the app to use it`);
  }

  if (touched.size > 0) fs.mkdirSync(req.outDir, { recursive: true });
  for (const ctx of touched) {
    for (const e of ctx.edits) e();
    const finalBuf = ctx.appended.length > 0 ? withAppendedSymbols(ctx) : ctx.buf;
    const out = path.join(req.outDir, path.basename(ctx.path));
    fs.rmSync(out, { force: true }); // a new inode, never a write through a hard link
    fs.writeFileSync(out, finalBuf);
    const i = result.objects.indexOf(ctx.path);
    if (i >= 0) result.objects[i] = out;
    ctx.path = out;
    const reparsed = ElfFile.parse(finalBuf, out);
    ctx.elf = reparsed;
    ctx.symtab = reparsed.sections[ctx.symtab.index];
  }
  // Summaries after the rewrite (rebound statics are undefined references now: the stub defines them).
  for (const ctx of ctxs) result.summaries.set(ctx.path, summarize(ctx.path, ctx.elf.symbolsOf(ctx.symtab)));
  return result;
}
