// engine/fixups-aarch64.ts — the aarch64 half of fixups.ts: which instructions of a patch's
// objects reach a crate-local static or a thread-local, and how they are rewritten so that
// patched code uses the running app's copy. Instruction encodings and relocation numbers are
// those of the Arm ARM and the ELF for the Arm 64-bit Architecture (AAELF64).
//
//   statics   rustc at opt-level 0 takes a static's address with
//               adrp xN, X              R_AARCH64_ADR_PREL_PG_HI21
//               add  xM, xN, :lo12:X    R_AARCH64_ADD_ABS_LO12_NC
//             which becomes a load of X's GOT slot, same registers, same length:
//               adrp xN, :got:X         R_AARCH64_ADR_GOT_PAGE
//               ldr  xM, [xN, :got_lo12:X]  R_AARCH64_LD64_GOT_LO12_NC
//             against the global undefined X that fixups.ts makes (the stub defines X absolute at
//             the app's address); only where the add overwrites the adrp's register (N = M), so
//             no later instruction can read the page. Any other access to X (a load or store
//             through LDST*_ABS_LO12_NC, an unpaired half, an offset into X, an `adr`) leaves X
//             alone.
//   TLS       AArch64 is TLS variant I: the thread pointer (tpidr_el0) points at a 16-byte TCB
//             and the executable's block follows at alignTo(16, p_align of PT_TLS); a
//             thread-local's offset from tp is that plus its st_value. Local-exec in the tip
//               add xN, xT, :tprel_hi12:X, lsl #12   R_AARCH64_TLSLE_ADD_TPREL_HI12
//               add xN, xN, :tprel_lo12_nc:X         R_AARCH64_TLSLE_ADD_TPREL_LO12_NC
//             gets that constant in its immediates (relocations → R_AARCH64_NONE). Workspace
//             crates (position-independent) use TLS descriptors
//               adrp x0, :tlsdesc:X; ldr xR, [x0, :tlsdesc_lo12:X]; add x0, x0, :tlsdesc_lo12:X; blr xR
//             which a patch would resolve to its own block; they are rewritten as a linker relaxes
//             them to local-exec: movz x0, #:tprel_g1:X, lsl #16; movk x0, #:tprel_g0_nc:X; nop; nop.
//             (x0 is the descriptor call's fixed result register.)
//
// Pure functions of one relocation section: fixups.ts owns the objects, the symbol rewrites and
// the notes. Never imports the LSP library or the devserver.
import type { ElfRelocation, ElfSymbol } from './elf';

export const R_AARCH64_NONE = 0;
export const R_AARCH64_ABS64 = 257;
export const R_AARCH64_PREL64 = 260;
export const R_AARCH64_PREL32 = 261;
export const R_AARCH64_LD_PREL_LO19 = 273;
export const R_AARCH64_ADR_PREL_LO21 = 274;
export const R_AARCH64_ADR_PREL_PG_HI21 = 275;
export const R_AARCH64_ADR_PREL_PG_HI21_NC = 276;
export const R_AARCH64_ADD_ABS_LO12_NC = 277;
export const R_AARCH64_LDST8_ABS_LO12_NC = 278;
export const R_AARCH64_LDST16_ABS_LO12_NC = 284;
export const R_AARCH64_LDST32_ABS_LO12_NC = 285;
export const R_AARCH64_LDST64_ABS_LO12_NC = 286;
export const R_AARCH64_LDST128_ABS_LO12_NC = 299;
export const R_AARCH64_ADR_GOT_PAGE = 311;
export const R_AARCH64_LD64_GOT_LO12_NC = 312;
export const R_AARCH64_TLSLE_ADD_TPREL_HI12 = 549;
export const R_AARCH64_TLSLE_ADD_TPREL_LO12 = 550;
export const R_AARCH64_TLSLE_ADD_TPREL_LO12_NC = 551;
export const R_AARCH64_TLSDESC_ADR_PAGE21 = 562;
export const R_AARCH64_TLSDESC_LD64_LO12 = 563;
export const R_AARCH64_TLSDESC_ADD_LO12 = 564;
export const R_AARCH64_TLSDESC_CALL = 569;

