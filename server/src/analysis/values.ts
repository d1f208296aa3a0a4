// Functions passed as values: a name referenced without being called (`add_systems(Update,
// movement)`, `get(handler)`, `Foo { f: handler }`, `let f: fn() = handler`).
//
// Why: whoever stores such a value before a patch keeps the code it pointed at. A framework that
// calls it through `HotFn` (Bevy's systems and observers) follows body changes but not signature
// changes: a new signature is a new monomorphization the schedule never calls. Anyone calling
// it directly (an axum route, a callback field) keeps running the old code either way.
//
// Owns: finding, in one snapshot, the sites where a given function name is used as a value, and
// naming the call or construct that receives it (the registration). Only function bodies are
// read (a `use` list is not a use), and only on demand: the analyzer asks for the names of the
// functions an edit changed, so nothing is scanned on saves that change no function.
// What is a value site: the name, or a path ending in it, not preceded by `.`, followed by `,`
// `)` `]` `}` `;` `as` or a method call (`movement.run_if(..)`), and preceded by `(` `,` `[` `{`
// `=` `:` `=>` `&` or `return`. A bare name bound anywhere in the enclosing function (parameter,
// `let`, closure parameter, `for` / match pattern, nested fn, struct field name) is never taken:
// it may be a local. Arguments of calls that run the function right away (`map`, `filter`,
// `and_then`, `sort_by_key`, ...) are not registrations.
// Must never: throw (the analyzer catches, but every loop is bounded), or keep positions across
// versions (results are per snapshot).

import { lex, Tokens, T_IDENT, T_LIT } from './lexer';
import type { Placed } from './model';
import { ch, skipAngles, skipGroup } from './shapes';
import type { Snapshot } from './snapshot';
import { endsOperand, matchBack } from './fn-facts';

const LP = 40, RP = 41, LB = 91, RB = 93, LC = 123, RC = 125, LT = 60;
const COMMA = 44, SEMI = 59, EQ = 61, COLON = 58, AMP = 38, PIPE = 124, BANG = 33, AT = 64;

/** Calls that invoke a function argument before they return: not a registration. */
const IMMEDIATE = new Set([
  'map', 'filter', 'filter_map', 'flat_map', 'for_each', 'try_for_each', 'fold', 'try_fold', 'reduce', 'any', 'all',
  'find', 'find_map', 'position', 'rposition', 'take_while', 'skip_while', 'map_while', 'inspect', 'max_by_key',
  'min_by_key', 'max_by', 'min_by', 'sort_by', 'sort_by_key', 'sort_unstable_by', 'sort_unstable_by_key',
  'sort_by_cached_key', 'binary_search_by', 'binary_search_by_key', 'dedup_by', 'dedup_by_key', 'retain',
  'retain_mut', 'partition', 'scan', 'and_then', 'or_else', 'map_err', 'map_or', 'map_or_else', 'unwrap_or_else',
  'ok_or_else', 'get_or_insert_with', 'or_insert_with', 'or_insert_with_key', 'then', 'is_some_and', 'is_ok_and',
  'is_err_and', 'is_none_or', 'with', 'with_borrow', 'with_borrow_mut', 'chunk_by', 'split', 'splitn', 'rsplit',
  'matches', 'trim_matches', 'trim_start_matches', 'trim_end_matches', 'contains', 'starts_with', 'ends_with',
  'replace', 'call_once', 'scope', 'catch_unwind', 'from_fn', 'repeat_with', 'successors', 'get_or_init',
  'get_or_try_init', 'update', 'extract_if', 'drain_filter', 'zip_with', 'black_box', 'apply', 'run', 'call_mut',
  'max_by_partial', 'is_sorted_by', 'is_sorted_by_key', 'partition_point', 'split_inclusive', 'rsplitn',
]);
/** Wrappers the value passes through on its way to the registration. */
const WRAPPERS = new Set(['Some', 'Ok', 'Box::new', 'Arc::new', 'Rc::new', 'vec!', 'Box::pin', 'into', 'clone']);
/** System adapters whose arguments are systems too (Bevy): look further out for the registration. */
const SYSTEM_ARGS = new Set(['run_if', 'distributive_run_if', 'pipe', 'piped']);
/** Ordering labels, not registrations. */
const LABEL_ARGS = new Set(['after', 'before', 'ambiguous_with', 'in_set', 'after_ignore_deferred', 'before_ignore_deferred']);
/** Registrations whose functions are called through `HotFn` (a body change goes live): Bevy, `dioxus::launch`. */
export const HOT_REGISTRARS = new Set(['launch', 'add_systems', 'add_observer', 'observe', 'add_system', 'add_startup_system', 'register_system', 'run_system_once', 'run_system_cached', 'run_system_cached_with']);
/** Hot-call sites: their functions are hot entries, judged elsewhere. */
const HOT_CALLS = new Set(['call', 'current', 'hot!']);

