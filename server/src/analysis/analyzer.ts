// PatchabilityAnalyzer: the analysis layer's entry point.
//
// Owns: the per-file state (current text, syntax tree, derived units, current and baseline
// snapshots), incremental re-parsing on update (one edit from the common prefix/suffix, then
// `tree.edit` + `parse(text, oldTree)`, reusing the models of untouched items), and the
// workspace-wide part of the catalog: by-value embedding across files and crates, hot entries
// named anywhere in the workspace, thread-locals used by changed functions, functions the running
// app holds as values (values.ts) and changed code it cannot reach (reachability.ts); the list of
// changed functions for the patch proof (changed-functions.ts); plus the one finding about the
// code itself rather than the edit (hot closures subsecond never patches, closures.ts).
// Must never: do IO beyond loading the grammar, import the LSP library, throw from any public
// method on any input, or report a finding on an item that is unknown (does not parse).
//
// Reuse needs no tree.getChangedRanges: a unit is reused only when its range lies outside the
// edited text and its node type, range, mod path and error context are unchanged, so deriving it
// again (a pure function of those) would give the same models; comparing ranges is cheaper than
// computing changed ranges (≈ 6 ms on 20k lines).
//
// Caching: snapshots are immutable; own diffs are cached per (baseline, current) snapshot pair;
// everything workspace-wide is cached per `epoch`, which every state change bumps.

import * as path from 'path';
import type { Tree } from 'web-tree-sitter';
import { ChangedFunction, listChangedFunctions, typeBase } from './changed-functions';
import { fnFacts } from './fn-facts';
import { boxedClosures, closureCalls, dynUse, DynUse, HotClosureCall } from './reachability';
import { valueSites, valueSitesIn, ValueSite } from './values';
import { ownDiff, LAYOUT_REASON, OwnDiff, Draft } from './diff';
import { addContextNotes, contextUsesOf } from './dioxus-contexts';
import { addBevyStorageNotes, derivedStorage, implementedStorage, BevyStorage } from './bevy-storage';
import { LAYOUT_KINDS } from './diff';
import { deriveUnits, Unit, ReuseFn } from './items';
import { lex, T_IDENT } from './lexer';
import type { NeverPatchedClosure, Placed } from './model';
import { identityOf, makeSnapshot, Snapshot } from './snapshot';
import { loadRust, RustParser } from './syntax';
import { computeEdit, lineStarts, pointAt, shiftLineStarts, TextEdit } from './text-edit';
import type { AnalyzerOptions, FileChangeSummary, Finding, SourceRange, ThreadLocalPolicy } from './types';

/** Texts longer than this (UTF-16 code units) are not parsed (the wasm heap never shrinks): judged on nothing. */
export const MAX_PARSE_CHARS = 3 * 1024 * 1024;

interface FileState {
  file: string;
  /** Namespace id: crateOf(file) or the file's directory. */
  crate: string;
  crateLabel: string | undefined;
  cur: Snapshot | undefined;
  base: Snapshot | undefined;
  tree: Tree | null;
  units: Unit[];
  lines: number[] | undefined;
  own: { base: Snapshot; cur: Snapshot; diff: OwnDiff } | undefined;
  findings: { epoch: number; list: Finding[] } | undefined;
}

interface TypeDef {
  st: FileState;
  id: string;
  /** The definition's key (name without `#[cfg]`): equal keys in one file are cfg alternatives. */
  key: string;
}

interface HotSite {
  st: FileState;
  method: boolean;
}

/** Workspace-wide facts, valid for one epoch. */
interface World {
  epoch: number;
  hot: Map<string, HotSite[]>;
  tlNames: Set<string>;
  staticMutNames: Set<string>;
  /** Memo of layoutChange: the definition whose own layout changed (the root cause), or null. */
  deep: Map<FileState, Map<string, TypeDef | null>>;
  crateFns: Map<string, Set<string>>;
  /** Per crate: names of the macros invoked at item level. */
  crateItemMacros: Map<string, Set<string>>;
  anyLayoutChange: boolean;
  /** Functions by simple name (free fns: selfBase undefined), filled on demand. */
  fnCands: Map<string, FnCandidate[]>;
  /** Value sites per `name|method` in the running app's code (baselines), placed in current text when possible. */
  values: Map<string, Registration[]>;
  /** First `dyn Trait` use per trait base name. */
  dyn: Map<string, { st: FileState; use: DynUse; inCur: boolean } | null>;
  /** Calls made by hot closures subsecond never patches, per current snapshot. */
  hotClosureCalls?: Array<{ st: FileState; call: HotClosureCall }>;
  /**
   * Last-segment names of the types whose layout may have changed this epoch: the roots and,
   * to a fixpoint, every type definition holding one of those names by value. A superset (by
   * name) of what `layoutChange` can find, so items holding none of them are skipped cheaply.
   */
  affected: Set<string> | undefined;
}

/** A function of the workspace, for resolving a name. */
interface FnCandidate {
  st: FileState;
  selfBase?: string;
  /** Its body makes a hot call (`subsecond::call(f)`): a helper that calls what it is given through HotFn. */
  hot: boolean;
}

/** A value site resolved to the function it names. */
interface Registration {
  st: FileState;
  site: ValueSite;
  /** The site is in the current text (else only in the baseline's). */
  inCur: boolean;
}

/** A place a finding points at besides its item (in some file's current text). */
interface Pointer {
  st: FileState;
  at: number;
  len: number;
  message: string;
}

type WorkspaceDraft = Draft & { related?: TypeDef; cause?: TypeDef; pointer?: Pointer };

const STARTUP_SCHEDULES = new Set(['Startup', 'PreStartup', 'PostStartup']);
const SIGNATURE_HANDLED = /\bhot_patch_signature\s*=\s*true\b/;

/** Per-phase timings of the last update, for the benchmark. */
export interface UpdateTimings {
  parse: number;
  items: number;
}

function shiftUnit(u: Unit, d: number): Unit {
  if (d === 0) return u;
  return { ...u, start: u.start + d, end: u.end + d, items: u.items.map((p) => ({ m: p.m, at: p.at + d })) };
}

