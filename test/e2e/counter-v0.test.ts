// The counter app built with v0 symbol names (`_R…`, nightly's default since 2025-11-21), on this
// toolchain through `-C symbol-mangling-version=v0` in the fixture copy's `.cargo/config.toml`:
// the patch proof must read those names and say what went live, as it does for legacy names
// (test/e2e/counter.test.ts), and the doctor must say which mangling the fat build used.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SERVER_BIN, TestLspClient } from '../support/lsp-client';
import { prepareCounterFixture, ticksIn, Tick, useV0Mangling } from '../support/counter-fixture';
import { FatSymbols } from '../../server/src/engine/symbols';

describe('end to end: the counter app with v0 symbol names', function () {
  this.timeout(30 * 60_000);
  let client: TestLspClient;
  let counterDir: string;
  let mainRs: string;
  let coreRs: string;
  let mainV1: string;
  let coreV1: string;
  let logCursor = 0;
  const ticksSinceMark = (): Tick[] => ticksIn(client.logs.slice(logCursor));
  const markLogs = () => (logCursor = client.logs.length);
  const latestTick = (): Tick | undefined => ticksIn(client.logs).pop();

  before(async function () {
    const fx = prepareCounterFixture('subsecond-lsp-e2e-v0');
    useV0Mangling(fx.counterDir);
    counterDir = fx.counterDir;
    mainRs = fx.mainRs;
    coreRs = fx.coreRs;
    mainV1 = fs.readFileSync(mainRs, 'utf8');
    coreV1 = fs.readFileSync(coreRs, 'utf8');
    client = new TestLspClient({ rootDir: counterDir });
    await client.initialize();
    await client.open(mainRs, mainV1);
    await client.open(coreRs, coreV1);
    const started = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
    assert.equal(started.ok, true, `startApp: ${started.message}\n${client.logs.slice(-30).join('\n')}`);
    await client.waitFor('the app to tick', () => latestTick(), 300_000);
  });

  after(async () => {
    if (client) assert.equal(await client.shutdown(), 0);
  });

  /** Saves `text` and returns the status of the patch it caused. */
  async function saveAndPatch(file: string, text: string, what: string, pred: (t: Tick) => boolean): Promise<string> {
    const n = client.statuses.length;
    const applied = client.statuses[n - 1]?.patchesApplied ?? 0;
    markLogs();
    fs.writeFileSync(file, text);
    await client.changeAndSave(file, text);
    await client.waitFor(what, () => ticksSinceMark().find(pred), 180_000);
    // a status may be published again after its patch: this patch's one counts one more
    const verdict = await client.waitFor('the patch status', () => client.statuses.slice(n).find((s) => (s.patch === 'applied' && s.patchesApplied > applied) || s.patch === 'failed' || s.patch === 'blocked'), 180_000);
    assert.equal(verdict.patch, 'applied', verdict.message);
    return verdict.message;
  }

  it('the fat executable has v0 names for the app crates', () => {
    const exe = path.join(counterDir, 'target', 'subsecond-lsp', 'counter', 'run', 'counter');
    const names = [...FatSymbols.fromFile(exe).functionNames()];
    assert.ok(names.some((n) => n.startsWith('_RNv') && n.includes('7counter11tip_message')), 'v0 tip_message');
    assert.ok(!names.some((n) => n.startsWith('_ZN7counter')), 'no legacy name of the app crate');
  });

  it('a tip-crate edit is proven live by its v0 name', async () => {
    const message = await saveAndPatch(mainRs, mainV1.replace('"tip-v1"', '"tip-v2"'), 'tip=tip-v2', (t) => t.tip === 'tip-v2');
    assert.match(message, /^⚡ patched main\.rs .* — live: `tip_message`$/);
  });

  it('a workspace-crate edit is proven live by its v0 name', async () => {
    const message = await saveAndPatch(coreRs, coreV1.replace('"core-v1"', '"core-v2"'), 'core=core-v2', (t) => t.core === 'core-v2' && t.tip === 'tip-v2');
    assert.match(message, /^⚡ patched lib\.rs .* — live: `core_message`$/);
  });

  it('a function reached through the hot closure is proven live, and so is the edit after it', async () => {
    // `tick` is called from `subsecond::call(|| tick(..))`; its body changes, the line stays parseable
    const edited = mainV1.replace('"tip-v1"', '"tip-v3"').replace('state.count += 1;', 'state.count += 1;\n    std::hint::black_box(state.count);');
    assert.notEqual(edited, mainV1.replace('"tip-v1"', '"tip-v3"'));
    const message = await saveAndPatch(mainRs, edited, 'tip=tip-v3', (t) => t.tip === 'tip-v3');
    assert.match(message, /^⚡ patched main\.rs .* — live: (`tick`, `tip_message`|`tip_message`, `tick`)$/);
  });

  it('the doctor says the fat build mixed v0 app crates with the prebuilt legacy std', () => {
    const r = spawnSync(process.execPath, [SERVER_BIN, 'doctor', '--manifest-path', path.join(counterDir, 'Cargo.toml')], { encoding: 'utf8', timeout: 300_000 });
    const line = r.stdout.split('\n').find((l) => /^. symbol names/.test(l));
    assert.ok(line, r.stdout);
    assert.match(line, /^✓ symbol names\s+(mixed in target\/subsecond-lsp\/counter\/run\/counter: the app's crates v0 \(`_R…`\), other code legacy \(`_ZN…`\)|v0 \(`_R…`\) in target\/subsecond-lsp\/counter\/run\/counter)/);
  });
});
