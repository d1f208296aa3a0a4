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
    let entry: ExecutableIndex;
    try {
      const report = readExecutableLayouts(this.exePath, this.crates, this.roots);
      entry = { key, unusable: unusableReport(report, 'the executable'), index: indexLayouts(report.types) };
      if (!entry.unusable && report.units === 0) entry.unusable = 'the executable has no DWARF compile units of the workspace crates (built without debuginfo?)';
    } catch (e) {
      entry = { key, unusable: `its debug info could not be read: ${(e as Error).message}` };
    }
    for (const k of [...executables.keys()]) if (k.startsWith(`${this.exePath}\u0000`)) executables.delete(k);
    executables.set(key, entry);
    return entry;
  }

  /**
   * Reads the executable's layouts ahead of the first patch, off the current tick (one launch's
   * executable is read once; patches then pay only for their own objects). Never throws.
   */
  warm(): void {
    setTimeout(() => {
      try {
        this.executable();
      } catch {
        /* reported by check() */
      }
    }, 0).unref?.();
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
   * "unverified", never "verified".
   */
  check(objectPaths: readonly string[]): GateVerdict {
    const t0 = performance.now();
    const ms = () => Math.round((performance.now() - t0) * 100) / 100;
    const exe = this.executable();
    if (exe.unusable || !exe.index) return { verified: false, reason: exe.unusable ?? 'no index', ms: ms() };
    if (objectPaths.length === 0) return { verified: false, reason: 'the patch build listed no objects', ms: ms() };
    const thin: TypeLayout[] = [];
    let units = 0;
    let typedUnits = 0;
    for (const o of objectPaths) {
      let report: LayoutReport;
      try {
        report = this.objectLayouts(o);
      } catch (e) {
        return { verified: false, reason: `the patch object ${o} could not be read: ${(e as Error).message}`, ms: ms() };
      }
      units += report.units;
      typedUnits += report.typedUnits;
      thin.push(...report.types);
    }
    const problem = unusableReport({ types: thin, units, skipped: 0, typedUnits, split: false }, "the patch's objects");
    if (problem) return { verified: false, reason: problem, ms: ms() };
    const { changes, compared } = compareLayouts(exe.index, thin);
    return { verified: true, changes, compared, ms: ms() };
  }
}
