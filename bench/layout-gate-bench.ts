// Layout gate benchmark on the counter app (clients/counter, a temp copy): a fat build, then ten
// one-line edits, each a real thin build; measured is the gate alone on each patch's objects
// (objects of codegen units rustc rebuilt are read, reused ones and the carried workspace crate's
// come from the cache), the first patch (every object read), and the one-off index of the
// executable per launch (read synchronously here; the server reads it in a worker thread).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fatBuild, PatchBuilder } from '../server/src/engine';
import { LayoutGate } from '../server/src/layout-gate';
import { prepareClientFixture, prepareCounterFixture } from '../test/support/counter-fixture';
import { fmt, median } from './stats';

const EDITS = 10;

/**
 * The same on the Bevy fixture (clients/bevy-headless: a debug Bevy executable of hundreds of MB,
 * one workspace crate), run only when named (`npm run bench -- layout-gate-bevy`: a cold Bevy
 * build takes many minutes).
 */
export async function benchLayoutGateBevy(log: (line: string) => void): Promise<Record<string, number>> {
  const fx = prepareClientFixture('bevy-headless', 'subsecond-lsp-e2e-bevy');
  const mainRs = path.join(fx.clientDir, 'src', 'main.rs');
  const fat = await fatBuild({
    manifestPath: path.join(fx.clientDir, 'Cargo.toml'),
    workspaceRoot: fx.clientDir,
    targetDir: path.join(fx.clientDir, 'target'),
    packageName: 'bevy-headless',
    binName: 'bevy-headless',
    workspaceCrates: { bevy_headless: [] },
    sessionDir: path.join(fx.clientDir, 'target', 'subsecond-lsp', 'bevy-headless'),
  });
  if (!fat.ok) throw new Error(`fat build failed: ${fat.message}`);
  const r = await measure(fat.build, mainRs, undefined, (i) => ['"bevy-v1"', `"bevy-bench-${i}"`], log);
  log(`bevy: per patch median ${fmt(r.perPatchMs)} (target ≤ 30 ms)`);
  return { bevyIndexMs: r.indexMs, bevyPerPatchMs: r.perPatchMs, bevyFirstPatchMs: r.firstPatchMs, bevyCachedObjectsMs: r.cachedMs, bevyExecutableMb: r.exeMb, bevyCompared: r.compared };
}

interface Measured {
  indexMs: number;
  perPatchMs: number;
  firstPatchMs: number;
  cachedMs: number;
  exeMb: number;
  objects: number;
  compared: number;
}

/** Index once, then EDITS thin builds of one-line edits of `tipFile` (and one of `libFile`), the gate timed on each. */
async function measure(
  build: import('../server/src/engine').FatBuild,
  tipFile: string,
  lib: { file: string; crate: string; edit: [string, string] } | undefined,
  edit: (i: number) => [string, string],
  log: (line: string) => void,
): Promise<Measured> {
  const builder = new PatchBuilder(build);
  const crates = Object.keys(build.workspaceCrates);
  const exeMb = Math.round(fs.statSync(build.exePath).size / 1e5) / 10;
  const t0 = performance.now();
  const gate = new LayoutGate(build.exePath, crates, [build.workspaceRoot]);
  const problem = gate.executableProblem();
  const indexMs = Math.round((performance.now() - t0) * 10) / 10;
  if (problem) throw new Error(`the executable cannot be verified: ${problem}`);
  log(`executable index (once per launch, in a worker in the server; ${exeMb} MB executable): ${fmt(indexMs)}`);
  const tip = fs.readFileSync(tipFile, 'utf8');
  const libText = lib ? fs.readFileSync(lib.file, 'utf8') : '';
  const perPatch: number[] = [];
  const cached: number[] = [];
  let objects = 0;
  let compared = 0;
  try {
    for (let i = 1; i <= EDITS; i++) {
      const [from, to] = edit(i);
      fs.writeFileSync(tipFile, tip.replace(from, to));
      // the workspace crate changes once: its objects are carried (and cached) from then on
      if (lib && i === 1) fs.writeFileSync(lib.file, libText.replace(lib.edit[0], lib.edit[1]));
      const r = await builder.build({ changedCrates: lib && i === 1 ? [lib.crate] : [], aslrReference: build.symbols.mainAddress });
      if (!r.ok) throw new Error(`patch ${i} failed at ${r.stage}: ${r.message}`);
      const v = await gate.check(r.objectPaths);
      if (!v.verified || v.changes.length) throw new Error(`unexpected verdict: ${JSON.stringify(v)}`);
      perPatch.push(v.ms);
      cached.push((await gate.check(r.objectPaths)).ms);
      objects = r.objectPaths.length;
      compared = v.compared;
    }
  } finally {
    fs.writeFileSync(tipFile, tip);
    if (lib) fs.writeFileSync(lib.file, libText);
  }
  const out: Measured = {
    indexMs,
    perPatchMs: Math.round(median(perPatch) * 100) / 100,
    firstPatchMs: Math.round(perPatch[0] * 100) / 100,
    cachedMs: Math.round(median(cached) * 100) / 100,
    exeMb,
    objects,
    compared,
  };
  log(`per patch (${objects} objects, ${compared} layouts compared): median ${fmt(out.perPatchMs)}; the first patch, every object read: ${fmt(out.firstPatchMs)}; all objects cached: ${fmt(out.cachedMs)}`);
  return out;
}

export async function benchLayoutGate(log: (line: string) => void): Promise<Record<string, number>> {
  const fx = prepareCounterFixture('subsecond-lsp-layout-gate-bench');
  const fat = await fatBuild({
    manifestPath: path.join(fx.counterDir, 'Cargo.toml'),
    workspaceRoot: fx.counterDir,
    targetDir: path.join(fx.counterDir, 'target'),
    packageName: 'counter',
    binName: 'counter',
    workspaceCrates: { counter: ['counter_core'], counter_core: [] },
    sessionDir: path.join(fx.counterDir, 'target', 'subsecond-lsp', 'counter'),
  });
  if (!fat.ok) throw new Error(`fat build failed: ${fat.message}`);
  const r = await measure(fat.build, fx.mainRs, { file: fx.coreRs, crate: 'counter_core', edit: ['"core-v1"', '"core-bench"'] }, (i) => ['"tip-v1"', `"tip-bench-${i}"`], log);
  log(`counter: per patch median ${fmt(r.perPatchMs)} (target ≤ 10 ms)`);
  return {
    counterIndexMs: r.indexMs,
    counterPerPatchMs: r.perPatchMs,
    /** The first patch reads every object (nothing cached yet). */
    counterFirstPatchMs: r.firstPatchMs,
    counterCachedObjectsMs: r.cachedMs,
    counterObjects: r.objects,
    counterCompared: r.compared,
  };
}
