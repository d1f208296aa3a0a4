// The compiler's word on a source "requires restart" about a type. The source analysis judges
// text: a field retyped from `u64` to an alias of `u64`, a `#[cfg]` predicate edited on a field
// that is compiled out either way, `#[repr(C)]` added to a struct rustc already laid out in
// declaration order, fields reordered where rustc puts each at the same offset: each is a
// `struct-layout-changed` although the compiled layout is the same. A save blocked only by such
// struct and enum findings is built anyway, in the background, from a shadow of its own
// (`PatchBuilder.trial`: never sent, never committed, nothing a later patch carries is written),
// and the layout gate compares the compiled layouts of the types the findings name with the
// running executable's. The findings keep blocking (the source verdict stands; the compiler
// only adds what it knows): their message says the compiled layout is unchanged, or what moved.
// A build that fails, a type the build does not describe or a gate that cannot verify adds
// nothing. A save of any file (every new judgement) cancels the build and forgets the notes: they
// describe exactly the text that was built.
import type { Finding, PatchabilityAnalyzer } from '../analysis';
import { compareLayouts, describeDifference, displayName, sameLayout } from '../layout-gate';
import type { LayoutChange, LayoutIndex, TypeLayout } from '../layout-gate';
import type { AppLifecycle, RunningApp } from './app-lifecycle';
import type { BuildInputFinding, BuildInputs } from './build-inputs';
import type { CompiledLayouts } from './compiled-layouts';
import type { SessionObserver } from './observer';
import type { SourceFiles } from './source-files';

/** The source findings about a type's layout, which the compiled layouts can confirm or not. */
const TYPE_LAYOUT_CODES = new Set(['struct-layout-changed', 'enum-layout-changed']);
/** Nice value of the build: typing, speculation and real patches come first. */
const TRIAL_PRIORITY = 10;

export interface SourceLayoutCheckDeps {
  lifecycle: AppLifecycle;
  files: SourceFiles;
  analyzer: PatchabilityAnalyzer;
  buildInputs: BuildInputs;
  layouts: CompiledLayouts;
  observer: SessionObserver;
  /** The notes changed: show them. */
  publish: () => void;
  /** The gate's verdict on the build of `files` for `app`: its `compiled-layout-changed` findings (the problem board's `setCompiledLayouts`). */
  showCompiled: (app: RunningApp, findings: Finding[], files: string[]) => void;
}

interface Job {
  app: RunningApp;
  /** The judgement of the sources it builds (any new judgement makes it stale). */
  generation: number;
  controller: AbortController;
}

export class SourceLayoutCheck {
  private job: Job | undefined;
  private generation = 0;
  /** What the compiler says about each finding of the built text, by `findingKey`. */
  private notes = new Map<string, string>();
  private notesApp: RunningApp | undefined;

  constructor(private readonly deps: SourceLayoutCheckDeps) {}

  /** A file was judged anew: the build (if any) and the notes describe another text. */
  sourcesChanged(): void {
    this.generation++;
    this.cancel();
    this.notes.clear();
    this.notesApp = undefined;
  }

  /** Stops the build, if one runs (its rustc is killed: a real patch never waits behind it). */
  cancel(): void {
    const job = this.job;
    this.job = undefined;
    job?.controller.abort();
  }

  /** The finding as the compiler sees it: its message with the note, when there is one. */
  amend(f: Finding): Finding {
    if (!this.notesApp || this.notesApp !== this.deps.lifecycle.app) return f;
    const note = this.notes.get(findingKey(f));
    return note ? { ...f, message: `${f.message} (${note})` } : f;
  }

