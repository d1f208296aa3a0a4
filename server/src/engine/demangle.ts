// engine/demangle.ts — Rust symbol names as readable paths, for matching and for notes. Both of
// rustc's manglings are read, legacy (`_ZN…17h<hash>E`) and v0 (`_R…`, the default of nightly
// since 2025-11-21), by rustc-demangle itself (the debuginfo module, support/debuginfo.ts), in
// its alternate form: no hash, no crate disambiguators. The forms differ where v0 says more:
//   legacy                                          v0
//   app::tick::{{closure}}                          app::tick::{closure#1}
//   app::ui::<impl app::model::Ring<T>>::get        <app::model::Ring<u32>>::get
//   app::ui::<impl app::Shape for app::Panel>::name <app::Panel as app::Shape>::name
//   app::gen                                        app::gen::<u8>
//   app::TLS::{{constant}}::{{closure}}             app::TLS::{K#0}::{closure#1}
// Anything else (C names, `main`) comes back unchanged.
// Never imports the LSP library or the devserver.
import { withoutInstanceArgs } from '../support/rust-paths';
import { demangleMany } from '../support/debuginfo';

export type Mangling = 'legacy' | 'v0';

/** Which Rust mangling a linker symbol uses, if any (`.llvm.` suffixes do not matter). */
export function manglingOf(sym: string): Mangling | undefined {
  if (sym.startsWith('_ZN')) return 'legacy';
  if (sym.startsWith('_R') && sym.length > 2 && sym[2] >= 'A' && sym[2] <= 'Z') return 'v0';
  return undefined;
}

/** One name. In loops over many names use `demangleAll`: each call crosses into the module. */
export function demangle(sym: string): string {
  if (!manglingOf(sym)) return sym;
  try {
    return demangleMany([sym])[0];
  } catch {
    return sym; // for notes and logs the mangled name still says which symbol
  }
}

/**
 * Many names in one call, in order; names that are not Rust symbols come back unchanged. Throws
 * when the module fails: a caller that matches names must then decide as if it could not read them.
 */
export function demangleAll(syms: readonly string[]): string[] {
  const rust: string[] = [];
  for (const s of syms) if (manglingOf(s)) rust.push(s);
  if (rust.length === 0) return [...syms];
  const readable = demangleMany(rust);
  let k = 0;
  return syms.map((s) => (manglingOf(s) ? readable[k++] : s));
}

/**
 * Substrings one of which must occur in a mangled symbol for its path to hold the identifier
 * `ident` as a segment: both manglings write it as `<len><ident>` (v0 inserts `_` before an
 * identifier starting with a digit or `_`, and may put a disambiguator `s<base62>_` before the
 * length), legacy as `..<ident>` inside generic arguments (`drop_in_place$LT$app..f..$u7b$…`).
 * A cheap filter before demangling: a framework's binary has hundreds of thousands of symbols.
 * Non-ASCII identifiers (punycode in v0) are not filtered: every name passes.
 */
export function identNeedles(ident: string): string[] | undefined {
  if (!/^[A-Za-z0-9_]+$/.test(ident)) return undefined;
  const legacy = `${ident.length}${ident}`;
  const v0 = v0Ident(ident);
  return [legacy, ...(v0 === legacy ? [] : [v0]), `..${ident}`];
}

/** An ASCII identifier as v0 writes it: `<len>[_]<ident>`. */
function v0Ident(ident: string): string {
  return `${ident.length}${/^[0-9_]/.test(ident) ? '_' : ''}${ident}`;
}

/**
 * The demangled names of those `syms` that may hold one of `idents` as a path segment (see
 * identNeedles), as [mangled, demangled] pairs; names that are not Rust symbols are left out.
 */
export function demangleNaming(syms: Iterable<string>, idents: string[]): Array<[string, string]> {
  const needles: string[] = [];
  let all = false;
  for (const id of idents) {
    const n = identNeedles(id);
    if (n) needles.push(...n);
    else all = true;
  }
  if (!all && needles.length === 0) return [];
  // one regex scan per name, about as fast as a single `includes`
  const filter = all ? undefined : new RegExp(needles.map((x) => x.replace(/[.$]/g, '\\$&')).join('|'));
  const picked: string[] = [];
  for (const s of syms) {
    if (filter && !filter.test(s)) continue;
    if (manglingOf(s)) picked.push(s);
  }
  const readable = demangleMany(picked);
  return picked.map((s, i) => [s, readable[i]]);
}

/**
 * A demangled path with what identifies one compiled copy rather than the source item removed:
 * a trailing legacy hash segment, and the generic arguments of function instances (v0 prints
 * them as `::<…>`: `app::gen::<u8>::{closure#0}` → `app::gen::{closure#0}`). Type arguments
 * written without `::` (`<app::Ring<u32>>::get`) stay.
 */
export function sourcePathOf(demangled: string): string {
  return withoutInstanceArgs(demangled.replace(/::h[0-9a-f]{16}$/, ''));
}

/** The manglings seen among some symbols: one, both, or none. */
export type ManglingSeen = Mangling | 'mixed' | 'none';

function combine(a: ManglingSeen, m: Mangling): ManglingSeen {
  return a === 'none' || a === m ? m : 'mixed';
}

/**
 * Which manglings an executable's Rust symbols use: those naming one of `crates` (the app's own,
 * crate roots as both manglings write them) and all of them (a toolchain's prebuilt std keeps
 * its own: stable's is legacy, so `-C symbol-mangling-version=v0` on stable gives a mixed binary).
 */
export function manglingsOf(names: Iterable<string>, crates: string[]): { app: ManglingSeen; all: ManglingSeen } {
  const legacy = crates.map((c) => `_ZN${c.length}${c}`);
  // a v0 crate root: `C[s<disambiguator>_]<len><name>`
  const v0 = crates.map((c) => new RegExp(`C(s[0-9A-Za-z]*_)?${v0Ident(c)}`));
  let app: ManglingSeen = 'none';
  let all: ManglingSeen = 'none';
  for (const n of names) {
    const m = manglingOf(n);
    if (!m) continue;
    all = combine(all, m);
    if (app !== 'mixed' && (m === 'legacy' ? legacy.some((p) => n.startsWith(p)) : v0.some((r) => r.test(n)))) app = combine(app, m);
    if (app === 'mixed' && all === 'mixed') break;
  }
  return { app, all };
}
