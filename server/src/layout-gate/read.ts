// Reading type layouts out of rustc's DWARF with the subsecond-debuginfo module (debuginfo/src/
// layouts.rs, `sd_layouts`): an object file is passed whole (its debug sections need their
// relocations applied); of an executable only the debug sections are copied into the module (a
// Bevy debug binary is hundreds of MB, its `.debug_info` of workspace units a small part).
import * as fs from 'node:fs';
import { callDebuginfo } from '../support/debuginfo';
import { ElfFile } from '../engine/elf';

export interface FieldLayout {
  name: string;
  offset: number;
  /** The field's type name as rustc wrote it (`u64`, `[u64; 3]`, `counter_core::Ring<u32>`). */
  type: string;
}

export interface VariantLayout {
  /** The discriminant value as text; empty for a niche's "otherwise" variant. */
  discr: string;
  name: string;
  type: string;
}

export interface TypeLayout {
  /** The full name, generic arguments included (`counter::Ring<u32>`, `core::option::Option<counter::Stats>`). */
  name: string;
  /** `struct`, `enum` (a Rust enum with a variant part), `c-enum` (enumerators only), `union`. */
  kind: string;
  size?: number;
  align?: number;
  fields: FieldLayout[];
  variants: VariantLayout[];
  /** Where the discriminant lives (name empty). */
  discr?: FieldLayout;
}

export interface LayoutReport {
  types: TypeLayout[];
  /** Compile units read; units skipped (another crate's, in an executable). */
  units: number;
  skipped: number;
  /** Units that describe any type: 0 with `debuginfo=1` (limited) or `line-tables-only`. */
  typedUnits: number;
  /** A skeleton unit: the types are in split debuginfo (`.dwo`/`.dwp`), which is not read. */
  split: boolean;
}

type RawField = [string, number, string];
interface RawType {
  n: string;
  k: string;
  s?: number;
  a?: number;
  f?: RawField[];
  v?: Array<[string, string, string]>;
  d?: RawField;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function call(mode: string, crates: readonly string[], payload: Uint8Array, roots: readonly string[] = []): LayoutReport {
  const header = encoder.encode(`${mode}\n${crates.join(',')}\n${roots.join('\u0000')}`);
  const input = new Uint8Array(4 + header.length + payload.length);
  new DataView(input.buffer).setUint32(0, header.length, true);
  input.set(header, 4);
  input.set(payload, 4 + header.length);
  const parsed = JSON.parse(decoder.decode(callDebuginfo('sd_layouts', input))) as {
    error?: string;
    types: RawType[];
    units: number;
    skipped: number;
    typedUnits: number;
    split: boolean;
  };
  if (parsed.error) throw new Error(parsed.error);
  const field = (f: RawField): FieldLayout => ({ name: f[0], offset: f[1], type: f[2] });
  return {
    types: parsed.types.map((t) => ({
      name: t.n,
      kind: t.k,
      size: t.s,
      align: t.a,
      fields: (t.f ?? []).map(field),
      variants: (t.v ?? []).map(([discr, name, type]) => ({ discr, name, type })),
      discr: t.d ? field(t.d) : undefined,
    })),
    units: parsed.units,
    skipped: parsed.skipped,
    typedUnits: parsed.typedUnits,
    split: parsed.split,
  };
}

/** Layouts of the workspace `crates`' types described in one relocatable object (`.o`). */
export function readObjectLayouts(bytes: Uint8Array, crates: readonly string[]): LayoutReport {
  return call('elf', crates, bytes);
}

/**
 * Layouts of the workspace `crates`' types in a linked executable: only its `.debug_*` sections are
 * read from the file. A compressed section (`SHF_COMPRESSED`) is left to the module, which gets
 * the whole file then. With `roots` (the workspace's directories), compile units compiled
 * elsewhere (`DW_AT_comp_dir`: registry crates, path dependencies outside the workspace) are
 * skipped: cargo compiles workspace members in the workspace root.
 */
export function readExecutableLayouts(exePath: string, crates: readonly string[], roots: readonly string[] = []): LayoutReport {
  const elf = ElfFile.open(exePath);
  try {
    const debug = elf.sections.filter((s) => s.name.startsWith('.debug_') && s.size > 0);
    const SHF_COMPRESSED = 0x800;
    if (debug.some((s) => (s.flags & SHF_COMPRESSED) !== 0)) return call('elf', crates, fs.readFileSync(exePath), roots);
    const parts: Uint8Array[] = [];
    for (const s of debug) {
      const name = encoder.encode(s.name);
      const head = new Uint8Array(4 + name.length + 4);
      const view = new DataView(head.buffer);
      view.setUint32(0, name.length, true);
      head.set(name, 4);
      view.setUint32(4 + name.length, s.size, true);
      parts.push(head, elf.sectionData(s));
    }
    const total = parts.reduce((n, p) => n + p.length, 0);
    const payload = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      payload.set(p, at);
      at += p.length;
    }
    return call('sections-le', crates, payload, roots);
  } finally {
    elf.close();
  }
}
