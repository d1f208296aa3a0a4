// Closures passed to a hot call that subsecond 0.7 never patches.
//
// Why: subsecond 0.7's `HotFn::call` treats any callable exactly as large as a fn pointer *as* a
// fn pointer: it copies the closure's bytes out and looks that value up in the jump table. A
// closure holding one pointer-sized capture is looked up by the captured pointer, which is never
// in the table, so that call silently keeps running the original code. A closure without
// captures (zero-sized) or with two or more is looked up by its own code and patches fine.
//
// Owns: finding, in one function's tokens, the closures passed directly to `subsecond::call`,
// `call` or `HotFn::current`, and deciding without types whether one captures a single pointer:
//  - outer names: the function's parameters (`self` included) and the bindings declared before
//    the call (`let` / `if let` / `while let` / `for` patterns, enclosing closures' parameters),
//    scopes ignored;
//  - in the closure body an identifier resolving to an outer name, not shadowed by the closure's
//    parameters or its own `let`s, is a capture *place*: the name plus its `.field` chain, cut
//    before a method call (Rust 2021 captures disjoint fields, a method call borrows the whole
//    receiver); a place extending another one is the same capture. Paths, calls of fn items,
//    CamelCase / ALL_CAPS names (types, variants, statics, consts), macro names and whatever
//    follows a `.` are not captures;
//  - a non-`move` closure holds each place by reference, one pointer each; a `move` closure is
//    reported only when its one capture's type is known to be pointer-sized (`&T`, `&self`,
//    `Box<T>`, `u64`, ...) from a declared type or an obvious initializer.
// Anything unclear means no report: a nested closure or item, a macro other than the formatting
// and assertion ones, a `..` struct update, a name it cannot resolve, a `match` / `for` / inner
// block binding that hides an outer name, a capture whose pointee may be unsized (`&[T]`,
// `&dyn T`: a fat pointer is not fn-pointer-sized). A missed warning is cheaper than a false one.
// Must never: throw (every loop is bounded by its token range), touch tree-sitter, or keep
// positions other than offsets relative to the unit.

import { Tokens, T_IDENT, T_LIFETIME, T_LIT } from './lexer';
import type { NeverPatchedClosure } from './model';
import { ch, FnSig, nextTop, parseAttrs, parseFnSig, skipAngles, skipGroup, splitTop, typeEnd } from './shapes';

const LP = 40, RP = 41, LB = 91, RB = 93, LC = 123, RC = 125, LT = 60;
const COMMA = 44, SEMI = 59, EQ = 61, COLON = 58, AMP = 38, STAR = 42, PIPE = 124, BANG = 33;

const PRIMITIVES = new Set([
  'bool', 'char', 'str', 'u8', 'u16', 'u32', 'u64', 'u128', 'usize', 'i8', 'i16', 'i32', 'i64',
  'i128', 'isize', 'f16', 'f32', 'f64', 'f128',
]);
const KEYWORDS = new Set([
  'as', 'async', 'await', 'break', 'const', 'continue', 'crate', 'dyn', 'else', 'false', 'for', 'if',
  'in', 'let', 'loop', 'match', 'move', 'mut', 'pub', 'ref', 'return', 'static', 'super', 'true',
  'unsafe', 'where', 'while', 'yield', 'box', 'try', '_', ...PRIMITIVES,
]);
/** Items inside a closure body: names they declare are beyond this reading. */
const ITEM_WORDS = new Set(['fn', 'impl', 'trait', 'mod', 'struct', 'enum', 'use', 'macro_rules', 'extern', 'type']);
/** Macros whose arguments are plain expressions (plus a format string naming captures inline). */
const FORMAT_MACROS = new Set([
  'println', 'print', 'eprintln', 'eprint', 'format', 'format_args', 'write', 'writeln', 'panic',
  'assert', 'assert_eq', 'assert_ne', 'debug_assert', 'debug_assert_eq', 'debug_assert_ne', 'dbg',
  'vec', 'todo', 'unimplemented', 'unreachable',
]);
/** One machine word on the 64-bit targets subsecond runs on. */
const WORD_TYPES = new Set(['u64', 'i64', 'usize', 'isize', 'f64']);
const SMART_POINTERS = new Set(['Box', 'Rc', 'Arc', 'Weak', 'NonNull']);
/** Pointees that make a pointer fat (two words). */
const UNSIZED = new Set(['str', 'dyn', 'Path', 'OsStr', 'CStr']);

