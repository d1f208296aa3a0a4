// Speculative builds and live edits through the real server, the real counter app and its agent.
// Typing (didChange) and a pause build the patch from the unsaved buffer; a save of that same
// text only sends it. A save of other text, typing during the build, a buffer that does not parse
// and a restart-class edit each take the path they must. With `patchOn: "pause"` the buffer goes
// live without a save and the file on disk stays as it was. Generous waits, no timing asserts.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestLspClient } from '../support/lsp-client';
import { prepareCounterFixture, ticksIn, Tick } from '../support/counter-fixture';

type Status = TestLspClient['statuses'][number] & { lastPatchTimings?: { prepared?: boolean } };

/** Pids of rustc processes compiling from the speculative shadow. */
function speculativeRustcs(): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => /rustc/.test(l) && /subsecond-lsp\/[^ ]*\/speculative\/out/.test(l))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function startCounter(settings: Record<string, unknown>) {
  const fixture = prepareCounterFixture();
  const client = new TestLspClient({ rootDir: fixture.counterDir, initializationOptions: settings });
  await client.initialize();
  const mainV1 = fs.readFileSync(fixture.mainRs, 'utf8');
  const coreV1 = fs.readFileSync(fixture.coreRs, 'utf8');
  await client.open(fixture.mainRs, mainV1);
  await client.open(fixture.coreRs, coreV1);
  const started = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
  assert.equal(started.ok, true, `startApp: ${started.message}\n${client.logs.slice(-30).join('\n')}`);
  await client.waitFor('the app to tick', () => ticksIn(client.logs).pop(), 120_000);
  return { client, fixture, mainV1, coreV1 };
}

