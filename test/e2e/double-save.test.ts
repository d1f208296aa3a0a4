// No lost saves: a code save that lands 10–100 ms after another save of the same file (here a
// comment-only save, which builds nothing) must go live in both modes. File watchers drop a second
// change this close to the first (chokidar throttles within ~50 ms), so only re-reading the disk
// after every attempt, and once the saves have settled, catches it.
import { strict as assert } from 'node:assert';
import { spawn, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { SERVER_BIN, TestLspClient } from '../support/lsp-client';
import { prepareCounterFixture, ticksIn, CounterFixture } from '../support/counter-fixture';
import { pollUntil } from '../support/processes';

// Dense around 40–50 ms: the watcher reads the disk 40 ms after a change, and chokidar drops a second
// change within 50 ms of the first, so a save in that window was the one lost.
const GAPS_MS = [10, 30, 33, 36, 38, 41, 43, 45, 47, 49, 70, 100];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The first save only adds a comment; the second, `gapMs` later, changes the tip's message. */
async function doubleSave(fx: CounterFixture, base: string, n: number, gapMs: number, firstSaved?: (text: string) => Promise<void>): Promise<string> {
  const commentOnly = base.replace('fn main() {', `// save ${n}: a comment only\nfn main() {`);
  fs.writeFileSync(fx.mainRs, commentOnly);
  await firstSaved?.(commentOnly);
  await sleep(gapMs);
  const tip = `tip-d${n}`;
  fs.writeFileSync(fx.mainRs, commentOnly.replace('"tip-v1"', `"${tip}"`));
  return tip;
}

describe('no lost saves: a second save 10–100 ms after the first goes live', function () {
  this.timeout(20 * 60_000);

  describe('terminal mode (the file watcher is the only source)', () => {
    let child: ChildProcess | undefined;
    let out = '';
    after(() => {
      if (child && child.exitCode === null) child.kill('SIGINT');
    });

    it('patches the second save at every gap, in the same process', async () => {
      const fx = prepareCounterFixture();
      const base = fs.readFileSync(fx.mainRs, 'utf8');
      child = spawn(process.execPath, [SERVER_BIN, 'run', '--manifest-path', `${fx.counterDir}/Cargo.toml`], {
        cwd: fx.counterDir,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
      const ticks = () => ticksIn(out.split('\n').map((l) => l.replace(/^.*?app │ /, '[app stdout] ')));
      const wait = <T>(what: string, check: () => T | undefined | false, ms = 90_000) =>
        pollUntil(what, check, ms, () => `output:\n${out.slice(-3000)}`);
      const first = await wait('the first tick', () => ticks()[0], 15 * 60_000);
      await wait('the watcher', () => /watching for saves/.test(out));
      for (const [i, gap] of GAPS_MS.entries()) {
        const tip = await doubleSave(fx, base, i, gap);
        const live = await wait(`tip=${tip} (second save ${gap} ms after the first)`, () => ticks().find((t) => t.tip === tip));
        assert.equal(live.pid, first.pid, 'patched in place');
      }
    });
  });

  describe('LSP mode (didSave for the first save, the second written by another tool)', () => {
    let client: TestLspClient | undefined;
    let lspFixture: CounterFixture | undefined;
    after(async () => {
      if (client) assert.equal(await client.shutdown(), 0);
    });

    it('patches the second save at every gap, in the same process', async () => {
      const fx = (lspFixture = prepareCounterFixture());
      const base = fs.readFileSync(fx.mainRs, 'utf8');
      const c = (client = new TestLspClient({ rootDir: fx.counterDir }));
      await c.initialize();
      await c.open(fx.mainRs, base);
      const started = await c.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
      assert.equal(started.ok, true, started.message);
      const first = await c.waitFor('the first tick', () => ticksIn(c.logs)[0], 15 * 60_000);
      for (const [i, gap] of GAPS_MS.entries()) {
        const tip = await doubleSave(fx, base, i, gap, (text) => c.changeAndSave(fx.mainRs, text));
        const live = await c.waitFor(`tip=${tip} (second save ${gap} ms after the first)`, () => ticksIn(c.logs).find((t) => t.tip === tip), 90_000);
        assert.equal(live.pid, first.pid, 'patched in place');
        const last = c.statuses[c.statuses.length - 1];
        assert.notEqual(last.patch, 'failed', last.message);
      }
    });

    it('a layout change saved 30 ms after a code save blocks the patch and never runs', async () => {
      const c = client!;
      const fx = lspFixture!;
      const base = fs.readFileSync(fx.mainRs, 'utf8');
      const before = c.statuses.length;
      const a = base.replace(/"tip-d\d+"/, '"tip-A"');
      fs.writeFileSync(fx.mainRs, a);
      await c.changeAndSave(fx.mainRs, a);
      // Right after the patch build for A started: a new tip text and a field added to State
      // (requires restart). Whether rustc read A or B, B's code must never run (the pipeline
      // discards a build whose sources changed after the verdict).
      await sleep(30);
      const b = a.replace('"tip-A"', '"tip-B"').replace('pub count: u64,', 'pub count: u64,\n    pub extra: u8,');
      fs.writeFileSync(fx.mainRs, b);
      await c.changeAndSave(fx.mainRs, b);
      await c.waitFor('the patch to be blocked', () => c.statuses.slice(before).some((st) => st.patch === 'blocked'), 60_000);
      await sleep(3000);
      assert.equal(ticksIn(c.logs).filter((t) => t.tip === 'tip-B').length, 0, 'the unjudged layout change never ran');
      const last = c.statuses[c.statuses.length - 1];
      assert.equal(last.patch, 'blocked', last.message);
    });
  });
});