  /**
   * A save was blocked by `blocking`: when every one is a source finding about a type's layout,
   * build the save's patch in the background (never sent) and compare those types' compiled
   * layouts. `files` differ from what the app runs.
   */
  blocked(app: RunningApp, blocking: Array<Finding | BuildInputFinding>, files: string[]): void {
    if (app.aslrReference === undefined || this.deps.lifecycle.restarting || files.length === 0) return;
    const findings = blocking.filter((f): f is Finding => TYPE_LAYOUT_CODES.has(f.code) && 'range' in f && 'item' in f);
    if (findings.length === 0 || findings.length !== blocking.length) return; // another kind of restart: the gate cannot judge it
    if (this.job && this.job.app === app && this.job.generation === this.generation) return; // this text is built or being built
    const { buildInputs, observer } = this.deps;
    const unusable = this.deps.layouts.knownProblem(app);
    if (unusable !== undefined) return observer.log('debug', `layouts of the blocked save: not compared (${unusable})`);
    const inApp = files.filter((f) => buildInputs.outsideApp([f], app.bin).length === 0);
    if (inApp.length === 0) return;
    this.cancel();
    const crates = buildInputs.cratesToRebuild(inApp, app.bin);
    const job: Job = { app, generation: this.generation, controller: new AbortController() };
    this.job = job;
    const names = findings.map((f) => `\`${f.item}\``).join(', ');
    observer.log('info', `layouts of the blocked save: building it (not to be sent) to compare the compiled layouts of ${names}`);
    void app.builder
      .trial(
        { changedCrates: crates, aslrReference: app.aslrReference, overlays: this.deps.files.overlays(), signal: job.controller.signal, priority: TRIAL_PRIORITY },
        // read while the build's objects are still there (the next trial replaces them)
        (result) => this.deps.layouts.layoutsOf(app, result.objectPaths),
      )
      .then(async (t) => {
        if (!t.ok) {
          if (this.current(job)) observer.log('info', `layouts of the blocked save: not compared, its build failed (${t.result.stage}): ${t.result.message.split('\n')[0]}`);
          return;
        }
        const layouts = await t.value;
        if (!this.current(job)) return;
        if (!layouts.verified) {
          observer.log('info', `layouts of the blocked save: not compared (${layouts.reason})`);
          return;
        }
        const crates = Object.keys(app.build.workspaceCrates);
        const locate: PatchabilityAnalyzer['locateType'] = (c, p) => this.deps.analyzer.locateType(c, p);
        const notes = new Map<string, string>();
        for (const f of findings) {
          const note = compiledNote(f, layouts.patch, layouts.app, crates, locate);
          if (note) notes.set(findingKey(f), note);
        }
        observer.log('info', `layouts of the blocked save: ${notes.size ? [...notes.values()].join('; ') : `${names} not described by the build`}`);
        // The compiler saw layout changes no source finding names: the gate's own findings, as
        // on a built patch (they replace the gate's previous verdict on these files; none clears it).
        const own = findings.map((f) => ownPath(f, layouts.patch, crates, locate)).filter((p): p is string => p !== undefined);
        const unseen = unnamedChanges(compareLayouts(layouts.app, layouts.patch).changes, own, crates);
        const gate = this.deps.layouts.findingsOf(app, unseen, inApp);
        if (gate.length) observer.log('info', `layouts of the blocked save: the compiler also saw what no source finding names: ${unseen.map((c) => c.summary).join('; ')}`);
        this.deps.showCompiled(app, gate, inApp);
        if (notes.size) {
          this.notes = notes;
          this.notesApp = app;
        }
        this.deps.publish();
      })
      .catch((e) => observer.log('warn', `layouts of the blocked save: ${(e as Error).message}`));
  }

  /** The job is still the one for the current sources and app. */
  private current(job: Job): boolean {
    return this.job === job && job.generation === this.generation && this.deps.lifecycle.app === job.app;
  }
}

/**
 * What the compiled layouts say about the type of finding `f`: unchanged (every instance the
 * build describes is one of the executable's layouts, fields in any declaration order), or the
 * differences. Undefined when the build describes no instance the executable has. `locate` finds
 * a type's definition by crate and path (the analysis' `locateType`).
 */
