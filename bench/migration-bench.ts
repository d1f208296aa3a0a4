// `npm run bench -- migration`: what a HotState migration costs per value, measured in the agent
// on its own migration path (agent-crate/src/migrate_cost.rs: the old code serializes the value
// as JSON, the new code deserializes it, the old value is dropped), in the dev profile that
// hot-patched apps run in. A small state (a counter and a string) and a large one (a Vec of 100k
// entries, ~6 MB of JSON). The app's handles are locked for this long during a patch.
import { execFileSync } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import { median } from './stats';

const AGENT = path.resolve(__dirname, '..', '..', 'agent-crate');

export async function benchMigration(log: (line: string) => void): Promise<Record<string, number>> {
  const target = path.join(process.env.TMPDIR || os.tmpdir(), 'migration-bench-target');
  let out: string;
  try {
    out = execFileSync('cargo', ['test', '--quiet', '--features', 'hot-state', '--lib', 'migrate_cost::migration_cost', '--', '--ignored', '--nocapture', '--exact'], {
      cwd: AGENT,
      env: { ...process.env, CARGO_TARGET_DIR: target },
      maxBuffer: 16 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'inherit'],
    }).toString();
  } catch (err) {
    log(`(the agent's migration benchmark did not run: ${(err as Error).message}; nothing measured)`);
    return {};
  }
  const results: Record<string, number> = {};
  for (const m of out.matchAll(/^migration-cost (\S+) (\d+) (\d+) ([\d ]+)$/gm)) {
    const [, state, values, bytes, runs] = m;
    const ns = runs.trim().split(/\s+/).map(Number);
    const perValueMs = median(ns) / 1e6 / Number(values);
    const key = state.replace(/[^a-z0-9]+/g, '_');
    log(`${state}: ${bytes} bytes of JSON; per value median ${perValueMs < 1 ? `${(perValueMs * 1000).toFixed(1)} µs` : `${perValueMs.toFixed(0)} ms`} (${ns.length} runs, min ${(Math.min(...ns) / 1e6).toFixed(3)} ms, max ${(Math.max(...ns) / 1e6).toFixed(3)} ms)`);
    results[`${key}_json_bytes`] = Number(bytes);
    results[`${key}_per_value_ms`] = perValueMs;
  }
  if (Object.keys(results).length === 0) log(`(the benchmark printed no measurements:\n${out.slice(-2000)})`);
  return results;
}
