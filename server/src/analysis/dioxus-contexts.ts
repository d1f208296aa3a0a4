// Dioxus contexts: a value provided with `use_context_provider(|| Theme::default())` /
// `provide_context(Theme { .. })` and read with `use_context::<Theme>()` / `consume_context()`.
// Dioxus 0.7 keeps a provided value in the providing component's scope and finds it by its type
// id (dioxus-core scope_context.rs); `use_context` caches it in a hook, also by type id. A type
// whose layout changed keeps its type id: a patched component reading the context gets the old
// value and reads it with the new layout. That is already a restart-class layout finding on the
// type; this file finds which components provide and read it, so that finding names them (and
// points at them) instead of a second finding being made.
//
// Read from the function bodies' tokens: the turbofish (`use_context::<T>()`), a binding's type
// (`let t: T = use_context();`), and for providers the value's leading type path (`Theme::new()`,
// `Theme { .. }`, through `Signal::new(..)`, `Rc::new(..)` and friends). Names are last path
// segments, matched like the analysis matches embedded types by name.
import type { Draft } from './diff';
import { lex, T_IDENT, type Tokens } from './lexer';
import type { Placed } from './model';
import type { Finding, SourceRange } from './types';
import { skipAngles, skipGroup } from './shapes';
import type { Snapshot } from './snapshot';

export interface ContextUse {
  /** Type names the context value is or wraps (`Signal<Theme>`: Signal, Theme). */
  types: string[];
  role: 'provides' | 'reads';
  /** The function whose body has the call (`App`, `ui::Footer`). */
  fn: string;
  /** The call's name, absolute offsets in the file. */
  at: number;
  len: number;
}

const READERS = new Set(['use_context', 'try_use_context', 'consume_context', 'try_consume_context', 'consume_context_from_scope']);
const PROVIDERS = new Set(['use_context_provider', 'provide_context', 'provide_root_context', 'use_root_context']);
/** Wrappers whose argument is the value that matters (`Signal::new(Theme::Dark)`). */
const WRAPPERS = new Set(['Signal', 'Rc', 'Arc', 'RefCell', 'Cell', 'Mutex', 'RwLock', 'Box', 'CopyValue', 'Some']);

const isTypeName = (s: string) => /^[A-Z][A-Za-z0-9_]*$/.test(s) && !/^[A-Z0-9_]+$/.test(s);

/** CamelCase identifiers between a and b (the types a `<..>` or a binding's type names). */
function typeNamesIn(t: Tokens, a: number, b: number): string[] {
  const out: string[] = [];
  for (let i = a; i < b; i++) if (t.kind[i] === T_IDENT && isTypeName(t.str(i)) && !out.includes(t.str(i))) out.push(t.str(i));
  return out;
}

/** The leading type of a value expression at i: `Theme::new()`, `crate::Theme { .. }`, `Signal::new(Theme::Dark)`. */
function valueTypes(t: Tokens, i: number, lim: number, out: string[], depth = 0): void {
  if (t.is(i, 'move')) i++;
  if (t.is(i, '||')) i++;
  else if (t.is(i, '|') && t.is(i + 1, '|')) i += 2;
  if (t.is(i, '{')) i++; // `|| { Theme::default() }` (a block whose first statement is the value is the common shape)
  let first: string | undefined;
  let k = i;
  while (k < lim && t.kind[k] === T_IDENT) {
    const s = t.str(k);
    if (!first && isTypeName(s)) first = s;
    if (t.is(k + 1, '::')) {
      k += 2;
      if (t.is(k, '<')) k = skipAngles(t, k, lim) + (t.is(skipAngles(t, k, lim), '::') ? 1 : 0);
    } else break;
  }
  if (!first) return;
  if (!out.includes(first)) out.push(first);
  // a wrapper's argument: `Signal::new(Theme::Dark)`, `Some(Theme::Dark)`
  if (WRAPPERS.has(first) && depth < 3) {
    const open = t.is(k + 1, '(') ? k + 1 : -1;
    if (open > 0) valueTypes(t, open + 1, skipGroup(t, open, lim) - 1, out, depth + 1);
  }
}

/** The context calls in `fn`'s body. */
function usesIn(text: string, p: Placed, out: ContextUse[]): void {
  const f = p.m.fn!;
  const from = p.at + f.bodyRel;
  if (!text.slice(from, from + f.bodyLen).includes('context')) return;
  const t = lex(text, from, from + f.bodyLen);
  for (let k = 0; k < t.n; k++) {
    if (t.kind[k] !== T_IDENT) continue;
    const name = t.str(k);
    const role = READERS.has(name) ? 'reads' : PROVIDERS.has(name) ? 'provides' : undefined;
    if (!role || t.is(k - 1, 'fn') || t.is(k - 1, '.')) continue;
    let open = k + 1;
    let types: string[] = [];
    if (t.is(open, '::') && t.is(open + 1, '<')) {
      const close = skipAngles(t, open + 1, t.n);
      types = typeNamesIn(t, open + 2, close - 1);
      open = close;
    }
    if (!t.is(open, '(')) continue;
    const end = skipGroup(t, open, t.n);
    if (!types.length && role === 'provides') valueTypes(t, open + 1, end - 1, types);
    if (!types.length) {
      // `let theme: Theme = use_context();`
      let s = k - 1;
      while (s > 0 && !t.is(s, ';') && !t.is(s, '{') && !t.is(s, '}') && !t.is(s, '=')) s--;
      if (t.is(s, '=')) {
        let c = s - 1;
        while (c > 0 && !t.is(c, ':') && !t.is(c, ';') && !t.is(c, '{') && !t.is(c, 'let')) c--;
        if (t.is(c, ':')) types = typeNamesIn(t, c + 1, s);
      }
    }
    if (types.length) out.push({ types, role, fn: p.m.name, at: t.start[k], len: t.end[k] - t.start[k] });
  }
}