const KEYWORDS = new Set([
  'as', 'async', 'await', 'break', 'const', 'continue', 'crate', 'dyn', 'else', 'false', 'for', 'if', 'in', 'let',
  'loop', 'match', 'move', 'mut', 'pub', 'ref', 'return', 'static', 'super', 'true', 'unsafe', 'where', 'while',
  'yield', 'self', 'Self', 'fn', 'impl', 'use', 'mod', 'struct', 'enum', 'trait', 'type',
]);

export interface ValueSite {
  /** The name token's text range in the snapshot's text. */
  at: number;
  len: number;
  /** The qualifier right before the name (`Self`, `Player`, `systems`), if a path. */
  qual?: string;
  /** What receives the value: `add_systems`, `get`, `Handlers { .. }`, `let f`, or '' when unclear. */
  context: string;
  /** Received by a Bevy registration that calls through `HotFn`. */
  hotRegistrar: boolean;
  /** For `add_systems`: its first argument (`Startup`, `Update`), when a plain name. */
  schedule?: string;
  /** The called function's own name when a call receives the value (`get`, `hot`). */
  callee?: string;
  /** The function whose body holds the site. */
  holder: Placed;
}

interface Body {
  from: number;
  to: number;
  /** Where to start lexing: the fn's name (its parameters are bindings). */
  lexFrom: number;
  p: Placed;
}

const bodiesCache = new WeakMap<Snapshot, Body[]>();

function bodiesOf(s: Snapshot): Body[] {
  let list = bodiesCache.get(s);
  if (list) return list;
  list = [];
  for (const p of s.items) {
    const f = p.m.fn;
    if (p.m.kind !== 'fn' || !f || !f.bodyLen || p.m.unknown) continue;
    list.push({ from: p.at + f.bodyRel, to: p.at + f.bodyRel + f.bodyLen, lexFrom: p.at + p.m.nameRel, p });
  }
  list.sort((a, b) => a.from - b.from);
  bodiesCache.set(s, list);
  return list;
}

function bodyAt(list: Body[], i: number): Body | undefined {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].from <= i) lo = mid + 1;
    else hi = mid;
  }
  const b = list[lo - 1];
  return b && i > b.from && i < b.to ? b : undefined;
}

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c > 127;
}

function isUpper(w: string): boolean {
  const c = w.charCodeAt(0);
  return c >= 65 && c <= 90;
}

/** Previous / next non-whitespace char code around [i, j). */
function prevChar(text: string, i: number): number {
  for (let k = i - 1; k >= 0 && k > i - 200; k--) {
    const c = text.charCodeAt(k);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return c;
  }
  return -1;
}
function nextChar(text: string, j: number): number {
  for (let k = j; k < text.length && k < j + 200; k++) {
    const c = text.charCodeAt(k);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return c;
  }
  return -1;
}

const sitesCache = new WeakMap<Snapshot, Map<string, ValueSite[]>>();

/**
 * Sites in snapshot `s` where function `name` is used as a value. `method`: look for associated
 * functions (a path `Type::name` / `Self::name`), else for free functions (a bare name or a path
 * through modules). Cached per snapshot (snapshots are immutable).
 */
export function valueSites(s: Snapshot, name: string, method: boolean): ValueSite[] {
  let m = sitesCache.get(s);
  if (!m) sitesCache.set(s, (m = new Map()));
  const key = `${method ? '::' : ''}${name}`;
  let out = m.get(key);
  if (!out) m.set(key, (out = scan(s, name, method, undefined)));
  return out;
}

