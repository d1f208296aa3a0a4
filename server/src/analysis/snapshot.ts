// One version of one file, as the analysis sees it.
//
// Owns: turning a derived unit list into the per-version indexes the diff and the workspace-wide
// resolution need (identity → item, hot-call sites, thread-local names, function names, type
// definitions). A snapshot is immutable: the current state and the baseline may be the same
// object. Must never: hold a tree-sitter object.

import type { Unit } from './items';
import type { HotRef, MacroCall, NeverPatchedClosure, Placed } from './model';

export interface Snapshot {
  text: string;
  items: Placed[];
  /**
   * Item identity → item. The identity is the model key plus the item's `#[cfg]` predicates
   * (`N #[cfg(not(feature = "x"))]`), so cfg alternatives sharing a name are told apart; `#n` is
   * appended when several items still share one.
   */
  map: Map<string, Placed>;
  hasErrors: boolean;
  /**
   * Identities of items whose key (name) several items share: `#[cfg]` alternatives (at most one
   * is compiled) or duplicates.
   */
  ambiguous: Set<string>;
  /** Identities several items share even with their `#[cfg]`s (code that does not compile: a paste, broken nesting). */
  duplicates: Set<string>;
  /** Some code of this version could not be modelled (unknown items or unparsed regions). */
  hasUnknown: boolean;
  hotRefs: HotRef[];
  tlNames: string[];
  /** `static mut` items: patched code gets its own fresh copy of each (engine/fixups.ts). */
  staticMutNames: string[];
  fnNames: Set<string>;
  /** Structs, unions, enums and aliases: what a by-value dependency can resolve to. */
  typeDefs: Array<{ id: string; p: Placed }>;
  /** Changes exactly when the set of type definitions changes. */
  typeDefSig: string;
  /** Closures subsecond never patches, in items that parse. */
  neverPatched: Array<{ p: Placed; c: NeverPatchedClosure }>;
  /** Item-level macro invocations (at the top level, in mods, among impl and trait items). */
  macroCalls: Array<{ p: Placed; c: MacroCall }>;
  /** Names of the macros invoked at item level. */
  itemMacroNames: Set<string>;
}

/** The identity of an item within its file: key, plus its `#[cfg]` predicates when it has some. */
export function identityOf(p: Placed): string {
  return p.m.cfg ? `${p.m.key} #[cfg(${p.m.cfg})]` : p.m.key;
}

const TYPE_KINDS = new Set(['struct', 'union', 'enum', 'alias']);

export function makeSnapshot(text: string, units: readonly Unit[], hasErrors: boolean): Snapshot {
  const items: Placed[] = [];
  const map = new Map<string, Placed>();
  const hotRefs: HotRef[] = [];
  const tlNames: string[] = [];
  const staticMutNames: string[] = [];
  const fnNames = new Set<string>();
  const typeDefs: Array<{ id: string; p: Placed }> = [];
  const neverPatched: Array<{ p: Placed; c: NeverPatchedClosure }> = [];
  const macroCalls: Array<{ p: Placed; c: MacroCall }> = [];
  const itemMacroNames = new Set<string>();
  let hasUnknown = false;
  const duplicates = new Set<string>();
  let anyCfg = false;
  for (const u of units) {
    for (const p of u.items) {
      items.push(p);
      const m = p.m;
      let id = identityOf(p);
      if (map.has(id)) {
        duplicates.add(id);
        let n = 2;
        while (map.has(`${id}#${n}`)) n++;
        id = `${id}#${n}`;
        duplicates.add(id);
      }
      map.set(id, p);
      if (m.cfg) anyCfg = true;
      if (m.unknown) hasUnknown = true;
      if (m.hot) for (const h of m.hot) hotRefs.push(h);
      if (m.neverPatched && !m.unknown) for (const c of m.neverPatched) neverPatched.push({ p, c });
      if (m.macros) {
        for (const c of m.macros) {
          macroCalls.push({ p, c });
          itemMacroNames.add(c.name);
        }
      }
      if (m.kind === 'tl') tlNames.push(m.simple);
      else if (m.kind === 'static' && m.value?.mutable) staticMutNames.push(m.simple);
      else if (m.kind === 'fn') fnNames.add(m.simple);
      else if (TYPE_KINDS.has(m.kind)) typeDefs.push({ id, p });
    }
  }
  const ambiguous = new Set<string>();
  // names shared by cfg alternatives (without any `#[cfg]`, identities are the keys)
  if (anyCfg) {
    const keyCount = new Map<string, number>();
    for (const p of map.values()) keyCount.set(p.m.key, (keyCount.get(p.m.key) ?? 0) + 1);
    for (const [id, p] of map) if ((keyCount.get(p.m.key) ?? 0) > 1) ambiguous.add(id);
  }
  for (const id of duplicates) ambiguous.add(id);
  return {
    text, items, map, hasErrors, ambiguous, duplicates, hasUnknown, hotRefs, tlNames, staticMutNames, fnNames, typeDefs,
    typeDefSig: typeDefs.map((d) => d.id).join('\n'),
    neverPatched, macroCalls, itemMacroNames,
  };
}
