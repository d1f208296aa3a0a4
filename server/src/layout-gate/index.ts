// The layout gate: the compiler's word on every patch. Before a patch is sent, every type its
// objects were compiled against is compared with the running executable's layout of that type
// (size, alignment, fields with offsets and type names, enum variants and discriminants), both read
// from rustc's own DWARF. A difference means the patch's code would run against values of another
// layout: it is not sent. Source analysis (analysis/) judges what it can see first; this judges
// what the compiler produced, macro output and `const` array lengths included.
//
// Only types whose full name mentions a workspace crate are indexed and compared: dependencies
// cannot change under a running app without a Cargo.lock or manifest edit, which needs a restart
// anyway (session/build-inputs.ts). That keeps the executable's index small even for Bevy.
//
// Uses support/ (the wasm module) and engine/elf.ts (section headers); never the session or LSP.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { compareLayouts, indexLayouts, LayoutChange, LayoutIndex } from './compare';
import { LayoutReport, readExecutableLayouts, readObjectLayouts, TypeLayout } from './read';

export type { LayoutChange, LayoutIndex } from './compare';
export { compareLayouts, describeDifference, displayName, indexLayouts, sameLayout } from './compare';
export type { FieldLayout, LayoutReport, TypeLayout, VariantLayout } from './read';
export { readExecutableLayouts, readObjectLayouts } from './read';

export type GateVerdict =
  | {
      verified: true;
      /** Types whose compiled layout differs from the app's: the patch must not be sent. */
      changes: LayoutChange[];
      /** How many patch layouts had a counterpart in the executable. */
      compared: number;
      ms: number;
    }
  | { verified: false; reason: string; ms: number };

interface ExecutableIndex {
  key: string;
  index?: LayoutIndex;
  /** Why the executable's layouts cannot be used (no types, split debuginfo, a read failure). */
  unusable?: string;
}

/** Executables' indexes by path + size + mtime + crates (one per launch; a restart is a new copy). */
const executables = new Map<string, ExecutableIndex>();
/** Indexes being read in a worker, by the same key. */
const reading = new Map<string, Promise<ExecutableIndex>>();
/**
 * Objects' layouts by device + inode + size + mtime (+ crates). Not by path: each patch's tip
 * objects are captured in a new directory, but those of codegen units rustc's incremental cache
 * reused are hard links to the same inode (engine/thin-build.ts), and rustc writes new files,
 * never into an existing one; a carried crate's objects repeat in every patch at the same path.
 */
const objects = new Map<string, LayoutReport>();
const OBJECT_CACHE_MAX = 4096;

function statKey(file: string, crates: readonly string[], roots: readonly string[]): string {
  const st = fs.statSync(file);
  return `${file}\u0000${st.size}\u0000${st.mtimeMs}\u0000${crates.join(',')}\u0000${roots.join('\u0000')}`;
}

function inodeKey(file: string, crates: readonly string[]): string {
  const st = fs.statSync(file, { bigint: true });
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${crates.join(',')}`;
}

const NO_TYPES =
  'the executable describes no types (debuginfo limited to line tables: `debug = 1`, "limited" or "line-tables-only" in the Cargo profile; `debug = 2` or "full" gives the gate its types)';

/** Why a report cannot be compared, or undefined when it can. */
function unusableReport(report: LayoutReport, what: string): string | undefined {
  if (report.split && report.typedUnits === 0) return `${what}'s types are in split debuginfo (.dwo/.dwp, -Csplit-debuginfo), which the gate does not read`;
  if (report.units > 0 && report.typedUnits === 0) return what === 'the executable' ? NO_TYPES : `${what} describe no types (debuginfo limited to line tables)`;
  return undefined;
}

export class LayoutGate {
  constructor(
    /** The running app's executable (FatBuild.exePath: a copy kept for the launch). */
    private readonly exePath: string,
    /** Crate names (underscores) of the workspace: the crates a patch can rebuild. */
    private readonly crates: readonly string[],
    /** The workspace's directories: the executable's compile units from elsewhere are not read. */
    private readonly roots: readonly string[] = [],
  ) {}

  /** The executable's index, read once (cached by path, size and mtime). */
  private executable(): ExecutableIndex {
    let key: string;
    try {
      key = statKey(this.exePath, this.crates, this.roots);
    } catch (e) {
      return { key: '', unusable: `the executable cannot be read: ${(e as Error).message}` };
    }
    const cached = executables.get(key);
    if (cached) return cached;
    let report: LayoutReport | Error;
    try {
      report = readExecutableLayouts(this.exePath, this.crates, this.roots);
    } catch (e) {
      report = e as Error;
    }
    return this.remember(key, report);
  }

  private remember(key: string, report: LayoutReport | Error): ExecutableIndex {
    let entry: ExecutableIndex;
    if (report instanceof Error) entry = { key, unusable: `its debug info could not be read: ${report.message}` };
    else {
      entry = { key, unusable: unusableReport(report, 'the executable'), index: indexLayouts(report.types) };
      if (!entry.unusable && report.units === 0) entry.unusable = 'the executable has no DWARF compile units of the workspace crates (built without debuginfo?)';
    }
    for (const k of [...executables.keys()]) if (k.startsWith(`${this.exePath}\u0000`)) executables.delete(k);
    executables.set(key, entry);
    return entry;
  }