/** The value sites of `name` inside one function `holder` of snapshot `s`. */
export function valueSitesIn(s: Snapshot, holder: Placed, name: string, method: boolean): ValueSite[] {
  return scan(s, name, method, holder);
}

function scan(s: Snapshot, name: string, method: boolean, only: Placed | undefined): ValueSite[] {
  const out: ValueSite[] = [];
  if (!name) return out;
  const text = s.text;
  const needle = method ? `::${name}` : name;
  if (!only && text.indexOf(needle) < 0) return out; // most files: never named
  let bodies = bodiesOf(s);
  if (only) bodies = bodies.filter((b) => b.p === only);
  if (!bodies.length) return out;
  const from = only ? bodies[0].from : 0;
  const to = only ? bodies[0].to : text.length;
  // candidate occurrences, grouped by enclosing body (text order keeps groups contiguous)
  const groups = new Map<Body, number[]>();
  // a method is named through a path (`Self::name`): look for `::name` (spaces around `::` are not seen)
  const skip = needle.length - name.length;
  for (let n = text.indexOf(needle, from); n >= 0 && n < to; n = text.indexOf(needle, n + needle.length)) {
    const i = n + skip;
    const j = i + name.length;
    if ((i > 0 && isWordChar(text.charCodeAt(i - 1))) || (j < text.length && isWordChar(text.charCodeAt(j)))) continue;
    const pc = prevChar(text, i);
    if (pc === 46) continue; // `.name`: a field or a method call
    const nc = nextChar(text, j);
    if (nc === LP || nc === BANG) continue; // a call or a macro
    const b = bodyAt(bodies, i);
    if (!b) continue;
    let g = groups.get(b);
    if (!g) groups.set(b, (g = []));
    g.push(i);
  }
  for (const [b, at] of groups) {
    const t = lex(text, b.lexFrom, b.to);
    let scope: Scope | undefined;
    for (const i of at) {
      const k = tokenAt(t, i);
      if (k < 0 || t.kind[k] !== T_IDENT || t.end[k] - t.start[k] !== name.length) continue;
      if (!scope) scope = readScope(t);
      const site = judge(t, k, method, scope, b.p);
      if (site) out.push(site);
    }
  }
  return out;
}

function tokenAt(t: Tokens, i: number): number {
  let lo = 0;
  let hi = t.n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (t.start[mid] < i) lo = mid + 1;
    else hi = mid;
  }
  return lo < t.n && t.start[lo] === i ? lo : -1;
}

interface Scope {
  /** Names bound anywhere in the function: a bare use of one may be a local. */
  locals: Set<string>;
  /** Token ranges of `use` declarations inside the body. */
  uses: Array<[number, number]>;
}

function addPatternNames(t: Tokens, a: number, b: number, out: Set<string>): void {
  for (let k = a; k < b; k++) {
    if (t.kind[k] !== T_IDENT) continue;
    const w = t.str(k);
    if (KEYWORDS.has(w) || isUpper(w)) continue;
    if (t.is(k - 1, '::') || t.is(k + 1, '::') || t.is(k - 1, '.')) continue;
    const n = ch(t, k + 1);
    if (n === LP || n === LC || n === BANG) continue;
    out.add(w);
  }
}

/** End of a `let` / `for` pattern starting at k: the first top-level `=`, `:`, `;`, `in` or `else`. */
function patternEnd(t: Tokens, k: number, lim: number): number {
  while (k < lim) {
    const c = ch(t, k);
    if (c === LP || c === LB || c === LC) {
      if (c === LC && !isUpper(t.str(k - 1))) return k;
      k = skipGroup(t, k, lim);
      continue;
    }
    if (c === EQ || c === COLON || c === SEMI || c === RP || c === RB || c === RC || t.is(k, 'in') || t.is(k, 'else')) return k;
    k++;
  }
  return lim;
}

