// Save → live with speculative builds, through the real server over stdio, the real counter app
// and its agent. Three paths on the same edits, in the same run:
//   plain        didChange and didSave at once (no pause: today's path, the patch is built after the save)
//   speculated   didChange, a 1 s pause, then the save of that text (the patch was built during the pause)
//   missed       didChange, a 1 s pause, then a save of other text (the prepared patch is thrown away)
// For each save: the server's save → agent's answer (`lastPatchTimings.totalMs`) and the
// client's wall time from didSave to the status that says so. With a `dx` binary on PATH, `dx
// serve --hot-patch` patches the same edits of the same app for comparison.
import * as fs from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { TestLspClient } from '../test/support/lsp-client';
import { prepareCounterFixture, ticksIn, parseTick } from '../test/support/counter-fixture';
import { median, fmt } from './stats';

type Status = TestLspClient['statuses'][number] & { lastPatchTimings?: { totalMs: number; analysisMs: number; rustcMs: number; linkMs: number; relayMs: number; applyMs: number; prepared?: boolean } };
type PathName = 'plain' | 'speculated' | 'missed';

const PAUSE_BEFORE_SAVE_MS = 1000;
/** The counter prints a line every 150 ms: "value printed" includes up to one tick. */
const TICK_MS = 150;

export async function benchSpeculative(log: (line: string) => void, edits = 8): Promise<Record<string, number>> {
  const fx = prepareCounterFixture('subsecond-lsp-bench');
  const client = new TestLspClient({ rootDir: fx.counterDir });
  const out: Record<string, number> = {};
  try {
    await client.initialize();
    const files = { tip: fx.mainRs, workspace: fx.coreRs };
    const base = { tip: fs.readFileSync(fx.mainRs, 'utf8'), workspace: fs.readFileSync(fx.coreRs, 'utf8') };
    const literal = { tip: '"tip-v1"', workspace: '"core-v1"' };
    for (const k of ['tip', 'workspace'] as const) await client.open(files[k], base[k]);
    const started = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
    if (!started.ok) throw new Error(started.message);
    await client.waitFor('the app to tick', () => ticksIn(client.logs).length > 0, 120_000);

    let seq = 0;
    type Sample = { server: number; wall: number; tick: number; prepared: boolean; analysis: number; rustc: number; link: number; relay: number; apply: number };
    const patchOnce = async (kind: 'tip' | 'workspace', how: PathName): Promise<Sample> => {
      const value = `${kind === 'tip' ? 'tip' : 'core'}-${how}-${++seq}`;
      const text = base[kind].replace(literal[kind], `"${value}"`);
      const saved = how === 'missed' ? base[kind].replace(literal[kind], `"${value}-other"`) : text;
      await client.change(files[kind], text);
      if (how !== 'plain') await new Promise((r) => setTimeout(r, PAUSE_BEFORE_SAVE_MS));
      await new Promise((r) => setTimeout(r, Math.random() * TICK_MS)); // any phase of the app's tick
      const n = client.statuses.length;
      const applied = client.statuses[n - 1]?.patchesApplied ?? 0;
      const t0 = performance.now();
      fs.writeFileSync(files[kind], saved);
      await client.save(files[kind], saved);
      const done = (await client.waitFor(
        `patch ${value}`,
        () => client.statuses.slice(n).find((s) => (s.patch === 'applied' && s.patchesApplied > applied) || s.patch === 'failed' || s.patch === 'blocked'),
        120_000,
      )) as Status;
      const wall = performance.now() - t0;
      if (done.patch !== 'applied') throw new Error(`patch ${value}: ${done.message}`);
      const shown = how === 'missed' ? `${value}-other` : value;
      await client.waitFor(`the app to show ${shown}`, () => ticksIn(client.logs).some((t) => t.line.includes(`=${shown} `)), 60_000);
      const tick = performance.now() - t0;
      if (how === 'missed') await client.change(files[kind], saved); // the editor catches up
      const t = done.lastPatchTimings!;
      return { server: t.totalMs, wall, tick, prepared: t.prepared === true, analysis: t.analysisMs, rustc: t.rustcMs, link: t.linkMs, relay: t.relayMs, apply: t.applyMs };
    };

    for (const kind of ['tip', 'workspace'] as const) {
      // warm-up: the first rustc after a fat build, and the speculative cache's first build, are slower
      await patchOnce(kind, 'plain');
      await patchOnce(kind, 'speculated');
      const samples: Record<PathName, Sample[]> = { plain: [], speculated: [], missed: [] };
      for (let i = 0; i < edits; i++) for (const how of ['plain', 'speculated', 'missed'] as const) samples[how].push(await patchOnce(kind, how));
      const plain = median(samples.plain.map((s) => s.server));
      for (const how of ['plain', 'speculated', 'missed'] as const) {
        const s = samples[how];
        const server = median(s.map((x) => x.server));
        const wall = median(s.map((x) => x.wall));
        const tick = median(s.map((x) => x.tick));
        const hits = s.filter((x) => x.prepared).length;
        log(
          `${kind} crate, ${how.padEnd(10)} ${s.length} saves: save → agent's answer median ${fmt(server)} (server), ${fmt(wall)} (client wall); ` +
            `save → value printed ${fmt(tick)}; prepared before the save ${hits}/${s.length}${how === 'plain' ? '' : `; ${(server / plain).toFixed(2)}× plain`}`,
        );
        const part = (k: 'analysis' | 'rustc' | 'link' | 'relay' | 'apply') => fmt(median(s.map((x) => x[k])));
        if (how === 'speculated') log(`  of which: analysis ${part('analysis')} | relay ${part('relay')} | apply ${part('apply')}; the rest is reading the disk, the commit and the proof (rustc ${part('rustc')} and link ${part('link')} ran before the save)`);
        else log(`  of which: rustc ${part('rustc')} | link ${part('link')} | relay ${part('relay')} | apply ${part('apply')}`);
        out[`${kind}.${how}.totalMs`] = server;
        out[`${kind}.${how}.wallMs`] = wall;
        out[`${kind}.${how}.saveToTickMs`] = tick;
        out[`${kind}.${how}.prepared`] = hits / s.length;
      }
    }
  } finally {
    await client.shutdown();
  }
  Object.assign(out, await benchDx(log, edits));
  return out;
}