const LDST_ABS = new Set([
  R_AARCH64_LDST8_ABS_LO12_NC, R_AARCH64_LDST16_ABS_LO12_NC, R_AARCH64_LDST32_ABS_LO12_NC, R_AARCH64_LDST64_ABS_LO12_NC, R_AARCH64_LDST128_ABS_LO12_NC,
]);
/** Code relocations that reach a static's address directly (MOVW_UABS_G0..G3_NC are 263–270). */
const STATIC_IN_CODE = new Set([
  R_AARCH64_ADR_PREL_PG_HI21, R_AARCH64_ADR_PREL_PG_HI21_NC, R_AARCH64_ADD_ABS_LO12_NC, ...LDST_ABS,
  R_AARCH64_ADR_PREL_LO21, R_AARCH64_LD_PREL_LO19, 263, 264, 265, 266, 267, 268, 269, 270,
]);
/** Local-exec forms: MOVW_TPREL_G2..G0_NC (544–548), ADD_TPREL_* (549–551), LDST*_TPREL_LO12(_NC) (552–559, 570, 571). */
const isLocalExec = (type: number) => (type >= 544 && type <= 559) || type === 570 || type === 571;
/** Dynamic models: general/local-dynamic (512–540) and descriptors (560–569). */
const isDynamicTls = (type: number) => (type >= 512 && type <= 540) || (type >= 560 && type <= 569);

/** Every relocation type the scan looks at (a filter for a fast read of the RELA sections). */
export const A64_WANTED: ReadonlySet<number> = new Set([
  ...STATIC_IN_CODE, R_AARCH64_PREL32, R_AARCH64_PREL64,
  ...Array.from({ length: 571 - 512 + 1 }, (_, i) => 512 + i).filter((t) => isLocalExec(t) || isDynamicTls(t)),
]);

const NOP = 0xd503201f;
const rd = (w: number) => w & 31;
const rn = (w: number) => (w >>> 5) & 31;

/** `adrp xd, label` */
export const isAdrp = (w: number) => (w & 0x9f000000) >>> 0 === 0x90000000;
/** `add xd, xn, #imm12{, lsl #12}` (64-bit, flags untouched); `shifted` asks for lsl #12. */
export function isAddImm64(w: number, shifted: boolean): boolean {
  return (w & 0xffc00000) >>> 0 === (shifted ? 0x91400000 : 0x91000000);
}
const imm12 = (w: number) => (w >>> 10) & 0xfff;
/** `ldr xt, [xn, #imm]` (64-bit, unsigned offset) */
export const isLdr64 = (w: number) => (w & 0xffc00000) >>> 0 === 0xf9400000;
/** `blr xn` */
export const isBlr = (w: number) => (w & 0xfffffc1f) >>> 0 === 0xd63f0000;

/** `add xd, xn, #0` → `ldr xd, [xn]`: the same registers, now loading the GOT slot's value. */
export function ldrFromAdd(add: number): number {
  return (0xf9400000 | (rn(add) << 5) | rd(add)) >>> 0;
}
/** An `add (immediate)` with its imm12 replaced. */
export function withImm12(add: number, value: number): number {
  return ((add & ~(0xfff << 10)) | ((value & 0xfff) << 10)) >>> 0;
}
/** `movz x0, #imm16, lsl #16` */
export const movzX0Lsl16 = (imm16: number) => (0xd2a00000 | ((imm16 & 0xffff) << 5)) >>> 0;
/** `movk x0, #imm16` */
export const movkX0 = (imm16: number) => (0xf2800000 | ((imm16 & 0xffff) << 5)) >>> 0;

/** The executable's offset from tp of a thread-local whose st_value is `value` (TLS variant I, 16-byte TCB). */
export function a64TpOffset(value: number, tls: { align: number }): number {
  const al = Math.max(1, tls.align);
  return Math.ceil(16 / al) * al + value;
}

export interface A64Section {
  buf: Buffer;
  /** File offset of the section the relocations apply to. */
  sectionOffset: number;
  code: boolean;
  relocs: ElfRelocation[];
  syms: ElfSymbol[];
}