/** What is known of an outer binding: enough to size a `move` capture. */
interface Binding {
  /** `&self` / `&mut self`. */
  selfRef?: boolean;
  /** `self` / `mut self`: a value of a sized type. */
  selfValue?: boolean;
  type?: [number, number];
  init?: [number, number];
}

function isOpener(c: number): boolean {
  return c === LP || c === LB || c === LC;
}

function isUpper(w: string): boolean {
  const c = w.charCodeAt(0);
  return c >= 65 && c <= 90;
}

/** Closures of the function `f` (tokens `t`, one unit starting at `unitStart`) that subsecond never patches. */
export function neverPatchedClosures(t: Tokens, f: FnSig, unitStart: number): NeverPatchedClosure[] | undefined {
  if (f.bodyOpen < 0) return undefined;
  const out: NeverPatchedClosure[] = [];
  try {
    scanFn(t, f, unitStart, out, 0);
  } catch {
    return undefined; // a guess is worse than silence
  }
  return out.length ? out : undefined;
}

function scanFn(t: Tokens, f: FnSig, unitStart: number, out: NeverPatchedClosure[], nesting: number): void {
  if (nesting > 8 || f.bodyOpen < 0) return;
  const outer = new Map<string, Binding>();
  const pe = skipGroup(t, f.paramsOpen, f.bodyOpen) - 1;
  for (const [a, b] of splitTop(t, f.paramsOpen + 1, pe)) addParam(t, a, b, outer);
  scanBody(t, f.bodyOpen + 1, f.end - 1, outer, unitStart, out, nesting);
}

function addParam(t: Tokens, a0: number, b: number, outer: Map<string, Binding>): void {
  const a = parseAttrs(t, a0, b).next;
  if (a >= b) return;
  let k = a;
  let ref = false;
  if (ch(t, k) === AMP) {
    ref = true;
    k++;
    if (t.kind[k] === T_LIFETIME) k++;
    if (t.is(k, 'mut')) k++;
  } else if (t.is(k, 'mut') && t.is(k + 1, 'self')) {
    k++;
  }
  if (t.is(k, 'self')) {
    outer.set('self', ch(t, k + 1) === COLON ? { type: [k + 2, b] } : ref ? { selfRef: true } : { selfValue: true });
    return;
  }
  const colon = nextTop(t, a, b, COLON);
  addPattern(t, a, colon, colon < b ? [colon + 1, b] : undefined, undefined, outer);
}

function addPattern(t: Tokens, a: number, b: number, type: [number, number] | undefined, init: [number, number] | undefined, outer: Map<string, Binding>): void {
  const names = patternNames(t, a, b);
  const simple = names.length === 1 && (b - a === 1 || (b - a === 2 && t.is(a, 'mut')));
  for (const n of names) outer.set(n, simple ? { type, init } : {});
}

/** Names a pattern [a, b) binds (lowercase identifiers that are not paths, calls or field names). */
function patternNames(t: Tokens, a: number, b: number): string[] {
  const out: string[] = [];
  for (let k = a; k < b; k++) {
    if (t.kind[k] !== T_IDENT) continue;
    const w = t.str(k);
    if (KEYWORDS.has(w) || w === 'self' || isUpper(w)) continue;
    if (t.is(k - 1, '::') || t.is(k + 1, '::') || t.is(k - 1, '.')) continue;
    const n = k + 1 < b ? ch(t, k + 1) : -1;
    if (n === LP || n === LC || n === BANG || n === COLON) continue;
    out.push(w);
  }
  return out;
}

/** First index in [k, lim) holding one of the given chars at bracket depth 0, or lim. */
function nextTopOf(t: Tokens, k: number, lim: number, a: number, b: number, c: number): number {
  while (k < lim) {
    const d = ch(t, k);
    if (d === a || d === b || d === c) return k;
    if (isOpener(d)) { k = skipGroup(t, k, lim); continue; }
    if (d === RP || d === RB || d === RC) return k;
    k++;
  }
  return lim;
}

