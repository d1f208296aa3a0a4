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
// function boxes (`Box::new(|..| ..)`, `Arc::new`, `Rc::new`) with their hashes, and the
// functions a never-patched hot closure calls directly.
// Must never: throw (every loop is bounded), or claim more than it saw: a `dyn` in a comment or
// a string is not a use, an unmatched closure list is not a changed closure.

import { Hasher, lex, Tokens, T_IDENT } from './lexer';
import type { ItemModel, NeverPatchedClosure, Placed } from './model';
import { ch, skipGroup } from './shapes';
import type { Snapshot } from './snapshot';

const LP = 40, RP = 41, LB = 91, RB = 93, LC = 123, RC = 125, LT = 60, PIPE = 124;

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
  /** `Box::new`, `Arc::new`, `Rc::new`. */
  wrapper: string;
}

const cache = new WeakMap<ItemModel, BoxedClosure[]>();

/**
 * Closures the function `p` of snapshot `s` passes straight to `Box::new` / `Arc::new` /
 * `Rc::new`. Cached per model (position-free: a model is reused only while its text is).
 */
export function boxedClosures(s: Snapshot, p: Placed): BoxedClosure[] {
  let list = cache.get(p.m);
  if (list) return list;
  list = [];
  const f = p.m.fn;
  if (f && f.bodyLen) {
    const from = p.at + f.bodyRel;
    const to = from + f.bodyLen;
    if (/\b(Box|Arc|Rc)\s*::\s*new\s*\(\s*(move\s*)?\|/.test(s.text.slice(from, to))) {
      const t = lex(s.text, from, to);
      for (let k = 0; k + 4 < t.n; k++) {
        if (!(t.is(k, 'Box') || t.is(k, 'Arc') || t.is(k, 'Rc')) || !t.is(k + 1, '::') || !t.is(k + 2, 'new') || ch(t, k + 3) !== LP) continue;
        let h = k + 4;
        if (t.is(h, 'move')) h++;
        if (ch(t, h) !== PIPE && !t.is(h, '||')) continue;
        const close = skipGroup(t, k + 3, t.n) - 1;
        let headEnd = h;
        if (ch(t, h) === PIPE) {
          headEnd = h + 1;
          while (headEnd < close && ch(t, headEnd) !== PIPE) {
            const d = ch(t, headEnd);
            headEnd = d === LP || d === LB || d === LC || d === LT ? skipGroup(t, headEnd, close) : headEnd + 1;
          }
        }
        const hs = new Hasher();
        hs.addTokens(t, k + 4, close);
        list.push({ rel: t.start[k + 4] - p.at, len: t.end[headEnd] - t.start[k + 4], hash: hs.value(), wrapper: `${t.str(k)}::new` });
      }
    }
  }
  cache.set(p.m, list);
  return list;
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
