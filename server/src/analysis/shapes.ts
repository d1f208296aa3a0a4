// Token-level parsers for the parts of Rust items the catalog compares.
//
// Owns: reading attributes, visibility, generic parameters, types (canonical text and the type
// names held by value), struct/union/enum bodies, function signatures, trait and impl bodies,
// `thread_local!` token trees and hot-call sites, all from a `Tokens` run of one item.
// tree-sitter decides where items start and end and whether they parse; these functions only
// look inside an item that parsed, so they favour simplicity over full Rust grammar coverage.
// Must never: throw (every loop is bounded by `lim`), touch tree-sitter, or keep positions other
// than token indices.

import { Hasher, render, Tokens, T_IDENT, T_LIFETIME, T_LIT, T_PUNCT } from './lexer';
import type { FieldShape, HotRef, Shape, TraitItemShape, VariantShape } from './model';

/** First char code of a one-character punctuation token, else -1. */
export function ch(t: Tokens, i: number): number {
  if (i < 0 || i >= t.n || t.kind[i] !== T_PUNCT || t.end[i] - t.start[i] !== 1) return -1;
  return t.text.charCodeAt(t.start[i]);
}

const LP = 40, RP = 41, LB = 91, RB = 93, LC = 123, RC = 125, LT = 60, GT = 62;
const COMMA = 44, SEMI = 59, EQ = 61, HASH = 35, AMP = 38, STAR = 42, BANG = 33, COLON = 58, PIPE = 124;

function isOpener(c: number): boolean {
  return c === LP || c === LB || c === LC;
}
function isCloser(c: number): boolean {
  return c === RP || c === RB || c === RC;
}

/** Index just after the bracket group opening at i (or lim when it never closes). */
export function skipGroup(t: Tokens, i: number, lim: number): number {
  let depth = 0;
  for (let k = i; k < lim; k++) {
    const c = ch(t, k);
    if (isOpener(c)) depth++;
    else if (isCloser(c)) {
      depth--;
      if (depth <= 0) return k + 1;
    }
  }
  return lim;
}

/** Index just after the `<...>` group opening at i. */
export function skipAngles(t: Tokens, i: number, lim: number): number {
  let depth = 0;
  let k = i;
  while (k < lim) {
    const c = ch(t, k);
    if (isOpener(c)) { k = skipGroup(t, k, lim); continue; }
    if (isCloser(c) || c === SEMI) return k;
    if (c === LT) depth++;
    else if (c === GT) {
      depth--;
      if (depth <= 0) return k + 1;
    }
    k++;
  }
  return lim;
}

/**
 * Scans from i past bracket groups and `<…>` to the first top-level token `stop` accepts; a
 * closer or a body `{` always ends the scan. `gtAtTopStops`: an unmatched `>` ends it too (a type
 * that is itself a generic argument ends there); otherwise it is skipped.
 */
function scanTopLevel(t: Tokens, i: number, lim: number, gtAtTopStops: boolean, stop: (c: number, k: number) => boolean): number {
  let angle = 0;
  let k = i;
  while (k < lim) {
    const c = ch(t, k);
    if (isOpener(c)) {
      if (c === LC && angle === 0) break;
      k = skipGroup(t, k, lim);
      continue;
    }
    if (isCloser(c)) break;
    if (c === LT) angle++;
    else if (c === GT) {
      if (angle > 0) angle--;
      else if (gtAtTopStops) break;
    } else if (angle === 0 && stop(c, k)) break;
    k++;
  }
  return k;
}

/** End of a type starting at i: stops at `,` `;` `=` `{` `where` or a closer at angle depth 0. */
export function typeEnd(t: Tokens, i: number, lim: number): number {
  return scanTopLevel(
    t,
    i,
    lim,
    true,
    (c, k) => c === COMMA || c === SEMI || c === EQ || (k > i && t.kind[k] === T_IDENT && t.is(k, 'where')),
  );
}

/** End of a where clause starting at i: the body `{` or `;` (or `=` for type aliases). */
export function whereEnd(t: Tokens, i: number, lim: number, stopAtEq = false): number {
  return scanTopLevel(t, i, lim, false, (c) => c === SEMI || (stopAtEq && c === EQ));
}

