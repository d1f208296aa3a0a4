// A real headless Bevy 0.19 app (clients/bevy-headless: default-features off, `hotpatching`,
// MinimalPlugins + HotPatchPlugin, no window) driven by the real server over stdio. Bevy connects
// through dioxus-devtools and calls every system through `HotFn::current`, as users' apps do.
// - a system body edit goes live in the same process, and the ECS state (a resource, a component)
//   keeps counting;
// - a field added to a component, or to a resource, is a layout change: blocked, saying why Bevy
//   cannot take the new layout (storage laid out at first registration, systems set up once), the
//   app keeps its code;
// - a parameter added to a system changes its signature: Bevy keeps calling the monomorphization
//   it registered, so a patch would silently run the first build's code. Blocked too (this case
//   comes from the analysis of functions passed as values).
// The first run compiles Bevy (several minutes); the copy's target/ is kept between runs.
// Generous waits, no timing asserts.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestLspClient } from '../support/lsp-client';
import { prepareClientFixture } from '../support/counter-fixture';
import { AppLine, appLinesIn } from '../support/app-lines';

describe('end to end: a headless Bevy app with its own hot-patching', function () {
  this.timeout(20 * 60_000);
  let client: TestLspClient;
  let mainRs: string;
  let v1: string;
  let pid: number;
  let logCursor = 0;

  const markLogs = () => (logCursor = client.logs.length);
  const linesSinceMark = () => appLinesIn(client.logs.slice(logCursor));
  const latest = (): AppLine | undefined => appLinesIn(client.logs).pop();
  const waitForLine = (what: string, pred: (t: AppLine) => boolean, timeoutMs = 240_000) =>
    client.waitFor(what, () => linesSinceMark().find(pred), timeoutMs);
  const status = () => client.executeCommand<{ patch: string; patchesApplied: number; blockingFindings: number; message: string }>('subsecond.status');
  const save = async (text: string) => {
    fs.writeFileSync(mainRs, text); // an editor writes the file, then sends didSave
    await client.changeAndSave(mainRs, text);
  };

  before(async function () {
    this.timeout(40 * 60_000);
    const fixture = prepareClientFixture('bevy-headless', 'subsecond-lsp-e2e-bevy');
    mainRs = path.join(fixture.clientDir, 'src', 'main.rs');
    v1 = fs.readFileSync(mainRs, 'utf8');
    client = new TestLspClient({ rootDir: fixture.clientDir });
    await client.initialize();
    await client.open(mainRs, v1);
    const started = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
    assert.equal(started.ok, true, `startApp: ${started.message}\n${client.logs.slice(-30).join('\n')}`);
    await client.waitFor('the app to print', () => latest(), 180_000);
    pid = latest()!.pid;
  });

  after(async () => {
    if (client) assert.equal(await client.shutdown(), 0);
  });

  it('runs the Bevy app, connected as a dx-compatible client', () => {
    assert.equal(latest()!.fields.msg, 'bevy-v1');
    const running = client.statuses.filter((s) => s.app === 'running').pop();
    assert.ok(running);
    assert.match(running.message, /dx-compatible client/);
  });

  it('a system body edit goes live in the same process; the resource and the component keep their values', async () => {
    const before = latest()!;
    markLogs();
    await save(v1.replace('"bevy-v1"', '"bevy-v2"'));
    const after = await waitForLine('msg=bevy-v2', (t) => t.fields.msg === 'bevy-v2');
    assert.equal(after.pid, pid, 'the same process was patched');
    assert.ok(after.tick > before.tick, `the Ticks resource kept counting: ${before.tick} then ${after.tick}`);
    assert.ok(Number(after.fields.score) > Number(before.fields.score), `the Score component kept its value: ${before.line} / ${after.line}`);
    // once live, the old code does not come back
    markLogs();
    await waitForLine('a few more frames', () => linesSinceMark().length >= 5);
    assert.ok(linesSinceMark().every((t) => t.fields.msg === 'bevy-v2' && t.pid === pid), linesSinceMark().map((t) => t.line).join('\n'));
    const s = await status();
    assert.equal(s.patch, 'applied', s.message);
  });

  /** Saves `text`, expects a `code` finding (saying `says`) that blocks the patch while the app keeps `bevy-v2`; then restores v2. */
  const blocked = async (text: string, code: string, says?: RegExp) => {
    const applied = (await status()).patchesApplied;
    const n = client.statuses.length;
    markLogs();
    await save(text);
    const diags = await client.waitForDiagnostics(mainRs, `a ${code} finding`, (d) => d.some((x) => x.code === code), 60_000);
    assert.match(diags.find((x) => x.code === code)!.message, /restart/);
    if (says) assert.match(diags.find((x) => x.code === code)!.message, says);
    await client.waitFor('a blocked status', () => client.statuses.slice(n).find((s) => s.patch === 'blocked'));
    await waitForLine('more frames', () => linesSinceMark().length >= 5);
    assert.ok(linesSinceMark().every((t) => t.fields.msg === 'bevy-v2' && t.pid === pid), linesSinceMark().map((t) => t.line).join('\n'));
    assert.equal((await status()).patchesApplied, applied, 'no patch reached the app');
    await save(v1.replace('"bevy-v1"', '"bevy-v2"'));
    await client.waitForDiagnostics(mainRs, `the ${code} finding to clear`, (d) => !d.some((x) => x.code === code), 60_000);
  };

  it('a field added to a component is blocked, saying why Bevy cannot take it: the app keeps running its code', async () => {
    const withField = v1
      .replace('"bevy-v1"', '"bevy-v3"')
      .replace('    points: u64,\n}', '    points: u64,\n    bonus: u64,\n}')
      .replace('Score { points: 0 }', 'Score { points: 0, bonus: 1 }');
    assert.notEqual(withField.indexOf('bonus: u64'), -1);
    await blocked(withField, 'struct-layout-changed', /Bevy keeps the component `Score` in the World in storage laid out at its first registration, .*cannot re-register it, so its values cannot be migrated/);
  });

  it('a field added to a resource is blocked, saying why Bevy cannot take it: the app keeps running its code', async () => {
    const withField = v1.replace('"bevy-v1"', '"bevy-v3"').replace('    n: u64,\n}', '    n: u64,\n    best: u64,\n}');
    assert.notEqual(withField.indexOf('best: u64'), -1);
    await blocked(withField, 'struct-layout-changed', /Bevy keeps the resource `Ticks` in the World in storage laid out at its first registration, .*cannot re-register it, so its values cannot be migrated/);
  });

  it('a parameter added to a system is blocked: Bevy would keep calling the old system', async () => {
    const withParam = v1
      .replace('"bevy-v1"', '"bevy-v3"')
      .replace('fn report(ticks: Res<Ticks>, scores: Query<&Score>) {', 'fn report(ticks: Res<Ticks>, scores: Query<&Score>, time: Res<Time>) {\n    let _ = time.delta();');
    assert.notEqual(withParam.indexOf('time: Res<Time>'), -1);
    await blocked(withParam, 'hot-signature-changed');
  });
  it('built before the save: a system edit typed and paused is compiled from the unsaved buffer; the save sends it to Bevy\'s own client', async () => {
    const text = v1.replace('"bevy-v1"', '"bevy-s1"');
    const mtime = fs.statSync(mainRs).mtimeMs;
    markLogs();
    await client.change(mainRs, text);
    await client.waitFor('the speculative build', () => client.logs.slice(-20).find((l) => /speculative build: (ready|failed)/.test(l)), 600_000);
    assert.ok(client.logs.some((l) => /speculative build: ready: main\.rs/.test(l)), client.logs.filter((l) => /speculative/.test(l)).join('\n'));
    assert.equal(fs.statSync(mainRs).mtimeMs, mtime, 'the file is not written before the save');
    assert.ok(linesSinceMark().every((t) => t.fields.msg !== 'bevy-s1'), 'nothing is sent before the save');
    const applied = (await status()).patchesApplied;
    const n = client.statuses.length;
    fs.writeFileSync(mainRs, text);
    await client.save(mainRs, text);
    const after = await waitForLine('msg=bevy-s1', (t) => t.fields.msg === 'bevy-s1');
    assert.equal(after.pid, pid);
    const done = await client.waitFor('the patch status', () => client.statuses.slice(n).find((s) => s.patchesApplied > applied));
    assert.match(done.message, /prepared before the save; sent to a dx-compatible client/);
  });
});
