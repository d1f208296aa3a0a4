// The catalog applied to one file: baseline version vs current version.
//
// Owns: comparing the items of two snapshots of the same file by identity and turning each
// difference that the catalog cares about into a finding draft with a specific message
// ("field `extra: bool` added to `App`: requires restart, ..."), plus the facts the
// workspace-wide pass needs (whose own layout changed, which functions changed signature or
// body). Effects that cross items or files (embedded types, hot entries, thread-local use) are
// the analyzer's.
// Items are matched by identity (name and `#[cfg]` predicates). Items left unmatched on both sides
// under the same name (a `#[cfg]` edited, or several definitions sharing one identity) are paired
// when there is one on each side, and otherwise compared as a whole: a change among them that
// cannot be attributed to one definition is still reported, never dropped.
// Must never: judge an item that is unknown on either side, report an item that was only added
// or removed (except a new thread-local), or look at anything but the two snapshots.

import type { ItemModel, FieldShape, LayoutShape, MacroCall, Placed, Shape, VariantShape } from './model';
import { renderPayload } from './shapes';
import type { Snapshot } from './snapshot';
import type { FindingCode, ThreadLocalPolicy } from './types';
import { componentHooksChange, componentPropsChange } from './dioxus-components';
import { globalInitializerChange, globalMoves, globalTypeReason } from './dioxus-globals';
import { serverFnChange } from './dioxus-server-fns';
import { contextProviderChanges } from './dioxus-contexts';

export interface Draft {
  code: FindingCode;
  severity: 'restart' | 'warning' | 'info';
  item: string;
  message: string;
  p: Placed;
  /** The finding's range relative to the unit start, when it is not the item's name. */
  rel?: number;
  len?: number;
}

export interface OwnDiff {
  drafts: Draft[];
  /** Identities whose own layout changed (layout, alias target, static / thread-local type). */
  layoutChanged: Set<string>;
  /** Functions (free and methods) whose signature changed. */
  sigChanged: Array<{ id: string; p: Placed; before: Placed }>;
  /** Functions whose signature or body changed. */
  changedFns: Array<{ id: string; p: Placed }>;
  /** Current identity → baseline identity, where an item was matched across a `#[cfg]` edit. */
  baseIdOf: Map<string, string>;
  /** `macro_rules!` definitions whose text changed. */
  changedMacroRules: Placed[];
}

export const LAYOUT_REASON = 'requires restart, running instances have the old layout';
export const TRAIT_REASON = 'requires restart, vtables of live objects would not match';

export const LAYOUT_KINDS: ReadonlySet<string> = new Set(['struct', 'union', 'enum']);

function q(s: string): string {
  return '`' + s + '`';
}

function kindArticle(kind: string): string {
  return kind === 'enum' ? 'an enum' : `a ${kind}`;
}

function shapeText(s: Shape): string {
  return s === 'named' ? 'named fields' : s === 'tuple' ? 'a tuple struct' : 'a unit struct';
}

function reprText(r: string): string {
  return r ? q(`#[repr(${r})]`) : 'none';
}

/** The `#[cfg]` folded into a field or variant name (shapes.ts), '' when none. */
function cfgPart(name: string): string {
  const i = name.indexOf(' #[cfg(');
  return i < 0 ? '' : name.slice(i);
}

/**
 * Field changes, in messages. A field renamed in place (same type, same position) is no layout
 * change: it is left out (code using the old name does not compile anyway).
 */
