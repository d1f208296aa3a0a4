// Idle memory of the server: started over stdio on the bundled counter workspace, initialized,
// a file opened, the workspace indexed; then RSS is read from /proc after it settles.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestLspClient, REPO_ROOT } from '../test/support/lsp-client';
import { median } from './stats';

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

export async function benchIdleMemory(log: (line: string) => void, runs = 3): Promise<Record<string, number>> {
  const root = path.join(REPO_ROOT, 'clients', 'counter');
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const client = new TestLspClient({ rootDir: root });
    await client.initialize();
    await client.waitFor('indexing', () => client.logs.some((l) => /indexed \d+ Rust files/.test(l)), 60_000);
    await new Promise((r) => setTimeout(r, 3000));
    samples.push(rssMb(client.process.pid!));
    await client.shutdown();
  }
  const m = median(samples);
  log(`idle RSS of the server: median ${m.toFixed(1)} MB over ${runs} starts (target ≤ 120 MB)`);
  return { idleRssMb: m };
}