export interface A64Resolvers {
  /** The executable's writable static a relocation reaches (exact: at its start), if it is one to rebind. */
  staticTarget(symIndex: number, addend: number): { name: string; index: number; exact: boolean } | undefined;
  /** The thread-local a relocation reaches, and the offset into it. */
  tlsTarget(symIndex: number, addend: number): { name: string; extra: number } | undefined;
  /** The executable's offset from tp of a thread-local, if known. */
  tpOffset(name: string): number | undefined;
}

export interface A64Findings {
  /** Rebindable accesses: `rewrite(ref)` turns one into a GOT load against symbol index `ref`. */
  statics: Array<{ name: string; symIndex: number; rewrite: (ref: number) => void }>;
  blocked: Array<{ name: string; why: string }>;
  /** Edits that bind this section's thread-local accesses to the app's block (all or none). */
  tlsEdits: Array<() => void>;
  reboundTls: string[];
  /** Dynamic-model thread-locals left to the patch's own block (they start fresh). */
  freshTls: string[];
  /** Local-exec thread-locals that cannot be bound (new in the patch, unknown layout or shape): the link fails. */
  newTls: string[];
}

const IN_PLACE = 'read or written in place, as a `static mut` is (or any static in optimized code), which cannot be pointed at the app\'s copy';