function fieldChanges(n: string, before: FieldShape[], after: FieldShape[], tuple: boolean, out: string[], what = 'field'): void {
  if (tuple) {
    const common = Math.min(before.length, after.length);
    for (let i = 0; i < common; i++) {
      if (before[i].type !== after[i].type) out.push(`${what} ${i} of ${q(n)} changed type from ${q(before[i].type)} to ${q(after[i].type)}`);
    }
    for (let i = common; i < after.length; i++) out.push(`${what} ${i} (${q(after[i].type)}) added to ${q(n)}`);
    for (let i = common; i < before.length; i++) out.push(`${what} ${i} (${q(before[i].type)}) removed from ${q(n)}`);
    return;
  }
  const bm = new Map(before.map((f) => [f.name, f]));
  const am = new Map(after.map((f) => [f.name, f]));
  // a field replaced by another of the same type at the same place: a rename, same layout
  const renamed = (f: FieldShape, i: number, other: FieldShape[], otherMap: Map<string, FieldShape>, mine: Map<string, FieldShape>) => {
    const o = other[i];
    return o !== undefined && !mine.has(o.name) && !otherMap.has(f.name) && o.type === f.type && cfgPart(o.name) === cfgPart(f.name);
  };
  after.forEach((f, i) => {
    if (!bm.has(f.name) && !renamed(f, i, before, bm, am)) out.push(`${what} ${q(`${f.name}: ${f.type}`)} added to ${q(n)}`);
  });
  before.forEach((f, i) => {
    if (!am.has(f.name) && !renamed(f, i, after, am, bm)) out.push(`${what} ${q(`${f.name}: ${f.type}`)} removed from ${q(n)}`);
  });
  for (const f of after) {
    const b = bm.get(f.name);
    if (b && b.type !== f.type) out.push(`${what} ${q(f.name)} of ${q(n)} changed type from ${q(b.type)} to ${q(f.type)}`);
  }
  const bo = before.filter((f) => am.has(f.name)).map((f) => f.name);
  const ao = after.filter((f) => bm.has(f.name)).map((f) => f.name);
  if (bo.join(',') !== ao.join(',')) out.push(`${what}s of ${q(n)} reordered (${q(bo.join(', '))} → ${q(ao.join(', '))})`);
}

/** A payload's layout: its shape and field types in order (field names left out). */
function payloadLayout(v: VariantShape): string {
  return `${v.shape}(${v.fields.map((f) => f.type).join(',')})`;
}

/** Named payload fields only renamed in place (not swapped): same layout, not a change. */
function payloadRenamedOnly(b: VariantShape, a: VariantShape): boolean {
  if (payloadLayout(b) !== payloadLayout(a)) return false;
  const bn = new Set(b.fields.map((f) => f.name));
  return a.fields.every((f, i) => f.name === b.fields[i].name || (!bn.has(f.name) && cfgPart(f.name) === cfgPart(b.fields[i].name)));
}

/** Variant changes, in messages. A variant renamed in place (same payload and discriminant) is no change. */
function variantChanges(n: string, before: VariantShape[], after: VariantShape[], out: string[]): void {
  const bm = new Map(before.map((v) => [v.name, v]));
  const am = new Map(after.map((v) => [v.name, v]));
  const renamed = (v: VariantShape, i: number, other: VariantShape[], otherMap: Map<string, VariantShape>, mine: Map<string, VariantShape>) => {
    const o = other[i];
    return o !== undefined && !mine.has(o.name) && !otherMap.has(v.name) && o.discriminant === v.discriminant && cfgPart(o.name) === cfgPart(v.name)
      && (renderPayload(o) === renderPayload(v) || payloadRenamedOnly(o, v));
  };
  after.forEach((v, i) => {
    if (!bm.has(v.name) && !renamed(v, i, before, bm, am)) out.push(`variant ${q(v.name)} added to ${q(n)}`);
  });
  before.forEach((v, i) => {
    if (!am.has(v.name) && !renamed(v, i, after, am, bm)) out.push(`variant ${q(v.name)} removed from ${q(n)}`);
  });
  for (const v of after) {
    const b = bm.get(v.name);
    if (!b) continue;
    const bp = renderPayload(b);
    const ap = renderPayload(v);
    if (bp !== ap && !payloadRenamedOnly(b, v)) {
      const show = (p: string) => (p === 'no payload' ? p : q(p));
      out.push(`payload of variant ${q(v.name)} of ${q(n)} changed from ${show(bp)} to ${show(ap)}`);
    }
    if (b.discriminant !== v.discriminant) {
      out.push(`discriminant of variant ${q(v.name)} of ${q(n)} changed from ${b.discriminant ? q(b.discriminant) : 'implicit'} to ${v.discriminant ? q(v.discriminant) : 'implicit'}`);
    }
  }
  const bo = before.filter((v) => am.has(v.name)).map((v) => v.name);
  const ao = after.filter((v) => bm.has(v.name)).map((v) => v.name);
  if (bo.join(',') !== ao.join(',')) out.push(`variants of ${q(n)} reordered (${q(bo.join(', '))} → ${q(ao.join(', '))})`);
}