/** Ranges of [a, b) split at top-level commas (brackets and angle brackets respected). */
export function splitTop(t: Tokens, a: number, b: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let s = a;
  let angle = 0;
  let k = a;
  while (k < b) {
    const c = ch(t, k);
    if (isOpener(c)) { k = skipGroup(t, k, b); continue; }
    if (c === LT) angle++;
    else if (c === GT && angle > 0) angle--;
    else if (c === COMMA && angle === 0) {
      if (k > s) out.push([s, k]);
      s = k + 1;
    }
    k++;
  }
  if (b > s) out.push([s, b]);
  return out;
}

/** Next index at or after k holding `c` at bracket depth 0 (no angle tracking), or lim. */
export function nextTop(t: Tokens, k: number, lim: number, c: number): number {
  while (k < lim) {
    const d = ch(t, k);
    if (d === c) return k;
    if (isOpener(d)) { k = skipGroup(t, k, lim); continue; }
    if (isCloser(d)) return k;
    k++;
  }
  return lim;
}

export interface Attrs {
  next: number;
  cfgTest: boolean;
  test: boolean;
  repr: string[];
  /** Canonical predicates of the `#[cfg(...)]` attributes (part of an item's identity). */
  cfg: string[];
  /** Token ranges of `#[doc = ...]` attributes: documentation, left out of hashes. */
  docs: Array<[number, number]>;
  /** `#[component]` (Dioxus; any path ending in `component`): the fn's parameters are its props. */
  component: boolean;
  /** A Dioxus server function's attribute as written (`server`, `post("/api/add")`): see dioxus-server-fns.ts. */
  serverFn?: string;
}

/** Attributes that make a Dioxus server function (0.7: `#[server]`, and fullstack's HTTP-method routes). */
const SERVER_FN_ATTRS = new Set(['server', 'get', 'post', 'put', 'patch', 'delete']);

/** Outer (and inner) attributes starting at i. */
export function parseAttrs(t: Tokens, i: number, lim: number): Attrs {
  const out: Attrs = { next: i, cfgTest: false, test: false, repr: [], cfg: [], docs: [], component: false };
  while (i < lim && ch(t, i) === HASH) {
    let j = i + 1;
    if (ch(t, j) === BANG) j++;
    if (ch(t, j) !== LB) break;
    const e = skipGroup(t, j, lim);
    // attribute path
    let k = j + 1;
    let last = '';
    let first = '';
    while (k < e && t.kind[k] === T_IDENT) {
      last = t.str(k);
      if (!first) first = last;
      k++;
      if (t.is(k, '::')) k++;
      else break;
    }
    if (first === 'doc') out.docs.push([i, e]);
    else if (first === 'repr' && ch(t, k) === LP) {
      const ge = skipGroup(t, k, e);
      out.repr.push(render(t, k + 1, ge - 1));
    } else if (first === 'cfg' && ch(t, k) === LP) {
      let hasTest = false;
      let hasNot = false;
      for (let m = k; m < e; m++) {
        if (t.kind[m] !== T_IDENT) continue;
        if (t.is(m, 'test')) hasTest = true;
        else if (t.is(m, 'not')) hasNot = true;
      }
      if (hasTest && !hasNot) out.cfgTest = true;
      out.cfg.push(render(t, k + 1, skipGroup(t, k, e) - 1));
    } else if (first === 'cfg_attr' && ch(t, k) === LP) {
      // `#[cfg_attr(pred, repr(C))]`: a conditional repr is part of the layout
      const ge = skipGroup(t, k, e) - 1;
      const parts = splitTop(t, k + 1, ge);
      for (let p = 1; p < parts.length; p++) {
        const [a, b] = parts[p];
        if (t.is(a, 'repr') && ch(t, a + 1) === LP) out.repr.push(`${render(t, parts[0][0], parts[0][1])} => ${render(t, a + 2, skipGroup(t, a + 1, b) - 1)}`);
      }
    } else if (last === 'test' || last === 'bench') {
      out.test = true;
    } else if (last === 'component') {
      out.component = true;
    } else if (SERVER_FN_ATTRS.has(last)) {
      out.serverFn = render(t, j + 1, e - 1);
    }
    i = e;
  }
  out.next = i;
  return out;
}