/** Reuse of units whose text the edit did not touch (same type, range, mod path and context). */
function makeReuse(prev: readonly Unit[], e: TextEdit): ReuseFn {
  const delta = e.newEndIndex - e.oldEndIndex;
  // units are in document order (a mod before its items), so starts never decrease
  return (type, s, end, modPath, cfg, ctx) => {
    let os: number;
    let d: number;
    if (end <= e.startIndex) { os = s; d = 0; }
    else if (s >= e.newEndIndex) { os = s - delta; d = delta; }
    else return undefined;
    let lo = 0;
    let hi = prev.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (prev[mid].start < os) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < prev.length && prev[i].start === os; i++) {
      const u = prev[i];
      if (u.end + d !== end || u.type !== type || u.modPath !== modPath || u.cfg !== cfg || u.ctx !== ctx || u.type === 'ERROR') continue;
      const out = [shiftUnit(u, d)];
      for (let j = 1; j <= u.nested && i + j < prev.length; j++) out.push(shiftUnit(prev[i + j], d));
      return out;
    }
    return undefined;
  };
}

function q(s: string): string {
  return '`' + s + '`';
}

// `use subsecond::call`, `use subsecond::{.., call}`, `use subsecond::*`: a bare `call(..)` is subsecond's
const IMPORTS_CALL = /\bsubsecond\s*::\s*(?:call\b|\*|\{[^}]*(?:\bcall\b|\*))/;

function closureMessage(c: NeverPatchedClosure): string {
  const what = c.move ? `this \`move\` closure captures only ${q(c.place)} (one pointer-sized value)` : `this closure captures only ${q(c.place)} (one pointer)`;
  return `${what}: subsecond 0.7 mistakes a pointer-sized closure for a function pointer and will never run its patched code; capture a second value (e.g. one more \`&mut\` argument) or pass a fn item`;
}

/**
 * Framework traits whose implementations the framework holds as trait objects made at startup
 * (the `dyn` is in the dependency, not in the workspace): how the message says it, or undefined.
 */
function frameworkDyn(traitText: string, base: string, fileText: string): string | undefined {
  if (base === 'App' && (/\beframe\s*::/.test(traitText) || (traitText === 'App' && /\buse\s+eframe\s*::\s*(App\b|\{[^}]*\bApp\b)/.test(fileText)))) {
    return 'eframe holds as `Box<dyn eframe::App>` (made by `run_native` at startup)';
  }
  if (base === 'Plugin' && (/\bbevy(_app)?\s*::/.test(traitText) || (traitText === 'Plugin' && /\bbevy\b/.test(fileText)))) {
    return 'Bevy holds as `Box<dyn Plugin>` and calls once while building the app';
  }
  return undefined;
}

/** `src/main.rs` for a file of the same package as `from`, else the path from their common directory. */
function shortPath(from: string, file: string): string {
  const a = from.split('/');
  const b = file.split('/');
  let i = 0;
  while (i < a.length - 1 && i < b.length - 1 && a[i] === b[i]) i++;
  const rel = b.slice(i);
  // inside one package: from its root (the directory holding `src`)
  const srcAt = b.lastIndexOf('src');
  if (srcAt >= 0 && srcAt >= i) return b.slice(srcAt).join('/');
  if (srcAt > 0 && srcAt < i) return b.slice(srcAt).join('/');
  return rel.join('/');
}

/** What an item's own layout is, for kinds the own diff does not compare (a struct that became an alias). */
function ownKey(p: Placed): string {
  const m = p.m;
  if (m.layout) return m.kind;
  if (m.alias !== undefined) return m.alias;
  if (m.value) return `${m.value.mutable}${m.value.type}`;
  return '';
}

export class PatchabilityAnalyzer {
  private readonly files = new Map<string, FileState>();
  private readonly trees = new Set<FileState>();
  private readonly crateOf: ((file: string) => string | undefined) | undefined;
  private readonly policy: ThreadLocalPolicy;
  private readonly maxTrees: number;
  private epoch = 0;
  /** Bumped whenever a baseline snapshot is set or a file goes: keys `baseSites`. */
  private baseGen = 0;
  /** Per `name|method`: the files whose baseline uses that function name as a value. */
  private readonly baseSites = new Map<string, Array<{ st: FileState; base: Snapshot; sites: ValueSite[] }>>();
  private baseSitesGen = -1;
  private world: World | undefined;
  private readonly importsCall = new WeakMap<Snapshot, boolean>();
  private typeIndex: Map<string, TypeDef[]> | undefined;
  /** Timings of the last update (ms), for the benchmark. */
  lastUpdate: UpdateTimings = { parse: 0, items: 0 };

  private constructor(private readonly parser: RustParser, options: AnalyzerOptions) {
    this.crateOf = options.crateOf;
    this.policy = options.threadLocalPolicy ?? 'keep';
    this.maxTrees = Math.max(1, options.maxTrees ?? 24);
  }

  static async create(options: AnalyzerOptions = {}): Promise<PatchabilityAnalyzer> {
    const lang = await loadRust();
    return new PatchabilityAnalyzer(new RustParser(lang), options);
  }

  // ---- state changes -------------------------------------------------------------------------

  /** The state of a file, created empty (no text, no baseline) on first use. */
  private stateOf(file: string): FileState {
    let st = this.files.get(file);
    if (!st) {
      st = { file, crate: '', crateLabel: undefined, cur: undefined, base: undefined, tree: null, units: [], lines: undefined, own: undefined, findings: undefined };
      this.files.set(file, st);
    }
    return st;
  }

  /** New content of a file. The first content seen also becomes its baseline. */
  update(file: string, text: string): void {
    const st = this.stateOf(file);
    this.refreshCrate(st);
    if (typeof text !== 'string') text = String(text ?? '');
    if (st.cur && st.cur.text === text) return;
    const oldTypeSig = st.cur?.typeDefSig;
    try {
      this.reparse(st, text);
    } catch {
      // the model of a file we failed to analyse is "nothing known", never a guess
      this.dropTree(st);
      st.lines = undefined;
      st.units = [{ type: 'ERROR', start: 0, end: text.length, modPath: '', cfg: '', ctx: 1, items: [], nested: 0 }];
      st.cur = { ...makeSnapshot(text, [], true), hasUnknown: true };
    }
    if (!st.base) { st.base = st.cur; this.baseGen++; }
    if (st.cur?.typeDefSig !== oldTypeSig) this.typeIndex = undefined;
    this.epoch++;
  }

  has(file: string): boolean {
    return this.files.get(file)?.cur !== undefined;
  }

  /**
   * Runs `fn` with `texts` (file → text) in place of the files' current content, then puts the
   * content back: a verdict on unsaved text that leaves the analysis as it was. Files the
   * analyzer does not hold are left out (their first content would become their baseline).
   */
  trial<T>(texts: Map<string, string>, fn: () => T): T {
    const saved: Array<[string, string]> = [];
    try {
      for (const [file, text] of texts) {
        const cur = this.files.get(file)?.cur;
        if (!cur) continue;
        saved.push([file, cur.text]);
        this.update(file, text);
      }
      return fn();
    } finally {
      for (const [file, text] of saved.reverse()) this.update(file, text);
    }
  }

