// `npm run bench [-- analysis|engine|memory|patch|soak|detours|speculative|layout-gate|layout-gate-bevy|real-crates|cross|dioxus|migration ...]`:
// runs the benchmarks and prints medians. `real-crates` (the safety gate swept over real crates
// fetched with cargo) runs only when named: it needs crates.io and takes minutes; so do
// `layout-gate-bevy` (a Bevy build), `cross` (an aarch64 app under qemu-user), `dioxus` (a real
// window under Xvfb, against dx 0.7.10 when it is on PATH) and `migration` (the agent's test build).
// Benchmarks measure; they never pass or fail (tests do that).
import { benchAnalysis } from './analysis-bench';
import { benchEngine } from './engine-bench';
import { benchIdleMemory } from './memory-bench';
import { benchRealCrates } from './real-crates-bench';
import { benchSaveToPatch } from './save-to-patch-bench';
import { benchSoak } from './soak-bench';
import { benchDetours } from './detours-bench';
import { benchSpeculative } from './speculative-bench';
import { benchCross } from './cross-bench';
import { benchDioxus } from './dioxus-bench';
import { benchLayoutGate, benchLayoutGateBevy } from './layout-gate-bench';
import { benchMigration } from './migration-bench';

const all: Record<string, (log: (l: string) => void) => Promise<Record<string, number>>> = {
  analysis: benchAnalysis,
  memory: benchIdleMemory,
  engine: benchEngine,
  patch: benchSaveToPatch,
  soak: benchSoak,
  detours: benchDetours,
  speculative: benchSpeculative,
  'layout-gate': benchLayoutGate,
  'layout-gate-bevy': benchLayoutGateBevy,
  'real-crates': benchRealCrates,
  cross: benchCross,
  dioxus: benchDioxus,
  migration: benchMigration,
};
/** Run only when asked for by name. */
const onRequest = new Set(['real-crates', 'layout-gate-bevy', 'cross', 'dioxus', 'migration']);

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => a in all);
  const names = wanted.length ? wanted : Object.keys(all).filter((n) => !onRequest.has(n));
  const results: Record<string, Record<string, number>> = {};
  for (const name of names) {
    console.log(`\n## ${name}`);
    try {
      results[name] = await all[name]((line) => console.log(line));
    } catch (err) {
      console.log(`(${name} benchmark failed: ${(err as Error).stack ?? err})`);
    }
  }
  console.log('\n## summary (medians)');
  console.log(JSON.stringify(results, null, 2));
  process.exit(0);
}

void main();