function readScope(t: Tokens): Scope {
  const locals = new Set<string>();
  const uses: Array<[number, number]> = [];
  for (let k = 0; k < t.n; k++) {
    const kind = t.kind[k];
    if (kind === T_IDENT) {
      const w = t.str(k);
      if (w === 'let' || (w === 'for' && ch(t, k + 1) !== LT)) {
        addPatternNames(t, k + 1, patternEnd(t, k + 1, t.n), locals);
      } else if (w === 'fn' && t.kind[k + 1] === T_IDENT) {
        locals.add(t.str(k + 1));
      } else if (w === 'use' && (k === 0 || ch(t, k - 1) === SEMI || ch(t, k - 1) === LC || ch(t, k - 1) === RC || t.is(k - 1, 'pub'))) {
        let e = k + 1;
        while (e < t.n && ch(t, e) !== SEMI) e++;
        uses.push([k, e]);
        k = e;
      } else if ((w === 'ref' || w === 'mut') && t.kind[k + 1] === T_IDENT) {
        locals.add(t.str(k + 1));
      } else if (!KEYWORDS.has(w) && !isUpper(w) && !t.is(k - 1, '::') && !t.is(k - 1, '.')) {
        // a parameter, a struct field name, a binding `x @ ..`
        const n = ch(t, k + 1);
        if (n === COLON || n === AT) locals.add(w);
      }
      continue;
    }
    if (kind === T_LIT) continue;
    const c = ch(t, k);
    if ((c === PIPE || t.is(k, '||')) && !endsOperand(t, k - 1)) {
      if (c === PIPE) {
        let e = k + 1;
        while (e < t.n && ch(t, e) !== PIPE) {
          const d = ch(t, e);
          e = d === LP || d === LB || d === LC ? skipGroup(t, e, t.n) : e + 1;
        }
        addPatternNames(t, k + 1, e, locals);
        k = e;
      }
      continue;
    }
    if (t.is(k, '=>')) {
      // a match arm's pattern: back to the previous `,` `{` `}` at the same depth
      let depth = 0;
      let a = k - 1;
      for (; a >= 0; a--) {
        const d = ch(t, a);
        if (d === RP || d === RB || d === RC) {
          if (d === RC && depth === 0) break;
          depth++;
        } else if (d === LP || d === LB || d === LC) {
          if (depth === 0) break;
          depth--;
        } else if (d === COMMA && depth === 0) break;
      }
      addPatternNames(t, a + 1, k, locals);
    }
  }
  return { locals, uses };
}