export function scanAarch64Section(sec: A64Section, res: A64Resolvers): A64Findings {
  const { buf, sectionOffset, code, relocs } = sec;
  const out: A64Findings = { statics: [], blocked: [], tlsEdits: [], reboundTls: [], freshTls: [], newTls: [] };
  const word = (r: ElfRelocation) => buf.readUInt32LE(sectionOffset + r.offset);
  const put = (r: ElfRelocation, w: number) => buf.writeUInt32LE(w >>> 0, sectionOffset + r.offset);
  const retype = (r: ElfRelocation, type: number, sym?: number, addend?: number) => {
    buf.writeUInt32LE(type, r.entryOffset + 8);
    if (sym !== undefined) buf.writeUInt32LE(sym, r.entryOffset + 12);
    if (addend !== undefined) buf.writeBigInt64LE(BigInt(addend), r.entryOffset + 16);
  };

  // ---- statics
  const atOffset = new Map<number, ElfRelocation>();
  for (const r of relocs) atOffset.set(r.offset, r);
  const paired = new Set<number>();
  for (const r of relocs) {
    if (!code || r.type !== R_AARCH64_ADR_PREL_PG_HI21) continue;
    const t = res.staticTarget(r.sym, r.addend);
    if (!t) continue;
    const lo = atOffset.get(r.offset + 4);
    const w = word(r);
    const lw = lo ? buf.readUInt32LE(sectionOffset + lo.offset) : 0;
    const sameTarget = !!lo && lo.sym === r.sym && lo.addend === r.addend;
    if (sameTarget && LDST_ABS.has(lo!.type)) continue; // the second pass says "in place"
    // The add must consume the page and overwrite it (`add xN, xN, …`): after the rewrite xN holds
    // a GOT page, which nothing may read as X's page (optimized code shares one adrp).
    const pairs = sameTarget && lo!.type === R_AARCH64_ADD_ABS_LO12_NC && isAdrp(w) && isAddImm64(lw, false) && imm12(lw) === 0 &&
      rn(lw) === rd(w) && rd(lw) === rd(w) && rd(w) !== 31;
    if (!pairs) continue; // an unpaired half: the second pass blocks X
    paired.add(r.entryOffset).add(lo!.entryOffset);
    if (!t.exact) {
      out.blocked.push({ name: t.name, why: 'accessed at an offset' });
      continue;
    }
    const hi = r;
    const loRel = lo!;
    out.statics.push({
      name: t.name,
      symIndex: t.index,
      rewrite: (ref: number) => {
        retype(hi, R_AARCH64_ADR_GOT_PAGE, ref, 0);
        put(loRel, ldrFromAdd(lw));
        retype(loRel, R_AARCH64_LD64_GOT_LO12_NC, ref, 0);
      },
    });
  }
  for (const r of relocs) {
    if (paired.has(r.entryOffset)) continue;
    const fromData = !code && (r.type === R_AARCH64_PREL32 || r.type === R_AARCH64_PREL64);
    if (!fromData && !(code && STATIC_IN_CODE.has(r.type))) continue;
    const t = res.staticTarget(r.sym, r.addend);
    if (!t) continue;
    // an adrp whose page a load or store uses is part of an in-place access
    const next = atOffset.get(r.offset + 4);
    const inPlace = LDST_ABS.has(r.type) || (r.type === R_AARCH64_ADR_PREL_PG_HI21 && !!next && next.sym === r.sym && next.addend === r.addend && LDST_ABS.has(next.type));
    out.blocked.push({
      name: t.name,
      why: fromData ? 'referenced PC-relative from data' : inPlace ? IN_PLACE : 'accessed in a way the engine cannot rebind',
    });
  }
  if (!code) return out;

  // ---- thread-locals: local-exec (tip crate) and descriptors (workspace crates), each all or none per section
  const le: Array<() => void> = [];
  const leNames: string[] = [];
  let leOk = true;
  const desc: Array<() => void> = [];
  const descNames: string[] = [];
  let descOk = true;
  for (const r of relocs) {
    const local = isLocalExec(r.type);
    if (!local && !isDynamicTls(r.type)) continue;
    const t = res.tlsTarget(r.sym, r.addend);
    if (!t) {
      if (local) leOk = false;
      else descOk = false;
      continue;
    }
    const base = res.tpOffset(t.name);
    const v = base === undefined ? undefined : base + t.extra;
    const w = word(r);
    if (local) {
      leNames.push(t.name);
      let ok = v !== undefined && v >= 0;
      if (ok && r.type === R_AARCH64_TLSLE_ADD_TPREL_HI12) ok = v! < 1 << 24 && isAddImm64(w, true) && imm12(w) === 0;
      else if (ok && r.type === R_AARCH64_TLSLE_ADD_TPREL_LO12) ok = v! < 1 << 12 && isAddImm64(w, false) && imm12(w) === 0;
      else if (ok && r.type === R_AARCH64_TLSLE_ADD_TPREL_LO12_NC) ok = isAddImm64(w, false) && imm12(w) === 0;
      else ok = false; // MOVW_TPREL_*, LDST*_TPREL_*: rustc does not emit them at the default TLS size
      if (!ok) {
        leOk = false;
        out.newTls.push(t.name);
        continue;
      }
      const imm = r.type === R_AARCH64_TLSLE_ADD_TPREL_HI12 ? v! >>> 12 : v! & 0xfff;
      le.push(() => {
        put(r, withImm12(w, imm));
        retype(r, R_AARCH64_NONE);
      });
    } else {
      descNames.push(t.name);
      let next: number | undefined;
      if (v === undefined || v < 0 || v >= 2 ** 32) next = undefined;
      else if (r.type === R_AARCH64_TLSDESC_ADR_PAGE21) next = isAdrp(w) && rd(w) === 0 ? movzX0Lsl16(v >>> 16) : undefined;
      else if (r.type === R_AARCH64_TLSDESC_LD64_LO12) next = isLdr64(w) && rn(w) === 0 ? movkX0(v & 0xffff) : undefined;
      else if (r.type === R_AARCH64_TLSDESC_ADD_LO12) next = isAddImm64(w, false) && rd(w) === 0 && rn(w) === 0 ? NOP : undefined;
      else if (r.type === R_AARCH64_TLSDESC_CALL) next = isBlr(w) ? NOP : undefined;
      if (next === undefined) {
        descOk = false;
        continue;
      }
      const value = next;
      desc.push(() => {
        put(r, value);
        retype(r, R_AARCH64_NONE);
      });
    }
  }
  if (le.length > 0 || leNames.length > 0) {
    if (leOk) {
      out.tlsEdits.push(...le);
      out.reboundTls.push(...leNames);
    } else {
      for (const n of leNames) if (!out.newTls.includes(n)) out.newTls.push(n);
    }
  }
  if (descNames.length > 0) {
    if (descOk && desc.length > 0) {
      out.tlsEdits.push(...desc);
      out.reboundTls.push(...descNames);
    } else {
      out.freshTls.push(...descNames);
    }
  }
  return out;
}