  /** The files the analyzer holds. */
  knownFiles(): string[] {
    return [...this.files.keys()];
  }

  remove(file: string): void {
    const st = this.files.get(file);
    if (!st) return;
    this.dropTree(st);
    this.files.delete(file);
    this.baseGen++;
    this.typeIndex = undefined;
    this.epoch++;
  }

  /** The app (re)started from the current content: it becomes the baseline. */
  rebaseline(files?: string[]): void {
    const list = files ? files.map((f) => this.files.get(f)).filter((s): s is FileState => !!s) : [...this.files.values()];
    for (const st of list) if (st.cur) st.base = st.cur;
    this.baseGen++;
    this.epoch++;
  }

  /** Explicit baseline text (e.g. the source the running app was built from). */
  setBaseline(file: string, text: string): void {
    const known = this.files.has(file);
    const st = this.stateOf(file);
    if (!known) this.refreshCrate(st);
    if (typeof text !== 'string') text = String(text ?? '');
    this.baseGen++;
    if (st.cur && st.cur.text === text) {
      st.base = st.cur;
    } else {
      try {
        const tree = text.length <= MAX_PARSE_CHARS ? this.parser.parse(text) : null;
        try {
          st.base = makeSnapshot(text, deriveUnits(tree, text), tree ? tree.rootNode.hasError : true);
        } finally {
          tree?.delete();
        }
      } catch {
        st.base = { ...makeSnapshot(text, [], true), hasUnknown: true };
      }
    }
    this.epoch++;
  }

  // ---- queries -------------------------------------------------------------------------------

  hasParseErrors(file: string): boolean {
    return this.files.get(file)?.cur?.hasErrors ?? false;
  }

  /**
   * Functions named at the file's hot-call sites (`subsecond::call(f)`, `HotFn::current(f)`, `hot!(f)`,
   * and those a hot closure calls directly), in the current text. Used by `doctor`.
   */
  hotEntries(file: string): string[] {
    const cur = this.files.get(file)?.cur;
    return cur ? [...new Set(cur.hotRefs.map((h) => h.name))] : [];
  }

  /**
   * Where the struct, enum or union `path` (its module path inside the crate, `Stats`,
   * `ui::Panel`) of crate `crate` is defined (crate names compare with `-` as `_`). Only one
   * candidate is an answer: none or several (ambiguous) is undefined. For findings of the compiled
   * layouts (layout-gate/), which name types by their full path.
   */
  locateType(crate: string, typePath: string): { file: string; range: SourceRange; itemRange: SourceRange; bevy?: BevyStorage } | undefined {
    const simple = typePath.split('::').pop() ?? typePath;
    const norm = (c: string) => c.replace(/-/g, '_');
    const cands = (this.getTypeIndex().get(simple) ?? []).filter((d) => norm(d.st.crateLabel ?? d.st.crate) === norm(crate) || norm(d.st.crate) === norm(crate));
    const placed = cands.map((d) => ({ st: d.st, p: d.st.cur?.map.get(d.id) })).filter((x): x is { st: FileState; p: Placed } => !!x.p && x.p.m.kind !== 'alias');
    // the analysis knows inline mods only (a file's own module path comes from the module tree)
    const exact = placed.filter((x) => typePath === x.p.m.name || typePath.endsWith(`::${x.p.m.name}`));
    const pick = exact.length === 1 ? exact[0] : placed.length === 1 ? placed[0] : undefined;
    if (!pick) return undefined;
    const bevy = this.bevyStorageOf(pick.st, pick.p);
    return { file: pick.st.file, range: this.nameRange(pick.st, pick.p), itemRange: this.itemRange(pick.st, pick.p), ...(bevy ? { bevy } : {}) };
  }

  /**
   * How the crate of `st` stores type definition `p` (of `st`) in a Bevy World (bevy-storage.ts):
   * derived on it, or implemented anywhere in the crate when the crate defines one type of that name.
   */
  private bevyStorageOf(st: FileState, p: Placed): BevyStorage | undefined {
    if (!st.cur) return undefined;
    const derived = derivedStorage(st.cur, p);
    if (derived) return derived;
    const simple = p.m.simple;
    const defs = (this.getTypeIndex().get(simple) ?? []).filter((d) => d.st.crate === st.crate);
    if (defs.length !== 1) return undefined;
    for (const o of this.files.values()) {
      const kind = o.crate === st.crate && o.cur ? implementedStorage(o.cur).get(simple) : undefined;
      if (kind) return kind;
    }
    return undefined;
  }

  findingsFor(file: string): Finding[] {
    const st = this.files.get(file);
    if (!st || !st.cur) return [];
    try {
      return this.fileFindings(st);
    } catch {
      return [];
    }
  }

  findings(): Map<string, Finding[]> {
    const out = new Map<string, Finding[]>();
    for (const st of this.files.values()) {
      if (!st.cur) continue;
      let list: Finding[] = [];
      try {
        list = this.fileFindings(st);
      } catch {
        list = [];
      }
      out.set(st.file, list);
    }
    return out;
  }

  changeSummary(): FileChangeSummary[] {
    const out: FileChangeSummary[] = [];
    for (const st of this.files.values()) {
      const cur = st.cur;
      const base = st.base;
      if (!cur || !base || cur === base) continue;
      const names = new Set<string>();
      for (const [id, p] of cur.map) {
        const b = base.map.get(id);
        if (!b || b.m.hash !== p.m.hash) names.add(p.m.name);
      }
      for (const [id, b] of base.map) if (!cur.map.has(id)) names.add(b.m.name);
      if (names.size) out.push({ file: st.file, crate: st.crateLabel, changedItems: [...names] });
    }
    return out;
  }

  /**
   * The functions of `file` whose signature or body differs from its baseline, or that the
   * baseline does not have, in document order (see changed-functions.ts). Functions that do not
   * parse are not listed. Empty for an unknown file or when it equals its baseline.
   */
  changedFunctions(file: string): ChangedFunction[] {
    const st = this.files.get(file);
    if (!st || !st.cur || !st.base) return [];
    try {
      return listChangedFunctions(st.file, st.base, st.cur, (i) => this.position(st, i));
    } catch {
      return [];
    }
  }

  // ---- parsing -------------------------------------------------------------------------------