/** What changed in the layout of a struct, union or enum (empty when nothing did). */
export function layoutChanges(b: ItemModel, c: ItemModel): string[] {
  const out: string[] = [];
  const n = c.name;
  if (b.kind !== c.kind) {
    out.push(`${q(n)} changed from ${kindArticle(b.kind)} to ${kindArticle(c.kind)}`);
    return out;
  }
  const bl = b.layout as LayoutShape;
  const cl = c.layout as LayoutShape;
  if (bl.key === cl.key) return out;
  if (bl.repr !== cl.repr) out.push(`${q('#[repr]')} of ${q(n)} changed from ${reprText(bl.repr)} to ${reprText(cl.repr)}`);
  if (bl.generics !== cl.generics) {
    out.push(`generic parameters of ${q(n)} changed from ${bl.generics ? q(bl.generics) : 'none'} to ${cl.generics ? q(cl.generics) : 'none'}`);
  }
  if (c.kind === 'enum') {
    variantChanges(n, bl.variants ?? [], cl.variants ?? [], out);
  } else if (bl.shape !== cl.shape) {
    out.push(`${q(n)} changed shape from ${shapeText(bl.shape)} to ${shapeText(cl.shape)}`);
  } else {
    fieldChanges(n, bl.fields, cl.fields, cl.shape === 'tuple', out);
  }
  // nothing but in-place renames: the layout is the same
  if (!out.length && layoutSansNames(bl) !== layoutSansNames(cl)) out.push(`layout of ${q(n)} changed`);
  return out;
}

/** A layout's key without field names (what stays the same under in-place renames). */
function layoutSansNames(l: LayoutShape): string {
  const fs = (xs: FieldShape[]) => xs.map((f) => f.type).join(',');
  let k = `${l.repr}|${l.generics}|${l.shape}|${fs(l.fields)}`;
  if (l.variants) k += '|' + l.variants.map((v) => `${v.shape}(${fs(v.fields)})=${v.discriminant}`).join(';');
  return k;
}

function traitChanges(b: ItemModel, c: ItemModel): string[] {
  const out: string[] = [];
  const bt = b.trait!;
  const ct = c.trait!;
  if (bt.key === ct.key) return out;
  const n = c.name;
  if (bt.header !== ct.header) out.push(`generic parameters, supertraits or where clause of trait ${q(n)} changed`);
  const word = { fn: 'method', type: 'associated type', const: 'associated const' } as const;
  const id = (it: { kind: string; name: string }) => `${it.kind} ${it.name}`;
  const bm = new Map(bt.items.map((it) => [id(it), it]));
  const cm = new Map(ct.items.map((it) => [id(it), it]));
  for (const it of ct.items) if (!bm.has(id(it))) out.push(`${word[it.kind]} ${q(it.name)} added to trait ${q(n)}`);
  for (const it of bt.items) if (!cm.has(id(it))) out.push(`${word[it.kind]} ${q(it.name)} removed from trait ${q(n)}`);
  for (const it of ct.items) {
    const old = bm.get(id(it));
    if (!old || old.sig === it.sig) continue;
    if (it.kind === 'fn') out.push(`method ${q(it.name)} of trait ${q(n)} changed signature from ${q(old.display)} to ${q(it.display)}`);
    else if (it.kind === 'const') out.push(`associated const ${q(it.name)} of trait ${q(n)} changed type from ${q(old.display)} to ${q(it.display)}`);
    else out.push(`associated type ${q(it.name)} of trait ${q(n)} changed its bounds`);
  }
  const bo = bt.items.filter((it) => it.kind === 'fn' && cm.has(id(it))).map((it) => it.name);
  const co = ct.items.filter((it) => it.kind === 'fn' && bm.has(id(it))).map((it) => it.name);
  if (bo.join(',') !== co.join(',')) out.push(`methods of trait ${q(n)} reordered`);
  if (!out.length) out.push(`trait ${q(n)} changed`);
  return out;
}