/** Skip `pub`, `pub(crate)`, `pub(in path)`, `crate` (as a visibility). */
export function skipVis(t: Tokens, i: number, lim: number): number {
  if (i < lim && t.is(i, 'pub')) {
    i++;
    if (ch(t, i) === LP && (t.is(i + 1, 'crate') || t.is(i + 1, 'self') || t.is(i + 1, 'super') || t.is(i + 1, 'in'))) {
      i = skipGroup(t, i, lim);
    }
  }
  return i;
}

export interface Generics {
  next: number;
  /** Parameters without bounds: `<T, 'a, const N: usize>`; '' when none. Layout-relevant. */
  params: string;
  /** The full parameter list with bounds, for signatures. */
  full: string;
  /** Names of type and const parameters (never dependencies). */
  names: string[];
}

export function parseGenerics(t: Tokens, i: number, lim: number): Generics {
  if (ch(t, i) !== LT) return { next: i, params: '', full: '', names: [] };
  const e = skipAngles(t, i, lim);
  const inner = splitTop(t, i + 1, Math.max(i + 1, e - 1));
  const params: string[] = [];
  const names: string[] = [];
  for (const [a0, b] of inner) {
    const a = parseAttrs(t, a0, b).next;
    if (a >= b) continue;
    if (t.kind[a] === T_LIFETIME) { params.push(t.str(a)); continue; }
    if (t.is(a, 'const')) {
      if (t.isIdent(a + 1)) names.push(t.str(a + 1));
      const eq = nextTop(t, a, b, EQ);
      params.push(render(t, a, eq));
      continue;
    }
    const name = t.str(a);
    names.push(name);
    const eq = nextTop(t, a, b, EQ);
    params.push(eq < b ? `${name} = ${render(t, eq + 1, b)}` : name);
  }
  return {
    next: e,
    params: params.length ? `<${params.join(', ')}>` : '',
    full: e > i + 2 ? render(t, i, e) : '',
    names,
  };
}

// Types held by value: everything except what sits behind a pointer-like indirection.
const PRIMITIVES = new Set([
  'bool', 'char', 'str', 'u8', 'u16', 'u32', 'u64', 'u128', 'usize', 'i8', 'i16', 'i32', 'i64',
  'i128', 'isize', 'f16', 'f32', 'f64', 'f128', 'Self',
]);
// Owning pointers and heap collections: their size does not depend on the pointee's layout.
const INDIRECT = new Set([
  'Box', 'Vec', 'Rc', 'Arc', 'Weak', 'String', 'HashMap', 'HashSet', 'BTreeMap', 'BTreeSet',
  'VecDeque', 'LinkedList', 'BinaryHeap', 'NonNull', 'PhantomData', 'PhantomPinned', 'Sender',
  'Receiver', 'SyncSender', 'JoinHandle', 'PathBuf', 'OsString', 'CString', 'IndexMap', 'IndexSet',
  'ThinVec', 'AtomicPtr', 'Bytes',
]);

/** Adds to `out` the (last-segment) names of types that [a, b) holds by value. */
export function collectDeps(t: Tokens, a: number, b: number, generics: ReadonlySet<string>, out: Set<string>, depth = 0): void {
  if (a >= b || depth > 24) return;
  const c = ch(t, a);
  if (c === AMP || c === STAR || t.is(a, '&&')) return; // references and raw pointers
  if (c === LP) {
    const e = skipGroup(t, a, b);
    for (const [s, f] of splitTop(t, a + 1, e - 1)) collectDeps(t, s, f, generics, out, depth + 1);
    return;
  }
  if (c === LB) {
    const e = skipGroup(t, a, b);
    const semi = nextTop(t, a + 1, e - 1, SEMI);
    collectDeps(t, a + 1, semi, generics, out, depth + 1); // [T; N] embeds T, [T] only behind a pointer
    return;
  }
  let k = a;
  if (t.is(k, '::')) k++;
  if (t.kind[k] !== T_IDENT) return;
  const w = t.str(k);
  if (w === 'fn' || w === 'unsafe' || w === 'extern' || w === 'for' || w === 'dyn' || w === 'impl' || w === '_') return;
  if (generics.has(w)) return; // T, T::Assoc: depends on the instantiation
  let last = '';
  let args: [number, number] | null = null;
  while (k < b && t.kind[k] === T_IDENT) {
    last = t.str(k);
    args = null;
    k++;
    if (t.is(k, '::') && ch(t, k + 1) === LT) k++;
    if (ch(t, k) === LT) {
      const e = skipAngles(t, k, b);
      args = [k + 1, e - 1];
      k = e;
    } else if (ch(t, k) === LP) {
      return; // Fn(A) -> B sugar: a trait, not a type
    }
    if (t.is(k, '::')) k++;
    else break;
  }
  if (!last || INDIRECT.has(last)) return;
  if (!PRIMITIVES.has(last) && !generics.has(last)) out.add(last);
  if (!args) return;
  for (const [s, f] of splitTop(t, args[0], args[1])) {
    if (t.kind[s] === T_LIFETIME || t.kind[s] === T_LIT || ch(t, s) === LC) continue;
    if (t.kind[s] === T_IDENT && ch(t, s + 1) === EQ) continue; // Item = T binding
    collectDeps(t, s, f, generics, out, depth + 1);
  }
}

