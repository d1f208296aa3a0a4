// Calls the jump table cannot reach: code paths where patched functions keep running old code.
//
// Why: subsecond redirects only calls made through `subsecond::call` / `HotFn`; below a hot
// entry the new code calls the new code. But a value made before the patch keeps pointing at the
// old code: a trait object's vtable (`Box<dyn Shape>` built at startup), a boxed closure stored
// in a struct (`Box::new(move |e| ..)`), a function pointer a framework stored (an axum route),
// and a hot closure subsecond mistakes for a fn pointer (closures.ts) calls the original code.
//
// Owns: the token-level facts the analyzer needs to say so, each read on demand for functions
// whose body changed: where a trait is used as `dyn Trait` in a snapshot, the closures a
// function stores (`Box::new(|..| ..)`, `Arc::new(cb)`, `Timer { f: || .. }`) with their hashes, and the
// functions a never-patched hot closure calls directly.
// Must never: throw (every loop is bounded), or claim more than it saw: a `dyn` in a comment or
// a string is not a use, an unmatched closure list is not a changed closure.

import { Hasher, lex, Tokens, T_IDENT } from './lexer';
import type { ItemModel, NeverPatchedClosure, Placed } from './model';
import { ch, skipGroup } from './shapes';
import type { Snapshot } from './snapshot';

const LP = 40, RP = 41, LB = 91, RB = 93, LC = 123, RC = 125, PIPE = 124;

export interface DynUse {
  /** Index of `dyn` in the snapshot's text. */
  at: number;
  len: number;
  /** As written around it: `Box<dyn Shape>`, `&dyn Shape`, `dyn Shape`. */
  display: string;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const dynCache = new WeakMap<Snapshot, Map<string, DynUse | null>>();

/** The first place snapshot `s` uses trait `base` (last path segment) as `dyn base`, in code. Cached per snapshot. */
export function dynUse(s: Snapshot, base: string): DynUse | undefined {
  if (!base || !s.text.includes('dyn')) return undefined;
  let m = dynCache.get(s);
  if (!m) dynCache.set(s, (m = new Map()));
  let hit = m.get(base);
  if (hit === undefined) m.set(base, (hit = findDyn(s, base) ?? null));
  return hit ?? undefined;
}

function findDyn(s: Snapshot, base: string): DynUse | undefined {
  const re = new RegExp(`\\bdyn\\s+(?:(?:[A-Za-z_][A-Za-z0-9_]*|crate|self|super)\\s*::\\s*)*${escapeRe(base)}\\b(?!\\s*::)`, 'g');
  const text = s.text;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    // confirm it is code: lex its line (a `//` comment or a string there drops the token)
    const lineStart = text.lastIndexOf('\n', m.index) + 1;
    const lineEnd = text.indexOf('\n', m.index);
    const t = lex(text, lineStart, lineEnd < 0 ? text.length : lineEnd);
    let ok = false;
    for (let k = 0; k < t.n; k++) if (t.start[k] === m.index && t.is(k, 'dyn')) { ok = true; break; }
    if (!ok || inBlockComment(text, m.index)) continue;
    const before = text.slice(Math.max(0, m.index - 12), m.index).replace(/\s+$/, '');
    const w = /(Box|Arc|Rc)\s*<$/.exec(before);
    const written = m[0].replace(/\s+/g, ' ').replace(/ ?:: ?/g, '::');
    const display = w ? `${w[1]}<${written}>` : /&(\s*mut)?$/.test(before) ? `&${/mut$/.test(before) ? 'mut ' : ''}${written}` : written;
    return { at: m.index, len: m[0].length, display };
  }
  return undefined;
}

// Is index i inside a block comment that started on an earlier line? (cheap, errs towards yes)
function inBlockComment(text: string, i: number): boolean {
  const open = text.lastIndexOf('/*', i);
  if (open < 0) return false;
  const close = text.lastIndexOf('*/', i);
  return close < open;
}

export interface BoxedClosure {
  /** The closure head (`|..|`, `move |..|`), relative to the function's unit start. */
  rel: number;
  len: number;
  hash: number;
  /** `Box::new`, `Arc::new`, `Rc::new`, or the struct literal holding it: `Timer { .. }`. */
  wrapper: string;
}

const cache = new WeakMap<ItemModel, BoxedClosure[]>();

/**
 * Closures the function `p` of snapshot `s` stores: passed to `Box::new` / `Arc::new` /
 * `Rc::new` (directly, or bound by a `let` and boxed by name), or written as a struct literal's
 * field value. In text order. Cached per model (position-free: a model is reused only while its
 * text is).
 */
export function boxedClosures(s: Snapshot, p: Placed): BoxedClosure[] {
  let list = cache.get(p.m);
  if (list) return list;
  list = [];
  const f = p.m.fn;
  if (f && f.bodyLen) {
    const from = p.at + f.bodyRel;
    const to = from + f.bodyLen;
    if (s.text.slice(from, to).includes('|')) list = storedClosures(lex(s.text, from, to), p.at);
  }
  cache.set(p.m, list);
  return list;
}

