// Bevy resources and components whose layout changed: why their values cannot be migrated.
//
// bevy_ecs 0.19.1 (the version the bevy-headless fixture locks) stores every component, and every
// resource (since 0.19 a component of a resource entity marked `IsResource`, resource.rs:124), in
// storage laid out by the `ComponentDescriptor` made at the type's first registration:
// `Layout::new::<T>()` and `drop_in_place::<T>` (component/info.rs:214-233 the descriptor,
// :263-275 `ComponentDescriptor::new`). Table columns and sparse sets are `BlobArray`s sized and
// dropped with it (storage/table/column.rs:34-40, storage/sparse_set.rs:173-176). The
// `ComponentId` is found through `Components::indices`, a `TypeIdMap` (info.rs:372) that is only
// ever inserted into (register.rs:234, info.rs:749); registering a type already there returns the
// old id (register.rs:186-189, "we respect the first registration"). Systems are set up once: the
// param state of `Query<&T>` / `Res<T>` is the `ComponentId` (query/fetch.rs:1854-1856,
// system/system_param.rs:672-678), and with `hotpatching` Bevy fetches the params with that state
// and calls the patched body through `HotFn` (system/function_system.rs:681-693). Either way a
// patch cannot give a running World the new layout:
// - an edit that keeps the type's `TypeId` (a field retyped: rustc's hash covers the type's path
//   and its fields' names, not their types; measured) gets the old `ComponentId`: patched code
//   reads the old-sized values with the new offsets;
// - an edit that changes it (a field added, removed or renamed) makes patched code that registers
//   the type get a second, empty component, while the systems keep handing the patched bodies the
//   old storage.
// There is no API to unregister a component or replace its descriptor, nor to set up running
// systems again; one registered anew with `register_component_with_descriptor`
// (register.rs:287-297) is a different component. So its values cannot be migrated through the
// World: a restart. (bevy_reflect's `TypeRegistry::overwrite_registration` can replace a
// reflection registration, but the World's storage is not reflection's.) This file finds, by text,
// which types a crate using Bevy derives or implements `Resource` / `Component` for, so the layout
// finding says that instead of a generic reason.
import type { Draft } from './diff';
import { lex, T_IDENT } from './lexer';
import type { Finding } from './types';
import type { Placed } from './model';
import type { Snapshot } from './snapshot';

export type BevyStorage = 'resource' | 'component';

const TRAITS = new Map<string, BevyStorage>([['Resource', 'resource'], ['Component', 'component']]);
/** Code that uses Bevy names it: `use bevy::prelude::*`, `bevy_ecs::component::Component`. */
const MENTIONS_BEVY = /\bbevy(?:_ecs)?::/;
/** `impl Resource for Score`, `impl<T: Send> bevy::prelude::Component for Wrap<T>` (an impl's model key). */
const IMPL = /(?:^|::)impl(?:<.*?>)? (?:[A-Za-z_][A-Za-z0-9_]*::)*(Resource|Component)(?:<[^>]*>)? for (?:[A-Za-z_][A-Za-z0-9_]*::)*([A-Za-z_][A-Za-z0-9_]*)/;

const cache = new WeakMap<Snapshot, Map<string, BevyStorage>>();
const mentions = new WeakMap<Snapshot, boolean>();

/** The file names Bevy (read once per version: a layout save may ask for every type it embeds in). */
function mentionsBevy(s: Snapshot): boolean {
  let yes = mentions.get(s);
  if (yes === undefined) mentions.set(s, (yes = MENTIONS_BEVY.test(s.text)));
  return yes;
}

/**
 * The Bevy storage of type definition `p` of snapshot `s`: `#[derive(Resource)]` /
 * `#[derive(Component)]` (any path, also in `cfg_attr`) on it. Undefined in a file that never
 * names `bevy::` / `bevy_ecs::` (another ECS's `Component` derive says nothing about Bevy).
 */
export function derivedStorage(s: Snapshot, p: Placed): BevyStorage | undefined {
  if (p.m.unknown || (p.m.kind !== 'struct' && p.m.kind !== 'enum') || !mentionsBevy(s)) return undefined;
  return derivesIn(s.text, p.at, p.at + p.m.nameRel);
}

/**
 * The types one version of a file implements `Resource` / `Component` for (`impl Resource for T`),
 * by last path segment. Empty for a file that never names `bevy::` / `bevy_ecs::`.
 */
export function implementedStorage(s: Snapshot): Map<string, BevyStorage> {
  let out = cache.get(s);
  if (out) return out;
  out = new Map();
  if (mentionsBevy(s)) {
    for (const p of s.map.values()) {
      if (p.m.kind !== 'impl' || p.m.unknown) continue;
      const hit = IMPL.exec(p.m.key);
      if (hit && !out.has(hit[2])) out.set(hit[2], TRAITS.get(hit[1])!);
    }
  }
  cache.set(s, out);
  return out;
}

/** `Resource` / `Component` among the `derive(..)` lists in the attributes of [from, to). */
function derivesIn(text: string, from: number, to: number): BevyStorage | undefined {
  if (!text.slice(from, to).includes('derive')) return undefined;
  const t = lex(text, from, to);
  for (let i = 0; i < t.n; i++) {
    if (!t.is(i, 'derive') || !t.is(i + 1, '(')) continue;
    let depth = 0;
    for (let k = i + 1; k < t.n; k++) {
      if (t.is(k, '(')) depth++;
      else if (t.is(k, ')') && --depth === 0) break;
      // the last segment of a path (`bevy::prelude::Component`), not a segment before `::`
      else if (t.kind[k] === T_IDENT && !t.is(k + 1, '::') && TRAITS.has(t.str(k))) return TRAITS.get(t.str(k));
    }
  }
  return undefined;
}

/** The clause a layout finding on a Bevy resource or component gets. */
export function bevyStorageNote(typeName: string, kind: BevyStorage): string {
  return (
    `Bevy keeps the ${kind} \`${typeName}\` in the World in storage laid out at its first registration, and its systems keep the ComponentId ` +
    'they were set up with: a running World cannot re-register it, so its values cannot be migrated'
  );
}

const LAYOUT_CODES = new Set(['struct-layout-changed', 'enum-layout-changed']);

/**
 * Adds to each struct / enum layout finding (`list[i]` made from `drafts[i]`) on a type its crate
 * stores in a Bevy World why Bevy cannot take the new layout. `storageOf` is asked only when there
 * is such a finding.
 */
export function addBevyStorageNotes(drafts: readonly Draft[], list: Finding[], storageOf: (p: Placed) => BevyStorage | undefined): void {
  drafts.forEach((d, i) => {
    if (!LAYOUT_CODES.has(d.code)) return;
    const kind = storageOf(d.p);
    if (kind) list[i].message += `; ${bevyStorageNote(d.p.m.simple, kind)}`;
  });
}
