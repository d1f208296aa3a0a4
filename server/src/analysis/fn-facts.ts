// What the rest of the toolchain needs to know about one function beyond its model: where it
// sits (inline mod path, impl self type and trait), whether it is generic, how it is inlined or
// exported, whether its body holds closures, and where its text starts.
//
// Owns: reading those facts on demand from the tokens of one placed function (the impl header
// for a method, the attributes and qualifiers just before `fn`, the generics and parameters
// after the name, the body for closures). Facts are position-free and cached per model object
// (a model object is reused only while its unit's text is unchanged, so the cache stays true).
// Must never: throw (callers get `undefined`), touch tree-sitter, or be needed on the save path
// of an untouched item (it runs only for functions that changed or are named by a finding).

import { lex, render, Tokens, T_IDENT, T_LIT } from './lexer';
import type { ItemModel, Placed } from './model';
import { baseOf, ch, parseGenerics, skipGroup } from './shapes';

const LP = 40, RP = 41, LB = 91, RB = 93, LC = 123, RC = 125, LT = 60, GT = 62;
const HASH = 35, BANG = 33, PIPE = 124, COMMA = 44, SEMI = 59;

export type InlineHint = 'none' | 'inline' | 'always' | 'never';

export interface ImplFacts {
  /** The trait of a trait impl as written (`fmt::Display`, `From<u32>`), undefined for an inherent impl. */
  trait?: string;
  /** Its last path segment without generic arguments: `Display`, `From`. */
  traitBase?: string;
  /** The self type as written, canonical spacing: `Panel<T>`, `[u8]`, `&'a T`. */
  self: string;
  /** Its last path segment without generic arguments, references and `dyn` stripped: `Panel`. */
  selfBase: string;
  /** The impl declares type or const parameters. */
  generic: boolean;
}

export interface FnFacts {
  /** Inline `mod` path inside the file: `['ui', 'widgets']`. */
  modPath: string[];
  name: string;
  impl?: ImplFacts;
  /** The function or its impl has type or const parameters (or `impl Trait` arguments). */
  generic: boolean;
  inline: InlineHint;
  /** `#[no_mangle]` / `#[export_name]`: its symbol is not a Rust path. */
  noMangle: boolean;
  /** A `#[cfg(..)]` / `#[cfg_attr(..)]` sits on it: it may not be compiled at all. */
  cfg: boolean;
  /** The arguments of a `#[hot(..)]` attribute (bevy_simple_subsecond_system), '' for a bare `#[hot]`. */
  hot?: string;
  async: boolean;
  /** Its body holds a closure or an async block (separate symbols: `f::{{closure}}`). */
  closures: boolean;
  /** Start of the function's text (its first attribute, visibility or qualifier), relative to the unit. */
  startRel: number;
}

const QUALIFIERS = new Set(['const', 'async', 'unsafe', 'extern', 'default', 'safe']);
const KEYWORDS = new Set([
  'as', 'break', 'const', 'continue', 'crate', 'dyn', 'else', 'for', 'if', 'in', 'let', 'loop', 'match',
  'move', 'mut', 'pub', 'ref', 'return', 'static', 'super', 'unsafe', 'where', 'while', 'yield', 'async',
]);

const cache = new WeakMap<ItemModel, FnFacts | null>();

/** The in-file mod path of an item, from its identity key. */
export function modPathOf(m: ItemModel): string[] {
  const segs = m.key.split('::');
  const out: string[] = [];
  const isMethod = m.fn?.selfType !== undefined;
  for (let i = 0; i < segs.length - 1; i++) {
    const s = segs[i];
    if (isMethod && (s.startsWith('impl ') || s.startsWith('impl<'))) break;
    out.push(s);
  }
  return out;
}

