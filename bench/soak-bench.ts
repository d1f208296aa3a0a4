// Memory per patch: 500 patches in a row (SUBSECOND_SOAK_PATCHES overrides) through the real server
// over stdio into the real counter app. Every patch must be live (the app prints the new value)
// before the next save. Resident memory of the server and of the app, the patch libraries the app
// keeps mapped, and the deleted patch files it still holds open, at 0, 100 and the last patch; and
// the entry-detour islands the agent allocated (16 bytes each, in pages of their own).
import * as fs from 'node:fs';
import { TestLspClient } from '../test/support/lsp-client';
import { prepareCounterFixture, ticksIn } from '../test/support/counter-fixture';
import { median, fmt } from './stats';

/** VmRSS of a process, in MB. */
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Patch libraries mapped into the app: how many, how many deleted from disk, their total size. */
function mappedPatches(pid: number): { mapped: number; deleted: number; heldMb: number } {
  const files = new Map<string, { deleted: boolean; range: string }>();
  for (const line of fs.readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
    const m = /^(\S+)\s+\S+\s+\S+\s+\S+\s+\d+\s+(\S*-patch-\d+\.so)( \(deleted\))?$/.exec(line);
    if (m && !files.has(m[2])) files.set(m[2], { deleted: !!m[3], range: m[1] });
  }
  let held = 0;
  for (const [file, f] of files) {
    try {
      // map_files/ reaches a deleted file's inode (needs CAP_SYS_ADMIN or the same user on newer kernels)
      held += fs.statSync(f.deleted ? `/proc/${pid}/map_files/${f.range}` : file).size;
    } catch {
      /* not visible to us */
    }
  }
  return { mapped: files.size, deleted: [...files.values()].filter((f) => f.deleted).length, heldMb: held / 1048576 };
}

/** Anonymous executable single pages: the agent's island pages (nothing else in the counter maps those). */
function islandPages(pid: number): number {
  return fs
    .readFileSync(`/proc/${pid}/maps`, 'utf8')
    .split('\n')
    .filter((line) => {
      const m = /^([0-9a-f]+)-([0-9a-f]+) r-xp 00000000 00:00 0\s*$/.exec(line);
      return m !== null && parseInt(m[2], 16) - parseInt(m[1], 16) === 4096;
    }).length;
}

export async function benchSoak(log: (line: string) => void): Promise<Record<string, number>> {
  const total = Number(process.env.SUBSECOND_SOAK_PATCHES ?? 500);
  const checkpoints = new Set([0, 100, total]);
  const fx = prepareCounterFixture('subsecond-lsp-bench');
  const client = new TestLspClient({ rootDir: fx.counterDir });
  const out: Record<string, number> = {};
  const mainV1 = fs.readFileSync(fx.mainRs, 'utf8');
  try {
    await client.initialize();
    const started = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
    if (!started.ok) throw new Error(started.message);
    const first = await client.waitFor('the app to tick', () => ticksIn(client.logs)[0], 15 * 60_000);
    const serverPid = client.process.pid!;
    const totals: number[] = [];
    let soSize = 0;
    let islands = 0;
    const sample = (n: number) => {
      const p = mappedPatches(first.pid);
      const pages = islandPages(first.pid);
      out[`app.islands@${n}`] = islands;
      out[`app.islandPages@${n}`] = pages;
      const server = rssMb(serverPid);
      const app = rssMb(first.pid);
      out[`server.rssMb@${n}`] = Math.round(server * 10) / 10;
      out[`app.rssMb@${n}`] = Math.round(app * 10) / 10;
      out[`app.mappedPatches@${n}`] = p.mapped;
      out[`app.deletedHeldMb@${n}`] = Math.round(p.heldMb * 10) / 10;
      log(
        `after ${String(n).padStart(3)} patches: server RSS ${server.toFixed(1)} MB, app RSS ${app.toFixed(1)} MB, ` +
          `${p.mapped} patch libraries mapped (${p.deleted} deleted from disk, ${p.heldMb.toFixed(1)} MB held), ` +
          `${islands} detour islands in ${pages} page(s)`,
      );
    };
    sample(0);
    for (let i = 1; i <= total; i++) {
      const value = `soak-${i}`;
      const text = mainV1.replace('"tip-v1"', `"${value}"`);
      const n = client.statuses.length;
      const mark = client.logs.length;
      fs.writeFileSync(fx.mainRs, text);
      await client.changeAndSave(fx.mainRs, text);
      const done = await client.waitFor(`patch ${i}`, () =>
        client.statuses.slice(n).find((s) => s.patch === 'applied' || s.patch === 'failed' || s.patch === 'blocked'),
        120_000,
      );
      if (done.patch !== 'applied') throw new Error(`patch ${i}: ${done.message}`);
      const live = await client.waitFor(`the app to show ${value}`, () => ticksIn(client.logs.slice(mark)).find((t) => t.tip === value), 60_000);
      if (live.pid !== first.pid) throw new Error(`patch ${i} landed in another process (${live.pid})`);
      totals.push((done as unknown as { lastPatchTimings: { totalMs: number } }).lastPatchTimings.totalMs);
      for (const line of client.logs.slice(mark)) {
        const m = /entry detours: (\d+) new island/.exec(line);
        if (m) islands += Number(m[1]);
      }
      // Older log lines are not needed any more; keeping them would inflate this process, not the server.
      client.logs.splice(0, client.logs.length - 50);
      client.statuses.splice(0, client.statuses.length - 20);
      if (checkpoints.has(i)) sample(i);
    }
    const patches = fs.readdirSync(`${fx.counterDir}/target/subsecond-lsp/counter/patches`).filter((f) => f.endsWith('.so'));
    soSize = median(patches.map((f) => fs.statSync(`${fx.counterDir}/target/subsecond-lsp/counter/patches/${f}`).size)) / 1024;
    out.patchLibraryKb = Math.round(soSize);
    out.medianPatchMs = median(totals);
    const perPatchKb = ((out[`app.rssMb@${total}`] - out['app.rssMb@0']) * 1024) / total;
    out.appRssKbPerPatch = Math.round(perPatchKb * 10) / 10;
    out.serverRssKbPerPatch = Math.round((((out[`server.rssMb@${total}`] - out['server.rssMb@0']) * 1024) / total) * 10) / 10;
    log(
      `${total} patches, all live in pid ${first.pid}: median save → applied ${fmt(median(totals))}; patch library ${soSize.toFixed(0)} KB (median on disk); ` +
        `app RSS +${perPatchKb.toFixed(1)} KB per patch, server RSS ${out.serverRssKbPerPatch >= 0 ? '+' : ''}${out.serverRssKbPerPatch} KB per patch`,
    );
  } finally {
    fs.writeFileSync(fx.mainRs, mainV1);
    await client.shutdown();
  }
  return out;
}