/** The `in` of a `for` loop whose pattern starts at k, or lim. */
function findIn(t: Tokens, k: number, lim: number): number {
  while (k < lim) {
    if (t.is(k, 'in')) return k;
    const d = ch(t, k);
    if (isOpener(d)) { k = skipGroup(t, k, lim); continue; }
    if (d === SEMI || d === RP || d === RB || d === RC) return lim;
    k++;
  }
  return lim;
}

/** The `|` closing a closure's parameter list that starts after k, or lim. */
function closingPipe(t: Tokens, k: number, lim: number): number {
  while (k < lim) {
    const d = ch(t, k);
    if (d === PIPE) return k;
    if (isOpener(d)) { k = skipGroup(t, k, lim); continue; }
    k++;
  }
  return lim;
}

/** Does the token before k end an operand (so a `|` at k is an operator, not a closure)? */
function endsOperand(t: Tokens, k: number): boolean {
  if (k < 0) return false;
  const kind = t.kind[k];
  if (kind === T_LIT) return true;
  if (kind === T_IDENT) {
    const w = t.str(k);
    return !KEYWORDS.has(w) || w === 'true' || w === 'false' || PRIMITIVES.has(w);
  }
  const c = ch(t, k);
  return c === RP || c === RB || t.is(k, '?');
}

function scanBody(t: Tokens, from: number, to: number, outer: Map<string, Binding>, unitStart: number, out: NeverPatchedClosure[], nesting: number): void {
  for (let k = from; k < to; k++) {
    if (t.kind[k] !== T_IDENT) {
      // an enclosing closure's parameters are outer names for the closures inside it
      if (ch(t, k) === PIPE && (k === from || !endsOperand(t, k - 1))) {
        const e = closingPipe(t, k + 1, to);
        for (const [a, b] of splitTop(t, k + 1, e)) {
          const colon = nextTop(t, a, b, COLON);
          addPattern(t, a, colon, colon < b ? [colon + 1, b] : undefined, undefined, outer);
        }
        k = e;
      }
      continue;
    }
    if (t.is(k, 'fn') && t.isIdent(k + 1)) {
      // a nested fn item sees none of this function's bindings
      const f = parseFnSig(t, k, to);
      if (f && f.bodyOpen >= 0) {
        scanFn(t, f, unitStart, out, nesting + 1);
        k = Math.max(k, f.end - 1);
      }
      continue;
    }
    if (t.is(k, 'let')) {
      // not skipped: the initializer may hold a hot call
      const pe = nextTopOf(t, k + 1, to, EQ, COLON, SEMI);
      let type: [number, number] | undefined;
      let i = pe;
      if (ch(t, i) === COLON) {
        const te = typeEnd(t, i + 1, to);
        type = [i + 1, te];
        i = te;
      }
      const cond = t.is(k - 1, 'if') || t.is(k - 1, 'while') || t.is(k - 1, '&&');
      const init: [number, number] | undefined = ch(t, i) === EQ && !cond ? [i + 1, nextTop(t, i + 1, to, SEMI)] : undefined;
      addPattern(t, k + 1, pe, type, init, outer);
      continue;
    }
    if (t.is(k, 'for') && ch(t, k + 1) !== LT) {
      const inIdx = findIn(t, k + 1, to);
      if (inIdx < to) for (const n of patternNames(t, k + 1, inIdx)) outer.set(n, {});
      continue;
    }
    if (t.is(k - 1, '.')) continue;
    let bare = false;
    if (t.is(k, 'call') && ch(t, k + 1) === LP) {
      if (t.is(k - 1, '::')) {
        if (!t.is(k - 2, 'subsecond')) continue;
      } else {
        bare = true;
      }
    } else if (!(t.is(k, 'current') && ch(t, k + 1) === LP && t.is(k - 1, '::') && t.is(k - 2, 'HotFn'))) {
      continue;
    }
    const close = skipGroup(t, k + 1, to) - 1;
    if (ch(t, close) !== RP) continue;
    const r = judgeClosure(t, k + 2, close, outer);
    if (r) out.push({ rel: t.start[r.head] - unitStart, len: t.end[r.headEnd] - t.start[r.head], place: r.place, move: r.move, bare });
  }
}