/** Facts about the placed function `p` of `text`, or undefined when it is not a function with a body. */
export function fnFacts(text: string, p: Placed): FnFacts | undefined {
  const m = p.m;
  const f = m.fn;
  if (m.kind !== 'fn' || !f || !f.bodyLen) return undefined;
  const hit = cache.get(m);
  if (hit !== undefined) return hit ?? undefined;
  let res: FnFacts | null = null;
  try {
    res = readFacts(text, p);
  } catch {
    res = null;
  }
  cache.set(m, res);
  return res ?? undefined;
}

function readFacts(text: string, p: Placed): FnFacts | null {
  const m = p.m;
  const f = m.fn!;
  const nameAt = p.at + m.nameRel;
  const bodyAt = p.at + f.bodyRel;
  const t = lex(text, p.at, bodyAt);
  let nameIdx = -1;
  for (let i = t.n - 1; i >= 0; i--) {
    if (t.start[i] === nameAt) { nameIdx = i; break; }
    if (t.start[i] < nameAt) break;
  }
  if (nameIdx < 1 || !t.is(nameIdx - 1, 'fn')) return null;

  // generics and `impl Trait` arguments after the name
  let generic = false;
  const g = parseGenerics(t, nameIdx + 1, t.n);
  if (g.names.length) generic = true;
  if (ch(t, g.next) === LP) {
    const pe = skipGroup(t, g.next, t.n);
    for (let k = g.next + 1; k < pe; k++) if (t.is(k, 'impl') && t.kind[k] === T_IDENT) { generic = true; break; }
  }

  // qualifiers, visibility and attributes before `fn`, read backwards
  let k = nameIdx - 2;
  let isAsync = false;
  while (k >= 0 && (t.kind[k] === T_LIT || (t.kind[k] === T_IDENT && QUALIFIERS.has(t.str(k))))) {
    if (t.is(k, 'async')) isAsync = true;
    k--;
  }
  if (ch(t, k) === RP) {
    const open = matchBack(t, k);
    if (open > 0 && t.is(open - 1, 'pub')) k = open - 2;
  } else if (t.is(k, 'pub') || t.is(k, 'crate')) {
    k--;
  }
  let inline: InlineHint = 'none';
  let noMangle = false;
  let cfg = false;
  let hot: string | undefined;
  let first = k + 1;
  while (k >= 1 && ch(t, k) === RB) {
    const open = matchBack(t, k);
    if (open < 1 || ch(t, open) !== LB || ch(t, open - 1) !== HASH) break;
    const attr = readAttr(t, open + 1, k);
    if (attr.name === 'inline') inline = attr.args === 'always' ? 'always' : attr.args === 'never' ? 'never' : 'inline';
    else if (attr.name === 'no_mangle' || attr.name === 'export_name') noMangle = true;
    else if (attr.name === 'cfg' || attr.name === 'cfg_attr') cfg = true;
    else if (attr.name === 'hot') hot = attr.args;
    first = open - 1;
    k = open - 2;
  }

  const res: FnFacts = {
    modPath: modPathOf(m), name: t.str(nameIdx), generic, inline, noMangle, cfg, async: isAsync,
    closures: hasClosures(text, bodyAt, bodyAt + f.bodyLen), startRel: (first < t.n ? t.start[first] : nameAt) - p.at,
  };
  if (hot !== undefined) res.hot = hot;
  if (f.selfType !== undefined) {
    const im = readImplHeader(t, nameIdx);
    if (!im) return null;
    res.impl = im;
    if (im.generic) res.generic = true;
  }
  return res;
}