export interface StructLike {
  nameIdx: number;
  generics: Generics;
  shape: Shape;
  fields: FieldShape[];
  typeRanges: Array<[number, number]>;
}

/**
 * A field's or variant's `#[cfg]`, folded into its name (`index #[cfg(feature = "x")]`): fields
 * that are cfg alternatives of one another keep apart, and a changed predicate is a change.
 */
function cfgSuffix(at: Attrs): string {
  return at.cfg.length ? ` #[cfg(${at.cfg.join(', ')})]` : '';
}

function parseNamedFields(t: Tokens, a: number, b: number, fields: FieldShape[], ranges: Array<[number, number]>): void {
  let k = a;
  while (k < b) {
    const at = parseAttrs(t, k, b);
    k = skipVis(t, at.next, b);
    if (k >= b) break;
    if (t.kind[k] === T_IDENT && ch(t, k + 1) === COLON) {
      const te = typeEnd(t, k + 2, b);
      // a test-only field is not in the running binary
      if (!at.cfgTest) {
        fields.push({ name: t.str(k) + cfgSuffix(at), type: render(t, k + 2, te) });
        ranges.push([k + 2, te]);
      }
      k = te;
    }
    k = nextTop(t, k, b, COMMA) + 1;
  }
}

function parseTupleFields(t: Tokens, a: number, b: number, fields: FieldShape[], ranges: Array<[number, number]>): void {
  for (const [s0, e] of splitTop(t, a, b)) {
    const at = parseAttrs(t, s0, e);
    const s = skipVis(t, at.next, e);
    if (s >= e || at.cfgTest) continue;
    fields.push({ name: String(fields.length), type: (at.cfg.length ? cfgSuffix(at).slice(1) + ' ' : '') + render(t, s, e) });
    ranges.push([s, e]);
  }
}

/** `struct` / `union` at i (the keyword). */
export function parseStructLike(t: Tokens, i: number, lim: number): StructLike | null {
  i++;
  if (!t.isIdent(i)) return null;
  const nameIdx = i++;
  const generics = parseGenerics(t, i, lim);
  i = generics.next;
  if (t.is(i, 'where')) i = whereEnd(t, i, lim);
  const fields: FieldShape[] = [];
  const typeRanges: Array<[number, number]> = [];
  const c = ch(t, i);
  let shape: Shape;
  if (c === LC) {
    shape = 'named';
    parseNamedFields(t, i + 1, skipGroup(t, i, lim) - 1, fields, typeRanges);
  } else if (c === LP) {
    shape = 'tuple';
    parseTupleFields(t, i + 1, skipGroup(t, i, lim) - 1, fields, typeRanges);
  } else if (c === SEMI) {
    shape = 'unit';
  } else {
    return null;
  }
  return { nameIdx, generics, shape, fields, typeRanges };
}

export interface EnumLike {
  nameIdx: number;
  generics: Generics;
  variants: VariantShape[];
  typeRanges: Array<[number, number]>;
}