interface Verdict {
  head: number;
  headEnd: number;
  place: string;
  move: boolean;
}

/** The argument [a, b) of a hot call: a closure with exactly one pointer-sized capture? */
function judgeClosure(t: Tokens, a: number, b: number, outer: Map<string, Binding>): Verdict | null {
  let k = a;
  const isMove = t.is(k, 'move');
  if (isMove) k++;
  const own = new Set<string>();
  let headEnd: number;
  if (t.is(k, '||')) {
    headEnd = k;
  } else if (ch(t, k) === PIPE) {
    headEnd = closingPipe(t, k + 1, b);
    if (headEnd >= b) return null;
    for (const [s, e] of splitTop(t, k + 1, headEnd)) for (const n of patternNames(t, s, nextTop(t, s, e, COLON))) own.add(n);
  } else {
    return null;
  }
  // the closure is the whole (only) argument
  let e = b;
  const comma = nextTop(t, headEnd + 1, b, COMMA);
  if (comma < b) {
    if (comma !== b - 1) return null;
    e = comma;
  }
  let s = headEnd + 1;
  if (t.is(s, '->')) {
    s = nextTop(t, s + 1, e, LC);
    if (ch(t, s) !== LC) return null;
  }
  if (s >= e) return null;
  const got = capturePlaces(t, s, e, outer, own);
  if (!got) return null;
  let places = got.places;
  if (isMove) {
    // a move closure holds what it uses by value, and through a pointer Rust 2021 captures the
    // pointer itself: `move || f(r.x)` with `r: &S` holds `r`
    places = places.map((p) => (pointerLike(t, outer.get(p[0])!) ? [p[0]] : p));
  }
  const kept = distinctPlaces(places);
  if (kept.length !== 1) return null;
  const place = kept[0];
  const bind = outer.get(place[0])!;
  if (isMove) {
    if (place.length !== 1 || !wordSized(t, bind)) return null;
  } else if (maybeFat(t, bind) || (got.derefRoots.has(place[0]) && !knownPointee(t, bind))) {
    // the capture may be a fat pointer (`&mut dyn T`, `&[T]`: two words) unless the binding's
    // type is evident
    return null;
  }
  return { head: a, headEnd, place: place.join('.'), move: isMove };
}

/** Places with duplicates and places extending another one (`s.a.b` next to `s.a`) removed. */
function distinctPlaces(places: string[][]): string[][] {
  const keys = [...new Set(places.map((p) => p.join('.')))];
  return keys
    .filter((k) => !keys.some((o) => o !== k && k.startsWith(o + '.')))
    .map((k) => k.split('.'));
}

/**
 * The capture places of the closure body [s, e), or null when the body holds anything this
 * reading does not understand.
 */