function wordIn(text: string, word: string): boolean {
  let i = text.indexOf(word);
  while (i >= 0) {
    const before = i > 0 ? text.charCodeAt(i - 1) : 32;
    const after = i + word.length < text.length ? text.charCodeAt(i + word.length) : 32;
    const isW = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
    if (!isW(before) && !isW(after)) return true;
    i = text.indexOf(word, i + 1);
  }
  return false;
}


/** What the catalog compares of an item, as one string (equal strings: nothing to report). */
function contractOf(m: ItemModel): string {
  if (m.layout) return `${m.kind}|${m.layout.key}`;
  if (m.trait) return `trait|${m.trait.key}`;
  if (m.value) return `${m.kind}|${m.value.mutable}|${m.value.type}`;
  if (m.alias !== undefined) return `alias|${m.alias}`;
  if (m.fn) return `fn|${m.fn.sigKey}`;
  return m.kind;
}

function cfgText(m: ItemModel): string {
  return m.cfg ? ` (${q(`#[cfg(${m.cfg})]`)})` : '';
}

interface Group {
  cur: Array<{ id: string; p: Placed }>;
  base: Array<{ id: string; p: Placed }>;
}

export function ownDiff(base: Snapshot, cur: Snapshot, policy: ThreadLocalPolicy): OwnDiff {
  const res: OwnDiff = { drafts: [], layoutChanged: new Set(), sigChanged: [], changedFns: [], baseIdOf: new Map(), changedMacroRules: [] };
  if (base === cur) return res;
  // items without an exact, unique counterpart, by name
  const groups = new Map<string, Group>();
  const group = (key: string): Group => {
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { cur: [], base: [] }));
    return g;
  };
  for (const [id, p] of cur.map) {
    const bp = cur.duplicates.has(id) || base.duplicates.has(id) ? undefined : base.map.get(id);
    if (bp) judgePair(id, bp, p, res, policy, cur);
    else group(p.m.key).cur.push({ id, p });
  }
  if (groups.size) for (const [id, bp] of base.map) {
    if (cur.duplicates.has(id) || base.duplicates.has(id) || !cur.map.has(id)) {
      const g = groups.get(bp.m.key);
      if (g) g.base.push({ id, p: bp }); // only names that have unmatched current items matter
    }
  }
  for (const g of groups.values()) {
    if (!g.base.length) {
      for (const { id, p } of g.cur) if (!cur.duplicates.has(id)) newItem(p, base, cur, res);
    } else if (g.cur.length === 1 && g.base.length === 1) {
      // the one definition of this name had its `#[cfg]` edited: still the same item
      const { id, p } = g.cur[0];
      res.baseIdOf.set(id, g.base[0].id);
      judgePair(id, g.base[0].p, p, res, policy, cur);
    } else if (!g.cur.some((x) => cur.duplicates.has(x.id)) && !g.base.some((x) => base.duplicates.has(x.id))) {
      // (definitions sharing name and `#[cfg]` do not compile: pasted or mis-nested code, not judged)
      unattributable(g, res);
    }
  }
  macroChanges(base, cur, res);
  if (res.changedFns.length) res.drafts.push(...contextProviderChanges(base, cur, res.changedFns, res.baseIdOf));
  // a moved global signal is judged by position, which the item models do not hold
  for (const d of globalMoves(base, cur, res.baseIdOf)) {
    const i = res.drafts.findIndex((x) => x.code === 'global-initializer-changed' && x.p === d.p);
    if (i >= 0) res.drafts.splice(i, 1); // the move says more: patched code does run the new initializer
    res.drafts.push(d);
  }
  return res;
}

/** A current item with no baseline counterpart: only a new thread-local is a finding (`thread-local-added`). */
function newItem(p: Placed, base: Snapshot, cur: Snapshot, res: OwnDiff): void {
  const c = p.m;
  // A thread-local the running process never allocated. Only judged when the file parses
  // (broken code can hoist a test module's thread-local to the top level), and when the
  // baseline had code we could not model, only a name it never mentions counts as new.
  if (c.kind === 'tl' && !c.unknown && !cur.hasErrors && (!base.hasUnknown || !wordIn(base.text, c.simple))) {
    res.drafts.push({
      code: 'thread-local-added', severity: 'restart', item: c.name, p,
      message: `new thread-local ${q(c.name)} requires restart: a patch cannot add thread-local storage to the running process`,
    });
  }
}