export function compiledNote(
  f: Finding,
  patch: readonly TypeLayout[],
  exe: LayoutIndex,
  crates: readonly string[],
  locate: PatchabilityAnalyzer['locateType'],
): string | undefined {
  const simple = f.item.split('::').pop() ?? f.item;
  const own = ownPath(f, patch, crates, locate);
  if (!own) return undefined;
  // Its instances and, for an enum, its variants' payload structs (`E::A`), as both sides describe them.
  const compared = new Map<string, { before: TypeLayout[]; after: TypeLayout; instance: boolean }>();
  for (const t of patch) {
    const p = typePath(t.name);
    if (!p || (p !== own && !p.startsWith(`${own}::`))) continue;
    const before = exe.get(t.name);
    if (!before) continue; // an instance the app does not have: it holds no value of it
    const seen = compared.get(t.name);
    // a name described twice: the differing description is the one that counts
    if (!seen || seen.before.some((b) => sameFields(b, seen.after))) compared.set(t.name, { before, after: t, instance: p === own });
  }
  const instances = [...compared].filter(([, c]) => c.instance);
  if (instances.length === 0) return undefined;
  const changed = [...compared].filter(([, c]) => !c.before.some((b) => sameFields(b, c.after)));
  if (changed.length > 0) {
    const what = changed.map(([name, c]) => `${displayName(name)}: ${describeDifference(c.before[0], c.after)}`).join('; ');
    return `the compiled layout changed too: ${what}`;
  }
  const sizes = instances.map(([name, c]) => `${instances.length > 1 ? `\`${shortName(name)}\`: ` : ''}${c.after.size ?? '?'} bytes`).join(', ');
  const reordered = instances.some(([, c]) => !c.before.some((b) => sameLayout(b, c.after)));
  return (
    `the compiled layout of \`${simple}\` is unchanged: ${sizes}, the same fields at the same offsets${reordered ? ' (declared in another order)' : ''}` +
    ', compared on a build of this save that was not sent; the source verdict still asks for the restart'
  );
}

/**
 * The path rustc names the type of finding `f` with (`app::Timing`), found among the build's
 * types through the analysis' definition of it; undefined when the build does not describe it.
 */
export function ownPath(f: Finding, patch: readonly TypeLayout[], crates: readonly string[], locate: PatchabilityAnalyzer['locateType']): string | undefined {
  const simple = f.item.split('::').pop() ?? f.item;
  const tried = new Set<string>();
  for (const t of patch) {
    const p = typePath(t.name);
    if (!p || tried.has(p) || p.split('::').pop() !== simple) continue;
    tried.add(p);
    const crate = p.slice(0, p.indexOf('::'));
    if (!crates.includes(crate)) continue;
    const at = locate(crate, p.slice(crate.length + 2));
    if (at && at.file === f.file && at.range.start.line === f.range.start.line && at.range.start.character === f.range.start.character) return p;
  }
  return undefined;
}

/**
 * The layout changes the source findings do not name: `changes` (the build's types against the
 * executable's) less those whose name mentions a named type (`own`: the findings' types as rustc
 * names them), as itself, an instance (`app::Ring<app::Stats>`), a variant payload (`app::E::A`)
 * or a holder the compiler names with it (`core::option::Option<app::Stats>`). What is left is a
 * change the source analysis did not see (a `macro_rules!` output, a `const` array length).
 */
export function unnamedChanges(changes: readonly LayoutChange[], own: readonly string[], crates: readonly string[]): LayoutChange[] {
  return changes.filter((c) => {
    for (const m of c.type.matchAll(/[A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z_][A-Za-z0-9_]*)+/g)) {
      const p = m[0];
      if (!crates.includes(p.slice(0, p.indexOf('::')))) continue;
      if (own.some((o) => p === o || p.startsWith(`${o}::`))) return false;
    }
    return true;
  });
}

/** Identifies a finding among the findings of one judged text. */
function findingKey(f: Finding): string {
  return `${f.file}\u0000${f.code}\u0000${f.item}\u0000${f.range.start.line}:${f.range.start.character}`;
}

/**
 * The same layout, fields compared by name whatever their declaration order: each field at the
 * same offset with the same type (what values in memory depend on).
 */
export function sameFields(a: TypeLayout, b: TypeLayout): boolean {
  if (sameLayout(a, b)) return true;
  const byOffset = (t: TypeLayout): TypeLayout => ({ ...t, fields: [...t.fields].sort((x, y) => x.offset - y.offset || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0)) });
  return sameLayout(byOffset(a), byOffset(b));
}

/**
 * A DWARF type name without its generic arguments (`layout_core::Ring<u32>` → `layout_core::Ring`,
 * `app::E<u8>::A` → `app::E::A`); undefined for environments named by position (`{closure_env#0}`).
 */
export function typePath(name: string): string | undefined {
  let out = '';
  let depth = 0;
  for (const ch of name) {
    if (ch === '<') depth++;
    else if (ch === '>') depth = Math.max(0, depth - 1);
    else if (depth === 0) out += ch;
  }
  return out.includes('{') || !out.includes('::') ? undefined : out;
}

/** `layout_core::Ring<u32>` → `Ring<u32>`: paths dropped, generic arguments kept. */
function shortName(name: string): string {
  return name.replace(/[A-Za-z_][A-Za-z0-9_]*::/g, '');
}
