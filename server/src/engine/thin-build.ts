// engine/thin-build.ts — PatchBuilder: one patch per request, from the recorded rustc calls.
//
//   rustc       replay the changed workspace crates (new rlibs), then their workspace dependents
//               in dependency order (a rebuilt crate gets a new SVH; stale dependents would make
//               the tip fail with "possibly newer version of crate"), then the tip with the link
//               shim in capture mode. No cargo: a clean environment plus the recorded one, in the
//               recorded cwd, minus cargo's dead jobserver fds and the wrapper variable.
//   objects     workspace-crate objects out of their new rlibs (kept across patches: each patch
//               carries every crate changed since the fat build, since patches replace the table
//               rather than add to it), plus the tip objects the shim captured.
//   stub        undefined symbols bound to the running process (stub.ts).
//   link        the patch .so (linker.ts).
//   jump-table  old → new addresses (jump-table.ts).
//
// Files we write are always new files (write to a fresh path or unlink first): the captured tip
// objects are hard links that may share an inode with rustc's incremental cache.
// Never imports the LSP library or the devserver.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { artifactsGoneMessage, diskFullMessage } from './build-faults';
import { run } from '../support/process';
import { readArchive } from './ar';
import { parseRustcStderr, summarizeErrors, isError } from './diagnostics';
import { ElfFile } from './elf';
import { applyFixups, FixupResult } from './fixups';
import { buildJumpTable } from './jump-table';
import { buildDetourPlan, DetourPlan } from './detour-plan';
import { RunningCode } from './code-change';
import { demangle } from './demangle';
import { chooseDriver, findGccLdDir, keptLinkArgs, linkerCandidates, LinkerCandidate, LinkerKind, linkPatch } from './linker';
import { ENV_LINK_MODE, ENV_OBJDIR, ENV_PREFIX, RustcRecord, recordRlib, rustcOption, splitNul } from './recorder';
import { readCrateInputs } from './dep-info';
import { ShadowLayout, shadowRecord, writeShadowSources } from './shadow';
import { planStub, writeStubObject } from './stub';
import { forgetObjectsUnder, objectSymbols, ObjectSymbols } from './symbols';
import type { FatBuild, PatchResult, PatchStage, PatchStats, PatchTimings, RustcDiagnostic } from './types';

export type LogFn = (level: 'info' | 'warn' | 'error', msg: string) => void;

export interface PatchBuilderOptions {
  log?: LogFn;
  /**
   * Rebind tip-crate statics and thread-locals to the running app's (x86_64, opt-level 0). On by
   * default; off means every patched static starts fresh.
   */
  rebindState?: boolean;
  /** How many patch .so files to keep on disk (older ones are deleted; the app keeps its mappings). */
  keepPatches?: number;
  /** Linkers to use, in order of preference (default: rust-lld, lld, mold, gnu-ld — those found). */
  linkers?: LinkerKind[];
}

/** Variables a replay must not inherit from the recorded cargo environment. */
const DROP_ENV = new Set(['CARGO_MAKEFLAGS', 'MAKEFLAGS', 'MFLAGS', 'RUSTC_WORKSPACE_WRAPPER', 'RUSTC_WRAPPER']);

