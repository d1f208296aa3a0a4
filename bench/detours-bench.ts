// Entry detours: (1) the agent's detour pass over 1k and 10k synthetic functions with two threads
// running them (agent-crate/examples/detour_bench.rs: wall time, the agent thread's CPU time, and
// the time spent waiting for the other threads to park; target < 5 ms for 1k), and (2) save → live
// on the counter app with detours on vs off (the server's own timings, tip-crate edits).
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { benchSaveToPatch } from './save-to-patch-bench';
import { fmt } from './stats';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

export async function benchDetours(log: (line: string) => void): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const manifest = path.join(REPO_ROOT, 'agent-crate', 'Cargo.toml');
  const run = spawnSync('cargo', ['run', '--quiet', '--release', '--example', 'detour_bench', '--manifest-path', manifest, '--', '1000', '10000'], {
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  if (run.status !== 0) throw new Error(`detour_bench failed: ${run.stderr}`);
  const result = JSON.parse(run.stdout.trim().split('\n').pop()!) as Record<string, Record<string, number>>;
  for (const [n, r] of Object.entries(result)) {
    log(
      `${n} functions: first patch ${fmt(r.firstPatchMs)} (agent CPU ${fmt(r.firstPatchCpuMs)}, waiting for threads ${fmt(r.firstPatchStopWaitMs)}); ` +
        `later patches median ${fmt(r.laterPatchMs)} (agent CPU ${fmt(r.laterPatchCpuMs)}, waiting for threads ${fmt(r.laterPatchStopWaitMs)})`,
    );
    for (const [k, v] of Object.entries(r)) out[`${n}.${k}`] = v;
  }
  for (const detours of [true, false]) {
    const r = await benchSaveToPatch(() => undefined, 10, { settings: { detours }, kinds: ['tip'] });
    const tag = detours ? 'on' : 'off';
    log(`counter app, save → live, detours ${tag}: median ${fmt(r['tip.totalMs'])} (apply ${fmt(r['tip.applyMs'])})`);
    out[`saveToLive.detours-${tag}.totalMs`] = r['tip.totalMs'];
    out[`saveToLive.detours-${tag}.applyMs`] = r['tip.applyMs'];
  }
  return out;
}
