// engine/types.ts — the engine's public data shapes (re-exported from engine/index.ts).
// JumpTable is a contract shared with the app side (subsecond's JumpTable JSON, see docs/protocol.md).
// Never imports the LSP library or the devserver.
import type { Arch } from './elf';
import type { FatSymbols } from './symbols';
import type { RustcRecord, FatLinkRecord } from './recorder';
import type { DetourPlan } from './detour-plan';

import type { JumpTable } from '../support/jump-table';
export type { JumpTable };

export interface RustcSpan {
  /** Absolute path. */
  file_name: string;
  line_start: number;
  line_end: number;
  column_start: number;
  column_end: number;
  is_primary: boolean;
  label: string | null;
}

export interface RustcDiagnostic {
  message: string;
  code: { code: string } | null;
  level: string;
  spans: RustcSpan[];
  children: RustcDiagnostic[];
  /** Human-readable rendering, ANSI colour codes removed. */
  rendered: string | null;
}

export interface FatBuildRequest {
  /** Workspace or package Cargo.toml. */
  manifestPath: string;
  /** From cargo metadata. */
  workspaceRoot: string;
  targetDir: string;
  /** The tip package and its bin target. */
  packageName: string;
  /**
   * How `cargo -p` names the tip package without ambiguity (a dependency may share its name);
   * from cargo metadata (WorkspacePackage.spec). Defaults to packageName.
   */
  packageSpec?: string;
  binName: string;
  /** Crate name (underscores) of every workspace member lib/bin → its workspace dependencies (crate names). */
  workspaceCrates: Record<string, string[]>;
  /** Our scratch dir for records, shims, objects, patches; created if missing. Never the user's sources. */
  sessionDir: string;
  extraCargoArgs?: string[];
  /** The target triple cargo builds for when not the host (from --target or cargo's config). */
  target?: string;
  /** cargo's stderr lines, for progress reporting. */
  onLine?: (line: string) => void;
  signal?: AbortSignal;
}

export type FatBuildResult =
  | { ok: true; build: FatBuild; ms: number }
  | { ok: false; message: string; diagnostics: RustcDiagnostic[] };

export interface FatBuild {
  /** A copy of the executable to run (target/<profile>/<bin> is a hard link into deps/ and changes under us). */
  exePath: string;
  arch: Arch;
  /** Crate name of the tip bin (binName with '-' → '_'). */
  tipCrate: string;
  packageName: string;
  binName: string;
  workspaceRoot: string;
  targetDir: string;
  sessionDir: string;
  workspaceCrates: Record<string, string[]>;
  /** Recorded rustc invocations, keyed `<crate>.<kind>` (kind: lib | bin | proc-macro | …). */
  records: Record<string, RustcRecord>;
  /** What the fat link shim saw and ran. */
  link: FatLinkRecord;
  /** The executable's symbol table, read once. */
  symbols: FatSymbols;
  /** Warnings (and other non-error messages) rustc printed during the fat build. */
  diagnostics: RustcDiagnostic[];
  /** The extra cargo arguments it was built with (the `cargoArgs` setting then). */
  cargoArgs: string[];
  /** The build scripts cargo ran (or found fresh) for this build: their package and `output` file. */
  buildScripts: Array<{ packageId: string; outputFile: string }>;
}

export interface PatchTimings {
  rustcMs: number;
  objectsMs: number;
  stubMs: number;
  linkMs: number;
  jumpTableMs: number;
  totalMs: number;
}

export type PatchStage = 'rustc' | 'objects' | 'stub' | 'link' | 'jump-table' | 'setup';

export interface PatchStats {
  /** Objects linked into the patch. */
  objects: number;
  stubFunctions: number;
  stubData: number;
  /** Thread-locals left for ld.so to bind to the executable's. */
  stubThreadLocals: number;
  /** Undefined names not found in the executable (libc etc., left to ld.so). */
  unresolved: number;
  jumpTableEntries: number;
  /** Tip-crate static accesses rebound to the app's live statics / TLS offsets (x86_64, opt-level 0). */
  staticsRebound: number;
  threadLocalsRebound: number;
}

export type PatchResult =
  | {
      ok: true;
      jumpTable: JumpTable;
      /** Sizes the agent needs to detour the table's functions at their entries. */
      detourPlan: DetourPlan;
      soPath: string;
      timings: PatchTimings;
      /** Crates compiled for this patch, in build order (tip last). */
      crates: string[];
      /** Crates whose new code this patch carries: every workspace crate rebuilt since the fat build, and the tip. */
      carriedCrates: string[];
      /** User-relevant remarks (state that starts fresh, fallbacks taken). */
      notes: string[];
      /** Which linker linked the patch (rust-lld, lld, mold, gnu-ld). */
      linker: string;
      /** Function names of the patch (`.llvm.` suffix removed): all it defines, and those its jump table maps. */
      functions: { defined: string[]; mapped: string[] };
      /**
       * The objects linked into the patch, as rustc wrote them (the tip objects the link shim
       * captured, the rebuilt crates' rlib members): their debug info describes the layouts the
       * patch's code was compiled against (layout-gate/). Valid until the next build.
       */
      objectPaths: string[];
      stats: PatchStats;
    }
  | { ok: false; stage: PatchStage; message: string; diagnostics: RustcDiagnostic[] };