  private refreshCrate(st: FileState): void {
    let label: string | undefined;
    try {
      label = this.crateOf?.(st.file);
    } catch {
      label = undefined;
    }
    st.crateLabel = typeof label === 'string' ? label : undefined;
    const crate = st.crateLabel ?? path.dirname(st.file);
    if (crate !== st.crate && st.crate !== '') this.typeIndex = undefined;
    st.crate = crate;
  }

  private dropTree(st: FileState): void {
    if (st.tree) {
      try { st.tree.delete(); } catch { /* already gone */ }
      st.tree = null;
    }
    this.trees.delete(st);
  }

  private keepTree(st: FileState, tree: Tree | null): void {
    this.trees.delete(st);
    st.tree = tree;
    if (!tree) return;
    this.trees.add(st);
    // least recently updated files give their trees back: idle memory stays small, and their
    // next save costs one full parse
    while (this.trees.size > this.maxTrees) {
      const oldest = this.trees.values().next().value as FileState;
      this.dropTree(oldest);
    }
  }

  private reparse(st: FileState, text: string): void {
    const t0 = performance.now();
    let edit: TextEdit | null = null;
    if (st.cur) {
      if (!st.lines) st.lines = lineStarts(st.cur.text);
      edit = computeEdit(st.cur.text, text, st.lines);
    }
    let tree: Tree | null = null;
    if (text.length <= MAX_PARSE_CHARS) {
      if (edit && st.tree) {
        const old = st.tree;
        st.tree = null;
        tree = this.parser.reparse(text, old, edit);
        try { old.delete(); } catch { /* ignore */ }
      } else {
        tree = this.parser.parse(text);
      }
    }
    const t1 = performance.now();
    const units = deriveUnits(tree, text, edit && st.units.length ? makeReuse(st.units, edit) : undefined);
    st.units = units;
    st.lines = edit && st.lines ? shiftLineStarts(st.lines, edit, text) : undefined;
    st.cur = makeSnapshot(text, units, tree ? tree.rootNode.hasError : true);
    this.keepTree(st, tree);
    this.lastUpdate = { parse: t1 - t0, items: performance.now() - t1 };
  }

  // ---- findings ------------------------------------------------------------------------------

  private own(st: FileState): OwnDiff | undefined {
    const cur = st.cur;
    const base = st.base;
    if (!cur || !base) return undefined;
    if (st.own && st.own.cur === cur && st.own.base === base) return st.own.diff;
    const diff = ownDiff(base, cur, this.policy);
    st.own = { base, cur, diff };
    return diff;
  }

  private getWorld(): World {
    if (this.world && this.world.epoch === this.epoch) return this.world;
    const hot = new Map<string, HotSite[]>();
    const tlNames = new Set<string>();
    const staticMutNames = new Set<string>();
    let anyLayoutChange = false;
    for (const st of this.files.values()) {
      const snaps = st.base && st.base !== st.cur ? [st.cur, st.base] : [st.cur];
      for (const s of snaps) {
        if (!s) continue;
        for (const h of s.hotRefs) {
          let list = hot.get(h.name);
          if (!list) hot.set(h.name, (list = []));
          if (!list.some((x) => x.st === st && x.method === h.method)) list.push({ st, method: h.method });
        }
      }
      if (st.cur) for (const n of st.cur.tlNames) tlNames.add(n);
      if (st.cur) for (const n of st.cur.staticMutNames) staticMutNames.add(n);
      if (!anyLayoutChange && st.cur && st.base && st.cur !== st.base) {
        const d = this.own(st);
        if (d && d.layoutChanged.size) anyLayoutChange = true;
      }
    }
    this.world = { epoch: this.epoch, hot, tlNames, staticMutNames, deep: new Map(), crateFns: new Map(), crateItemMacros: new Map(), anyLayoutChange, affected: undefined, fnCands: new Map(), values: new Map(), dyn: new Map() };
    return this.world;
  }

  private affectedNames(world: World): Set<string> {
    if (world.affected) return world.affected;
    const names = new Set<string>();
    for (const st of this.files.values()) {
      if (!st.cur || !st.base || st.cur === st.base) continue;
      const d = this.own(st);
      if (!d) continue;
      for (const id of d.layoutChanged) {
        const p = st.cur.map.get(id);
        if (p) names.add(p.m.simple);
      }
      // roots `layoutChange` finds without the own diff: a type that changed kind or own key
      for (const td of st.cur.typeDefs) {
        const b = st.base.map.get(d.baseIdOf.get(td.id) ?? td.id);
        if (b && (b.m.kind !== td.p.m.kind || ownKey(b) !== ownKey(td.p))) names.add(td.p.m.simple);
      }
    }
    for (let grew = names.size > 0; grew;) {
      grew = false;
      for (const st of this.files.values()) {
        if (!st.cur) continue;
        for (const td of st.cur.typeDefs) {
          const m = td.p.m;
          if (names.has(m.simple) || !m.deps) continue;
          if (m.deps.some((d) => names.has(d))) {
            names.add(m.simple);
            grew = true;
          }
        }
      }
    }
    world.affected = names;
    return names;
  }

  private getTypeIndex(): Map<string, TypeDef[]> {
    if (this.typeIndex) return this.typeIndex;
    const idx = new Map<string, TypeDef[]>();
    for (const st of this.files.values()) {
      if (!st.cur) continue;
      for (const d of st.cur.typeDefs) {
        let list = idx.get(d.p.m.simple);
        if (!list) idx.set(d.p.m.simple, (list = []));
        list.push({ st, id: d.id, key: d.p.m.key });
      }
    }
    this.typeIndex = idx;
    return idx;
  }

  /**
   * By-value dependency `name` seen from `from`: same file first, then same crate, else unique.
   * Several `#[cfg]` alternatives of one definition (same file, same key) resolve to all of them:
   * the type is whichever the build uses. Anything else ambiguous resolves to nothing.
   */
  private resolveType(name: string, from: FileState): TypeDef[] {
    const cands = this.getTypeIndex().get(name);
    if (!cands || !cands.length) return [];
    const one = (list: TypeDef[]) => (list.every((c) => c.st === list[0].st && c.key === list[0].key) ? list : []);
    if (cands.length === 1) return cands;
    const sameFile = cands.filter((c) => c.st === from);
    if (sameFile.length) return one(sameFile);
    const sameCrate = cands.filter((c) => c.st.crate === from.crate);
    if (sameCrate.length) return one(sameCrate);
    return one(cands);
  }