function capturePlaces(t: Tokens, s: number, e: number, outer: Map<string, Binding>, own: Set<string>): { places: string[][]; derefRoots: Set<string> } | null {
  const places: string[][] = [];
  const derefRoots = new Set<string>();
  const inner = new Set<string>();
  const shadowed = new Set<string>();
  // a top-level `let` of an outer name hides it from the end of its statement on
  const pending: Array<{ at: number; names: string[] }> = [];
  // match-arm patterns: not expressions
  const skip = new Map<number, number>();
  const block = ch(t, s) === LC && skipGroup(t, s, e) === e;
  let depth = 0;
  let fmtUntil = -1;

  const resolve = (w: string): 'inner' | 'outer' | 'unknown' => {
    if (own.has(w) || shadowed.has(w) || inner.has(w)) return 'inner';
    return outer.has(w) ? 'outer' : 'unknown';
  };
  // names bound by a nested pattern: fine unless they hide an outer name we cannot scope
  const bindInner = (names: string[]): boolean => {
    for (const n of names) {
      if (resolve(n) === 'outer') return false;
      inner.add(n);
    }
    return true;
  };

  for (let k = s; k < e; k++) {
    for (let j = pending.length - 1; j >= 0; j--) {
      if (pending[j].at > k) continue;
      for (const n of pending[j].names) shadowed.add(n);
      pending.splice(j, 1);
    }
    const sk = skip.get(k);
    if (sk !== undefined) { k = sk - 1; continue; }
    const kind = t.kind[k];
    if (kind === T_LIT) {
      if (k < fmtUntil && !inlineArgs(t.str(k), resolve, places)) return null;
      continue;
    }
    if (kind === T_LIFETIME) continue;
    if (kind !== T_IDENT) {
      const c = ch(t, k);
      if (c === LP || c === LB || c === LC) depth++;
      else if (c === RP || c === RB || c === RC) depth--;
      else if ((c === PIPE || t.is(k, '||')) && (k === s || !endsOperand(t, k - 1))) return null; // a nested closure
      else if ((t.is(k, '..') || t.is(k, '..=')) && (ch(t, k - 1) === COMMA || ch(t, k - 1) === LC)) return null; // struct update
      continue;
    }
    const w = t.str(k);
    if (ITEM_WORDS.has(w)) return null;
    if (w === 'let') {
      const pe = nextTopOf(t, k + 1, e, EQ, COLON, SEMI);
      const names = patternNames(t, k + 1, pe);
      const cond = t.is(k - 1, 'if') || t.is(k - 1, 'while') || t.is(k - 1, '&&');
      if (block && depth === 1 && !cond) {
        const hides = names.filter((n) => resolve(n) === 'outer');
        for (const n of names) if (!hides.includes(n)) inner.add(n);
        if (hides.length) pending.push({ at: nextTop(t, pe, e, SEMI) + 1, names: hides });
      } else if (!bindInner(names)) {
        return null;
      }
      // the pattern and its type are not expressions
      k = (ch(t, pe) === COLON ? typeEnd(t, pe + 1, e) : pe) - 1;
      continue;
    }
    if (w === 'for' && ch(t, k + 1) !== LT) {
      const inIdx = findIn(t, k + 1, e);
      if (inIdx >= e || !bindInner(patternNames(t, k + 1, inIdx))) return null;
      k = inIdx;
      continue;
    }
    if (w === 'match') {
      const open = nextTop(t, k + 1, e, LC);
      if (ch(t, open) !== LC) return null;
      if (!armPatterns(t, open + 1, skipGroup(t, open, e) - 1, skip, bindInner)) return null;
      continue;
    }
    if (w === 'as') {
      k = skipAsType(t, k + 1, e) - 1;
      continue;
    }
    if (ch(t, k + 1) === BANG && isOpener(ch(t, k + 2))) {
      if (!FORMAT_MACROS.has(w)) return null;
      fmtUntil = Math.max(fmtUntil, skipGroup(t, k + 2, e));
      k++;
      continue;
    }
    if (t.is(k - 1, '.') || t.is(k - 1, '::') || t.is(k + 1, '::')) continue;
    if (KEYWORDS.has(w) || isUpper(w)) continue;
    if (ch(t, k + 1) === COLON) continue; // a field name in a struct literal
    if (k < fmtUntil && ch(t, k + 1) === EQ) continue; // a named format argument
    const r = resolve(w);
    if (r === 'inner') continue;
    if (r === 'outer') {
      const p = placeAt(t, k, e);
      places.push(p.parts);
      const c = ch(t, p.end);
      const borrowed = ch(t, k - 1) === AMP || t.is(k - 1, '&&') || (t.is(k - 1, 'mut') && ch(t, k - 2) === AMP);
      // calls, indexing, `*`, and a bare name used by value (a `&mut dyn T` passed on is
      // reborrowed through) may reach an unsized pointee; `&x` and `x.field` cannot
      if (c === LP || c === LB || t.is(p.end, '.') || (ch(t, k - 1) === STAR && !endsOperand(t, k - 2)) || (p.parts.length === 1 && !borrowed)) derefRoots.add(w);
      continue;
    }
    if (ch(t, k + 1) === LP) continue; // a call of a fn item
    return null;
  }
  return { places, derefRoots };
}

