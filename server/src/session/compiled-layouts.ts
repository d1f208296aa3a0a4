// The layout gate (layout-gate/) in the patch pipeline: one gate per launch (its executable's
// layouts read in the background once the app connected), its verdict on each built patch, and
// its layout changes as restart findings placed on the source that made them.
import * as path from 'node:path';
import { bevyStorageNote } from '../analysis';
import type { Finding, PatchabilityAnalyzer, SourceRange } from '../analysis';
import type { PatchResult } from '../engine';
import { displayName, LayoutGate } from '../layout-gate';
import type { GateVerdict, LayoutChange } from '../layout-gate';
import type { WorkspaceModel } from '../workspace/cargo-workspace';
import type { RunningApp } from './app-lifecycle';

export interface CompiledLayoutsVerdict {
  /** `compiled-layout-changed` findings: the patch must not be sent. */
  findings: Finding[];
  /** What moved, one line per changed type: `Stats: 16 → 24 bytes; errors added at offset 16`. */
  summaries: string[];
  /** For the claim: `layouts verified` or `layouts unverified: <why>`. */
  claim: string;
  verdict: GateVerdict;
}

const LINE_ZERO: SourceRange = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };

export class CompiledLayouts {
  private gate?: { app: RunningApp; gate: LayoutGate };

  constructor(
    private readonly analyzer: PatchabilityAnalyzer,
    private readonly workspace: () => WorkspaceModel | undefined,
  ) {}

  private gateFor(app: RunningApp): LayoutGate {
    if (this.gate?.app !== app) this.gate = { app, gate: new LayoutGate(app.build.exePath, Object.keys(app.build.workspaceCrates), [app.build.workspaceRoot]) };
    return this.gate.gate;
  }

  /** Reads the app's executable layouts ahead of its first patch (in the background). */
  warm(app: RunningApp): void {
    this.gateFor(app).warm();
  }

  /** The gate's verdict on a built patch, changes placed as findings among the `changed` files. */
  async judge(app: RunningApp, result: Extract<PatchResult, { ok: true }>, changed: string[]): Promise<CompiledLayoutsVerdict> {
    let verdict: GateVerdict;
    try {
      verdict = await this.gateFor(app).check(result.objectPaths);
    } catch (e) {
      verdict = { verified: false, reason: `the layout gate failed: ${(e as Error).message}`, ms: 0 };
    }
    if (!verdict.verified) return { findings: [], summaries: [], claim: `layouts unverified: ${verdict.reason}`, verdict };
    const crates = Object.keys(app.build.workspaceCrates);
    const findings = verdict.changes.map((c) => this.place(c, crates, changed));
    return { findings, summaries: verdict.changes.map((c) => c.summary), claim: `layouts verified (${verdict.compared} compared)`, verdict };
  }

  /** Layout changes the gate found on another build of `changed` files (source-layout-check.ts), as findings placed like a patch's. */
  findingsOf(app: RunningApp, changes: readonly LayoutChange[], changed: string[]): Finding[] {
    const crates = Object.keys(app.build.workspaceCrates);
    return changes.map((c) => this.place(c, crates, changed));
  }

  /** Why the app's executable cannot be compared, when that is known already (its layouts read). */
  knownProblem(app: RunningApp): string | undefined {
    return this.gateFor(app).knownProblem();
  }

  /** The layouts a build's objects describe beside the running executable's (source-layout-check.ts). */
  layoutsOf(app: RunningApp, objectPaths: readonly string[]): ReturnType<LayoutGate['layoutsOf']> {
    return this.gateFor(app).layoutsOf(objectPaths);
  }

  /**
   * Where a layout change shows: on the type's definition (rustc does not give types a
   * DW_AT_decl_file, so the analysis' item model is asked by name), else on an item-level macro
   * invocation whose input changed in a changed file of the crate (its output is not in the item
   * model), else at the top of a changed file of that crate.
   */
  private place(c: LayoutChange, crates: string[], changed: string[]): Finding {
    const subject = workspacePath(c.type, crates);
    const crate = subject?.slice(0, subject.indexOf('::'));
    const inner = subject?.slice(subject.indexOf('::') + 2);
    const at = crate && inner ? this.analyzer.locateType(crate, inner) : undefined;
    // a Bevy resource or component: Bevy itself could not take the new layout either
    const bevy = at?.bevy ? `; ${bevyStorageNote(displayName(c.type), at.bevy)}` : '';
    const message =
      `the patch was compiled for another layout of \`${c.type}\` than the running app holds (${c.summary}): ` +
      `its code would read and write the app's values with the new offsets${bevy}. Nothing was sent; restart the app to run this change`;
    const base = { code: 'compiled-layout-changed' as const, severity: 'restart' as const, item: displayName(c.type), message };
    if (at) return { ...base, file: at.file, range: at.range, itemRange: at.itemRange };
    const ofCrate = changed.filter((f) => crate !== undefined && this.cratesOf(f).includes(crate));
    for (const f of ofCrate.length ? ofCrate : changed) {
      const note = this.analyzer.findingsFor(f).find((x) => x.code === 'macro-items-not-judged');
      if (note) return { ...base, file: f, range: note.range, message: `${message} (\`${note.item}\` generates it)` };
    }
    const file = ofCrate[0] ?? changed[0];
    return { ...base, file, range: LINE_ZERO, message: `${message} (changed in ${path.basename(file)})` };
  }

  private cratesOf(file: string): string[] {
    try {
      return this.workspace()?.ownersOfFile(file).targets.map((t) => t.crateName) ?? [];
    } catch {
      return [];
    }
  }
}

/**
 * The workspace type a layout is about: the name itself without generic arguments when a
 * workspace crate is its root (`counter::Ring<u32>` → `counter::Ring`), else the first workspace
 * path among its arguments (`core::option::Option<counter::Stats>` → `counter::Stats`).
 */
export function workspacePath(name: string, crates: readonly string[]): string | undefined {
  for (const m of name.matchAll(/[A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z_][A-Za-z0-9_]*)+/g)) {
    const root = m[0].slice(0, m[0].indexOf('::'));
    if (crates.includes(root)) return m[0];
  }
  return undefined;
}