/**
 * Several definitions share a name and at least one of them has no exact counterpart (their
 * `#[cfg]`s were edited, or they share one identity): which running definition a change belongs
 * to is unknown. A change of what the catalog compares, anywhere among them, is reported on the
 * current definitions that have no equal in the baseline.
 */
function unattributable(g: Group, res: OwnDiff): void {
  if (g.cur.some((x) => x.p.m.unknown) || g.base.some((x) => x.p.m.unknown)) return;
  const left = new Map<string, number>();
  for (const { p } of g.base) left.set(contractOf(p.m), (left.get(contractOf(p.m)) ?? 0) + 1);
  const changed: Array<{ id: string; p: Placed }> = [];
  for (const x of g.cur) {
    const k = contractOf(x.p.m);
    const n = left.get(k) ?? 0;
    if (n > 0) left.set(k, n - 1);
    else changed.push(x);
  }
  const baseHashes = new Set(g.base.map((x) => x.p.m.hash));
  for (const x of g.cur) {
    if (x.p.m.kind === 'fn' && !baseHashes.has(x.p.m.hash)) res.changedFns.push(x);
  }
  if (!changed.length) return;
  const leftover = g.base.filter((x) => (left.get(contractOf(x.p.m)) ?? 0) > 0);
  const before = (leftover[0] ?? g.base[0]).p;
  const why = (c: ItemModel) => `${q(c.name)}${cfgText(c)} is one of ${g.cur.length > 1 ? g.cur.length : g.base.length} definitions of that name (\`#[cfg]\` alternatives) and one changed in a way that cannot be matched to the definition the app runs`;
  for (const { id, p } of changed) {
    const c = p.m;
    if (LAYOUT_KINDS.has(c.kind)) {
      res.layoutChanged.add(id);
      res.drafts.push({
        code: c.kind === 'enum' ? 'enum-layout-changed' : 'struct-layout-changed', severity: 'restart', item: c.name, p,
        message: `${why(c)}: requires restart, running instances may have the old layout`,
      });
    } else if (c.kind === 'alias') {
      res.layoutChanged.add(id);
    } else if (c.kind === 'trait') {
      res.drafts.push({ code: 'trait-changed', severity: 'restart', item: c.name, p, message: `${why(c)}: ${TRAIT_REASON}` });
    } else if (c.kind === 'static') {
      res.layoutChanged.add(id);
      res.drafts.push({ code: 'static-type-changed', severity: 'restart', item: c.name, p, message: `${why(c)}: requires restart, the running app's static may have the old type` });
    } else if (c.kind === 'tl') {
      res.layoutChanged.add(id);
      res.drafts.push({ code: 'thread-local-type-changed', severity: 'restart', item: c.name, p, message: `${why(c)}: requires restart, the running app's thread-local storage may have the old type` });
    } else if (c.kind === 'fn' && before.m.kind === 'fn') {
      res.sigChanged.push({ id, p, before });
    }
  }
}

