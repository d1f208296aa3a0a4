// The catalog applied to one file: baseline version vs current version.
//
// Owns: comparing the items of two snapshots of the same file by identity and turning each
// difference that the catalog cares about into a finding draft with a specific message
// ("field `extra: bool` added to `App`: requires restart, ..."), plus the facts the
// workspace-wide pass needs (whose own layout changed, which functions changed signature or
// body). Effects that cross items or files (embedded types, hot entries, thread-local use) are
// the analyzer's.
// Must never: judge an item that is unknown on either side, report an item that was only added
// or removed (except a new thread-local), or look at anything but the two snapshots.

import type { ItemModel, FieldShape, LayoutShape, Placed, Shape, VariantShape } from './model';
import { renderPayload } from './shapes';
import type { Snapshot } from './snapshot';
import type { FindingCode, ThreadLocalPolicy } from './types';

export interface Draft {
  code: FindingCode;
  severity: 'restart' | 'warning' | 'info';
  item: string;
  message: string;
  p: Placed;
}

export interface OwnDiff {
  drafts: Draft[];
  /** Identities whose own layout changed (layout, alias target, static / thread-local type). */
  layoutChanged: Set<string>;
  /** Functions (free and methods) whose signature changed. */
  sigChanged: Array<{ id: string; p: Placed; before: Placed }>;
  /** Functions whose signature or body changed. */
  changedFns: Array<{ id: string; p: Placed }>;
}

export const LAYOUT_REASON = 'requires restart, running instances have the old layout';
export const TRAIT_REASON = 'requires restart, vtables of live objects would not match';

const LAYOUT_KINDS = new Set(['struct', 'union', 'enum']);

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
  const added = after.filter((f) => !bm.has(f.name));
  const removed = before.filter((f) => !am.has(f.name));
  // one field replaced by another of the same type at the same place: a rename
  if (added.length === 1 && removed.length === 1 && added[0].type === removed[0].type && after.indexOf(added[0]) === before.indexOf(removed[0])) {
    out.push(`${what} ${q(removed[0].name)} of ${q(n)} renamed to ${q(added[0].name)}`);
  } else {
    for (const f of added) out.push(`${what} ${q(`${f.name}: ${f.type}`)} added to ${q(n)}`);
    for (const f of removed) out.push(`${what} ${q(`${f.name}: ${f.type}`)} removed from ${q(n)}`);
  }
  for (const f of after) {
    const b = bm.get(f.name);
    if (b && b.type !== f.type) out.push(`${what} ${q(f.name)} of ${q(n)} changed type from ${q(b.type)} to ${q(f.type)}`);
  }
  const bo = before.filter((f) => am.has(f.name)).map((f) => f.name);
  const ao = after.filter((f) => bm.has(f.name)).map((f) => f.name);
  if (bo.join(',') !== ao.join(',')) out.push(`${what}s of ${q(n)} reordered (${q(bo.join(', '))} → ${q(ao.join(', '))})`);
}

function variantChanges(n: string, before: VariantShape[], after: VariantShape[], out: string[]): void {
  const bm = new Map(before.map((v) => [v.name, v]));
  const am = new Map(after.map((v) => [v.name, v]));
  for (const v of after) if (!bm.has(v.name)) out.push(`variant ${q(v.name)} added to ${q(n)}`);
  for (const v of before) if (!am.has(v.name)) out.push(`variant ${q(v.name)} removed from ${q(n)}`);
  for (const v of after) {
    const b = bm.get(v.name);
    if (!b) continue;
    const bp = renderPayload(b);
    const ap = renderPayload(v);
    if (bp !== ap) {
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
  if (!out.length) out.push(`layout of ${q(n)} changed`);
  return out;
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

export function ownDiff(base: Snapshot, cur: Snapshot, policy: ThreadLocalPolicy): OwnDiff {
  const res: OwnDiff = { drafts: [], layoutChanged: new Set(), sigChanged: [], changedFns: [] };
  if (base === cur) return res;
  for (const [id, p] of cur.map) {
    const c = p.m;
    if (cur.ambiguous.has(id) || base.ambiguous.has(id)) continue;
    const bp = base.map.get(id);
    if (!bp) {
      // A thread-local the running process never allocated. Only judged when the file parses
      // (broken code can hoist a test module's thread-local to the top level), and when the
      // baseline had code we could not model, only a name it never mentions counts as new.
      if (c.kind === 'tl' && !c.unknown && !cur.hasErrors && (!base.hasUnknown || !wordIn(base.text, c.simple))) {
        res.drafts.push({
          code: 'thread-local-reset', severity: 'restart', item: c.name, p,
          message: `new thread-local ${q(c.name)} requires restart: a patch cannot add thread-local storage to the running process`,
        });
      }
      continue;
    }
    const b = bp.m;
    if (b === c || c.unknown || b.unknown) continue;
    if (LAYOUT_KINDS.has(c.kind) && LAYOUT_KINDS.has(b.kind)) {
      const changes = layoutChanges(b, c);
      if (changes.length) {
        res.layoutChanged.add(id);
        res.drafts.push({
          code: c.kind === 'enum' ? 'enum-layout-changed' : 'struct-layout-changed', severity: 'restart', item: c.name, p,
          message: `${changes.join('; ')}: ${LAYOUT_REASON}`,
        });
      }
      continue;
    }
    if (b.kind !== c.kind) continue;
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
          res.drafts.push({
            code: 'static-type-changed', severity: 'restart', item: c.name, p,
            message: `${what}: requires restart, the running app's static has the old type`,
          });
        } else if (bv.initHash !== cv.initHash) {
          res.drafts.push({
            code: 'static-initializer-changed', severity: 'info', item: c.name, p,
            message: `initializer of static ${q(c.name)} changed: the running app keeps the value it has`,
          });
        }
        break;
      }
      case 'tl': {
        const bv = b.value!;
        const cv = c.value!;
        if (bv.type !== cv.type) {
          res.layoutChanged.add(id);
          res.drafts.push({
            code: 'thread-local-reset', severity: 'restart', item: c.name, p,
            message: `thread-local ${q(c.name)} changed type from ${q(bv.type)} to ${q(cv.type)}: requires restart, the running app's thread-local storage has the old type`,
          });
        } else if (bv.initHash !== cv.initHash) {
          res.drafts.push({
            code: 'thread-local-reset', severity: 'info', item: c.name, p,
            message: policy === 'reset'
              ? `initializer of thread-local ${q(c.name)} changed: patched code starts from the new initial value, the old value is lost`
              : `initializer of thread-local ${q(c.name)} changed: the running app keeps the value it has; the new initializer applies on the next start`,
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
        if (cf.isMain && bf.isMain && (sig || body)) {
          res.drafts.push({
            code: 'main-changed', severity: 'info', item: c.name, p,
            message: '`fn main` changed: it already ran, the change applies on the next start',
          });
        }
        break;
      }
      default:
        break;
    }
  }
  return res;
}
