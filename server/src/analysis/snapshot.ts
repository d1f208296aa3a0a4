// One version of one file, as the analysis sees it.
//
// Owns: turning a derived unit list into the per-version indexes the diff and the workspace-wide
// resolution need (identity → item, hot-call sites, thread-local names, function names, type
// definitions). A snapshot is immutable: the current state and the baseline may be the same
// object. Must never: hold a tree-sitter object.

import type { Unit } from './items';
import type { HotRef, NeverPatchedClosure, Placed } from './model';

export interface Snapshot {
  text: string;
  items: Placed[];
  /** Item identity (model key, `#n` appended for duplicates) → item. */
  map: Map<string, Placed>;
  hasErrors: boolean;
  /** Identities shared by several items (cfg alternatives, broken nesting): never judged. */
  ambiguous: Set<string>;
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
  let hasUnknown = false;
  const ambiguous = new Set<string>();
  for (const u of units) {
    for (const p of u.items) {
      items.push(p);
      const m = p.m;
      let id = m.key;
      if (map.has(id)) {
        ambiguous.add(id);
        let n = 2;
        while (map.has(`${id}#${n}`)) n++;
        id = `${id}#${n}`;
        ambiguous.add(id);
      }
      map.set(id, p);
      if (m.unknown) hasUnknown = true;
      if (m.hot) for (const h of m.hot) hotRefs.push(h);
      if (m.neverPatched && !m.unknown) for (const c of m.neverPatched) neverPatched.push({ p, c });
      if (m.kind === 'tl') tlNames.push(m.simple);
      else if (m.kind === 'static' && m.value?.mutable) staticMutNames.push(m.simple);
      else if (m.kind === 'fn') fnNames.add(m.simple);
      else if (TYPE_KINDS.has(m.kind)) typeDefs.push({ id, p });
    }
  }
  return {
    text, items, map, hasErrors, ambiguous, hasUnknown, hotRefs, tlNames, staticMutNames, fnNames, typeDefs,
    typeDefSig: typeDefs.map((d) => d.id).join('\n'),
    neverPatched,
  };
}