function judgePair(id: string, bp: Placed, p: Placed, res: OwnDiff, policy: ThreadLocalPolicy, cur: Snapshot): void {
  const c = p.m;
  const b = bp.m;
  if (b === c || c.unknown || b.unknown) return;
  if (LAYOUT_KINDS.has(c.kind) && LAYOUT_KINDS.has(b.kind)) {
    const changes = layoutChanges(b, c);
    if (changes.length) {
      res.layoutChanged.add(id);
      res.drafts.push({
        code: c.kind === 'enum' ? 'enum-layout-changed' : 'struct-layout-changed', severity: 'restart', item: c.name, p,
        message: `${changes.join('; ')}: ${LAYOUT_REASON}`,
      });
    }
    return;
  }
  if (b.kind !== c.kind) return;
  switch (c.kind) {
    case 'alias':
      if (b.alias !== c.alias) res.layoutChanged.add(id);
      break;
    case 'static': {
      const bv = b.value!;
      const cv = c.value!;
      if (bv.type !== cv.type || bv.mutable !== cv.mutable) {
        res.layoutChanged.add(id);
        const what = bv.type !== cv.type
          ? `static ${q(c.name)} changed type from ${q(bv.type)} to ${q(cv.type)}`
          : `static ${q(c.name)} changed from ${q(bv.mutable ? 'static mut' : 'static')} to ${q(cv.mutable ? 'static mut' : 'static')}`;
        const dioxus = globalTypeReason(cv.type) ?? globalTypeReason(bv.type);
        res.drafts.push({
          code: 'static-type-changed', severity: 'restart', item: c.name, p,
          message: `${what}: requires restart, the running app's static has the old type${dioxus ? `; ${dioxus}` : ''}`,
        });
      } else if (bv.initHash !== cv.initHash) {
        const global = globalInitializerChange(b, c, p);
        if (global) {
          res.drafts.push(global);
          break;
        }
        res.drafts.push({
          code: 'static-initializer-changed', severity: 'info', item: c.name, p,
          message: `initializer of static ${q(c.name)} changed: ${staticInitializerEffect(cv.type, policy)}`,
        });
      }
      break;
    }
    case 'tl': {
      const bv = b.value!;
      const cv = c.value!;
      if (bv.type !== cv.type) {
        // Patched code binds to the running app's thread-local (policy keep), or gets a copy
        // sized and initialised from the old binary's (policy reset): either way the old type.
        res.layoutChanged.add(id);
        res.drafts.push({
          code: 'thread-local-type-changed', severity: 'restart', item: c.name, p,
          message: `thread-local ${q(c.name)} changed type from ${q(bv.type)} to ${q(cv.type)}: requires restart, the running app's thread-local storage has the old type`,
        });
      } else if (bv.initHash !== cv.initHash) {
        res.drafts.push({
          code: 'thread-local-initializer-changed', severity: 'info', item: c.name, p,
          message: policy === 'reset'
            ? `initializer of thread-local ${q(c.name)} changed: patched code starts from the new initial value, the old value is lost`
            : `initializer of thread-local ${q(c.name)} changed: each thread that has it keeps its value (the patch binds to the app's thread-locals); restart the app to start from the new initializer`,
        });
      }
      break;
    }
    case 'trait': {
      const changes = traitChanges(b, c);
      if (changes.length) {
        res.drafts.push({ code: 'trait-changed', severity: 'restart', item: c.name, p, message: `${changes.join('; ')}: ${TRAIT_REASON}` });
      }
      break;
    }
    case 'fn': {
      const bf = b.fn!;
      const cf = c.fn!;
      const sig = bf.sigKey !== cf.sigKey;
      const body = bf.bodyHash !== cf.bodyHash;
      if (sig) res.sigChanged.push({ id, p, before: bp });
      if (sig || body) res.changedFns.push({ id, p });
      if (body && (bf.localTls || cf.localTls)) localThreadLocals(b, c, p, res);
      const server = serverFnChange(b, c, p, () => /\bdioxus\b/.test(cur.text));
      if (server) res.drafts.push(server);
      const props = componentPropsChange(b, c, p);
      if (props) res.drafts.push(props);
      const hooks = body ? componentHooksChange(b, c, p) : undefined;
      if (hooks) res.drafts.push(hooks);
      if (cf.isMain && bf.isMain && (sig || body)) {
        res.drafts.push({
          code: 'main-changed', severity: 'info', item: c.name, p,
          message: '`fn main` changed: it already ran, the change applies on the next start',
        });
      }
      break;
    }
    case 'macro':
      if (b.hash !== c.hash && c.key.includes('macro_rules! ')) res.changedMacroRules.push(p);
      break;
    default:
      break;
  }
}

/** A static whose storage is writable (interior mutability): the engine binds patched code to the app's. */
const INTERIOR_MUTABLE = /\b(Atomic[A-Za-z0-9]*|Mutex|RwLock|OnceLock|OnceCell|LazyLock|LazyCell|Lazy|UnsafeCell|SyncUnsafeCell|Condvar|Once|Cell|RefCell)\b/;
/** Plain read-only data (numbers, bool, char, arrays and tuples of them): the patch carries its own copy. */
const PLAIN_DATA = /^[\s()[\];,0-9_]*((u8|u16|u32|u64|u128|usize|i8|i16|i32|i64|i128|isize|f32|f64|bool|char)[\s()[\];,0-9_A-Z]*)+$/;