  /**
   * The executable's index, read in a worker thread the first time (the server keeps answering
   * meanwhile); where a worker cannot run, read here.
   */
  private executableAsync(): Promise<ExecutableIndex> {
    let key: string;
    try {
      key = statKey(this.exePath, this.crates, this.roots);
    } catch {
      return Promise.resolve(this.executable());
    }
    const cached = executables.get(key);
    if (cached) return Promise.resolve(cached);
    let pending = reading.get(key);
    if (pending) return pending;
    pending = new Promise<ExecutableIndex>((resolve) => {
      let worker: Worker;
      try {
        worker = new Worker(path.join(__dirname, 'executable-worker.js'), { workerData: { exePath: this.exePath, crates: this.crates, roots: this.roots } });
      } catch {
        resolve(this.executable());
        return;
      }
      worker.unref();
      let done = false;
      const finish = (entry: () => ExecutableIndex) => {
        if (done) return;
        done = true;
        reading.delete(key);
        void worker.terminate();
        resolve(entry());
      };
      worker.once('message', (m: { ok: boolean; report?: LayoutReport; message?: string }) =>
        finish(() => this.remember(key, m.ok && m.report ? m.report : new Error(m.message ?? 'no answer'))),
      );
      worker.once('error', () => finish(() => this.executable())); // the worker itself failed: read here
      // a message posted just before the thread ended is still on its way: let it arrive first
      worker.once('exit', () => setImmediate(() => finish(() => this.remember(key, new Error('the reader stopped without an answer')))));
    });
    reading.set(key, pending);
    return pending;
  }

  /**
   * Reads the executable's layouts ahead of the first patch, in a worker thread (one launch's
   * executable is read once; patches then pay only for their own objects). Never throws.
   */
  warm(): void {
    void this.executableAsync().catch(() => undefined);
  }

  /** Why the executable's layouts cannot be verified, if they were read already (never reads them). */
  knownProblem(): string | undefined {
    return executables.get(this.currentKey())?.unusable;
  }

  /** Why the executable's layouts cannot be verified, once read (undefined when they can). */
  executableProblem(): string | undefined {
    return this.executable().unusable;
  }

  /** Layouts described by one patch object (cached by inode, size and mtime). */
  private objectLayouts(file: string): LayoutReport {
    const key = inodeKey(file, this.crates);
    const hit = objects.get(key);
    if (hit) return hit;
    const report = readObjectLayouts(fs.readFileSync(file), this.crates);
    if (objects.size >= OBJECT_CACHE_MAX) objects.clear();
    objects.set(key, report);
    return report;
  }

  /**
   * The verdict on a patch linked from `objectPaths`: verified (with the types whose layout
   * changed, possibly none) or unverified with the reason. Never throws: a failure to read is
   * "unverified", never "verified". The objects are read before anything is awaited (a later
   * build may replace them); `ms` is the gate's own time, without waiting for the executable's
   * index when it is still being read.
   */
  async check(objectPaths: readonly string[]): Promise<GateVerdict> {
    const t0 = performance.now();
    const thin = this.readPatch(objectPaths);
    const waited0 = performance.now();
    const exe = executables.get(this.currentKey()) ?? (await this.executableAsync());
    const waited = performance.now() - waited0;
    const ms = () => Math.round((performance.now() - t0 - waited) * 100) / 100;
    if (exe.unusable || !exe.index) return { verified: false, reason: exe.unusable ?? 'no index', ms: ms() };
    if ('reason' in thin) return { verified: false, reason: thin.reason, ms: ms() };
    const { changes, compared } = compareLayouts(exe.index, thin.types);
    return { verified: true, changes, compared, ms: ms() };
  }

  /**
   * The layouts a patch's objects describe beside the executable's, for a judgement of one's own
   * (the session's check of source findings on a build that is never sent). As in `check`, the
   * objects are read before anything is awaited, and a failure is "unverified" with the reason.
   */
  async layoutsOf(objectPaths: readonly string[]): Promise<{ verified: true; patch: TypeLayout[]; app: LayoutIndex } | { verified: false; reason: string }> {
    const thin = this.readPatch(objectPaths);
    const exe = executables.get(this.currentKey()) ?? (await this.executableAsync());
    if (exe.unusable || !exe.index) return { verified: false, reason: exe.unusable ?? 'no index' };
    if ('reason' in thin) return { verified: false, reason: thin.reason };
    return { verified: true, patch: thin.types, app: exe.index };
  }

  private currentKey(): string {
    try {
      return statKey(this.exePath, this.crates, this.roots);
    } catch {
      return '';
    }
  }

  /** The patch objects' layouts, or why they cannot be compared. */
  private readPatch(objectPaths: readonly string[]): { types: TypeLayout[] } | { reason: string } {
    if (objectPaths.length === 0) return { reason: 'the patch build listed no objects' };
    const thin: TypeLayout[] = [];
    let units = 0;
    let typedUnits = 0;
    for (const o of objectPaths) {
      let report: LayoutReport;
      try {
        report = this.objectLayouts(o);
      } catch (e) {
        return { reason: `the patch object ${o} could not be read: ${(e as Error).message}` };
      }
      units += report.units;
      typedUnits += report.typedUnits;
      thin.push(...report.types);
    }
    const problem = unusableReport({ types: thin, units, skipped: 0, typedUnits, split: false }, "the patch's objects");
    return problem ? { reason: problem } : { types: thin };
  }
}