const cache = new WeakMap<Snapshot, ContextUse[]>();

/** Every context provided or read in a snapshot's functions (cached per snapshot). */
export function contextUsesOf(s: Snapshot): ContextUse[] {
  let list = cache.get(s);
  if (list) return list;
  list = [];
  if (s.text.includes('context')) {
    for (const p of s.map.values()) if (p.m.fn?.bodyLen && !p.m.unknown) usesIn(s.text, p, list);
  }
  cache.set(s, list);
  return list;
}

/** What to add to a layout finding on `typeName` used as a context: "provided by `App`, read by `Counter`". */
export function contextNote(typeName: string, uses: ReadonlyArray<{ use: ContextUse }>): string | undefined {
  const providers: string[] = [];
  const readers: string[] = [];
  for (const { use } of uses) {
    if (!use.types.includes(typeName)) continue;
    const list = use.role === 'provides' ? providers : readers;
    if (!list.includes(use.fn)) list.push(use.fn);
  }
  if (!providers.length && !readers.length) return undefined;
  const names = (xs: string[]) => xs.map((x) => '`' + x + '`').join(', ');
  const parts: string[] = [];
  if (providers.length) parts.push(`provided by ${names(providers)}`);
  if (readers.length) parts.push(`read by ${names(readers)}`);
  return `\`${typeName}\` is a Dioxus context (${parts.join(', ')}): Dioxus finds a context by its type id, which a layout change keeps, ` +
    `so the patched components would get the value the app holds, with the old layout`;
}

/**
 * A function whose provided context types changed (`use_context_provider(|| Theme::Dark)` →
 * `use_context_provider(|| Palette::new())`). Dioxus keeps provided contexts per type in the
 * providing scope (`provide_context` replaces a value of the same type, adds one of another): where
 * the provider stays mounted through the patch (the root component), its hook re-runs its
 * initializer for the new type and the old value stays provided beside the new one. Not a memory
 * hazard (each value is found by its own type id), so an info saying who gets what.
 */
export function contextProviderChanges(base: Snapshot, cur: Snapshot, changed: ReadonlyArray<{ id: string; p: Placed }>, baseIdOf: Map<string, string>): Draft[] {
  const out: Draft[] = [];
  if (!cur.text.includes('context') && !base.text.includes('context')) return out;
  const provided = (uses: ContextUse[], fn: string) => [...new Set(uses.filter((u) => u.role === 'provides' && u.fn === fn).map((u) => u.types[0]))];
  for (const { id, p } of changed) {
    const bp = base.map.get(baseIdOf.get(id) ?? id);
    if (!bp || p.m.unknown || bp.m.unknown || !p.m.fn?.hooks) continue; // components only: a provider is a hook there
    const before = provided(contextUsesOf(base), bp.m.name);
    const now = provided(contextUsesOf(cur), p.m.name);
    const gone = before.filter((t) => !now.includes(t));
    const added = now.filter((t) => !before.includes(t));
    if (!gone.length || !added.length) continue; // a provider added or removed: new code, or one less value
    const list = (xs: string[]) => xs.map((x) => '`' + x + '`').join(', ');
    const n = '`' + p.m.name + '`';
    out.push({
      code: 'context-provider-changed',
      severity: 'info',
      item: p.m.name,
      p,
      message:
        `the context ${n} provides changed (${list(gone)} → ${list(added)}): Dioxus keeps provided contexts per type, so where ${n} stays mounted ` +
        `(the root component) the old ${list(gone)} stays provided beside the new ${list(added)}, and components still reading ${list(gone)} get the old value ` +
        `where a fresh start would not find it; a component the patch re-creates provides only the new one; restart the app for that everywhere`,
    });
  }
  return out;
}

/** A context call placed in its file, for related locations. */
export interface PlacedContextUse {
  use: ContextUse;
  file: string;
  range: SourceRange;
}

/**
 * Adds to each struct / enum layout finding (`list[i]` made from `drafts[i]`) on a type used as a
 * context which components provide and read it, and points at those calls. `uses` is asked only
 * when there is such a finding.
 */
export function addContextNotes(drafts: readonly Draft[], list: Finding[], uses: () => PlacedContextUse[]): void {
  let all: PlacedContextUse[] | undefined;
  drafts.forEach((d, i) => {
    if (d.code !== 'struct-layout-changed' && d.code !== 'enum-layout-changed') return;
    all ??= uses();
    const mine = all.filter((u) => u.use.types.includes(d.p.m.simple));
    const note = contextNote(d.p.m.simple, mine);
    if (!note) return;
    const f = list[i];
    f.message += `; ${note}`;
    f.related = [...(f.related ?? []), ...mine.map(({ file, range, use }) => ({
      file,
      range,
      message: `\`${use.fn}\` ${use.role === 'provides' ? 'provides' : 'reads'} the context \`${d.p.m.simple}\` here`,
    }))];
  });
}