/**
 * What a changed initializer means to the running app, by what the engine does with the static
 * (engine/fixups.ts): writable statics are bound to the app's (x86_64, aarch64), read-only data is
 * copied into the patch with the new value, and with policy `reset` (an engine that does not bind
 * them) a patch has its own statics.
 */
function staticInitializerEffect(type: string, policy: ThreadLocalPolicy): string {
  const everywhere = 'restart the app to apply it everywhere';
  if (policy === 'reset') return `patched code starts from the new value (a patch carries its own statics here), code that is not patched keeps the old one; ${everywhere}`;
  if (INTERIOR_MUTABLE.test(type)) return 'the running app keeps the value it has (patched code uses the app\'s static); restart the app to start from the new one';
  if (PLAIN_DATA.test(type)) return `patched code reads the new value (a patch carries its own copy of read-only data), code that is not patched still the old one; ${everywhere}`;
  return `code that is not patched keeps the value the app has; patched code reads the new value if the static is plain read-only data (copied into the patch), else the app's; ${everywhere}`;
}

/** `thread_local!`s declared in a function body: a new one or a new type requires a restart, as at item level. */
function localThreadLocals(b: ItemModel, c: ItemModel, p: Placed, res: OwnDiff): void {
  const before = new Map((b.fn!.localTls ?? []).map((x) => [x.name, x.type]));
  for (const tl of c.fn!.localTls ?? []) {
    const old = before.get(tl.name);
    if (old === undefined) {
      res.drafts.push({
        code: 'thread-local-added', severity: 'restart', item: c.name, p,
        message: `new thread-local ${q(tl.name)} in ${q(c.name)} requires restart: a patch cannot add thread-local storage to the running process`,
      });
    } else if (old !== tl.type) {
      res.drafts.push({
        code: 'thread-local-type-changed', severity: 'restart', item: c.name, p,
        message: `thread-local ${q(tl.name)} in ${q(c.name)} changed type from ${q(old)} to ${q(tl.type)}: requires restart, the running app's thread-local storage has the old type`,
      });
    }
  }
}

/**
 * Item-level macro invocations whose input changed: what they generate is not modelled, so say
 * so, once per invocation. Invocations are matched by scope, macro name and input; one whose
 * input has no equal in the baseline, while the baseline has one that disappeared, changed.
 */
function macroChanges(base: Snapshot, cur: Snapshot, res: OwnDiff): void {
  if (!cur.macroCalls.length || !base.macroCalls.length) return;
  const left = new Map<string, number>();
  const gone = new Map<string, number>();
  const keyOf = (c: MacroCall) => `${c.scope}\n${c.name}`;
  for (const { p, c } of base.macroCalls) {
    if (p.m.unknown) continue;
    const k = `${keyOf(c)}\n${c.hash}`;
    left.set(k, (left.get(k) ?? 0) + 1);
  }
  const fresh: Array<{ p: Placed; c: MacroCall }> = [];
  for (const x of cur.macroCalls) {
    if (x.p.m.unknown) continue;
    const k = `${keyOf(x.c)}\n${x.c.hash}`;
    const n = left.get(k) ?? 0;
    if (n > 0) left.set(k, n - 1);
    else fresh.push(x);
  }
  if (!fresh.length) return;
  for (const [k, n] of left) {
    if (n <= 0) continue;
    const g = k.slice(0, k.lastIndexOf('\n'));
    gone.set(g, (gone.get(g) ?? 0) + n);
  }
  for (const { p, c } of fresh) {
    if (!gone.get(keyOf(c))) continue; // a new invocation: new items are patchable
    res.drafts.push({
      code: 'macro-items-not-judged', severity: 'info', item: `${c.name}!`, p, rel: c.rel, len: c.len,
      message: `items generated by ${q(c.name + '!')} are not judged: its input changed, and this analysis cannot see what it expands to (a layout change there is not detected)`,
    });
  }
}