/** `dx serve --hot-patch` on the same app and edits, when a dx binary is on PATH. */
async function benchDx(log: (line: string) => void, edits: number): Promise<Record<string, number>> {
  const which = spawnSync('sh', ['-c', 'command -v dx'], { encoding: 'utf8' });
  const dx = which.status === 0 ? which.stdout.trim() : undefined;
  if (!dx) {
    log('dx: no `dx` binary on PATH; the dx comparison is skipped (cargo install dioxus-cli --version 0.7.4 --locked)');
    return {};
  }
  const fx = prepareCounterFixture('subsecond-lsp-bench-dx');
  const version = spawnSync(dx, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const child = spawn(dx, ['serve', '--hot-patch', '--interactive', 'false', '--platform', 'linux', '--package', 'counter'], {
    cwd: fx.counterDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const lines: string[] = [];
  const collect = (b: Buffer) => lines.push(...b.toString('utf8').split('\n'));
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const waitFor = async (what: string, pred: () => boolean, timeoutMs: number) => {
    const t0 = Date.now();
    while (!pred()) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`dx: timed out waiting for ${what}\n${lines.slice(-20).join('\n')}`);
      if (child.exitCode !== null) throw new Error(`dx exited (${child.exitCode}) waiting for ${what}\n${lines.slice(-20).join('\n')}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const out: Record<string, number> = {};
  try {
    await waitFor('the app to tick', () => lines.some((l) => parseTick(l) !== undefined), 30 * 60_000);
    // The same edits as above: a literal of the tip crate, then one of the workspace crate.
    const kinds = [
      { kind: 'tip', file: fx.mainRs, literal: '"tip-v1"', field: 'tip' },
      { kind: 'workspace', file: fx.coreRs, literal: '"core-v1"', field: 'core' },
    ];
    for (const { kind, file, literal, field } of kinds) {
      const base = fs.readFileSync(file, 'utf8');
      const samples: number[] = [];
      for (let i = 0; i <= edits; i++) {
        const value = `${field}-dx-${i}`;
        const from = lines.length;
        const t0 = performance.now();
        fs.writeFileSync(file, base.replace(literal, `"${value}"`));
        await waitFor(value, () => lines.slice(from).some((l) => l.includes(`${field}=${value} `)), 120_000);
        if (i > 0) samples.push(performance.now() - t0); // the first is a warm-up
        await new Promise((r) => setTimeout(r, 500 + Math.random() * TICK_MS));
      }
      // The app prints every 150 ms: the observed time includes up to one tick of waiting.
      out[`dx.${kind}.saveToTickMs`] = median(samples);
      log(`dx ${version}, ${kind} crate, ${samples.length} saves: save → new value printed, median ${fmt(median(samples))} (includes up to one 150 ms tick)`);
    }
  } catch (e) {
    log(`dx: ${(e as Error).message.split('\n')[0]}`);
  } finally {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
  return out;
}

