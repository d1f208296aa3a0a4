// Idle memory of the server: started over stdio on the bundled counter workspace, initialized,
// a file opened, the workspace indexed; then RSS is read from /proc after it settles.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TestLspClient, REPO_ROOT } from '../test/support/lsp-client';
import { generateRust } from './analysis-bench';
import { median } from './stats';

/** The analysis benchmark's 300-file workspace, on disk as a real cargo workspace of 6 crates. */
function write300FileWorkspace(): string {
  const root = path.join(os.tmpdir(), 'subsecond-lsp-bench-300');
  fs.rmSync(root, { recursive: true, force: true });
  const members = [0, 1, 2, 3, 4, 5].map((c) => `crate${c}`);
  fs.mkdirSync(root, { recursive: true });
  fs.writeFileSync(path.join(root, 'Cargo.toml'), `[workspace]\nmembers = ${JSON.stringify(members)}\nresolver = "2"\n`);
  for (const m of members) {
    fs.mkdirSync(path.join(root, m, 'src'), { recursive: true });
    fs.writeFileSync(path.join(root, m, 'Cargo.toml'), `[package]\nname = "${m}"\nversion = "0.1.0"\nedition = "2021"\n`);
    fs.writeFileSync(path.join(root, m, 'src', 'lib.rs'), '');
  }
  for (let i = 0; i < 300; i++) {
    const lines = 80 + ((i * 37) % 320);
    fs.writeFileSync(path.join(root, `crate${i % 6}`, 'src', `m${i}.rs`), generateRust(lines, 1000 + i, `M${i}T`));
  }
  return root;
}

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

async function idleServer(root: string, runs: number): Promise<{ rss: number[]; indexMs: number[]; files: number }> {
  const rss: number[] = [];
  const indexMs: number[] = [];
  let files = 0;
  for (let i = 0; i < runs; i++) {
    const client = new TestLspClient({ rootDir: root });
    await client.initialize();
    const line = await client.waitFor('indexing', () => client.logs.find((l) => /indexed \d+ Rust files in \d+ ms/.test(l)), 120_000);
    const m = /indexed (\d+) Rust files in (\d+) ms/.exec(line)!;
    files = +m[1];
    indexMs.push(+m[2]);
    await new Promise((r) => setTimeout(r, 3000));
    rss.push(rssMb(client.process.pid!));
    await client.shutdown();
  }
  return { rss, indexMs, files };
}

export async function benchIdleMemory(log: (line: string) => void, runs = 3): Promise<Record<string, number>> {
  const counter = await idleServer(path.join(REPO_ROOT, 'clients', 'counter'), runs);
  const big = await idleServer(write300FileWorkspace(), runs);
  const out = {
    idleRssMb: median(counter.rss),
    idleRss300FilesMb: median(big.rss),
    serverIndex300FilesMs: median(big.indexMs),
  };
  log(`idle RSS of the server (counter workspace, ${counter.files} files): median ${out.idleRssMb.toFixed(1)} MB over ${runs} starts (target ≤ 120 MB)`);
  log(`idle RSS of the server (300-file workspace): median ${out.idleRss300FilesMb.toFixed(1)} MB (target ≤ 120 MB)`);
  log(`the server indexing ${big.files} files (cargo metadata excluded): median ${out.serverIndex300FilesMs} ms (target ≤ 2000 ms)`);
  return out;
}