  /**
   * Has the layout of this type changed, by itself or through what it holds by value? Returns
   * the root cause: the definition whose own layout changed (itself, or something it embeds,
   * possibly through aliases), else null.
   */
  private layoutChange(def: TypeDef, world: World, visiting: Set<string>): TypeDef | null {
    let memo = world.deep.get(def.st);
    if (!memo) world.deep.set(def.st, (memo = new Map()));
    if (memo.has(def.id)) return memo.get(def.id) ?? null;
    const key = `${def.st.file}\n${def.id}`;
    if (visiting.has(key)) return null;
    const own = this.own(def.st);
    const c = def.st.cur?.map.get(def.id);
    const b = def.st.base?.map.get(own?.baseIdOf.get(def.id) ?? def.id);
    let res: TypeDef | null = null;
    const ambiguous = def.st.cur?.duplicates.has(def.id) || def.st.base?.duplicates.has(def.id);
    if (c && !c.m.unknown && own?.layoutChanged.has(def.id)) {
      res = def;
    } else if (c && b && !c.m.unknown && !b.m.unknown && !ambiguous) {
      const sameKind = LAYOUT_KINDS.has(c.m.kind) ? LAYOUT_KINDS.has(b.m.kind) : c.m.kind === b.m.kind;
      if (!sameKind || ownKey(c) !== ownKey(b)) {
        res = def;
      } else if (c.m.deps) {
        visiting.add(key);
        outer: for (const dep of c.m.deps) {
          for (const d of this.resolveType(dep, def.st)) {
            if (d.st === def.st && d.id === def.id) continue;
            res = this.layoutChange(d, world, visiting);
            if (res) break outer;
          }
        }
        visiting.delete(key);
      }
    }
    memo.set(def.id, res);
    return res;
  }

  private crateHasFn(crate: string, name: string, world: World): boolean {
    let set = world.crateFns.get(crate);
    if (!set) {
      set = new Set();
      for (const st of this.files.values()) if (st.crate === crate && st.cur) for (const n of st.cur.fnNames) set.add(n);
      world.crateFns.set(crate, set);
    }
    return set.has(name);
  }

  private crateInvokesAtItemLevel(crate: string, name: string, world: World): boolean {
    let set = world.crateItemMacros.get(crate);
    if (!set) {
      set = new Set();
      for (const st of this.files.values()) if (st.crate === crate && st.cur) for (const n of st.cur.itemMacroNames) set.add(n);
      world.crateItemMacros.set(crate, set);
    }
    return set.has(name);
  }

  /** Is this function a hot entry named at some call site (resolved: same file, same crate, workspace)? */
  private isHot(st: FileState, p: Placed, world: World): boolean {
    const sites = world.hot.get(p.m.simple);
    if (!sites) return false;
    const isMethod = p.m.fn?.selfType !== undefined;
    for (const site of sites) {
      if (site.method && !isMethod) continue;
      if (site.st.cur?.fnNames.has(p.m.simple)) {
        if (site.st === st) return true;
        continue;
      }
      if (this.crateHasFn(site.st.crate, p.m.simple, world)) {
        if (site.st.crate === st.crate) return true;
        continue;
      }
      return true;
    }
    return false;
  }

  // ---- functions as values, calls the jump table cannot reach (values.ts, reachability.ts) ----

  /** Functions named `name` in the workspace's current code (free fns: selfBase undefined). */
  private fnCandidates(name: string, world: World): FnCandidate[] {
    let list = world.fnCands.get(name);
    if (list) return list;
    list = [];
    for (const st of this.files.values()) {
      if (!st.cur || !st.cur.fnNames.has(name)) continue;
      for (const p of st.cur.items) {
        if (p.m.kind !== 'fn' || !p.m.fn || p.m.simple !== name) continue;
        const sb = p.m.fn.selfType !== undefined ? typeBase(p.m.fn.selfType) : undefined;
        const hot = !!p.m.hot?.length;
        list.push(sb === undefined ? { st, hot } : { st, selfBase: sb, hot });
      }
    }
    world.fnCands.set(name, list);
    return list;
  }

  /** Does the value site (in file `from`) name the function `p` of file `st`? Same file, then same crate, else unique. */
  private siteNames(from: FileState, site: ValueSite, st: FileState, p: Placed, world: World): boolean {
    const self = p.m.fn?.selfType;
    const selfBase = self !== undefined ? typeBase(self) : undefined;
    let cands = this.fnCandidates(p.m.simple, world);
    if (selfBase === undefined) {
      cands = cands.filter((c) => c.selfBase === undefined);
    } else {
      const holderSelf = site.holder.m.fn?.selfType;
      const qual = site.qual === 'Self' ? (holderSelf !== undefined ? typeBase(holderSelf) : undefined) : site.qual;
      if (qual === undefined) return false;
      cands = cands.filter((c) => c.selfBase === qual && (site.qual !== 'Self' || c.st === from));
    }
    const pick = (list: typeof cands) => list.length === 1 && list[0].st === st && list[0].selfBase === selfBase;
    const sameFile = cands.filter((c) => c.st === from);
    if (sameFile.length) return pick(sameFile);
    const sameCrate = cands.filter((c) => c.st.crate === from.crate);
    if (sameCrate.length) return pick(sameCrate);
    return pick(cands);
  }

  /**
   * Where the function `p` of `st` is used as a value in the running app's code (the baselines),
   * shown at the same site in the current text when that function still has it.
   */
  private registrations(st: FileState, p: Placed, world: World): Registration[] {
    const method = p.m.fn?.selfType !== undefined;
    const name = p.m.simple;
    const key = `${name}|${method}`;
    let all = world.values.get(key);
    if (!all) {
      all = [];
      if (this.baseSitesGen !== this.baseGen) {
        this.baseSites.clear(); // never keeps a replaced baseline alive
        this.baseSitesGen = this.baseGen;
      }
      let hits = this.baseSites.get(key);
      if (!hits) {
        hits = [];
        for (const fs of this.files.values()) {
          const base = fs.base ?? fs.cur;
          if (!base) continue;
          const sites = valueSites(base, name, method);
          if (sites.length) hits.push({ st: fs, base, sites });
        }
        this.baseSites.set(key, hits);
      }
      for (const { st: fs, base, sites } of hits) {
        const cur = fs.cur;
        if (!cur || fs.base !== base) continue;
        for (const site of sites) {
          if (base === cur) { all.push({ st: fs, site, inCur: true }); continue; }
          // the holder unchanged: the same site, shifted; changed: look inside its current body
          const h = cur.map.get(identityOf(site.holder));
          if (h && h.m === site.holder.m) {
            all.push({ st: fs, site: { ...site, at: site.at - site.holder.at + h.at, holder: h }, inCur: true });
            continue;
          }
          const again = h && h.m.kind === 'fn' && !h.m.unknown ? valueSitesIn(cur, h, name, method).find((c) => c.context === site.context) : undefined;
          all.push(again ? { st: fs, site: again, inCur: true } : { st: fs, site, inCur: false });
        }
      }
      world.values.set(key, all);
    }
    // a workspace helper that calls what it is given through HotFn right away (`hot(tip_value)`)
    // is a hot call, not a registration
    return all.filter((r) => this.siteNames(r.st, r.site, st, p, world) && !(r.site.callee && this.fnCandidates(r.site.callee, world).some((c) => c.hot)));
  }

