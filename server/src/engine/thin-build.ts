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
import { buildDetourPlan } from './detour-plan';
import { chooseDriver, findGccLdDir, keptLinkArgs, linkerCandidates, LinkerCandidate, LinkerKind, linkPatch } from './linker';
import { ENV_LINK_MODE, ENV_OBJDIR, ENV_PREFIX, RustcRecord, recordRlib, splitNul } from './recorder';
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

class StageError extends Error {
  constructor(readonly stage: PatchStage, message: string, readonly diagnostics: RustcDiagnostic[] = []) {
    super(message);
  }
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

  constructor(fat: FatBuild, options?: PatchBuilderOptions) {
    this.fat = fat;
    this.options = options ?? {};
    this.log = options?.log ?? (() => undefined);
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
  build(request: { changedCrates: string[]; aslrReference: number; signal?: AbortSignal }): Promise<PatchResult> {
    const next = this.queue.then(() => this.buildOne(request));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async buildOne(request: { changedCrates: string[]; aslrReference: number; signal?: AbortSignal }): Promise<PatchResult> {
    try {
      return await this.buildInner(request);
    } catch (e) {
      // a failed attempt's scratch files are useless; its number may be reused (no .so was loaded)
      if (this.currentWorkDir && this.currentWorkDir !== this.lastWorkDir) {
        forgetObjectsUnder(this.currentWorkDir);
        fs.rmSync(this.currentWorkDir, { recursive: true, force: true });
      }
      // A full disk or deleted fat-build files show up as odd tool failures: say what happened.
      const raw = e instanceof StageError ? `${e.message}\n${e.diagnostics.map((d) => d.rendered ?? d.message).join('\n')}` : String((e as Error)?.message ?? e);
      const fault = artifactsGoneMessage(raw, this.fatDepsDirs()) ?? diskFullMessage(raw, ['patches', 'work', 'objs'].map((d) => path.join(this.fat.sessionDir, d)));
      if (fault) {
        const stage = e instanceof StageError ? e.stage : 'setup';
        this.log('error', `patch failed at ${stage}: ${fault}`);
        return { ok: false, stage, message: fault, diagnostics: [] };
      }
      if (e instanceof StageError) {
        this.log('error', `patch failed at ${e.stage}: ${e.message}`);
        return { ok: false, stage: e.stage, message: e.message, diagnostics: e.diagnostics };
      }
      const msg = e instanceof Error ? e.message : String(e);
      this.log('error', `patch failed: ${msg}`);
      return { ok: false, stage: 'setup', message: `internal error: ${msg}`, diagnostics: [] };
    }
  }

  private async buildInner(request: { changedCrates: string[]; aslrReference: number; signal?: AbortSignal }): Promise<PatchResult> {
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
    const n = this.nextPatchNumber();
    const workDir = path.join(fat.sessionDir, 'work', String(n));
    this.currentWorkDir = workDir;
    fs.rmSync(workDir, { recursive: true, force: true });
    fs.mkdirSync(workDir, { recursive: true });

    const requested = new Set([...request.changedCrates, ...this.pending]);
    const order: string[] = [];
    for (const c of rebuildOrder(fat.workspaceCrates, requested, new Set())) {
      if (fat.records[`${c}.lib`]) order.push(c);
      else if (c !== fat.tipCrate && fat.workspaceCrates[c] !== undefined && !fat.records[`${c}.bin`]) {
        notes.push(`crate \`${c}\` has no recorded rustc call (not built by the fat build?); its changes are not in this patch — restart to pick them up`);
      }
    }
    for (const c of requested) {
      if (fat.workspaceCrates[c] === undefined && !fat.records[`${c}.lib`] && c !== fat.tipCrate) notes.push(`\`${c}\` is not a workspace crate; ignored`);
    }

    // ---- rustc: workspace crates, then the tip
    for (const c of order) {
      const rec = fat.records[`${c}.lib`];
      const t = performance.now();
      const r = await this.replay(rec, {}, signal);
      timings.rustcMs += performance.now() - t;
      if (!r.ok) {
        this.pending.add(c);
        throw new StageError('rustc', `\`${c}\`: ${summarizeErrors(r.diagnostics, r.text)}`, r.diagnostics);
      }
      this.pending.delete(c);
      const t2 = performance.now();
      this.extractCrateObjects(c, rec);
      timings.objectsMs += performance.now() - t2;
      this.modified.add(c);
    }
    const tipDir = path.join(workDir, 'tip');
    {
      const t = performance.now();
      const r = await this.replay(tipRec, { [ENV_LINK_MODE]: 'capture', [ENV_OBJDIR]: tipDir }, signal);
      timings.rustcMs += performance.now() - t;
      if (!r.ok) throw new StageError('rustc', `\`${fat.tipCrate}\`: ${summarizeErrors(r.diagnostics, r.text)}`, r.diagnostics);
    }

    // ---- objects
    const tObj = performance.now();
    const tipObjects = this.capturedObjects(tipDir);
    if (tipObjects.length === 0) throw new StageError('objects', `rustc did not pass any object to the link shim (${tipDir})`);
    const crateObjects: string[] = [];
    for (const c of this.modified) {
      if (c === fat.tipCrate && !fat.records[`${c}.lib`]) continue;
      crateObjects.push(...this.crateObjectFiles(c));
    }
    let fixups: FixupResult = { objects: [...tipObjects, ...crateObjects], notes: [], staticsRebound: 0, threadLocalsRebound: 0, summaries: new Map() };
    if (fat.arch !== 'x86_64' && this.count === 0) {
      notes.push(`on ${fat.arch} the engine does not rebind crate-local statics and thread-locals: statics of patched crates start fresh, and a tip thread_local! cannot be patched`);
    }
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
    const patchesDir = path.join(fat.sessionDir, 'patches');
    fs.mkdirSync(patchesDir, { recursive: true });
    const soPath = path.join(patchesDir, `lib${fat.binName}-patch-${n}.so`);
    const linkResult = await this.link([...objects, stubPath], soPath, tipRec, signal);
    timings.linkMs = performance.now() - tLink;

    // ---- jump table
    const tJump = performance.now();
    let jt;
    let detourPlan;
    try {
      const so = ElfFile.open(soPath);
      try {
        const syms = so.symtab();
        if (!syms) throw new Error(`${soPath} has no symbol table`);
        jt = buildJumpTable(fat.symbols, syms, soPath, plan.spec.functions.map((f) => f.name));
        detourPlan = buildDetourPlan(fat.symbols, syms, jt.table, [...this.modified, fat.tipCrate]);
      } finally {
        so.close();
      }
    } catch (e) {
      throw new StageError('jump-table', (e as Error).message);
    }
    timings.jumpTableMs = performance.now() - tJump;
    timings.totalMs = performance.now() - t0;
    for (const k of Object.keys(timings) as Array<keyof PatchTimings>) timings[k] = Math.round(timings[k] * 10) / 10;

    this.count++;
    this.cleanup(workDir, patchesDir);
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
    this.log('info', `patch ${n}: ${jt.entries} functions, ${stats.objects} objects, stub ${stats.stubFunctions} fn / ${stats.stubData} data / ${stats.stubThreadLocals} tls, linked with ${linkResult.kind} in ${timings.linkMs.toFixed(0)} ms, total ${timings.totalMs.toFixed(0)} ms`);
    return {
      ok: true,
      jumpTable: jt.table,
      detourPlan,
      soPath,
      timings,
      crates: [...order, fat.tipCrate],
      carriedCrates: [...new Set([...this.modified, fat.tipCrate])],
      notes,
      linker: linkResult.kind,
      functions: jt.names,
      stats,
    };
  }

  /** Runs one recorded rustc call; diagnostics parsed from its JSON stderr. */
  private async replay(rec: RustcRecord, extraEnv: Record<string, string>, signal?: AbortSignal) {
    const r = await run(rec.rustc, rec.args, { cwd: rec.cwd, env: replayEnv(rec.env, extraEnv), signal });
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
  private extractCrateObjects(c: string, rec: RustcRecord): void {
    const rlib = recordRlib(rec);
    if (!rlib || !fs.existsSync(rlib)) throw new StageError('objects', `\`${c}\`: rlib not found after compiling (${rlib ?? 'no --out-dir'})`);
    const dir = this.crateDir(c);
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

  private crateObjectFiles(c: string): string[] {
    const dir = this.crateDir(c);
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

  private async link(objects: string[], soPath: string, tipRec: RustcRecord, signal?: AbortSignal): Promise<LinkerCandidate> {
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

  private cleanup(workDir: string, patchesDir: string): void {
    if (this.lastWorkDir && this.lastWorkDir !== workDir) {
      forgetObjectsUnder(this.lastWorkDir);
      fs.rmSync(this.lastWorkDir, { recursive: true, force: true });
    }
    this.lastWorkDir = workDir;
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