/** The place rooted at identifier k: `state`, `state.a.b`, `pair.0`; cut before a method call. */
function placeAt(t: Tokens, k: number, e: number): { parts: string[]; end: number } {
  const parts = [t.str(k)];
  let j = k + 1;
  while (j + 1 < e && t.is(j, '.')) {
    const n = j + 1;
    if (t.kind[n] === T_IDENT) {
      if (t.is(n, 'await') || ch(t, n + 1) === LP || t.is(n + 1, '::')) break;
      parts.push(t.str(n));
    } else if (t.kind[n] === T_LIT && /^\d+(\.\d+)?$/.test(t.str(n))) {
      parts.push(...t.str(n).split('.')); // `x.0.1` lexes as `x` `.` `0.1`
    } else {
      break;
    }
    j += 2;
  }
  return { parts, end: j };
}

/** Records the arms' patterns of a match body [a, b) as skipped ranges and binds their names. */
function armPatterns(t: Tokens, a: number, b: number, skip: Map<number, number>, bind: (names: string[]) => boolean): boolean {
  let k = a;
  while (k < b) {
    k = parseAttrs(t, k, b).next;
    if (k >= b) break;
    let arrow = k;
    let guard = -1;
    while (arrow < b && !t.is(arrow, '=>')) {
      if (guard < 0 && t.is(arrow, 'if')) guard = arrow;
      if (isOpener(ch(t, arrow))) { arrow = skipGroup(t, arrow, b); continue; }
      arrow++;
    }
    if (arrow >= b) return false;
    const pe = guard >= 0 ? guard : arrow;
    if (!bind(patternNames(t, k, pe))) return false;
    skip.set(k, pe);
    let j = arrow + 1;
    if (ch(t, j) === LC) {
      j = skipGroup(t, j, b);
      if (ch(t, j) === COMMA) j++;
    } else {
      j = nextTop(t, j, b, COMMA) + 1;
    }
    k = Math.max(j, k + 1);
  }
  return true;
}

/** End of the type after `as` (a path, a pointer or reference, a group). */
function skipAsType(t: Tokens, k: number, lim: number): number {
  while (k < lim && (ch(t, k) === AMP || ch(t, k) === STAR || t.is(k, '&&') || t.is(k, 'mut') || t.is(k, 'const') || t.kind[k] === T_LIFETIME)) k++;
  if (isOpener(ch(t, k))) return skipGroup(t, k, lim);
  if (t.is(k, '::')) k++;
  while (k < lim && t.kind[k] === T_IDENT) {
    k++;
    if (t.is(k, '::') && ch(t, k + 1) === LT) k++;
    if (ch(t, k) === LT) k = skipAngles(t, k, lim);
    if (t.is(k, '::')) k++;
    else break;
  }
  return k;
}

/**
 * Names a format string literal captures inline (`"{state:?}"`). Returns false when one of them
 * resolves to nothing known (it may be a local this reading did not see).
 */
function inlineArgs(lit: string, resolve: (w: string) => 'inner' | 'outer' | 'unknown', places: string[][]): boolean {
  if (lit.charCodeAt(0) === 39 || !lit.includes('{')) return true;
  for (let i = 0; i < lit.length; i++) {
    if (lit.charCodeAt(i) !== LC) continue;
    if (lit.charCodeAt(i + 1) === LC) { i++; continue; }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(lit.slice(i + 1, i + 65));
    if (!m) continue;
    const after = lit.charCodeAt(i + 1 + m[0].length);
    if (after !== RC && after !== COLON) continue;
    const w = m[0];
    const r = resolve(w);
    if (r === 'outer') places.push([w]);
    else if (r === 'unknown' && !isUpper(w) && w !== '_') return false;
  }
  return true;
}

type Size = 'thin' | 'fat' | 'word' | 'other';

/** Is the pointee starting at k unsized (a slice, `str`, `dyn Trait`, ...)? */
function unsizedAt(t: Tokens, k: number, lim: number): boolean {
  if (ch(t, k) === LB) {
    const close = skipGroup(t, k, lim) - 1;
    return nextTop(t, k + 1, close, SEMI) >= close; // `[T]`, not `[T; N]`
  }
  return t.kind[k] === T_IDENT && UNSIZED.has(t.str(k));
}