  /** `src/main.rs:42` (or `line 42` in the same file) for a place in a file's current or baseline text. */
  private placeLabel(from: FileState, st: FileState, index: number, inCur: boolean): string {
    const text = inCur ? st.cur?.text ?? '' : st.base?.text ?? '';
    const line = inCur ? this.position(st, index).line + 1 : pointAt(lineStarts(text), index).row + 1;
    if (st === from) return `line ${line}`;
    return `${shortPath(from.file, st.file)}:${line}`;
  }

  private dynUseOf(traitBase: string, world: World): { st: FileState; use: DynUse; inCur: boolean } | null {
    const hit = world.dyn.get(traitBase);
    if (hit !== undefined) return hit;
    let found: { st: FileState; use: DynUse; inCur: boolean } | null = null;
    for (const st of this.files.values()) {
      if (!st.cur) continue;
      const u = dynUse(st.cur, traitBase);
      if (u) { found = { st, use: u, inCur: true }; break; }
      const b = st.base && st.base !== st.cur ? dynUse(st.base, traitBase) : undefined;
      if (b && !found) found = { st, use: b, inCur: false };
    }
    world.dyn.set(traitBase, found);
    return found;
  }

  private hotClosureCalls(world: World): Array<{ st: FileState; call: HotClosureCall }> {
    if (world.hotClosureCalls) return world.hotClosureCalls;
    const out: Array<{ st: FileState; call: HotClosureCall }> = [];
    for (const st of this.files.values()) {
      const cur = st.cur;
      if (!cur || !cur.neverPatched.length) continue;
      for (const { p, c } of cur.neverPatched) {
        if (c.bare && !this.importsSubsecondCall(cur)) continue;
        for (const call of closureCalls(cur, p, c)) out.push({ st, call });
      }
    }
    world.hotClosureCalls = out;
    return out;
  }

  private importsSubsecondCall(s: Snapshot): boolean {
    let imported = this.importsCall.get(s);
    if (imported === undefined) this.importsCall.set(s, (imported = IMPORTS_CALL.test(s.text)));
    return imported;
  }

  /** Does a call written as `name(..)` / `x.name(..)` in file `from` reach `p` of `st`? (like isHot) */
  private callNames(from: FileState, method: boolean, st: FileState, p: Placed, world: World): boolean {
    const isMethod = p.m.fn?.selfType !== undefined;
    if (method && !isMethod) return false;
    if (from.cur?.fnNames.has(p.m.simple)) return from === st;
    if (this.crateHasFn(from.crate, p.m.simple, world)) return from.crate === st.crate;
    return true;
  }

  /** Signature changes of functions the running app holds as values: drafts (restart). */
  private valueSignatureDrafts(st: FileState, s: { p: Placed; before: Placed }, world: World): WorkspaceDraft | undefined {
    const p = s.p;
    const facts = fnFacts(st.cur!.text, p);
    const change = `its signature changed from ${q(s.before.m.fn!.sigDisplay)} to ${q(p.m.fn!.sigDisplay)}`;
    if (facts?.hot !== undefined) {
      if (SIGNATURE_HANDLED.test(facts.hot)) return undefined;
      return {
        code: 'hot-signature-changed', severity: 'restart', item: p.m.name, p,
        message: `${q(p.m.simple)} is a \`#[hot]\` system and ${change}: requires restart (or use \`#[hot(hot_patch_signature = true)]\`)`,
      };
    }
    const regs = this.registrations(st, p, world);
    if (!regs.length) return undefined;
    const r = regs[0];
    const where = this.placeLabel(st, r.st, r.site.at, r.inCur);
    const how = r.site.context ? ` (${q(r.site.context)})` : '';
    const d: WorkspaceDraft = {
      code: 'hot-signature-changed', severity: 'restart', item: p.m.name, p,
      message: `${q(p.m.simple)} is registered as a value at ${where}${how}; ${change}, so the app keeps calling the code of the first build: requires restart`,
    };
    if (r.inCur) d.pointer = { st: r.st, at: r.site.at, len: r.site.len, message: `${q(p.m.simple)} is registered here${how}` };
    return d;
  }