/** Is there a closure head (`move`? then `|` or `||`) at k? Returns the index of its last head token, or -1. */
function closureHead(t: Tokens, k: number, lim: number): number {
  let h = k;
  if (t.is(h, 'move')) h++;
  if (t.is(h, '||')) return h;
  if (ch(t, h) !== PIPE) return -1;
  let e = h + 1;
  while (e < lim && ch(t, e) !== PIPE) {
    const d = ch(t, e);
    e = d === LP || d === LB || d === LC ? skipGroup(t, e, lim) : e + 1;
  }
  return e < lim ? e : -1;
}

/** End (exclusive) of the expression starting at k: the first top-level `,` `;` or closer. */
function exprEnd(t: Tokens, k: number, lim: number): number {
  while (k < lim) {
    const d = ch(t, k);
    if (d === LP || d === LB || d === LC) { k = skipGroup(t, k, lim); continue; }
    if (d === RP || d === RB || d === RC || d === 44 || d === 59) return k;
    k++;
  }
  return lim;
}

function storedClosures(t: Tokens, unitStart: number): BoxedClosure[] {
  const out: BoxedClosure[] = [];
  const named = new Map<string, { a: number; head: number; e: number }>();
  const push = (a: number, headEnd: number, e: number, wrapper: string) => {
    const hs = new Hasher();
    hs.addTokens(t, a, e);
    out.push({ rel: t.start[a] - unitStart, len: t.end[headEnd] - t.start[a], hash: hs.value(), wrapper });
  };
  for (let k = 0; k < t.n; k++) {
    // `let cb = move |..| ..;`: boxed later by name
    if (t.is(k, 'let')) {
      let n = k + 1;
      if (t.is(n, 'mut')) n++;
      if (t.kind[n] !== T_IDENT) continue;
      // `=` after the name and an optional type (no `=` can sit inside a type)
      let eq = n + 1;
      while (eq < t.n && ch(t, eq) !== 61 && ch(t, eq) !== 59) {
        const d = ch(t, eq);
        eq = d === LP || d === LB || d === LC ? skipGroup(t, eq, t.n) : eq + 1;
      }
      if (ch(t, eq) !== 61) continue;
      const head = closureHead(t, eq + 1, t.n);
      if (head >= 0) named.set(t.str(n), { a: eq + 1, head, e: exprEnd(t, head + 1, t.n) });
      continue;
    }
    // `Box::new(|..| ..)`, `Arc::new(cb)`
    if ((t.is(k, 'Box') || t.is(k, 'Arc') || t.is(k, 'Rc')) && t.is(k + 1, '::') && t.is(k + 2, 'new') && ch(t, k + 3) === LP) {
      const close = skipGroup(t, k + 3, t.n) - 1;
      const wrapper = `${t.str(k)}::new`;
      const head = closureHead(t, k + 4, close);
      if (head >= 0) { push(k + 4, head, close, wrapper); continue; }
      if (t.kind[k + 4] === T_IDENT && k + 5 === close) {
        const c = named.get(t.str(k + 4));
        if (c) push(c.a, c.head, c.e, wrapper);
      }
      continue;
    }
    // `Timer { on_tick: move |..| .. }`: a closure stored in a struct field
    if (ch(t, k) === 58 && t.kind[k - 1] === T_IDENT && !t.is(k + 1, ':')) {
      const head = closureHead(t, k + 1, t.n);
      if (head < 0) continue;
      const open = enclosingBrace(t, k - 1);
      if (open > 0 && t.kind[open - 1] === T_IDENT && /^[A-Z]/.test(t.str(open - 1))) push(k + 1, head, exprEnd(t, head + 1, t.n), `${t.str(open - 1)} { .. }`);
    }
  }
  out.sort((x, y) => x.rel - y.rel);
  return out;
}

/** Index of the `{` directly enclosing token k (no other group in between), or -1. */
function enclosingBrace(t: Tokens, k: number): number {
  let depth = 0;
  for (let i = k; i >= 0; i--) {
    const d = ch(t, i);
    if (d === RP || d === RB || d === RC) depth++;
    else if (d === LP || d === LB || d === LC) {
      if (depth === 0) return d === LC ? i : -1;
      depth--;
    }
  }
  return -1;
}

export interface HotClosureCall {
  name: string;
  /** Written as a method call (`x.tick()`). */
  method: boolean;
  /** The never-patched closure's head in the snapshot's text. */
  at: number;
  len: number;
}

/** Functions the never-patched hot closure `c` of function `p` calls directly. */
export function closureCalls(s: Snapshot, p: Placed, c: NeverPatchedClosure): HotClosureCall[] {
  const f = p.m.fn;
  if (!f || !f.bodyLen) return [];
  const head = p.at + c.rel;
  const t: Tokens = lex(s.text, head, p.at + f.bodyRel + f.bodyLen);
  const out: HotClosureCall[] = [];
  let depth = 0;
  for (let k = 0; k < t.n; k++) {
    const d = ch(t, k);
    if (d === LP || d === LB || d === LC) depth++;
    else if (d === RP || d === RB || d === RC) {
      if (--depth < 0) break; // the end of the hot call's argument list
    } else if (t.kind[k] === T_IDENT && ch(t, k + 1) === LP && !t.is(k, 'move')) {
      out.push({ name: t.str(k), method: t.is(k - 1, '.'), at: head, len: c.len });
    }
  }
  return out;
}