export function parseEnum(t: Tokens, i: number, lim: number): EnumLike | null {
  i++;
  if (!t.isIdent(i)) return null;
  const nameIdx = i++;
  const generics = parseGenerics(t, i, lim);
  i = generics.next;
  if (t.is(i, 'where')) i = whereEnd(t, i, lim);
  if (ch(t, i) !== LC) return null;
  const b = skipGroup(t, i, lim) - 1;
  const variants: VariantShape[] = [];
  const typeRanges: Array<[number, number]> = [];
  let k = i + 1;
  while (k < b) {
    const at = parseAttrs(t, k, b);
    k = skipVis(t, at.next, b);
    if (k >= b) break;
    if (t.kind[k] !== T_IDENT || at.cfgTest) { k = nextTop(t, k, b, COMMA) + 1; continue; }
    const v: VariantShape = { name: t.str(k) + cfgSuffix(at), shape: 'unit', fields: [], discriminant: '' };
    k++;
    const c = ch(t, k);
    if (c === LC) {
      const e = skipGroup(t, k, b);
      v.shape = 'named';
      parseNamedFields(t, k + 1, e - 1, v.fields, typeRanges);
      k = e;
    } else if (c === LP) {
      const e = skipGroup(t, k, b);
      v.shape = 'tuple';
      parseTupleFields(t, k + 1, e - 1, v.fields, typeRanges);
      k = e;
    }
    if (ch(t, k) === EQ) {
      const e = nextTop(t, k + 1, b, COMMA);
      v.discriminant = render(t, k + 1, e);
      k = e;
    }
    variants.push(v);
    k = nextTop(t, k, b, COMMA) + 1;
  }
  return { nameIdx, generics, variants, typeRanges };
}

export function renderPayload(v: VariantShape): string {
  if (v.shape === 'unit') return 'no payload';
  if (v.shape === 'tuple') return `(${v.fields.map((f) => f.type).join(', ')})`;
  return `{ ${v.fields.map((f) => `${f.name}: ${f.type}`).join(', ')} }`;
}

const FN_QUALIFIERS = new Set(['const', 'async', 'unsafe', 'extern', 'default', 'safe']);

export interface FnSig {
  nameIdx: number;
  sigKey: string;
  sigDisplay: string;
  /** Token index of the parameter list's `(`. */
  paramsOpen: number;
  /** Token index of the body's `{`, -1 when there is none. */
  bodyOpen: number;
  /** Token index just after the body (or the `;`). */
  end: number;
}

/** Is token i the start of a function (qualifiers then `fn`)? */
export function isFnStart(t: Tokens, i: number, lim: number): boolean {
  for (let k = i; k < lim && k < i + 6; k++) {
    if (t.is(k, 'fn')) return true;
    if (t.kind[k] === T_LIT || (t.kind[k] === T_IDENT && FN_QUALIFIERS.has(t.str(k)))) continue;
    return false;
  }
  return false;
}

function renderParam(t: Tokens, a0: number, b: number): string {
  const a = parseAttrs(t, a0, b).next;
  if (a >= b) return '';
  let k = a;
  let ref = '';
  if (ch(t, k) === AMP) {
    ref = '&';
    k++;
    if (t.kind[k] === T_LIFETIME) { ref += t.str(k) + ' '; k++; }
    if (t.is(k, 'mut')) { ref += 'mut '; k++; }
  } else if (t.is(k, 'mut') && t.is(k + 1, 'self')) {
    k++;
  }
  if (t.is(k, 'self')) {
    if (ch(t, k + 1) === COLON) return `self: ${render(t, k + 2, b)}`;
    if (k + 1 >= b) return `${ref}self`;
  }
  const colon = nextTop(t, a, b, COLON);
  return colon < b ? render(t, colon + 1, b) : render(t, a, b);
}