/** Index of the unmatched opener before k, or -1. */
function enclosingOpener(t: Tokens, k: number): number {
  let depth = 0;
  for (let i = k; i >= 0; i--) {
    const c = ch(t, i);
    if (c === RP || c === RB || c === RC) depth++;
    else if (c === LP || c === LB || c === LC) {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}

interface Callee {
  name: string;
  display: string;
  method: boolean;
}

/** The function or macro called with the group opening at `o` (a `(`), if any. */
function calleeOf(t: Tokens, o: number): Callee | undefined {
  let k = o - 1;
  if (ch(t, k) === BANG && t.kind[k - 1] === T_IDENT) return { name: `${t.str(k - 1)}!`, display: `${t.str(k - 1)}!`, method: false };
  if (ch(t, k) === 62) {
    // a turbofish: `name::<T>(`
    let depth = 0;
    for (; k >= 0; k--) {
      const c = ch(t, k);
      if (c === 62) depth++;
      else if (c === LT && --depth === 0) break;
    }
    k -= t.is(k - 1, '::') ? 2 : 1;
  }
  if (t.kind[k] !== T_IDENT) return undefined;
  const name = t.str(k);
  if (KEYWORDS.has(name) && name !== 'Self') return undefined;
  const method = t.is(k - 1, '.');
  const qual = t.is(k - 1, '::') && t.kind[k - 2] === T_IDENT ? t.str(k - 2) : '';
  return { name, display: qual ? `${qual}::${name}` : name, method };
}

interface Context {
  context: string;
  hotRegistrar: boolean;
  schedule?: string;
  callee?: string;
}

/** What receives the value whose path starts at token `ps`; undefined when it is not a registration. */
function contextOf(t: Tokens, ps: number): Context | undefined {
  let k = ps - 1;
  for (let level = 0; level < 8; level++) {
    const o = enclosingOpener(t, k);
    if (o < 0) return { context: '', hotRegistrar: false };
    const c = ch(t, o);
    if (c === LP) {
      const callee = calleeOf(t, o);
      if (callee) {
        if (HOT_CALLS.has(callee.name) || (callee.name === 'current' && callee.display === 'HotFn::current')) return undefined;
        if (IMMEDIATE.has(callee.name) || LABEL_ARGS.has(callee.name)) return undefined;
        if (!(WRAPPERS.has(callee.display) || WRAPPERS.has(callee.name) || (callee.method && SYSTEM_ARGS.has(callee.name)))) {
          const ctx: Context = { context: callee.display, hotRegistrar: HOT_REGISTRARS.has(callee.name), callee: callee.name };
          if (callee.name === 'add_systems' && t.kind[o + 1] === T_IDENT && ch(t, o + 2) === COMMA) ctx.schedule = t.str(o + 1);
          return ctx;
        }
        // through a wrapper or a system adapter: the receiver's registration counts
        k = o - 1;
        if (callee.method) {
          // `a.run_if(cond)`: continue from the start of the receiver chain
          let r = o - 2; // the `.`
          while (r > 0) {
            const d = ch(t, r - 1);
            if (d === RP || d === RB) { r = Math.max(0, matchBack(t, r - 1)); continue; }
            if (t.kind[r - 1] === T_IDENT || t.is(r - 1, '.') || t.is(r - 1, '::')) { r--; continue; }
            break;
          }
          k = r - 1;
        }
        continue;
      }
      k = o - 1; // a tuple or a parenthesized expression
      continue;
    }
    if (c === LB) { k = o - 1; continue; }
    // `{`: a struct literal, or a block
    if (t.kind[o - 1] === T_IDENT && isUpper(t.str(o - 1))) return { context: `${t.str(o - 1)} { .. }`, hotRegistrar: false };
    break;
  }
  // a statement: `let f = name;`, `self.f = name;`
  for (let i = ps - 1; i >= 0 && i > ps - 64; i--) {
    const c = ch(t, i);
    if (c === SEMI || c === LC || c === RC) break;
    if (t.is(i, 'let')) {
      const n = t.is(i + 1, 'mut') ? i + 2 : i + 1;
      return { context: t.kind[n] === T_IDENT ? `let ${t.str(n)}` : 'let', hotRegistrar: false };
    }
  }
  return { context: '', hotRegistrar: false };
}


function judge(t: Tokens, k: number, method: boolean, scope: Scope, holder: Placed): ValueSite | undefined {
  if (t.is(k - 1, '.')) return undefined;
  for (const [a, b] of scope.uses) if (k > a && k <= b) return undefined;
  // the path ending at k
  let ps = k;
  while (t.is(ps - 1, '::')) {
    if (t.kind[ps - 2] !== T_IDENT) return undefined; // `<T as Tr>::name`, `Vec::<T>::name`
    ps -= 2;
  }
  const qual = ps < k ? t.str(k - 2) : undefined;
  if (method) {
    if (!qual || !(qual === 'Self' || isUpper(qual))) return undefined;
  } else {
    if (qual && (isUpper(qual) || qual === 'Self')) return undefined;
    if (!qual && scope.locals.has(t.str(k))) return undefined;
  }
  // after the name: an optional turbofish, then the end of an expression or a method call
  let j = k + 1;
  if (t.is(j, '::') && ch(t, j + 1) === LT) j = skipAngles(t, j + 1, t.n);
  const nc = ch(t, j);
  const follows = nc === COMMA || nc === RP || nc === RB || nc === RC || nc === SEMI || t.is(j, 'as')
    || (t.is(j, '.') && t.kind[j + 1] === T_IDENT && (ch(t, j + 2) === LP || t.is(j + 2, '::')));
  if (!follows) return undefined;
  const p = ps - 1;
  const pc = ch(t, p);
  const precedes = pc === LP || pc === COMMA || pc === LB || pc === LC || pc === EQ || pc === COLON || t.is(p, '=>')
    || (pc === AMP && !endsOperand(t, p - 1)) || t.is(p, 'return');
  if (!precedes) return undefined;
  const ctx = contextOf(t, ps);
  if (!ctx || !ctx.context) return undefined; // a block's value, a return: not evidently stored
  const site: ValueSite = { at: t.start[k], len: t.end[k] - t.start[k], context: ctx.context, hotRegistrar: ctx.hotRegistrar, holder };
  if (qual) site.qual = qual;
  if (ctx.schedule) site.schedule = ctx.schedule;
  if (ctx.callee) site.callee = ctx.callee;
  return site;
}