describe('end to end: speculative builds (the patch is built before the save)', function () {
  this.timeout(20 * 60_000);
  let client: TestLspClient;
  let MAIN_RS: string;
  let CORE_RS: string;
  let mainV1: string;
  let coreV1: string;
  let logCursor = 0;
  const markLogs = () => (logCursor = client.logs.length);
  const logsSinceMark = () => client.logs.slice(logCursor);
  const waitForLog = (what: string, re: RegExp, timeoutMs = 120_000) => client.waitFor(what, () => logsSinceMark().find((l) => re.test(l)), timeoutMs);
  const waitForTick = (what: string, pred: (t: Tick) => boolean) => client.waitFor(what, () => ticksIn(logsSinceMark()).find(pred), 120_000);
  /** The outcome of the next patch after status `n` (a status is re-sent whenever problems change, with the last patch state). */
  const waitForPatch = async (n: number) => {
    const applied = client.statuses[n - 1]?.patchesApplied ?? 0;
    return (await client.waitFor(
      'the patch outcome',
      () => client.statuses.slice(n).find((s) => (s.patch === 'applied' && s.patchesApplied > applied) || s.patch === 'failed' || s.patch === 'blocked'),
      120_000,
    )) as Status;
  };

  /** What an editor does on save: write the buffer's text, then didSave. */
  const save = async (file: string, text: string) => {
    fs.writeFileSync(file, text);
    await client.save(file, text);
  };

  /**
   * Types `typed` (no save), waits until its patch is built, checks `beforeSave`, then saves
   * `saved` (an editor that writes other text, e.g. formatted, sends no didChange for it).
   */
  const typePauseSave = async (file: string, typed: string, saved = typed, beforeSave = () => {}) => {
    await client.change(file, typed);
    await waitForLog('the speculative build to be ready', new RegExp(`speculative build: ready: ${path.basename(file).replace('.', '\\.')}`));
    beforeSave();
    const n = client.statuses.length;
    await save(file, saved);
    const done = await waitForPatch(n);
    assert.equal(done.patch, 'applied', done.message);
    return done;
  };

  before(async function () {
    this.timeout(30 * 60_000);
    const s = await startCounter({ pauseMs: 200 });
    ({ client, mainV1, coreV1 } = s);
    MAIN_RS = s.fixture.mainRs;
    CORE_RS = s.fixture.coreRs;
  });

  after(async () => {
    if (client) assert.equal(await client.shutdown(), 0);
  });

  it('hit: typing then a pause builds the patch from the buffer; the save of that text only sends it', async () => {
    const text = mainV1.replace('"tip-v1"', '"tip-s1"');
    const mtime = fs.statSync(MAIN_RS).mtimeMs;
    markLogs();
    const done = await typePauseSave(MAIN_RS, text, text, () => {
      assert.equal(fs.readFileSync(MAIN_RS, 'utf8'), mainV1, 'the file on disk is the user’s: not written');
      assert.equal(fs.statSync(MAIN_RS).mtimeMs, mtime);
      assert.ok(!ticksIn(logsSinceMark()).some((t) => t.tip === 'tip-s1'), 'nothing is sent before the save');
    });
    assert.match(done.message, /⚡ patched main\.rs in \d+ ms \(prepared before the save; applied in/);
    // a prepared patch goes through the layout gate too (its objects, moved in at commit)
    assert.match(done.message, /; layouts verified \(\d+ compared\)\)/);
    assert.equal(done.lastPatchTimings?.prepared, true);
    await waitForTick('tip=tip-s1', (t) => t.tip === 'tip-s1');
  });

  it('miss: the saved text differs from the speculated one (say, formatted on save): built after the save, and the saved text goes live', async () => {
    const speculated = mainV1.replace('"tip-v1"', '"tip-s2"');
    const saved = mainV1.replace('"tip-v1"', '"tip-s3"');
    markLogs();
    // The editor wrote other text than the buffer it showed (a formatter on save).
    const done = await typePauseSave(MAIN_RS, speculated, saved);
    assert.notEqual(done.lastPatchTimings?.prepared, true);
    assert.match(done.message, /built after the save: main\.rs on disk is not the text it was built from/);
    const t = await waitForTick('tip=tip-s3', (x) => x.tip === 'tip-s3');
    assert.ok(!ticksIn(logsSinceMark()).some((x) => x.tip === 'tip-s2'), `the speculated text never ran (${t.line})`);
    await client.change(MAIN_RS, saved); // the editor catches up with the disk
  });

  it('cancel: typing during a speculative build stops its rustc; the next pause builds the new text', async () => {
    const first = coreV1.replace('"core-v1"', '"core-s4"');
    const second = coreV1.replace('"core-v1"', '"core-s5"');
    markLogs();
    await client.change(CORE_RS, first);
    await waitForLog('the speculative build to start', /speculative build: building lib\.rs/);
    let pids: number[] = [];
    for (let i = 0; i < 500 && pids.length === 0; i++) {
      pids = speculativeRustcs();
      if (pids.length === 0) await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(pids.length > 0, 'a speculative rustc ran');
    await client.change(CORE_RS, second);
    await waitForLog('the cancel', /speculative build: cancelled: typing resumed/);
    // The cancelled compiler is stopped (SIGTERM to its process group, SIGKILL after 1.5 s).
    await client.waitFor('the cancelled rustc to exit', () => (pids.every((p) => !alive(p)) ? true : undefined), 10_000);
    await waitForLog('the new text to be built', /speculative build: ready: lib\.rs/);
    const n = client.statuses.length;
    await save(CORE_RS, second);
    const done = await waitForPatch(n);
    assert.equal(done.patch, 'applied', done.message);
    assert.equal(done.lastPatchTimings?.prepared, true, done.message);
    await waitForTick('core=core-s5', (t) => t.core === 'core-s5');
  });

  it('a buffer that does not parse builds nothing; the save builds as usual', async () => {
    const saved = fs.readFileSync(MAIN_RS, 'utf8');
    const broken = saved.replace('fn tip_message() -> &\'static str {', 'fn tip_message( -> &\'static str {');
    assert.notEqual(broken, saved);
    markLogs();
    const rustcsBefore = speculativeRustcs().length;
    await client.change(MAIN_RS, broken);
    await waitForLog('the verdict', /speculative build: nothing built: main\.rs does not parse/);
    assert.equal(speculativeRustcs().length, rustcsBefore);
    assert.ok(!logsSinceMark().some((l) => /speculative build: building/.test(l)));
    await client.change(MAIN_RS, saved); // undo: the buffer is the disk's text again
  });

  it('a restart-class edit builds nothing and its warning shows on the unsaved buffer; undoing clears it', async () => {
    const saved = fs.readFileSync(MAIN_RS, 'utf8');
    const layout = saved.replace('pub count: u64,', 'pub count: u64,\n    pub extra: u32,');
    assert.notEqual(layout, saved);
    markLogs();
    await client.change(MAIN_RS, layout);
    await waitForLog('the verdict', /speculative build: nothing built: .*State.* requires a restart/);
    const uri = client.uri(MAIN_RS);
    const diags = await client.waitFor('the restart warning on the buffer', () =>
      client.diagnostics.get(uri)?.find((d) => d.code === 'struct-layout-changed'),
    );
    assert.match(diags.message, /requires restart.*\(unsaved: save it, then restart\)$/, 'a restart builds what is saved: the warning says to save first');
    const line = layout.split('\n').findIndex((l) => l.includes('pub struct State'));
    assert.ok(Math.abs(diags.range.start.line - line) <= 2, `the warning is placed on the buffer's text (line ${diags.range.start.line}, struct at ${line})`);
    assert.ok(!logsSinceMark().some((l) => /speculative build: building/.test(l)));
    await client.change(MAIN_RS, saved);
    await client.waitFor('the warning to clear', () => (client.diagnostics.get(uri)?.some((d) => d.code === 'struct-layout-changed') ? undefined : true));
  });

  it('a panic in patched code that was built ahead names the real file and line', async () => {
    const saved = fs.readFileSync(MAIN_RS, 'utf8');
    const body = `fn tip_message() -> &'static str {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = std::thread::spawn(|| panic!("speculated panic")).join();
    });
    "tip-panic"`;
    const text = saved.replace(/fn tip_message\(\) -> &'static str \{\n    "[^"]*"/, body);
    assert.notEqual(text, saved);
    const panicLine = text.split('\n').findIndex((l) => l.includes('panic!("speculated panic")')) + 1;
    markLogs();
    const done = await typePauseSave(MAIN_RS, text);
    assert.equal(done.lastPatchTimings?.prepared, true);
    const panicked = await waitForLog('the panic message', /panicked at /);
    assert.match(panicked, new RegExp(`panicked at src/main\\.rs:${panicLine}:\\d+`), panicked);
    assert.doesNotMatch(client.logs.join('\n'), /speculative\/src/, 'no shadow path reaches the user');
  });
});

describe('end to end: live edits (patchOn "pause")', function () {
  this.timeout(20 * 60_000);
  let client: TestLspClient;
  let MAIN_RS: string;
  let mainV1: string;
  let logCursor = 0;
  const markLogs = () => (logCursor = client.logs.length);
  const logsSinceMark = () => client.logs.slice(logCursor);
  const waitForTick = (what: string, pred: (t: Tick) => boolean) => client.waitFor(what, () => ticksIn(logsSinceMark()).find(pred), 120_000);

  before(async function () {
    this.timeout(30 * 60_000);
    const s = await startCounter({ pauseMs: 200, patchOn: 'pause' });
    ({ client, mainV1 } = s);
    MAIN_RS = s.fixture.mainRs;
  });

  after(async () => {
    if (client) assert.equal(await client.shutdown(), 0);
  });

  it('a paused, patchable buffer goes live without a save; the file stays as it was', async () => {
    markLogs();
    const n = client.statuses.length;
    await client.change(MAIN_RS, mainV1.replace('"tip-v1"', '"tip-live1"'));
    await waitForTick('tip=tip-live1', (t) => t.tip === 'tip-live1');
    assert.equal(fs.readFileSync(MAIN_RS, 'utf8'), mainV1, 'the disk is untouched');
    // the app may print the new value before the agent's answer reaches the server
    const applied = await client.waitFor('the status to say it was patched', () => client.statuses.slice(n).find((s) => s.patch === 'applied' && s.patchesApplied === 1));
    assert.match(applied.message, /^⚡ patched main\.rs \(unsaved\) in \d+ ms .*— live: `tip_message`/);
  });

  it('a buffer that does not parse is held back; the app keeps the last live text', async () => {
    markLogs();
    const n = client.statuses.length;
    await client.change(MAIN_RS, mainV1.replace('"tip-v1"', '"tip-live2'));
    await client.waitFor('the hold', () => logsSinceMark().find((l) => /live edit held: main\.rs does not parse/.test(l)));
    const applied = client.statuses[n - 1].patchesApplied;
    assert.ok(!client.statuses.slice(n).some((s) => s.patch === 'building' || s.patchesApplied > applied));
    const t = await waitForTick('a tick', () => true);
    assert.equal(t.tip, 'tip-live1');
  });

  it('a restart-class buffer is blocked with its warning; nothing is sent', async () => {
    markLogs();
    const n = client.statuses.length;
    const text = mainV1.replace('"tip-v1"', '"tip-live3"').replace('pub count: u64,', 'pub count: u64,\n    pub extra: u32,');
    await client.change(MAIN_RS, text);
    const blocked = await client.waitFor('the block', () => client.statuses.slice(n).find((s) => s.patch === 'blocked'));
    assert.match(blocked.message, /requires a restart/);
    const warning = client.diagnostics.get(client.uri(MAIN_RS))?.find((d) => d.code === 'struct-layout-changed');
    assert.match(warning?.message ?? '', /\(unsaved: save it, then restart\)$/, 'a restart builds what is saved');
    const t = await waitForTick('a tick', () => true);
    assert.equal(t.tip, 'tip-live1', 'the blocked text did not go live');
  });

  it('saving the live text patches nothing again; closing an unsaved buffer gives the file back to the disk', async () => {
    const live = mainV1.replace('"tip-v1"', '"tip-live1"');
    markLogs();
    await client.change(MAIN_RS, live); // back to the live text
    await client.waitFor('the warning to clear', () => (client.diagnostics.get(client.uri(MAIN_RS))?.some((d) => d.code === 'struct-layout-changed') ? undefined : true));
    const applied = (client.statuses.at(-1) as Status).patchesApplied;
    fs.writeFileSync(MAIN_RS, live);
    await client.save(MAIN_RS, live);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((client.statuses.at(-1) as Status).patchesApplied, applied, 'the saved text was already live');
    // type something new (goes live), then close without saving: the disk's text comes back
    await client.change(MAIN_RS, mainV1.replace('"tip-v1"', '"tip-live4"'));
    await waitForTick('tip=tip-live4', (t) => t.tip === 'tip-live4');
    markLogs();
    await client.close(MAIN_RS);
    await waitForTick('tip=tip-live1 again', (t) => t.tip === 'tip-live1');
    assert.equal(fs.readFileSync(MAIN_RS, 'utf8'), live);
  });
});