/** A function (free, method, trait item) whose qualifiers or `fn` keyword start at i. */
export function parseFnSig(t: Tokens, i: number, lim: number): FnSig | null {
  const quals: string[] = [];
  while (i < lim && !t.is(i, 'fn')) {
    if (t.kind[i] === T_LIT || (t.kind[i] === T_IDENT && FN_QUALIFIERS.has(t.str(i)))) {
      if (!t.is(i, 'default')) quals.push(t.str(i));
      i++;
    } else return null;
  }
  if (!t.is(i, 'fn')) return null;
  i++;
  if (!t.isIdent(i)) return null;
  const nameIdx = i++;
  const g = parseGenerics(t, i, lim);
  i = g.next;
  if (ch(t, i) !== LP) return null;
  const paramsOpen = i;
  const pe = skipGroup(t, i, lim);
  const params = splitTop(t, i + 1, pe - 1).map(([s, e]) => renderParam(t, s, e)).filter((p) => p !== '');
  i = pe;
  let ret = '';
  if (t.is(i, '->')) {
    const e = typeEnd(t, i + 1, lim);
    ret = render(t, i + 1, e);
    i = e;
  }
  if (ret === '()') ret = '';
  let where = '';
  if (t.is(i, 'where')) {
    const e = whereEnd(t, i, lim);
    where = render(t, i, e);
    i = e;
  }
  let bodyOpen = -1;
  let end = i;
  if (ch(t, i) === LC) {
    bodyOpen = i;
    end = skipGroup(t, i, lim);
  } else if (ch(t, i) === SEMI) {
    end = i + 1;
  }
  const q = quals.join(' ');
  return {
    nameIdx,
    sigKey: [q, g.full, params.join(', '), ret, where].join('|'),
    sigDisplay: `${q ? q + ' ' : ''}fn${g.full}(${params.join(', ')})${ret ? ' -> ' + ret : ''}${where ? ' ' + where : ''}`,
    paramsOpen,
    bodyOpen,
    end,
  };
}

/** A macro invocation among items: `path::m! { .. }`, `m!(..);`, `m![..];`. */
export interface MacroMember {
  /** Token index of the macro's name (last path segment). */
  nameIdx: number;
  /** Token range of the invocation (path to closing bracket, `;` included). */
  from: number;
  end: number;
}

/** A macro invocation starting at k, or null. */
export function macroMemberAt(t: Tokens, k: number, lim: number): MacroMember | null {
  let i = k;
  if (t.is(i, '::')) i++;
  let nameIdx = -1;
  while (i < lim && t.kind[i] === T_IDENT) {
    nameIdx = i;
    i++;
    if (t.is(i, '::')) i++;
    else break;
  }
  if (nameIdx < 0 || ch(t, i) !== BANG || !isOpener(ch(t, i + 1))) return null;
  let end = skipGroup(t, i + 1, lim);
  if (ch(t, end) === SEMI) end++;
  return { nameIdx, from: k, end };
}

export interface TraitLike {
  nameIdx: number;
  header: string;
  items: TraitItemShape[];
  /** Token ranges of default method bodies (hot-call sites may hide there). */
  bodies: Array<[number, number]>;
  /** Macro invocations among the trait's items (what they generate is not modelled). */
  macros: MacroMember[];
}

/** `trait` at i (after `unsafe`/`auto`). */
export function parseTrait(t: Tokens, i: number, lim: number): TraitLike | null {
  i++;
  if (!t.isIdent(i)) return null;
  const nameIdx = i++;
  const open = whereEnd(t, i, lim);
  if (ch(t, open) !== LC) return null;
  const header = render(t, i, open);
  const b = skipGroup(t, open, lim) - 1;
  const items: TraitItemShape[] = [];
  const bodies: Array<[number, number]> = [];
  const macros: MacroMember[] = [];
  let k = open + 1;
  while (k < b) {
    const at = parseAttrs(t, k, b);
    k = skipVis(t, at.next, b);
    if (k >= b) break;
    if (isFnStart(t, k, b)) {
      const f = parseFnSig(t, k, b);
      if (!f) { k = nextTop(t, k, b, SEMI) + 1; continue; }
      if (!at.cfgTest) {
        items.push({ kind: 'fn', name: t.str(f.nameIdx), sig: f.sigKey, display: f.sigDisplay });
        if (f.bodyOpen >= 0) bodies.push([f.bodyOpen + 1, f.end - 1]);
      }
      k = Math.max(f.end, k + 1);
      continue;
    }
    if ((t.is(k, 'type') || t.is(k, 'const')) && t.isIdent(k + 1)) {
      const e = nextTop(t, k, b, SEMI);
      if (!at.cfgTest) {
        const kind = t.is(k, 'type') ? 'type' : 'const';
        const sigEnd = kind === 'const' ? typeEnd(t, k + 3, e) : whereEnd(t, k + 2, e, true);
        const sig = render(t, kind === 'const' ? k + 3 : k + 2, sigEnd);
        items.push({ kind, name: t.str(k + 1), sig, display: sig });
      }
      k = e + 1;
      continue;
    }
    const mac = macroMemberAt(t, k, b);
    if (mac) {
      if (!at.cfgTest) macros.push(mac);
      k = Math.max(mac.end, k + 1);
      continue;
    }
    // anything else: skip one statement or group
    const e = nextTop(t, k, b, SEMI);
    k = Math.max(e + 1, k + 1);
  }
  return { nameIdx, header, items, bodies, macros };
}