  /** Body changes the running app cannot reach through its jump table: drafts (info). */
  private unreachableDrafts(st: FileState, id: string, p: Placed, world: World, out: WorkspaceDraft[]): void {
    const cur = st.cur!;
    const base = st.base;
    const name = p.m.name;
    const tail = 'they run the old code until those values are created again or the app restarts';
    // a trait impl method, the trait used as `dyn Trait`
    const impl = p.m.fn?.selfType !== undefined && p.m.key.includes(' for ') ? fnFacts(cur.text, p)?.impl : undefined;
    const trait = impl?.traitBase;
    const framework = impl ? frameworkDyn(impl.trait ?? '', trait ?? '', cur.text) : undefined;
    if (framework) {
      // a framework trait its runner holds as a trait object the app made at startup
      out.push({
        code: 'patched-code-unreachable', severity: 'info', item: name, p,
        message: `${q(name)} is a method of ${q(impl!.trait!)}, which ${framework}: calls through it go through the old vtable and run the old code until the app restarts (code it reaches through \`subsecond::call\` is patched)`,
      });
    } else if (trait) {
      const u = this.dynUseOf(trait, world);
      if (u) {
        const at = this.placeLabel(st, u.st, u.use.at, u.inCur);
        out.push({
          code: 'patched-code-unreachable', severity: 'info', item: name, p,
          message: `${q(name)} is a method of ${q(trait)}, which is used as ${q(u.use.display)} (${at}): calls through ${q(u.use.display)} values created before the patch go through their old vtable; ${tail}`,
          pointer: u.inCur ? { st: u.st, at: u.use.at, len: u.use.len, message: `${q(trait)} is used as ${q(u.use.display)} here` } : undefined,
        });
      }
    }
    // stored closures (boxed, or in a struct field) whose code changed
    if (base) {
      const bp = base.map.get(id);
      if (bp && !bp.m.unknown) {
        const now = boxedClosures(cur, p);
        const was = boxedClosures(base, bp);
        if (now.length && now.length === was.length) {
          const changed = now.filter((c, i) => c.hash !== was[i].hash);
          if (changed.length) {
            const c = changed[0];
            const at = this.placeLabel(st, st, p.at + c.rel, true);
            out.push({
              code: 'patched-code-unreachable', severity: 'info', item: name, p,
              message: `${q(name)} changed a closure it stores (${q(c.wrapper.endsWith('}') ? c.wrapper : `${c.wrapper}(..)`)} at ${at}): stored closures created before the patch keep their old code; ${tail}`,
              pointer: { st, at: p.at + c.rel, len: c.len, message: 'this closure changed' },
            });
          }
        }
      }
    }
    // stored as a value by something that calls it directly
    const regs = this.registrations(st, p, world);
    const direct = regs.find((r) => !r.site.hotRegistrar);
    if (direct) {
      const at = this.placeLabel(st, direct.st, direct.site.at, direct.inCur);
      out.push({
        code: 'patched-code-unreachable', severity: 'info', item: name, p,
        message: `${q(p.m.simple)} is passed as a value at ${at} (${q(direct.site.context)}): if that value was stored before the patch and is called directly, not through subsecond, those calls run the old code until it is registered again or the app restarts`,
        pointer: direct.inCur ? { st: direct.st, at: direct.site.at, len: direct.site.len, message: `${q(p.m.simple)} is passed here (${q(direct.site.context)})` } : undefined,
      });
    }
    const startup = regs.find((r) => r.site.hotRegistrar && r.site.schedule && STARTUP_SCHEDULES.has(r.site.schedule));
    if (startup) {
      const at = this.placeLabel(st, startup.st, startup.site.at, startup.inCur);
      out.push({
        code: 'patched-code-unreachable', severity: 'info', item: name, p,
        message: `${q(p.m.simple)} runs in ${q(startup.site.schedule!)} (registered at ${at}): it already ran, the change applies on the next start`,
        pointer: startup.inCur ? { st: startup.st, at: startup.site.at, len: startup.site.len, message: `${q(p.m.simple)} is registered here` } : undefined,
      });
    }
    // called from a hot closure subsecond never patches
    const calls = this.hotClosureCalls(world);
    const via = calls.find((c) => c.call.name === p.m.simple && this.callNames(c.st, c.call.method, st, p, world));
    if (via) {
      const at = this.placeLabel(st, via.st, via.call.at, true);
      out.push({
        code: 'patched-code-unreachable', severity: 'info', item: name, p,
        message: `${q(p.m.simple)} is called from a hot closure subsecond never patches (${at}): calls from there keep running the old code until the app restarts`,
        pointer: { st: via.st, at: via.call.at, len: via.call.len, message: 'subsecond never patches this closure' },
      });
    }
  }

  private position(st: FileState, index: number): { line: number; character: number } {
    if (!st.lines) st.lines = lineStarts(st.cur?.text ?? '');
    const p = pointAt(st.lines, index);
    return { line: p.row, character: p.column };
  }

  private nameRange(st: FileState, p: Placed): SourceRange {
    const s = p.at + p.m.nameRel;
    return { start: this.position(st, s), end: this.position(st, s + p.m.nameLen) };
  }

  private itemRange(st: FileState, p: Placed): SourceRange {
    const u = st.units.find((x) => x.items.includes(p));
    // An item alone in its unit spans the unit; a method spans its name's line to its body's end.
    if (u && u.items.length === 1 && u.type !== 'mod_item') return { start: this.position(st, u.start), end: this.position(st, u.end) };
    const f = p.m.fn;
    const s = p.at + p.m.nameRel;
    return { start: { line: this.position(st, s).line, character: 0 }, end: this.position(st, f?.bodyLen ? p.at + f.bodyRel + f.bodyLen : s + p.m.nameLen) };
  }