/** Index of the opener matching the closer at k, scanning backwards; -1 when unmatched. */
export function matchBack(t: Tokens, k: number): number {
  let depth = 0;
  for (let i = k; i >= 0; i--) {
    const c = ch(t, i);
    if (c === RP || c === RB || c === RC) depth++;
    else if (c === LP || c === LB || c === LC) {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function readAttr(t: Tokens, a: number, b: number): { name: string; args: string } {
  let k = a;
  // `#[unsafe(no_mangle)]`
  if (t.is(k, 'unsafe') && ch(t, k + 1) === LP) k += 2;
  let name = '';
  while (k < b && t.kind[k] === T_IDENT) {
    name = t.str(k);
    k++;
    if (t.is(k, '::')) k++;
    else break;
  }
  let args = '';
  if (ch(t, k) === LP) args = render(t, k + 1, skipGroup(t, k, b) - 1);
  return { name, args };
}

/** The header of the impl a method (name at `nameIdx`) sits in: tokens from the unit start. */
function readImplHeader(t: Tokens, nameIdx: number): ImplFacts | null {
  let k = 0;
  while (k < nameIdx && ch(t, k) === HASH) {
    let j = k + 1;
    if (ch(t, j) === BANG) j++;
    if (ch(t, j) !== LB) break;
    k = skipGroup(t, j, nameIdx);
  }
  if (t.is(k, 'unsafe')) k++;
  if (!t.is(k, 'impl')) return null;
  const g = parseGenerics(t, k + 1, nameIdx);
  let forIdx = -1;
  let headEnd = -1;
  let angle = 0;
  for (let i = g.next; i < nameIdx; i++) {
    const c = ch(t, i);
    if (c === LC && angle === 0) { headEnd = i; break; }
    if (c === LP || c === LB) { i = skipGroup(t, i, nameIdx) - 1; continue; }
    if (c === LT) angle++;
    else if (c === GT && angle > 0) angle--;
    else if (angle === 0 && t.is(i, 'where')) { if (headEnd < 0) headEnd = i; }
    else if (angle === 0 && forIdx < 0 && headEnd < 0 && t.is(i, 'for') && ch(t, i + 1) !== LT) forIdx = i;
  }
  if (headEnd < 0) return null;
  let selfEnd = headEnd;
  for (let i = g.next; i < headEnd; i++) if (t.is(i, 'where')) { selfEnd = i; break; }
  const selfFrom = forIdx >= 0 ? forIdx + 1 : g.next;
  const out: ImplFacts = { self: render(t, selfFrom, selfEnd), selfBase: baseOf(t, selfFrom, selfEnd), generic: g.names.length > 0 };
  if (forIdx >= 0) {
    let from = g.next;
    if (ch(t, from) === BANG) from++; // negative impls have no methods, but be exact
    out.trait = render(t, g.next, forIdx);
    out.traitBase = baseOf(t, from, forIdx);
  }
  return out;
}

/** Does the body text[from, to) hold a closure or an async block? */
export function hasClosures(text: string, from: number, to: number): boolean {
  const s = text.slice(from, to);
  if (!s.includes('|') && !s.includes('async')) return false;
  const t = lex(text, from, to);
  for (let k = 0; k < t.n; k++) {
    if (t.is(k, 'async') && (ch(t, k + 1) === LC || t.is(k + 1, 'move'))) return true;
    if ((ch(t, k) === PIPE || t.is(k, '||')) && !endsOperand(t, k - 1)) return true;
  }
  return false;
}

/** Macros whose expansion holds no closure (std's formatting, assertion and literal macros). */
const CLOSURE_FREE_MACROS = new Set([
  'println', 'print', 'eprintln', 'eprint', 'format', 'format_args', 'write', 'writeln', 'panic', 'assert',
  'assert_eq', 'assert_ne', 'debug_assert', 'debug_assert_eq', 'debug_assert_ne', 'dbg', 'vec', 'todo',
  'unimplemented', 'unreachable', 'matches', 'concat', 'stringify', 'include_str', 'include_bytes', 'env',
  'option_env', 'line', 'file', 'column', 'module_path', 'cfg', 'compile_error',
]);

/** A closure or async block of a function body (or a macro call that may expand to closures): its head and its whole text. */
export interface ClosureShape {
  /** `move |x: u32|`, `|| -> u32`, `async move`; `info!` for a macro call. */
  head: string;
  /** Head and body, tokens joined by single spaces (up to the `,` / `;` / bracket ending it). */
  text: string;
}

/**
 * The closures and async blocks between `from` and `to`, in document order (nested ones included),
 * and the calls of macros that may expand to closures (`info!`: tracing's do). rustc numbers a
 * function's closures in this order (`{closure#N}` per parent), so lists that differ may mean a
 * closure's name now belongs to another closure. `undefined` when the text could not be read.
 */
export function closureShapes(text: string, from: number, to: number): ClosureShape[] | undefined {
  const s = text.slice(from, to);
  if (!s.includes('|') && !s.includes('async') && !s.includes('!')) return [];
  try {
    const t = lex(text, from, to);
    const out: ClosureShape[] = [];
    const words = (a: number, b: number) => {
      const w: string[] = [];
      for (let i = a; i < b && i < t.n; i++) w.push(t.str(i));
      return w.join(' ');
    };
    /** Index after the body starting at k: a `{…}` group, or an expression up to `,` `;` or a closing bracket. */
    const bodyEnd = (k: number) => {
      if (ch(t, k) === LC) return skipGroup(t, k, t.n);
      let e = k;
      for (let depth = 0; e < t.n; e++) {
        const c = ch(t, e);
        if (c === LP || c === LB || c === LC) depth++;
        else if (c === RP || c === RB || c === RC) {
          if (depth === 0) break;
          depth--;
        } else if (depth === 0 && (c === COMMA || c === SEMI)) break;
      }
      return e;
    };
    for (let k = 0; k < t.n; k++) {
      const start = t.is(k - 1, 'move') ? k - 1 : k;
      const move = start < k ? 'move ' : '';
      let headEnd = -1;
      let head = '';
      if (t.kind[k] === T_IDENT && ch(t, k + 1) === BANG && (ch(t, k + 2) === LP || ch(t, k + 2) === LB || ch(t, k + 2) === LC) && !t.is(k - 1, '.')) {
        const name = t.str(k);
        if (!CLOSURE_FREE_MACROS.has(name)) out.push({ head: `${name}!`, text: words(k, skipGroup(t, k + 2, t.n)) });
        continue; // closures written in its arguments come next
      }
      if (t.is(k, 'async') && (ch(t, k + 1) === LC || t.is(k + 1, 'move'))) {
        headEnd = t.is(k + 1, 'move') ? k + 2 : k + 1;
        head = t.is(k + 1, 'move') ? 'async move' : 'async';
      } else if (t.is(k, '||') && !endsOperand(t, k - 1)) {
        headEnd = k + 1;
        head = `${move}||`;
      } else if (ch(t, k) === PIPE && !endsOperand(t, k - 1)) {
        // the parameters up to the closing `|` outside brackets
        let e = k + 1;
        for (let depth = 0; e < t.n; e++) {
          const c = ch(t, e);
          if (c === LP || c === LB || c === LC) depth++;
          else if (c === RP || c === RB || c === RC) depth--;
          else if (depth === 0 && c === PIPE) break;
        }
        headEnd = e + 1;
        head = `${move}|${words(k + 1, e)}|`;
      }
      if (headEnd < 0) continue;
      // a return type (`|x| -> u32 { … }`) belongs to the head: another one is another signature
      let b = headEnd;
      if (t.is(b, '->')) {
        while (b < t.n && ch(t, b) !== LC) b++;
        head = `${head} ${words(headEnd, b)}`;
      }
      out.push({ head, text: words(start, bodyEnd(b)) });
      k = headEnd - 1; // nested closures come next, in document order
    }
    return out;
  } catch {
    return undefined;
  }
}

/** Does the token at k end an operand (so a following `|` is an operator, not a closure)? */
export function endsOperand(t: Tokens, k: number): boolean {
  if (k < 0) return false;
  const kind = t.kind[k];
  if (kind === T_LIT) return true;
  if (kind === T_IDENT) {
    const w = t.str(k);
    return !KEYWORDS.has(w) || w === 'true' || w === 'false';
  }
  const c = ch(t, k);
  return c === RP || c === RB || t.is(k, '?');
}