export function replayEnv(recorded: Record<string, string>, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(recorded)) {
    if (DROP_ENV.has(k) || k.startsWith(ENV_PREFIX)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/** Workspace crates to rebuild for `changed`: the crates and their workspace dependents, deps first. */
export function rebuildOrder(workspaceCrates: Record<string, string[]>, changed: Iterable<string>, exclude: Set<string>): string[] {
  const dependents = new Map<string, string[]>();
  for (const [c, deps] of Object.entries(workspaceCrates)) {
    for (const d of deps) {
      const list = dependents.get(d);
      if (list) list.push(c);
      else dependents.set(d, [c]);
    }
  }
  const affected = new Set<string>();
  const stack = [...changed];
  while (stack.length) {
    const c = stack.pop()!;
    if (affected.has(c)) continue;
    affected.add(c);
    for (const d of dependents.get(c) ?? []) stack.push(d);
  }
  // Kahn's algorithm restricted to the affected set; ties broken by name for determinism.
  const indeg = new Map<string, number>();
  for (const c of affected) indeg.set(c, (workspaceCrates[c] ?? []).filter((d) => affected.has(d) && d !== c).length);
  const order: string[] = [];
  const ready = [...affected].filter((c) => indeg.get(c) === 0).sort();
  while (ready.length) {
    const c = ready.shift()!;
    order.push(c);
    for (const d of (dependents.get(c) ?? []).filter((x) => affected.has(x)).sort()) {
      const n = (indeg.get(d) ?? 0) - 1;
      indeg.set(d, n);
      if (n === 0) ready.push(d);
    }
    ready.sort();
  }
  // A cycle (cannot happen between libs) would leave crates out: append them rather than drop them.
  for (const c of affected) if (!order.includes(c)) order.push(c);
  return order.filter((c) => !exclude.has(c));
}

export interface BuildRequest {
  changedCrates: string[];
  aslrReference: number;
  signal?: AbortSignal;
}

/** A speculative build's outcome: a patch ready to `commit`, or why there is none. */
export type PreparedPatch =
  | { ok: true; id: number; result: Extract<PatchResult, { ok: true }> }
  | { ok: false; result: Extract<PatchResult, { ok: false }> };

/** Where a build reads and writes: the real outputs, or a speculative build's shadow. */
interface Place {
  shadow?: { layout: ShadowLayout; overlays: Map<string, string> };
  /** How the log names a shadow build: `speculative` (prepared, maybe committed) or `trial` (only inspected). */
  label?: 'speculative' | 'trial';
  /** Scheduling priority of the compilers and the linker (nice value). */
  priority?: number;
  objsDir(crate: string): string;
  /** The rustc call to run for a recorded one. */
  call(rec: RustcRecord): RustcRecord;
  workDir(): string;
  soPath(workDir: string): string;
  /** Called once with the records about to be replayed, before any of them runs. */
  prepareSources?(records: RustcRecord[]): void;
  /** Throws if what the compilers read may have changed since (checked after the link and at the commit). */
  verifySources?(): void;
}

/** A file's identity and version as stat sees it (a rewrite changes it, even to the same text). */
function statKey(file: string): string {
  try {
    const st = fs.statSync(file);
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

class StageError extends Error {
  constructor(readonly stage: PatchStage, message: string, readonly diagnostics: RustcDiagnostic[] = []) {
    super(message);
  }
}

/** Where a session's patch libraries are written (the devserver puts each launch's probe there). */
export function patchLibraryDir(fat: Pick<FatBuild, 'sessionDir'>): string {
  return path.join(fat.sessionDir, 'patches');
}

export class PatchBuilder {
  private readonly fat: FatBuild;
  private readonly log: LogFn;
  private readonly options: PatchBuilderOptions;
  private count = 0;
  /** Workspace crates rebuilt since the fat build (their objects go into every patch). */
  private readonly modified = new Set<string>();
  /** Crates whose rebuild failed: retried on the next request even if not named again. */
  private readonly pending = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();
  private linker?: LinkerCandidate;
  private candidates?: LinkerCandidate[];
  private driver?: string;
  private lastWorkDir?: string;
  private currentWorkDir?: string;
  /** The code each detoured function's entries lead to in the app (for the detour plans). */
  private readonly runningCode = new RunningCode();
  /** The speculative build ready to be committed (at most one). */
  private prepared?: { id: number; place: Place; result: PatchResult };
  private preparedSeq = 0;

  constructor(fat: FatBuild, options?: PatchBuilderOptions) {
    this.fat = fat;
    this.options = options ?? {};
    this.log = options?.log ?? (() => undefined);
  }

  /**
   * After a patch with this plan was delivered: `detoured` says which changed functions now have
   * every entry leading to their new copy; undefined when that is not known (no detours, no
   * answer): those functions then count as changed in every later plan.
   */
  settleDetours(plan: DetourPlan, detoured: ((name: string) => boolean) | undefined): void {
    this.runningCode.settle(plan.changes, detoured);
  }

  get patchCount(): number {
    return this.count;
  }

  /** Crates whose objects the next patch will carry besides the tip. */
  get modifiedCrates(): string[] {
    return [...this.modified];
  }

  /**
   * Thin build: changed workspace crates (+ their workspace dependents, in dependency order), then
   * the tip; cumulative across patches. aslrReference = runtime address of `main` in the app.
   * Requests are serialized.
   */
  build(request: BuildRequest): Promise<PatchResult> {
    return this.enqueue(() => {
      this.discardPrepared(); // prepared against the state this build changes
      return this.buildOne(request, this.realPlace());
    });
  }

  /**
   * A speculative build: the same patch, compiled from a shadow of the sources in which
   * `overlays` (absolute path → text: unsaved buffers) replace the files on disk (shadow.ts). It
   * changes nothing a later build reads until `commit` makes it the next patch; `discard` or a
   * newer `prepare` throws it away. Serialized with `build`; a cancelled one stops its rustc.
   */
  prepare(request: BuildRequest & { overlays: Map<string, string>; priority?: number }): Promise<PreparedPatch> {
    return this.enqueue(async () => {
      this.discardPrepared();
      const place = this.shadowPlace(request.overlays, request.priority);
      const result = await this.buildOne(request, place);
      if (!result.ok) return { ok: false, result };
      const prepared: PreparedPatch = { ok: true, result, id: ++this.preparedSeq };
      this.prepared = { id: prepared.id, place, result };
      return prepared;
    });
  }

  /**
   * A build only to be looked at, never sent: the same patch as `build` would make of the sources
   * (with `overlays` standing for their files), compiled from a shadow of its own
   * (<session>/trial, shadow.ts) that neither a speculative build nor a real one reads. It never
   * becomes a patch: nothing real is written, no crate counts as modified, the prepared patch is
   * left alone. `inspect` runs as soon as it is built, before any other build may run (the
   * objects it lists are replaced by the next trial), and its value is returned as it is (a
   * promise is not awaited: the build queue moves on). Serialized with `build` and `prepare`;
   * `signal` stops it (its rustc is killed), so a save never waits long behind one.
   */
  trial<T>(
    request: BuildRequest & { overlays: Map<string, string>; priority?: number },
    inspect: (result: Extract<PatchResult, { ok: true }>) => T,
  ): Promise<{ ok: true; value: T } | { ok: false; result: Extract<PatchResult, { ok: false }> }> {
    return this.enqueue(async () => {
      if (request.signal?.aborted) return { ok: false as const, result: { ok: false as const, stage: 'setup' as const, message: 'cancelled', diagnostics: [] } };
      const place = this.shadowPlace(request.overlays, request.priority, 'trial');
      const result = await this.buildOne(request, place);
      if (!result.ok) return { ok: false as const, result };
      try {
        return { ok: true as const, value: inspect(result) };
      } finally {
        fs.rmSync(result.soPath, { force: true }); // never loaded by anyone
      }
    });
  }

  /**
   * Makes a prepared patch the next real patch, as if `build` had produced it: its .so is moved
   * among the patches under a fresh number, the rebuilt crates' objects and rlibs replace the
   * real ones (so later builds compile against them), and its crates count as modified. Returns
   * undefined when it is no longer the prepared patch (discarded, or a build ran since).
   */
  commit(prepared: PreparedPatch): PatchResult | undefined {
    const held = this.prepared;
    if (!prepared.ok || !held || held.id !== prepared.id) return undefined;
    this.prepared = undefined;
    const r = held.result;
    if (!r.ok) return undefined;
    const shadow = held.place.shadow!;
    // r.crates is the build order with the tip last: the libraries before it were rebuilt (a
    // package's lib may share the tip's name, so the tip is not looked up as a lib).
    const libs = r.crates.slice(0, -1).filter((c) => this.fat.records[`${c}.lib`]);
    const missing = [r.soPath, ...libs.map((c) => held.place.objsDir(c))].filter((p) => !fs.existsSync(p));
    if (missing.length) {
      this.log('warn', `the prepared patch is incomplete (${missing.join(', ')} missing); building again`);
      return undefined;
    }
    // Every file it read must be as it was: even a comment-only edit moves the line numbers of
    // panics and `file!()` (the session compares code fingerprints, which ignore comments).
    try {
      held.place.verifySources?.();
    } catch (e) {
      this.log('info', `the prepared patch is stale: ${(e as Error).message.replace(' during the speculative build', ' since it was built')}`);
      return undefined;
    }
    this.runningCode.pending(r.detourPlan.changes);
    const n = this.nextPatchNumber();
    const patchesDir = patchLibraryDir(this.fat);
    fs.mkdirSync(patchesDir, { recursive: true });
    const soPath = path.join(patchesDir, `lib${this.fat.binName}-patch-${n}.so`);
    fs.renameSync(r.soPath, soPath); // a new name: dlopen would return a library already loaded under an old one
    for (const c of libs) {
      const rec = this.fat.records[`${c}.lib`];
      const dir = this.crateDir(c);
      forgetObjectsUnder(dir);
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(path.dirname(dir), { recursive: true });
      fs.renameSync(held.place.objsDir(c), dir);
      this.installShadowOutputs(rec, shadow.layout);
      this.pending.delete(c);
      this.modified.add(c);
    }
    const tipRec = this.fat.records[`${this.fat.tipCrate}.bin`];
    if (tipRec) this.installShadowOutputs(tipRec, shadow.layout, true);
    this.count++;
    this.cleanupPatches(patchesDir);
    this.log('info', `patch ${n}: prepared before the save (speculative build committed)`);
    // the rebuilt crates' objects now live where real builds keep them
    const moved = (o: string) => {
      const c = libs.find((x) => o.startsWith(held.place.objsDir(x) + path.sep));
      return c ? path.join(this.crateDir(c), path.relative(held.place.objsDir(c), o)) : o;
    };
    return { ...r, soPath, jumpTable: { ...r.jumpTable, lib: soPath }, objectPaths: r.objectPaths.map(moved) };
  }

  /**
   * The patch built from `crates` was not sent (the layout gate blocked it): their rlibs and
   * objects now hold code the app does not run, so the next request compiles them again from the
   * sources as they are then (a reverted edit must not be carried in from the unsent build).
   */
  rebuildNextTime(crates: Iterable<string>): void {
    for (const c of crates) if (this.fat.records[`${c}.lib`] || this.fat.records[`${c}.proc-macro`]) this.pending.add(c);
  }

  /** Throws away the prepared patch, if any. */
  discardPrepared(): void {
    const held = this.prepared;
    this.prepared = undefined;
    if (!held) return;
    if (held.result.ok) fs.rmSync(held.result.soPath, { force: true });
  }

  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    const next = this.queue.then(job);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** The files a real build writes, where the recorded call says. */
  private realPlace(): Place {
    return {
      objsDir: (c) => this.crateDir(c),
      call: (rec) => rec,
      workDir: () => path.join(this.fat.sessionDir, 'work', String(this.nextPatchNumber())),
      soPath: (workDir) => path.join(patchLibraryDir(this.fat), `lib${this.fat.binName}-patch-${path.basename(workDir)}.so`),
    };
  }

  /** A speculative build's files: everything under <session>/<dir>, sources mirrored there. */
  private shadowPlace(overlays: Map<string, string>, priority?: number, dir: 'speculative' | 'trial' = 'speculative'): Place {
    const root = path.join(this.fat.sessionDir, dir);
    const layout: ShadowLayout = {
      workspaceRoot: this.fat.workspaceRoot,
      targetDir: this.fat.targetDir,
      sourcesDir: path.join(root, 'src'),
      outDir: path.join(root, 'out'),
      incrementalDir: path.join(root, 'incremental'),
    };
    const rebuilt = new Map<string, string>();
    const readAt = new Map<string, string>();
    return {
      shadow: { layout, overlays },
      label: dir,
      priority,
      objsDir: (c) => path.join(root, 'objs', c),
      call: (rec) => {
        const shadowed = shadowRecord(rec, layout, rebuilt);
        const real = rec.kind === 'lib' ? recordRlib(rec) : undefined;
        if (real) rebuilt.set(real, recordRlib(shadowed)!);
        return shadowed;
      },
      workDir: () => path.join(root, 'work'),
      soPath: () => path.join(root, `lib${this.fat.binName}-speculative-${Date.now()}.so`),
      prepareSources: (records) => {
        fs.mkdirSync(layout.outDir, { recursive: true });
        // libraries of earlier speculative builds that failed late (none is prepared now)
        for (const f of fs.readdirSync(root)) if (f.endsWith('.so')) fs.rmSync(path.join(root, f), { force: true });
        for (const dir of [path.join(root, 'objs'), path.join(root, 'work')]) {
          forgetObjectsUnder(dir);
          fs.rmSync(dir, { recursive: true, force: true });
        }
        const inputs = new Set<string>();
        for (const rec of records) for (const f of readCrateInputs(rec) ?? []) inputs.add(f);
        try {
          writeShadowSources(layout, inputs, overlays);
        } catch (e) {
          throw new StageError('setup', `cannot prepare the speculative sources: ${(e as Error).message}`);
        }
        // The mirror links to the real files: rustc reads them while it runs, so they must not change meanwhile.
        for (const f of inputs) if (!overlays.has(f)) readAt.set(f, statKey(f));
      },
      verifySources: () => {
        const changed = [...readAt].filter(([f, key]) => statKey(f) !== key).map(([f]) => path.relative(this.fat.workspaceRoot, f));
        if (changed.length) throw new StageError('setup', `${changed.slice(0, 3).join(', ')} changed during the speculative build`);
      },
    };
  }

  /**
   * Copies a shadow call's rlib, rmeta and dep-info over the real ones (new files, renamed in).
   * The dep-info names the real files (which later saves are matched against), not the mirror.
   */
  private installShadowOutputs(rec: RustcRecord, layout: ShadowLayout, depInfoOnly = false): void {
    const outDir = rustcOption(rec.args, '--out-dir');
    if (!outDir) return;
    const extra = rustcOption(rec.args, '-C extra-filename') ?? '';
    const depInfo = `${rec.crateName}${extra}.d`;
    const names = depInfoOnly ? [depInfo] : [`lib${rec.crateName}${extra}.rlib`, `lib${rec.crateName}${extra}.rmeta`, depInfo];
    for (const name of names) {
      const from = path.join(layout.outDir, name);
      if (!fs.existsSync(from)) continue;
      const to = path.resolve(rec.cwd, outDir, name);
      const tmp = `${to}.${process.pid}.speculative`;
      if (name === depInfo) fs.writeFileSync(tmp, fs.readFileSync(from, 'utf8').split(layout.sourcesDir).join(layout.workspaceRoot));
      else fs.copyFileSync(from, tmp);
      fs.renameSync(tmp, to);
    }
  }

  private async buildOne(request: BuildRequest, place: Place): Promise<PatchResult> {
    try {
      return await this.buildInner(request, place);
    } catch (e) {
      // A speculative build fails quietly: the save builds again and reports what it finds.
      const level = place.shadow ? 'info' : 'error';
      const what = place.shadow ? `${place.label ?? 'speculative'} build` : 'patch';
      // a failed attempt's scratch files are useless; its number may be reused (no .so was loaded)
      if (this.currentWorkDir && this.currentWorkDir !== this.lastWorkDir) {
        forgetObjectsUnder(this.currentWorkDir);
        fs.rmSync(this.currentWorkDir, { recursive: true, force: true });
      }
      // A full disk or deleted fat-build files show up as odd tool failures: say what happened.
      const raw = e instanceof StageError ? `${e.message}\n${e.diagnostics.map((d) => d.rendered ?? d.message).join('\n')}` : String((e as Error)?.message ?? e);
      const fault = artifactsGoneMessage(raw, this.fatDepsDirs()) ?? diskFullMessage(raw, ['patches', 'work', 'objs', 'speculative', 'trial'].map((d) => path.join(this.fat.sessionDir, d)));
      if (fault) {
        const stage = e instanceof StageError ? e.stage : 'setup';
        this.log(level, `${what} failed at ${stage}: ${fault}`);
        return { ok: false, stage, message: fault, diagnostics: [] };
      }
      if (e instanceof StageError) {
        this.log(level, `${what} failed at ${e.stage}: ${e.message}`);
        return { ok: false, stage: e.stage, message: e.message, diagnostics: e.diagnostics };
      }
      const msg = e instanceof Error ? e.message : String(e);
      this.log(level, `${what} failed: ${msg}`);
      return { ok: false, stage: 'setup', message: `internal error: ${msg}`, diagnostics: [] };
    }
  }

  private async buildInner(request: BuildRequest, place: Place): Promise<PatchResult> {
    const speculative = place.shadow !== undefined;
    const t0 = performance.now();
    const fat = this.fat;
    const signal = request.signal;
    const notes: string[] = [];
    const timings: PatchTimings = { rustcMs: 0, objectsMs: 0, stubMs: 0, linkMs: 0, jumpTableMs: 0, totalMs: 0 };

    // ---- setup
    const tipRec = fat.records[`${fat.tipCrate}.bin`];
    if (!tipRec) throw new StageError('setup', `no recorded rustc call for the tip crate \`${fat.tipCrate}\`; run a fat build first`);
    const aslr = request.aslrReference;
    if (!Number.isSafeInteger(aslr) || aslr <= 0) throw new StageError('setup', `invalid aslrReference ${aslr}`);
    const slide = aslr - fat.symbols.mainAddress;
    if (slide < 0 || slide % 4096 !== 0) {
      throw new StageError('setup', `aslrReference ${aslr} does not fit this build (main is at ${fat.symbols.mainAddress} in the executable; the app was probably built differently)`);
    }
    const gone = artifactsGoneMessage('', this.fatDepsDirs());
    if (gone) throw new StageError('setup', gone);
    const workDir = place.workDir();
    this.currentWorkDir = workDir;
    fs.rmSync(workDir, { recursive: true, force: true });
    fs.mkdirSync(workDir, { recursive: true });

    const requested = new Set([...request.changedCrates, ...this.pending]);
    const order: string[] = [];
    /**
     * Proc-macro crates asked for by name: host libraries rustc loads while it compiles the
     * crates that use them, so they are replayed first (their dependents follow in `order`) and
     * give the patch no objects. One reached only as a dependent is not replayed.
     */
    const macros: string[] = [];
    for (const c of rebuildOrder(fat.workspaceCrates, requested, new Set())) {
      if (fat.records[`${c}.proc-macro`]) {
        if (requested.has(c)) macros.push(c);
      } else if (fat.records[`${c}.lib`]) order.push(c);
      else if (c !== fat.tipCrate && fat.workspaceCrates[c] !== undefined && !fat.records[`${c}.bin`]) {
        notes.push(`crate \`${c}\` has no recorded rustc call (not built by the fat build?); its changes are not in this patch — restart to pick them up`);
      }
    }
    for (const c of requested) {
      if (fat.workspaceCrates[c] === undefined && !fat.records[`${c}.lib`] && c !== fat.tipCrate) notes.push(`\`${c}\` is not a workspace crate; ignored`);
    }
    // A shadow build would have to rewrite where every dependent finds the macro library, and the
    // real one may hold an unsent expansion: a proc-macro crate is rebuilt from saved files only.
    if (speculative && macros.length) throw new StageError('setup', `the proc-macro crate \`${macros[0]}\` is rebuilt only in a build from saved files: save to patch`);

    place.prepareSources?.([...order.map((c) => fat.records[`${c}.lib`]), tipRec]);

    // ---- rustc: workspace crates, then the tip
    /** Crates whose objects this build produced (a speculative build leaves `modified` alone). */
    const rebuiltHere = new Set<string>();
    for (const c of macros) {
      const t = performance.now();
      const r = await this.replay(fat.records[`${c}.proc-macro`], {}, signal, place.priority);
      timings.rustcMs += performance.now() - t;
      if (!r.ok) {
        this.pending.add(c);
        throw new StageError('rustc', `\`${c}\`: ${summarizeErrors(r.diagnostics, r.text)}`, r.diagnostics);
      }
      this.pending.delete(c);
    }
    for (const c of order) {
      const rec = place.call(fat.records[`${c}.lib`]);
      const t = performance.now();
      const r = await this.replay(rec, {}, signal, place.priority);
      timings.rustcMs += performance.now() - t;
      if (!r.ok) {
        if (!speculative) this.pending.add(c);
        throw new StageError('rustc', `\`${c}\`: ${summarizeErrors(r.diagnostics, r.text)}`, r.diagnostics);
      }
      if (!speculative) this.pending.delete(c);
      const t2 = performance.now();
      this.extractCrateObjects(c, rec, place.objsDir(c));
      timings.objectsMs += performance.now() - t2;
      rebuiltHere.add(c);
      if (!speculative) this.modified.add(c);
    }
    const tipDir = path.join(workDir, 'tip');
    {
      const t = performance.now();
      const r = await this.replay(place.call(tipRec), { [ENV_LINK_MODE]: 'capture', [ENV_OBJDIR]: tipDir }, signal, place.priority);
      timings.rustcMs += performance.now() - t;
      if (!r.ok) throw new StageError('rustc', `\`${fat.tipCrate}\`: ${summarizeErrors(r.diagnostics, r.text)}`, r.diagnostics);
    }

    // ---- objects
    const tObj = performance.now();
    const tipObjects = this.capturedObjects(tipDir);
    if (tipObjects.length === 0) throw new StageError('objects', `rustc did not pass any object to the link shim (${tipDir})`);
    const crateObjects: string[] = [];
    const carried = new Set([...this.modified, ...rebuiltHere]);
    for (const c of carried) {
      if (c === fat.tipCrate && !fat.records[`${c}.lib`]) continue;
      crateObjects.push(...this.crateObjectFiles(rebuiltHere.has(c) ? place.objsDir(c) : this.crateDir(c)));
    }
    let fixups: FixupResult = { objects: [...tipObjects, ...crateObjects], notes: [], staticsRebound: 0, threadLocalsRebound: 0, summaries: new Map() };
    if (this.options.rebindState !== false) {
      fixups = applyFixups({ fat: fat.symbols, objects: fixups.objects, outDir: path.join(workDir, 'fixed') });
      notes.push(...fixups.notes);
    }
    const objects = fixups.objects;
    let objSyms: ObjectSymbols[];
    try {
      objSyms = objects.map((o) => fixups.summaries.get(o) ?? objectSymbols(o));
    } catch (e) {
      throw new StageError('objects', (e as Error).message);
    }
    timings.objectsMs += performance.now() - tObj;

    // ---- stub
    const tStub = performance.now();
    const plan = planStub(fat.symbols, objSyms, slide);
    const stubPath = path.join(workDir, 'stub.o');
    try {
      fs.writeFileSync(stubPath, writeStubObject(plan.spec));
    } catch (e) {
      throw new StageError('stub', `writing the stub failed: ${(e as Error).message}`);
    }
    if (plan.ambiguous.length > 0) this.log('warn', `stub: ${plan.ambiguous.length} names defined more than once in the executable (first used): ${plan.ambiguous.slice(0, 3).join(', ')}`);
    timings.stubMs = performance.now() - tStub;

    // ---- link
    const tLink = performance.now();
    const soPath = place.soPath(workDir);
    fs.mkdirSync(path.dirname(soPath), { recursive: true });
    const linkResult = await this.link([...objects, stubPath], soPath, tipRec, signal, place.priority);
    timings.linkMs = performance.now() - tLink;
    place.verifySources?.();

    // ---- jump table
    const tJump = performance.now();
    let jt;
    let detourPlan: DetourPlan | undefined;
    try {
      const so = ElfFile.open(soPath);
      try {
        const syms = so.symtab();
        if (!syms) throw new Error(`${soPath} has no symbol table`);
        jt = buildJumpTable(fat.symbols, syms, soPath, plan.spec.functions.map((f) => f.name));
        detourPlan = buildDetourPlan(fat.symbols, syms, jt.table, [...carried, fat.tipCrate]);
      } finally {
        so.close();
      }
    } catch (e) {
      throw new StageError('jump-table', (e as Error).message);
    }
    // Only functions whose code changed get their entries rewritten (see code-change.ts); if the
    // objects cannot be read, every entry stays "changed", which is safe.
    try {
      const tJudge = performance.now();
      const judged = this.runningCode.judge(fat.symbols, objects, detourPlan!.entries.map(([from, , , , name]) => [from, name]));
      detourPlan!.unchanged = judged.unchanged;
      detourPlan!.changes = judged.changed;
      if (judged.changed.length > 0) {
        const listed = judged.changed.slice(0, 10).map((c) => `${demangle(c.name)} (${c.why})`).join('; ');
        this.log('info', `detour plan: ${judged.changed.length} of ${detourPlan!.entries.length} functions changed (compared in ${(performance.now() - tJudge).toFixed(1)} ms): ${listed}${judged.changed.length > 10 ? '; …' : ''}`);
      }
    } catch (e) {
      this.log('warn', `could not compare the patch's code with the running code (${(e as Error).message}); every function of the rebuilt crates is detoured`);
    }
    // Until this patch is settled its functions' entries lead to unknown code; a speculative
    // build becomes a patch only when committed (which marks it then).
    if (!speculative) this.runningCode.pending(detourPlan!.changes);
    timings.jumpTableMs = performance.now() - tJump;
    timings.totalMs = performance.now() - t0;
    for (const k of Object.keys(timings) as Array<keyof PatchTimings>) timings[k] = Math.round(timings[k] * 10) / 10;

    if (!speculative) {
      this.count++;
      this.cleanup(workDir);
    }
    const stats: PatchStats = {
      objects: objects.length + 1,
      stubFunctions: plan.spec.functions.length,
      stubData: plan.spec.data.length,
      stubThreadLocals: plan.threadLocals.length,
      unresolved: plan.unresolved.length,
      jumpTableEntries: jt.entries,
      staticsRebound: fixups.staticsRebound,
      threadLocalsRebound: fixups.threadLocalsRebound,
    };
    this.log('info', `${speculative ? `${place.label ?? 'speculative'} patch` : `patch ${path.basename(workDir)}`}: ${jt.entries} functions, ${stats.objects} objects, stub ${stats.stubFunctions} fn / ${stats.stubData} data / ${stats.stubThreadLocals} tls, linked with ${linkResult.kind} in ${timings.linkMs.toFixed(0)} ms, total ${timings.totalMs.toFixed(0)} ms`);
    return {
      ok: true,
      jumpTable: jt.table,
      detourPlan,
      soPath,
      timings,
      crates: [...macros, ...order, fat.tipCrate],
      carriedCrates: [...new Set([...carried, fat.tipCrate])],
      notes,
      linker: linkResult.kind,
      functions: jt.names,
      objectPaths: [...tipObjects, ...crateObjects],
      stats,
    };
  }

  /** Runs one recorded rustc call; diagnostics parsed from its JSON stderr. */
  private async replay(rec: RustcRecord, extraEnv: Record<string, string>, signal?: AbortSignal, priority?: number) {
    const r = await run(rec.rustc, rec.args, { cwd: rec.cwd, env: replayEnv(rec.env, extraEnv), signal, priority });
    if (r.spawnError) throw new StageError('rustc', `cannot run ${rec.rustc}: ${r.spawnError.message}`);
    if (signal?.aborted) throw new StageError('rustc', 'cancelled');
    const parsed = parseRustcStderr(r.stderr, rec.cwd);
    const ok = r.code === 0 && !parsed.diagnostics.some(isError);
    return { ok, diagnostics: parsed.diagnostics, text: parsed.text };
  }

  /** Directories the recorded rustc calls read dependency crates from (`-L dependency=DIR`). */
  private fatDepsDirs(): string[] {
    const rec = this.fat.records[`${this.fat.tipCrate}.bin`];
    if (!rec) return [];
    const dirs = new Set<string>();
    rec.args.forEach((a, i) => {
      const v = a === '-L' ? rec.args[i + 1] : a.startsWith('-L') ? a.slice(2) : undefined;
      const m = v ? /^(?:dependency=|native=|all=)?(.+)$/.exec(v) : null;
      if (m && v?.startsWith('dependency=')) dirs.add(path.resolve(rec.cwd, m[1]));
    });
    return [...dirs];
  }

  private crateDir(c: string): string {
    return path.join(this.fat.sessionDir, 'objs', c);
  }

  /** Takes the objects out of a freshly built rlib (lib.rmeta left out). */
  private extractCrateObjects(c: string, rec: RustcRecord, dir: string): void {
    const rlib = recordRlib(rec);
    if (!rlib || !fs.existsSync(rlib)) throw new StageError('objects', `\`${c}\`: rlib not found after compiling (${rlib ?? 'no --out-dir'})`);
    forgetObjectsUnder(dir);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    let members;
    try {
      members = readArchive(rlib);
    } catch (e) {
      throw new StageError('objects', `\`${c}\`: ${(e as Error).message}`);
    }
    const seen = new Set<string>();
    for (const m of members) {
      if (!m.name.endsWith('.o')) continue;
      // members of the same name (possible in ar) must not overwrite each other
      let name = m.name;
      for (let i = 1; seen.has(name); i++) name = `${i}-${m.name}`;
      seen.add(name);
      fs.writeFileSync(path.join(dir, name), m.data);
    }
  }

  private crateObjectFiles(dir: string): string[] {
    try {
      return fs.readdirSync(dir).filter((f) => f.endsWith('.o')).sort().map((f) => path.join(dir, f));
    } catch {
      return [];
    }
  }

  /** Objects the capture shim kept, in rustc's order, without rustc's temporary symbols.o. */
  private capturedObjects(dir: string): string[] {
    let args: string[] = [];
    try {
      args = splitNul(fs.readFileSync(path.join(dir, 'link-args'), 'utf8'));
    } catch {
      throw new StageError('objects', `the link shim did not run in capture mode (no ${path.join(dir, 'link-args')})`);
    }
    const out: string[] = [];
    const seen = new Set<string>();
    for (const a of args) {
      if (!a.endsWith('.o')) continue;
      const base = path.basename(a);
      if (base === 'symbols.o' || seen.has(base)) continue;
      const p = path.join(dir, base);
      if (fs.existsSync(p)) {
        out.push(p);
        seen.add(base);
      }
    }
    return out;
  }

  private async link(objects: string[], soPath: string, tipRec: RustcRecord, signal?: AbortSignal, priority?: number): Promise<LinkerCandidate> {
    if (!this.candidates) {
      const found = linkerCandidates({ gccLdDir: findGccLdDir(this.fat.link.args, tipRec.rustc) });
      const wanted = this.options.linkers;
      this.candidates = wanted ? wanted.map((k) => found.find((c) => c.kind === k)).filter((c): c is LinkerCandidate => !!c) : found;
    }
    if (!this.driver) this.driver = chooseDriver(this.fat.link.driver);
    if (!this.driver) throw new StageError('link', 'no C compiler driver (cc, gcc or clang) found on PATH to link the patch');
    // the linker that worked before goes first; the others stay as fallbacks
    const cands = this.linker ? [this.linker, ...this.candidates.filter((c) => c !== this.linker)] : this.candidates;
    fs.rmSync(soPath, { force: true });
    const r = await linkPatch({
      driver: this.driver,
      candidates: cands,
      objects,
      output: soPath,
      keptArgs: keptLinkArgs(this.fat.link.args),
      cwd: this.fat.workspaceRoot,
      signal,
      priority,
    });
    if (!r.ok) throw new StageError('link', r.message);
    if (this.linker !== r.linker) this.log('info', `patch linker: ${r.linker.kind}${r.tried.length > 1 ? ` (tried ${r.tried.join(', ')})` : ''}`);
    this.linker = r.linker;
    return r.linker;
  }

  /** Patch numbers are never reused in a session dir: dlopen would return the old, cached library. */
  private nextPatchNumber(): number {
    const dir = path.join(this.fat.sessionDir, 'patches');
    let max = 0;
    try {
      for (const f of fs.readdirSync(dir)) {
        const m = /-patch-(\d+)\.so$/.exec(f);
        if (m) max = Math.max(max, Number(m[1]));
      }
    } catch {
      /* none yet */
    }
    const workRoot = path.join(this.fat.sessionDir, 'work');
    try {
      for (const f of fs.readdirSync(workRoot)) if (/^\d+$/.test(f)) max = Math.max(max, Number(f));
    } catch {
      /* none yet */
    }
    return max + 1;
  }

  private cleanup(workDir: string): void {
    if (this.lastWorkDir && this.lastWorkDir !== workDir) {
      forgetObjectsUnder(this.lastWorkDir);
      fs.rmSync(this.lastWorkDir, { recursive: true, force: true });
    }
    this.lastWorkDir = workDir;
    this.cleanupPatches(path.join(this.fat.sessionDir, 'patches'));
  }

  private cleanupPatches(patchesDir: string): void {
    const keep = this.options.keepPatches ?? 8;
    try {
      const sos = fs
        .readdirSync(patchesDir)
        .map((f) => ({ f, m: /-patch-(\d+)\.so$/.exec(f) }))
        .filter((x) => x.m)
        .sort((a, b) => Number(b.m![1]) - Number(a.m![1]));
      // deleting a mapped .so is safe: the app keeps its mapping; names are never reused
      for (const x of sos.slice(keep)) fs.rmSync(path.join(patchesDir, x.f), { force: true });
    } catch {
      /* best effort */
    }
  }
}
