// Layout gate benchmark on the counter app (clients/counter, a temp copy): a fat build, then ten
// one-line edits, each a real thin build; measured is the gate alone on each patch's objects
// (the fresh tip objects are read every time, the carried workspace crate's come from the cache
// after the first), plus the one-off index of the executable per launch.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fatBuild, PatchBuilder } from '../server/src/engine';
import { LayoutGate } from '../server/src/layout-gate';
import { prepareCounterFixture } from '../test/support/counter-fixture';
import { fmt, median } from './stats';

const EDITS = 10;

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
  const builder = new PatchBuilder(fat.build);
  const crates = Object.keys(fat.build.workspaceCrates);
  const exeMb = fs.statSync(fat.build.exePath).size / 1e6;

  const t0 = performance.now();
  const gate = new LayoutGate(fat.build.exePath, crates, [fat.build.workspaceRoot]);
  const problem = gate.executableProblem();
  const indexMs = performance.now() - t0;
  if (problem) throw new Error(`the executable cannot be verified: ${problem}`);
  log(`executable index (once per launch, ${exeMb.toFixed(1)} MB executable): ${fmt(indexMs)}`);

  const main = fs.readFileSync(fx.mainRs, 'utf8');
  const core = fs.readFileSync(fx.coreRs, 'utf8');
  const perPatch: number[] = [];
  const cached: number[] = [];
  let objects = 0;
  let compared = 0;
  for (let i = 1; i <= EDITS; i++) {
    fs.writeFileSync(fx.mainRs, main.replace('"tip-v1"', `"tip-bench-${i}"`));
    // the workspace crate changes once: its objects are carried (and cached) from then on
    if (i === 1) fs.writeFileSync(fx.coreRs, core.replace('"core-v1"', '"core-bench"'));
    const r = await builder.build({ changedCrates: i === 1 ? ['counter_core'] : [], aslrReference: fat.build.symbols.mainAddress });
    if (!r.ok) throw new Error(`patch ${i} failed at ${r.stage}: ${r.message}`);
    const v = await gate.check(r.objectPaths);
    if (!v.verified || v.changes.length) throw new Error(`unexpected verdict: ${JSON.stringify(v)}`);
    perPatch.push(v.ms);
    const again = await gate.check(r.objectPaths);
    cached.push(again.ms);
    objects = r.objectPaths.length;
    compared = v.compared;
  }
  fs.writeFileSync(fx.mainRs, main);
  fs.writeFileSync(fx.coreRs, core);
  const out = {
    counterIndexMs: Math.round(indexMs * 10) / 10,
    counterPerPatchMs: Math.round(median(perPatch) * 100) / 100,
    /** The first patch reads every object (nothing cached yet). */
    counterFirstPatchMs: Math.round(perPatch[0] * 100) / 100,
    counterCachedObjectsMs: Math.round(median(cached) * 100) / 100,
    counterObjects: objects,
    counterCompared: compared,
  };
  log(`per patch (counter: ${objects} objects, ${compared} layouts compared): median ${fmt(out.counterPerPatchMs)} (target ≤ 10 ms); the first patch, every object read: ${fmt(out.counterFirstPatchMs)}; all objects cached: ${fmt(out.counterCachedObjectsMs)}`);
  return out;
}
