// The comparison: every type the patch's objects describe against the running executable's
// layouts of the same name. Only differences count: a type the thin objects do not describe is
// one the patch's code does not use (a thin build describes only what its code touches), and a
// type only the patch describes is new (the app holds no value of it).
import type { FieldLayout, TypeLayout, VariantLayout } from './read';

/** One type whose compiled layout differs from the running app's. */
export interface LayoutChange {
  /** The full DWARF name (`counter::Stats`, `core::option::Option<counter::Stats>`). */
  type: string;
  /** The layout the app has (the first one, when the executable holds several under this name). */
  before: TypeLayout;
  after: TypeLayout;
  /** `Stats: 16 → 24 bytes; errors added at offset 16` */
  summary: string;
}

/** The executable's layouts by name (several when two versions of a crate share a name). */
export type LayoutIndex = Map<string, TypeLayout[]>;

export function indexLayouts(types: readonly TypeLayout[]): LayoutIndex {
  const index: LayoutIndex = new Map();
  for (const t of types) {
    const list = index.get(t.name);
    if (!list) index.set(t.name, [t]);
    else if (!list.some((x) => sameLayout(x, t))) list.push(t);
  }
  return index;
}

const fieldKey = (f: FieldLayout | undefined) => (f ? `${f.name}\u0000${f.offset}\u0000${f.type}` : '');
const variantKey = (v: VariantLayout) => `${v.discr}\u0000${v.name}\u0000${v.type}`;

export function sameLayout(a: TypeLayout, b: TypeLayout): boolean {
  return (
    a.kind === b.kind &&
    a.size === b.size &&
    a.align === b.align &&
    fieldKey(a.discr) === fieldKey(b.discr) &&
    a.fields.length === b.fields.length &&
    a.fields.every((f, i) => fieldKey(f) === fieldKey(b.fields[i])) &&
    a.variants.length === b.variants.length &&
    a.variants.every((v, i) => variantKey(v) === variantKey(b.variants[i]))
  );
}

/**
 * Types of `thin` whose layout is none of the executable's layouts of that name. When the
 * executable describes one name with several distinct layouts (two versions of a crate, or
 * `#[cfg]`-different builds linked together), a patch layout equal to any of them is not a change:
 * it is the one of them the patch's code was compiled against.
 */
export function compareLayouts(fat: LayoutIndex, thin: readonly TypeLayout[]): { changes: LayoutChange[]; compared: number } {
  const changes: LayoutChange[] = [];
  const seen = new Set<string>();
  let compared = 0;
  for (const t of thin) {
    const before = fat.get(t.name);
    if (!before) continue;
    compared++;
    if (before.some((b) => sameLayout(b, t))) continue;
    if (seen.has(t.name)) continue; // one finding per type, even if several thin layouts differ
    seen.add(t.name);
    changes.push({ type: t.name, before: before[0], after: t, summary: `${displayName(t.name)}: ${describeDifference(before[0], t)}` });
  }
  return { changes, compared };
}

/** `counter::Stats` → `Stats`; `core::option::Option<counter::Stats>` → `Option<counter::Stats>`. */
export function displayName(full: string): string {
  const lt = full.indexOf('<');
  const base = lt < 0 ? full : full.slice(0, lt);
  const at = base.lastIndexOf('::');
  return at < 0 ? full : full.slice(at + 2);
}

const bytes = (n: number | undefined) => (n === undefined ? '?' : String(n));

/** What moved, shortest first: size, alignment, then fields, variants, the discriminant. */
export function describeDifference(before: TypeLayout, after: TypeLayout): string {
  const parts: string[] = [];
  if (before.kind !== after.kind) parts.push(`${before.kind} → ${after.kind}`);
  if (before.size !== after.size) parts.push(`${bytes(before.size)} → ${bytes(after.size)} bytes`);
  if (before.align !== after.align) parts.push(`alignment ${bytes(before.align)} → ${bytes(after.align)}`);
  const old = new Map(before.fields.map((f) => [f.name, f]));
  const now = new Map(after.fields.map((f) => [f.name, f]));
  for (const f of after.fields) {
    const o = old.get(f.name);
    if (!o) parts.push(`${f.name} added at offset ${f.offset}`);
    else {
      if (o.type !== f.type) parts.push(`${f.name}: ${o.type} → ${f.type}`);
      if (o.offset !== f.offset) parts.push(`${f.name} moved from offset ${o.offset} to ${f.offset}`);
    }
  }
  for (const f of before.fields) if (!now.has(f.name)) parts.push(`${f.name} removed (was at offset ${f.offset})`);
  const oldV = new Map(before.variants.map((v) => [v.name, v]));
  const nowV = new Map(after.variants.map((v) => [v.name, v]));
  for (const v of after.variants) {
    const o = oldV.get(v.name);
    if (!o) parts.push(`variant ${v.name} added`);
    else if (o.discr !== v.discr) parts.push(`variant ${v.name}: discriminant ${o.discr || 'niche'} → ${v.discr || 'niche'}`);
    else if (o.type !== v.type) parts.push(`variant ${v.name}: ${o.type} → ${v.type}`);
  }
  for (const v of before.variants) if (!nowV.has(v.name)) parts.push(`variant ${v.name} removed`);
  if (fieldKey(before.discr) !== fieldKey(after.discr)) {
    const d = (x?: FieldLayout) => (x ? `${x.type} at offset ${x.offset}` : 'none');
    parts.push(`discriminant ${d(before.discr)} → ${d(after.discr)}`);
  }
  // Same names, offsets and types in another order: the declaration order is part of the layout
  if (parts.length === 0) parts.push('fields reordered');
  return parts.join('; ');
}