/** Size class of the type [a, b): a thin or fat pointer, one plain word, or anything else. */
function typeSize(t: Tokens, a: number, b: number): Size {
  let k = a;
  if (k >= b) return 'other';
  if (t.is(k, '&&')) return 'thin';
  if (ch(t, k) === AMP || ch(t, k) === STAR) {
    k++;
    if (t.kind[k] === T_LIFETIME) k++;
    if (t.is(k, 'mut') || t.is(k, 'const')) k++;
    return unsizedAt(t, k, b) ? 'fat' : 'thin';
  }
  if (b - a === 1 && WORD_TYPES.has(t.str(a))) return 'word';
  while (k < b && (t.kind[k] === T_LIT || t.is(k, 'unsafe') || t.is(k, 'extern'))) k++;
  if (t.is(k, 'fn')) return 'thin'; // a fn pointer
  if (t.is(k, '::')) k++;
  while (k < b && t.kind[k] === T_IDENT) {
    const w = t.str(k);
    k++;
    if (ch(t, k) === LT) return SMART_POINTERS.has(w) ? (unsizedAt(t, k + 1, b) ? 'fat' : 'thin') : 'other';
    if (t.is(k, '::')) k++;
    else break;
  }
  return 'other';
}

/** Size class of a `let`'s initializer when it makes the type obvious. */
function initSize(t: Tokens, a: number, b: number): Size {
  for (let k = a; k < b; k++) if (t.is(k, 'dyn')) return 'fat';
  if (b - a === 1 && t.kind[a] === T_LIT) {
    const lit = t.str(a);
    if (!/^[0-9]/.test(lit)) return 'other';
    const hex = /^0[xob]/i.test(lit);
    return /(u64|i64|usize|isize)$/.test(lit) || (!hex && /f64$/.test(lit)) ? 'word' : 'other';
  }
  if (ch(t, a) === AMP || t.is(a, '&&')) {
    // `&x`, `&mut s.field`: a reference to a sized place; `&v[..]` may be a slice
    let k = a + 1;
    if (t.is(k, 'mut')) k++;
    for (let i = k; i < b; i++) {
      if (t.kind[i] === T_IDENT || t.is(i, '.') || (t.kind[i] === T_LIT && /^\d/.test(t.str(i)))) continue;
      return 'fat';
    }
    return k < b ? 'thin' : 'other';
  }
  if (t.isIdent(a) && SMART_POINTERS.has(t.str(a)) && t.is(a + 1, '::') && t.is(a + 2, 'new') && ch(t, a + 3) === LP) return 'thin';
  return 'other';
}

function bindingSize(t: Tokens, b: Binding): Size {
  if (b.selfRef) return 'thin';
  if (b.type) return typeSize(t, b.type[0], b.type[1]);
  if (b.init) return initSize(t, b.init[0], b.init[1]);
  return 'other';
}

function pointerLike(t: Tokens, b: Binding): boolean {
  const s = bindingSize(t, b);
  return s === 'thin' || s === 'fat';
}

function wordSized(t: Tokens, b: Binding): boolean {
  const s = bindingSize(t, b);
  return s === 'thin' || s === 'word';
}

/** Is the binding's type evident enough to rule out an unsized pointee behind an auto-deref? */
function knownPointee(t: Tokens, b: Binding): boolean {
  if (b.selfRef || b.selfValue || b.type) return true;
  if (!b.init) return false;
  if (initSize(t, b.init[0], b.init[1]) !== 'other') return true;
  // a literal, `State { .. }`, `App::new()`, `vec![..]`: a plain value
  const a = b.init[0];
  return t.kind[a] === T_LIT || (t.isIdent(a) && (isUpper(t.str(a)) || ch(t, a + 1) === BANG));
}

/** Might a by-reference capture of this binding's place be a fat pointer (an unsized pointee)? */
function maybeFat(t: Tokens, b: Binding): boolean {
  return bindingSize(t, b) === 'fat';
}