export interface ImplMethod {
  attrs: Attrs;
  /** First token of the method (its first attribute). */
  first: number;
  sig: FnSig;
}

export interface ImplLike {
  key: string;
  selfText: string;
  selfBase: string;
  /** Token ranges that belong to the impl itself (header, associated types and consts). */
  ownRanges: Array<[number, number]>;
  methods: ImplMethod[];
  /** Macro invocations among the impl's items (what they generate is not modelled). */
  macros: MacroMember[];
}

/** Last path segment of [a, b) without generic arguments, leading `&`, `*`, `mut`, `dyn`, lifetimes skipped. */
export function baseOf(t: Tokens, a: number, b: number): string {
  let k = a;
  while (k < b && (ch(t, k) === AMP || ch(t, k) === STAR || t.is(k, '&&') || t.kind[k] === T_LIFETIME || t.is(k, 'mut') || t.is(k, 'const') || t.is(k, 'dyn'))) k++;
  let last = '';
  if (t.is(k, '::')) k++;
  while (k < b && t.kind[k] === T_IDENT) {
    last = t.str(k);
    k++;
    if (t.is(k, '::') && ch(t, k + 1) === LT) k++;
    if (ch(t, k) === LT) k = skipAngles(t, k, b);
    if (t.is(k, '::')) k++;
    else break;
  }
  return last || render(t, a, b);
}

/** `impl` at i (after `unsafe`). */
export function parseImpl(t: Tokens, i: number, lim: number): ImplLike | null {
  const headFrom = i;
  i++;
  const g = parseGenerics(t, i, lim);
  i = g.next;
  const open = whereEnd(t, i, lim);
  if (ch(t, open) !== LC) return null;
  let headEnd = open;
  let forIdx = -1;
  let angle = 0;
  for (let k = i; k < open; k++) {
    const c = ch(t, k);
    if (isOpener(c)) { k = skipGroup(t, k, open) - 1; continue; }
    if (c === LT) angle++;
    else if (c === GT && angle > 0) angle--;
    else if (angle === 0 && t.is(k, 'where')) { headEnd = k; break; }
    else if (angle === 0 && forIdx < 0 && t.is(k, 'for') && ch(t, k + 1) !== LT) forIdx = k;
  }
  const traitText = forIdx >= 0 ? render(t, i, forIdx) : '';
  const selfFrom = forIdx >= 0 ? forIdx + 1 : i;
  const selfText = render(t, selfFrom, headEnd);
  const selfBase = baseOf(t, selfFrom, headEnd);
  const key = `impl${g.full} ${traitText ? traitText + ' for ' : ''}${selfText}`;
  const b = skipGroup(t, open, lim) - 1;
  const ownRanges: Array<[number, number]> = [[headFrom, open + 1]];
  const methods: ImplMethod[] = [];
  const macros: MacroMember[] = [];
  let k = open + 1;
  while (k < b) {
    const first = k;
    const at = parseAttrs(t, k, b);
    k = skipVis(t, at.next, b);
    if (k >= b) break;
    if (isFnStart(t, k, b)) {
      const sig = parseFnSig(t, k, b);
      if (sig) {
        if (!at.cfgTest && !at.test) methods.push({ attrs: at, first, sig });
        k = Math.max(sig.end, k + 1);
        continue;
      }
    }
    const mac = macroMemberAt(t, k, b);
    if (mac) {
      if (!at.cfgTest) {
        macros.push(mac);
        ownRanges.push([first, mac.end]);
      }
      k = Math.max(mac.end, k + 1);
      continue;
    }
    let e = nextTop(t, k, b, SEMI);
    if (e < b) e++;
    if (!at.cfgTest) ownRanges.push([first, e]);
    k = Math.max(e, k + 1);
  }
  return { key, selfText, selfBase, ownRanges, methods, macros };
}