  private fileFindings(st: FileState): Finding[] {
    if (st.findings && st.findings.epoch === this.epoch) return st.findings.list;
    const world = this.getWorld();
    const own = this.own(st);
    const cur = st.cur!;
    const base = st.base;
    const drafts: WorkspaceDraft[] = own ? [...own.drafts] : [];

    // embedded by value: a type whose own layout is unchanged but holds a changed one
    if (base && world.anyLayoutChange) {
      const affected = this.affectedNames(world);
      for (const [id, p] of cur.map) {
        const m = p.m;
        if (!m.deps || !m.deps.some((d) => affected.has(d)) || m.unknown || m.kind === 'alias' || own?.layoutChanged.has(id) || cur.duplicates.has(id) || base.duplicates.has(id)) continue;
        const b = base.map.get(own?.baseIdOf.get(id) ?? id);
        if (!b || b.m.unknown || b.m.kind !== m.kind) continue;
        let hit: TypeDef | null = null;
        let root: TypeDef | null = null;
        outer: for (const dep of m.deps) {
          for (const d of this.resolveType(dep, st)) {
            if (d.st === st && d.id === id) continue;
            root = this.layoutChange(d, world, new Set([`${st.file}\n${id}`]));
            if (root) { hit = d; break outer; }
          }
        }
        if (!hit || !root) continue;
        const depName = hit.st.cur!.map.get(hit.id)!.m.name;
        const reason = m.kind === 'static'
          ? { code: 'static-type-changed' as const, text: `static ${q(m.name)} holds ${q(depName)} whose layout changed: requires restart, the running app's static has the old layout` }
          : m.kind === 'tl'
            ? { code: 'thread-local-type-changed' as const, text: `thread-local ${q(m.name)} holds ${q(depName)} whose layout changed: requires restart, the running app's thread-local storage has the old layout` }
            : { code: m.kind === 'enum' ? 'enum-layout-changed' as const : 'struct-layout-changed' as const, text: `${q(m.name)} embeds ${q(depName)} whose layout changed: ${LAYOUT_REASON}` };
        drafts.push({ code: reason.code, severity: 'restart', item: m.name, message: reason.text, p, related: hit, cause: root });
      }
    }

    if (own) {
      // hot entries whose signature changed
      for (const s of own.sigChanged) {
        if (s.p.m.unknown) continue;
        if (!this.isHot(st, s.p, world)) {
          // a function the running app holds as a value (a Bevy system, a route, a callback)
          const d = this.valueSignatureDrafts(st, s, world);
          if (d) drafts.push(d);
          continue;
        }
        drafts.push({
          code: 'hot-signature-changed', severity: 'restart', item: s.p.m.name, p: s.p,
          message: `hot entry ${q(s.p.m.simple)} changed signature from ${q(s.before.m.fn!.sigDisplay)} to ${q(s.p.m.fn!.sigDisplay)}: requires restart, the running app calls it with the old signature`,
        });
      }
      // body changes that values made before the patch never reach
      if (own.changedFns.length) {
        const sigIds = new Set(own.sigChanged.map((c) => c.id));
        for (const c of own.changedFns) {
          if (c.p.m.unknown || sigIds.has(c.id) || cur.ambiguous.has(c.id) || base?.ambiguous.has(c.id)) continue;
          this.unreachableDrafts(st, c.id, c.p, world, drafts);
        }
      }
      // changed functions touching `static mut`s, or thread-locals the engine does not keep
      if (world.tlNames.size || world.staticMutNames.size) {
        for (const c of own.changedFns) {
          const f = c.p.m.fn!;
          if (c.p.m.unknown || !f.bodyLen) continue;
          const from = c.p.at + f.bodyRel;
          const t = lex(cur.text, from, from + f.bodyLen);
          const used: string[] = [];
          const mutStatics: string[] = [];
          for (let i = 0; i < t.n; i++) {
            if (t.kind[i] !== T_IDENT) continue;
            const w = t.str(i);
            if (world.tlNames.has(w) && !used.includes(w)) used.push(w);
            if (world.staticMutNames.has(w) && !mutStatics.includes(w)) mutStatics.push(w);
          }
          if (mutStatics.length) {
            // Reads and writes of a `static mut` are compiled in place (no address taken), which a
            // patch cannot redirect to the app's copy: the patch defines its own (engine/fixups.ts).
            const names = mutStatics.map(q).join(', ');
            drafts.push({
              code: 'static-mut-reset', severity: 'warning', item: c.p.m.name, p: c.p,
              message:
                `${q(c.p.m.simple)} uses \`static mut\` ${names}: patched code gets its own copy, starting from the initial value ` +
                `with every patch, of each \`static mut\` of the binary crate and each private one of a library crate (these are ` +
                `read and written in place, which a patch cannot redirect to the app's copy); a \`static\` holding an atomic or a Mutex keeps its value`,
            });
          }
          // With the engine keeping thread-locals (x86_64, aarch64: bound to the app's), a function using
          // one loses nothing and gets no finding; only a resetting engine loses the value.
          if (!used.length || this.policy !== 'reset') continue;
          const names = used.map(q).join(', ');
          const plural = used.length > 1;
          drafts.push({
            code: 'thread-local-reset', severity: 'warning', item: c.p.m.name, p: c.p,
            message:
              `${q(c.p.m.simple)} uses thread-local${plural ? 's' : ''} ${names}: patched code starts from ${plural ? 'their initial values' : 'its initial value'} ` +
              `and does not see the running app's value${plural ? 's' : ''}`,
          });
        }
      }
      // a macro_rules! template whose item-level uses generate items we do not model
      for (const p of own.changedMacroRules) {
        if (p.m.unknown || !this.crateInvokesAtItemLevel(st.crate, p.m.simple, world)) continue;
        drafts.push({
          code: 'macro-items-not-judged', severity: 'info', item: p.m.name, p,
          message: `items generated by ${q(p.m.simple + '!')} are not judged: its definition changed, and this analysis cannot see what it expands to (a layout change there is not detected)`,
        });
      }
    }

    const at = (d: Draft) => d.p.at + (d.rel ?? d.p.m.nameRel);
    drafts.sort((a, b) => at(a) - at(b));
    const list: Finding[] = drafts.map((d) => {
      const range = d.rel === undefined ? this.nameRange(st, d.p) : { start: this.position(st, at(d)), end: this.position(st, at(d) + (d.len ?? 0)) };
      const f: Finding = { code: d.code, severity: d.severity, file: st.file, range, item: d.item, message: d.message };
      if (d.severity === 'restart') f.itemRange = this.itemRange(st, d.p);
      if (d.related) {
        const rp = d.related.st.cur!.map.get(d.related.id)!;
        f.related = [{ file: d.related.st.file, range: this.nameRange(d.related.st, rp), message: `${q(rp.m.name)} is defined here; its layout changed` }];
        // through aliases or nested types, also point at where the change was made
        if (d.cause && (d.cause.st !== d.related.st || d.cause.id !== d.related.id)) {
          const cp = d.cause.st.cur!.map.get(d.cause.id)!;
          f.related.push({ file: d.cause.st.file, range: this.nameRange(d.cause.st, cp), message: `${q(cp.m.name)} changed here` });
        }
      }
      if (d.pointer) {
        const r = d.pointer;
        f.related = [{ file: r.st.file, range: { start: this.position(r.st, r.at), end: this.position(r.st, r.at + r.len) }, message: r.message }];
      }
      return f;
    });
    // a layout finding on a Dioxus context type names the components providing and reading it
    addContextNotes(drafts, list, () => [...this.files.values()].flatMap((st) => (st.cur ? contextUsesOf(st.cur) : []).map((use) => (
      { use, file: st.file, range: { start: this.position(st, use.at), end: this.position(st, use.at + use.len) } }))));
    // a layout finding on a Bevy resource or component says why Bevy cannot take the new layout
    addBevyStorageNotes(drafts, list, (p) => this.bevyStorageOf(st, p));

    // a property of the current code, whatever the baseline
    if (cur.neverPatched.length) {
      let imported = this.importsCall.get(cur);
      for (const { p, c } of cur.neverPatched) {
        if (c.bare) {
          if (imported === undefined) this.importsCall.set(cur, (imported = IMPORTS_CALL.test(cur.text)));
          if (!imported) continue;
        }
        const s = p.at + c.rel;
        list.push({
          code: 'hot-closure-never-patched', severity: 'warning', file: st.file, item: p.m.name,
          range: { start: this.position(st, s), end: this.position(st, s + c.len) }, message: closureMessage(c),
        });
      }
      list.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
    }
    st.findings = { epoch: this.epoch, list };
    return list;
  }

  /** Frees the syntax trees and the parser (wasm memory); the analyzer must not be used after. */
  dispose(): void {
    for (const st of [...this.trees]) this.dropTree(st);
    this.files.clear();
    this.parser.dispose();
  }

  /** Number of files currently holding a syntax tree (for tests and memory checks). */
  get treeCount(): number {
    return this.trees.size;
  }
}
