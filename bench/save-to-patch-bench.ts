// Save → patch applied, through the real server over stdio, the real counter app and its agent:
// ≥10 one-line edits of the tip crate and ≥10 of the workspace crate. For each save the server's
// status carries where the time went (analysis, rustc, objects, stub, link, jump table, relay,
// apply); we print the medians and the overhead on top of rustc + link (target ≤ 60 ms).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestLspClient } from '../test/support/lsp-client';
import { prepareCounterFixture, ticksIn } from '../test/support/counter-fixture';
import { median, fmt } from './stats';

type Timings = Record<string, number>;

export async function benchSaveToPatch(
  log: (line: string) => void,
  edits = 10,
  options: {
    settings?: Record<string, unknown>;
    kinds?: Array<'tip' | 'workspace'>;
    /** A `.cargo/config.toml` written into the copy (a cross set-up), built in a copy of its own. */
    cargoConfig?: string;
    fixtureName?: string;
  } = {},
): Promise<Record<string, number>> {
  const fx = prepareCounterFixture(options.fixtureName ?? 'subsecond-lsp-bench');
  if (options.cargoConfig !== undefined) {
    fs.mkdirSync(path.join(fx.counterDir, '.cargo'), { recursive: true });
    fs.writeFileSync(path.join(fx.counterDir, '.cargo', 'config.toml'), options.cargoConfig);
  }
  const client = new TestLspClient({ rootDir: fx.counterDir, initializationOptions: options.settings });
  const out: Record<string, number> = {};
  try {
    await client.initialize();
    const started = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
    if (!started.ok) throw new Error(started.message);
    await client.waitFor('the app to tick', () => ticksIn(client.logs).length > 0, 600_000);
    const mainV1 = fs.readFileSync(fx.mainRs, 'utf8');
    const coreV1 = fs.readFileSync(fx.coreRs, 'utf8');
    const kinds = ([
      ['tip', fx.mainRs, mainV1, '"tip-v1"'],
      ['workspace', fx.coreRs, coreV1, '"core-v1"'],
    ] as Array<['tip' | 'workspace', string, string, string]>).filter(([k]) => !options.kinds || options.kinds.includes(k));
    // One warm-up patch of each kind: the first rustc after a fat build is slower.
    for (const [kind, file, base, literal] of kinds) {
      const samples: Timings[] = [];
      for (let i = 0; i <= edits; i++) {
        const value = `${kind}-b${i}`;
        const text = base.replace(literal, `"${value}"`);
        const n = client.statuses.length;
        fs.writeFileSync(file, text);
        await client.changeAndSave(file, text);
        const done = await client.waitFor(`patch ${value}`, () =>
          client.statuses.slice(n).find((s) => s.patch === 'applied' || s.patch === 'failed' || s.patch === 'blocked'),
          120_000,
        );
        if (done.patch !== 'applied') throw new Error(`patch ${value}: ${done.message}`);
        await client.waitFor(`the app to show ${value}`, () => ticksIn(client.logs).some((t) => t.line.includes(value)), 60_000);
        const t = (done as unknown as { lastPatchTimings: Timings }).lastPatchTimings;
        if (i > 0) samples.push(t);
      }
      const keys = Object.keys(samples[0]);
      const med: Timings = {};
      for (const k of keys) med[k] = median(samples.map((s) => s[k]));
      const overhead = median(samples.map((s) => s.totalMs - s.rustcMs - s.linkMs));
      log(
        `${kind} crate, ${samples.length} one-line edits, save → agent's answer: median ${fmt(med.totalMs)}\n` +
          `  analysis ${fmt(med.analysisMs)} | rustc ${fmt(med.rustcMs)} | objects ${fmt(med.objectsMs)} | stub ${fmt(med.stubMs)} | ` +
          `link ${fmt(med.linkMs)} | jump table ${fmt(med.jumpTableMs)} | relay ${fmt(med.relayMs)} | apply ${fmt(med.applyMs)}\n` +
          `  overhead beyond rustc + link: median ${fmt(overhead)} (target ≤ 60 ms)`,
      );
      for (const k of keys) out[`${kind}.${k}`] = med[k];
      out[`${kind}.overheadMs`] = overhead;
    }
  } finally {
    await client.shutdown();
  }
  return out;
}