export interface ThreadLocalDecl {
  nameIdx: number;
  first: number;
  end: number;
  type: string;
  typeRange: [number, number];
  initHash: number;
}

/** The declarations inside a `thread_local! { ... }` token tree [a, b). */
export function parseThreadLocals(t: Tokens, a: number, b: number): ThreadLocalDecl[] {
  const out: ThreadLocalDecl[] = [];
  let k = a;
  while (k < b) {
    const first = k;
    const at = parseAttrs(t, k, b);
    k = skipVis(t, at.next, b);
    const semi = nextTop(t, k, b, SEMI);
    if (t.is(k, 'static') && t.isIdent(k + 1) && ch(t, k + 2) === COLON && !at.cfgTest) {
      const te = typeEnd(t, k + 3, semi);
      if (ch(t, te) === EQ) {
        let init = te + 1;
        if (t.is(init, 'const')) init++;
        const h = new Hasher();
        h.addTokens(t, init, semi);
        out.push({ nameIdx: k + 1, first, end: Math.min(semi + 1, b), type: render(t, k + 3, te), typeRange: [k + 3, te], initHash: h.value() });
      }
    }
    k = Math.max(semi + 1, k + 1);
  }
  return out;
}

const NOT_CALLS = new Set(['if', 'while', 'match', 'for', 'loop', 'return', 'move', 'let', 'in', 'as', 'fn', 'Some', 'Ok', 'Err', 'Box', 'Self']);

function hotArgument(t: Tokens, a: number, b: number, out: HotRef[]): void {
  const e = nextTop(t, a, b, COMMA);
  let k = a;
  while (k < e && (ch(t, k) === AMP || t.is(k, 'move'))) k++;
  if (ch(t, k) === PIPE || t.is(k, '||')) {
    // a closure: the functions and methods it calls directly are hot entries
    let body = k + 1;
    if (ch(t, k) === PIPE) {
      body = k + 1;
      while (body < e && ch(t, body) !== PIPE) body++;
      body++;
    }
    for (let m = body; m < e; m++) {
      if (t.kind[m] !== T_IDENT) continue;
      let next = m + 1;
      if (t.is(next, '::') && ch(t, next + 1) === LT) next = skipAngles(t, next + 1, e);
      if (ch(t, next) !== LP) continue;
      const name = t.str(m);
      if (NOT_CALLS.has(name)) continue;
      out.push({ name, method: t.is(m - 1, '.') });
    }
    return;
  }
  let name = '';
  if (t.is(k, '::')) k++;
  while (k < e && t.kind[k] === T_IDENT) {
    name = t.str(k);
    k++;
    if (t.is(k, '::') && ch(t, k + 1) === LT) k = skipAngles(t, k + 1, e);
    if (t.is(k, '::')) k++;
    else break;
  }
  if (name && k >= e) out.push({ name, method: false });
}

/** Hot-call sites in [a, b): `subsecond::call(f)`, `call(f)`, `HotFn::current(f)`, `hot!(f)`. */
export function scanHotRefs(t: Tokens, a: number, b: number, out: HotRef[]): void {
  for (let k = a; k < b; k++) {
    if (t.kind[k] !== T_IDENT) continue;
    const dotBefore = t.is(k - 1, '.');
    if (dotBefore) continue;
    const pathBefore = t.is(k - 1, '::');
    if (t.is(k, 'call') && ch(t, k + 1) === LP) {
      if (pathBefore && !t.is(k - 2, 'subsecond')) continue;
      hotArgument(t, k + 2, skipGroup(t, k + 1, b) - 1, out);
    } else if (t.is(k, 'current') && ch(t, k + 1) === LP && pathBefore && t.is(k - 2, 'HotFn')) {
      hotArgument(t, k + 2, skipGroup(t, k + 1, b) - 1, out);
    } else if (t.is(k, 'hot') && ch(t, k + 1) === BANG && isOpener(ch(t, k + 2))) {
      hotArgument(t, k + 3, skipGroup(t, k + 2, b) - 1, out);
    }
  }
}

/** Quick filter before scanning a body for hot-call sites. */
export function mayHaveHotRefs(text: string, from: number, to: number): boolean {
  const s = text.slice(from, to);
  return s.includes('call') || s.includes('current') || s.includes('hot');
}

export { T_IDENT, T_LIFETIME, T_LIT, T_PUNCT };
