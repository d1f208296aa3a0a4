// A package with a library and binaries (clients/lib-bin-app): the library is a crate of its own,
// so an edit of src/lib.rs or of a library module must rebuild the library, then the binary. The
// real server over stdio runs the `ledger` bin; each of the four functions (lib root, lib module,
// bin root, bin module beside the lib's files) is edited and must go live in the same process,
// with every earlier edit still live. An edit of the package's other binary is not part of the
// app and must not be called "patched". Generous waits, no timing asserts.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestLspClient } from '../support/lsp-client';
import { prepareClientFixture } from '../support/counter-fixture';
import { AppLine, appLinesIn } from '../support/app-lines';

describe('end to end: a package with a library and binaries', function () {
  this.timeout(20 * 60_000);
  let client: TestLspClient;
  let dir: string;
  let pid: number;
  let logCursor = 0;
  const originals = new Map<string, string>();
  const expected: Record<string, string> = { lib: 'lib-v1', mod: 'mod-v1', bin: 'bin-v1', view: 'view-v1' };

  const file = (rel: string) => path.join(dir, rel);
  const markLogs = () => (logCursor = client.logs.length);
  const linesSinceMark = () => appLinesIn(client.logs.slice(logCursor));
  const latest = (): AppLine | undefined => appLinesIn(client.logs).pop();
  const waitForLine = (what: string, pred: (t: AppLine) => boolean, timeoutMs = 180_000) =>
    client.waitFor(what, () => linesSinceMark().find(pred), timeoutMs);

  before(async function () {
    this.timeout(30 * 60_000);
    dir = prepareClientFixture('lib-bin-app', 'subsecond-lsp-e2e-lib-bin').clientDir;
    client = new TestLspClient({ rootDir: dir, initializationOptions: { bin: 'ledger' } });
    await client.initialize();
    for (const rel of ['src/lib.rs', 'src/pricing.rs', 'src/main.rs', 'src/view.rs', 'tools/audit.rs']) {
      const text = fs.readFileSync(file(rel), 'utf8');
      originals.set(rel, text);
      await client.open(file(rel), text);
    }
    const started = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
    assert.equal(started.ok, true, `startApp: ${started.message}\n${client.logs.slice(-30).join('\n')}`);
    await client.waitFor('the app to tick', () => latest(), 120_000);
    pid = latest()!.pid;
  });

  after(async () => {
    if (client) assert.equal(await client.shutdown(), 0);
  });

  /**
   * The session's verdict on a save made when `n` statuses had arrived. Statuses are re-published
   * whenever findings change, so an earlier verdict may come again: take the first verdict after
   * the save's own patch build began, or an 'unchanged' one (no build at all).
   */
  const verdictAfter = (n: number) =>
    client.waitFor('a patch verdict', () => {
      const since = client.statuses.slice(n);
      const building = since.findIndex((s) => s.patch === 'building');
      if (building < 0) return since.find((s) => s.patch === 'unchanged' || s.patch === 'blocked');
      return since.slice(building + 1).find((s) => s.patch !== 'building');
    });

  /** Saves `rel` with `key`'s literal at version `to`, then waits for the same process to print it. */
  const editGoesLive = async (rel: string, key: string, to: string) => {
    const before = latest()!;
    const n = client.statuses.length;
    const text = originals.get(rel)!.replace(`"${key}-v1"`, `"${to}"`);
    assert.notEqual(text, originals.get(rel), `${rel} holds "${key}-v1"`);
    markLogs();
    fs.writeFileSync(file(rel), text); // an editor writes the file, then sends didSave
    await client.changeAndSave(file(rel), text);
    expected[key] = to;
    const after = await waitForLine(`${key}=${to}`, (t) => t.fields[key] === to);
    assert.equal(after.pid, pid, 'the same process was patched');
    assert.ok(after.tick > before.tick, `ticks went on counting: ${before.tick} then ${after.tick}`);
    for (const [k, v] of Object.entries(expected)) assert.equal(after.fields[k], v, `${k} after the ${rel} edit: ${after.line}`);
    const verdict = await verdictAfter(n);
    assert.equal(verdict.patch, 'applied', verdict.message);
    assert.match(verdict.message, new RegExp(`patched ${path.basename(rel).replace('.', '\\.')}`));
  };

  it('runs the ledger bin of the package', () => {
    const first = latest()!;
    assert.deepEqual({ lib: first.fields.lib, mod: first.fields.mod, bin: first.fields.bin, view: first.fields.view }, expected);
  });

  it('an edit of src/lib.rs rebuilds the library, then the binary: live in the same process', async () => {
    await editGoesLive('src/lib.rs', 'lib', 'lib-v2');
  });

  it('an edit of a library module (src/pricing.rs) goes live', async () => {
    await editGoesLive('src/pricing.rs', 'mod', 'mod-v2');
  });

  it('an edit of src/main.rs goes live and keeps the library edits', async () => {
    await editGoesLive('src/main.rs', 'bin', 'bin-v2');
  });

  it("an edit of the binary's module beside the library's files (src/view.rs) goes live", async () => {
    await editGoesLive('src/view.rs', 'view', 'view-v2');
  });

  it('a second library edit carries the first bin edits along', async () => {
    await editGoesLive('src/lib.rs', 'lib', 'lib-v3');
  });

  it("an edit of the package's other binary is not part of the app: nothing is patched, and it says so", async () => {
    const applied = (await client.executeCommand<{ patchesApplied: number }>('subsecond.status')).patchesApplied;
    const n = client.statuses.length;
    const text = originals.get('tools/audit.rs')!.replace('"audit: ', '"audit v2: ');
    fs.writeFileSync(file('tools/audit.rs'), text);
    await client.changeAndSave(file('tools/audit.rs'), text);
    const verdict = await verdictAfter(n);
    assert.equal(verdict.patch, 'unchanged', verdict.message);
    assert.match(verdict.message, /audit\.rs is not part of ledger/);
    const status = await client.executeCommand<{ patchesApplied: number }>('subsecond.status');
    assert.equal(status.patchesApplied, applied);
  });
  it('built before the save: unsaved edits of a library module and the binary, saved together, go live from the prepared patch', async () => {
    const before = latest()!;
    const edits = new Map([
      ['src/pricing.rs', fs.readFileSync(file('src/pricing.rs'), 'utf8').replace(/"mod-[\w-]+"/, '"mod-s1"')],
      ['src/main.rs', fs.readFileSync(file('src/main.rs'), 'utf8').replace(/"bin-[\w-]+"/, '"bin-s1"')],
    ]);
    markLogs();
    for (const [rel, text] of edits) await client.change(file(rel), text);
    await client.waitFor('the speculative build', () => client.logs.slice(-50).find((l) => /speculative build: ready: (pricing|main)\.rs, (pricing|main)\.rs/.test(l)), 180_000);
    const n = client.statuses.length;
    const applied = client.statuses[n - 1].patchesApplied;
    for (const [rel, text] of edits) {
      // a "save all": each file written and announced in turn
      fs.writeFileSync(file(rel), text);
      await client.save(file(rel), text);
    }
    expected.mod = 'mod-s1';
    expected.bin = 'bin-s1';
    const after = await waitForLine('mod=mod-s1 and bin=bin-s1', (t) => t.fields.mod === 'mod-s1' && t.fields.bin === 'bin-s1');
    assert.equal(after.pid, pid);
    assert.ok(after.tick > before.tick);
    for (const [k, v] of Object.entries(expected)) assert.equal(after.fields[k], v, `${k}: ${after.line}`);
    const verdict = (await client.waitFor('the patch', () => client.statuses.slice(n).find((s) => s.patchesApplied > applied))) as { message: string; lastPatchTimings?: { prepared?: boolean } };
    assert.equal(verdict.lastPatchTimings?.prepared, true, `${verdict.message}\n${client.logs.filter((l) => /speculative|patch/.test(l)).slice(-15).join('\n')}`);
    assert.match(verdict.message, /prepared before the save/);
  });
  it('built before the save: a binary-only edit (the lib shares its crate name and is not rebuilt)', async () => {
    const text = fs.readFileSync(file('src/main.rs'), 'utf8').replace(/"bin-[\w-]+"/, '"bin-s2"');
    markLogs();
    await client.change(file('src/main.rs'), text);
    await client.waitFor('the speculative build', () => client.logs.slice(-20).find((l) => /speculative build: ready: main\.rs in/.test(l)), 180_000);
    const n = client.statuses.length;
    const applied = client.statuses[n - 1].patchesApplied;
    fs.writeFileSync(file('src/main.rs'), text);
    await client.save(file('src/main.rs'), text);
    expected.bin = 'bin-s2';
    const after = await waitForLine('bin=bin-s2', (t) => t.fields.bin === 'bin-s2');
    for (const [k, v] of Object.entries(expected)) assert.equal(after.fields[k], v, `${k}: ${after.line}`);
    const verdict = (await client.waitFor('the patch', () => client.statuses.slice(n).find((s) => s.patchesApplied > applied))) as { message: string };
    assert.match(verdict.message, /prepared before the save/);
  });
});
