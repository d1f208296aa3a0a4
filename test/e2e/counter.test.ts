// The whole product, as a user lives it: the real server over stdio starts the real counter app
// (real cargo fat build), and saves become live code in that same process. Generous waits, no
// timing asserts. The fixture is copied to a temp dir (its target/ is kept between runs so only
// the first run pays for compiling subsecond and its dependencies).
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { TestLspClient, Diagnostic } from '../support/lsp-client';
import { prepareCounterFixture, ticksIn, Tick } from '../support/counter-fixture';

let MAIN_RS = '';
let CORE_RS = '';

describe('end to end: hot-patching the counter app from an editor', function () {
  this.timeout(20 * 60_000);
  let client: TestLspClient;
  let mainV1: string;
  let coreV1: string;
  let logCursor = 0;

  /** Tick lines the app printed since the last call to `markLogs`. */
  const ticksSinceMark = (): Tick[] => ticksIn(client.logs.slice(logCursor));
  const markLogs = () => (logCursor = client.logs.length);
  const waitForTick = (what: string, pred: (t: Tick) => boolean, timeoutMs = 120_000) =>
    client.waitFor(what, () => ticksSinceMark().find(pred), timeoutMs);
  const latestTick = (): Tick | undefined => ticksIn(client.logs).pop();
  const statusAfter = (n: number) => client.statuses.slice(n);

  before(async function () {
    this.timeout(30 * 60_000);
    const fixture = prepareCounterFixture();
    MAIN_RS = fixture.mainRs;
    CORE_RS = fixture.coreRs;
    mainV1 = fs.readFileSync(MAIN_RS, 'utf8');
    coreV1 = fs.readFileSync(CORE_RS, 'utf8');
    client = new TestLspClient({ rootDir: fixture.counterDir });
    await client.initialize();
    await client.open(MAIN_RS, mainV1);
    await client.open(CORE_RS, coreV1);
    const started = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
    assert.equal(started.ok, true, `startApp: ${started.message}\n${client.logs.slice(-30).join('\n')}`);
    await client.waitFor('the app to tick', () => latestTick(), 120_000);
    assert.ok(client.progress.some((p) => p.value.kind === 'begin'), 'the fat build reported $/progress');
  });

  after(async () => {
    if (client) {
      const code = await client.shutdown();
      assert.equal(code, 0);
    }
  });

  let pid: number;
  let mainNow: string;
  let coreNow: string;

  const save = async (file: string, text: string) => {
    fs.writeFileSync(file, text); // an editor writes the file, then sends didSave
    await client.changeAndSave(file, text);
    if (file === MAIN_RS) mainNow = text;
    else coreNow = text;
  };

  it('a tip-crate function edit changes the running app, same pid, state kept', async () => {
    const before = latestTick()!;
    pid = before.pid;
    assert.equal(before.tip, 'tip-v1');
    markLogs();
    await save(MAIN_RS, mainV1.replace('"tip-v1"', '"tip-v2"'));
    const after = await waitForTick('tip=tip-v2', (t) => t.tip === 'tip-v2');
    assert.equal(after.pid, pid, 'the same process was patched');
    assert.ok(after.count > before.count, `state kept: count went on from ${before.count} to ${after.count}`);
    assert.equal(after.core, 'core-v1');
    // The app may print the new value before the agent's answer reaches the server.
    await client.waitFor('the applied status', () => client.statuses.some((s) => s.patch === 'applied' && s.patchesApplied >= 1) || undefined);
    const applied = client.statuses.filter((s) => s.patch === 'applied');
    assert.ok(applied.length > 0 && applied[applied.length - 1].patchesApplied >= 1, 'status says the patch was applied');
    // Proof before the claim: the status names the function the patch made live.
    assert.match(applied[applied.length - 1].message, /⚡ patched main\.rs .* — live: `tip_message`$/);
    const lenses = await client.request<Array<{ command: { title: string; command: string } }>>('textDocument/codeLens', {
      textDocument: { uri: client.uri(MAIN_RS) },
    });
    const titles = lenses.map((l) => `${l.command.command}: ${l.command.title}`);
    assert.ok(titles.includes('subsecond.patch: ⚡ patch'), titles.join('\n'));
    assert.ok(titles.some((t) => /subsecond\.status: ✓ \d+ patch(es)? applied, last in \d+ ms/.test(t)), titles.join('\n'));
    // The per-function lens sits on the function that went live.
    const live = lenses.find((l) => /^✓ live · patch \d+ · \d+ ms$/.test(l.command.title)) as { range: { start: { line: number } } } | undefined;
    assert.ok(live, titles.join('\n'));
    const fnLine = mainNow.split('\n').findIndex((l) => l.includes('fn tip_message'));
    assert.ok(live.range.start.line <= fnLine && fnLine - live.range.start.line <= 1, `the live lens is on tip_message (line ${fnLine}): ${JSON.stringify(live.range)}`);
  });

  it('a workspace-crate function edit changes the running app', async () => {
    markLogs();
    await save(CORE_RS, coreV1.replace('"core-v1"', '"core-v2"'));
    const t = await waitForTick('core=core-v2', (x) => x.core === 'core-v2');
    assert.equal(t.pid, pid);
    assert.equal(t.tip, 'tip-v2');
  });

  it('a later tip-only edit keeps the workspace change', async () => {
    markLogs();
    await save(MAIN_RS, mainV1.replace('"tip-v1"', '"tip-v3"'));
    const t = await waitForTick('tip=tip-v3', (x) => x.tip === 'tip-v3');
    assert.equal(t.core, 'core-v2', 'the workspace patch was carried into the tip-only patch');
    assert.equal(t.pid, pid);
  });

  it('a compile error becomes a diagnostic and the app keeps its old code; the fix patches', async () => {
    const broken = mainV1.replace('"tip-v1"', 'let x: u32 = "oops"; "tip-v4"');
    await save(MAIN_RS, broken);
    const errLine = broken.split('\n').findIndex((l) => l.includes('"oops"'));
    const diags = await client.waitForDiagnostics(MAIN_RS, 'a rustc error diagnostic', (d) => d.some((x) => x.code === 'patch-build-error'), 180_000);
    const err = diags.find((x) => x.code === 'patch-build-error')!;
    assert.equal(err.severity, 1);
    assert.equal(err.range.start.line, errLine, `error on the line with the type mismatch: ${JSON.stringify(err)}`);
    assert.match(err.message, /E0308|mismatched types/);
    markLogs();
    await waitForTick('ticks to continue', () => true);
    const still = latestTick()!;
    assert.equal(still.pid, pid, 'the app is still running');
    assert.equal(still.tip, 'tip-v3', 'it runs its old code');
    const pendingLenses = await client.request<Array<{ command: { title: string } }>>('textDocument/codeLens', { textDocument: { uri: client.uri(MAIN_RS) } });
    assert.ok(
      pendingLenses.some((l) => l.command.title === '⚡ patch (whole pending change)'),
      `the unpatched function offers a patch: ${pendingLenses.map((l) => l.command.title).join(' | ')}`,
    );

    markLogs();
    await save(MAIN_RS, mainV1.replace('"tip-v1"', '"tip-v4"'));
    await waitForTick('tip=tip-v4', (x) => x.tip === 'tip-v4');
    await client.waitForDiagnostics(MAIN_RS, 'the error to clear', (d) => !d.some((x) => x.code === 'patch-build-error'));
  });

  it('saves during a build are coalesced: the newest state wins', async () => {
    markLogs();
    await save(MAIN_RS, mainV1.replace('"tip-v1"', '"tip-v5"'));
    await save(MAIN_RS, mainV1.replace('"tip-v1"', '"tip-v6"'));
    const t = await waitForTick('tip=tip-v6', (x) => x.tip === 'tip-v6');
    assert.equal(t.pid, pid);
    // Once v6 is live, nothing older comes back.
    markLogs();
    await waitForTick('a few more ticks', () => ticksSinceMark().length >= 3);
    assert.ok(ticksSinceMark().every((x) => x.tip === 'tip-v6'), ticksSinceMark().map((x) => x.line).join('\n'));
  });

  it('a comment-only save says there is nothing to patch', async () => {
    // The coalesced saves may still be re-checked by a redundant build (rustc read the newer save
    // than the fingerprints taken before it): let it finish, or its status would be taken for ours.
    await client.waitFor('no patch build running', () => client.statuses[client.statuses.length - 1]?.patch !== 'building', 60_000);
    const n = client.statuses.length;
    await save(MAIN_RS, mainNow.replace('fn main() {', '// a comment only\nfn main() {'));
    // Either verdict comes after the save; a re-published earlier 'applied' status does not count.
    const s = await client.waitFor('an unchanged status', () => statusAfter(n).find((x) => x.patch === 'unchanged' || x.patch === 'building'));
    assert.equal(s.patch, 'unchanged', s.message);
    assert.match(s.message, /no code change/);
    const explicit = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.patch');
    assert.equal(explicit.ok, true);
    assert.match(explicit.message, /nothing to patch/);
  });

  it('an added struct field warns, blocks the patch and leaves the app alone; restart applies it', async () => {
    const withField = mainNow
      .replace('pub count: u64,', 'pub count: u64,\n    pub extra: u64,')
      .replace('State { count: 0 }', 'State { count: 0, extra: 7 }')
      .replace('"tip-v6"', '"tip-v7"');
    const n = client.statuses.length;
    markLogs();
    await save(MAIN_RS, withField);
    const diags = await client.waitForDiagnostics(MAIN_RS, 'a layout warning', (d) => d.some((x) => x.code === 'struct-layout-changed'));
    const w = diags.find((x) => x.code === 'struct-layout-changed') as Diagnostic;
    assert.match(w.message, /extra/);
    assert.match(w.message, /requires restart/);
    const blocked = await client.waitFor('a blocked status', () => statusAfter(n).find((s) => s.patch === 'blocked'));
    assert.match(blocked.message, /restart/);
    await waitForTick('more ticks', () => ticksSinceMark().length >= 5);
    assert.ok(ticksSinceMark().every((t) => t.tip === 'tip-v6' && t.pid === pid), 'no patch reached the app');

    const restarting = client.executeCommand<{ ok: boolean; message: string }>('subsecond.restartApp');
    // A save while the restart builds is not lost: built in, or patched once the app connects.
    // The old app keeps running (and its status says so) until the new binary is ready.
    const building = await client.waitFor('the rebuild to start', () => client.statuses.slice(n).find((s) => /^restart: fat build/.test(s.message)));
    assert.equal(building.app, 'running');
    await save(CORE_RS, coreV1.replace('"core-v1"', '"core-v3"'));
    const restarted = await restarting;
    assert.equal(restarted.ok, true, restarted.message);
    const t = await waitForTick('the restarted app with the new code', (x) => x.pid !== pid && x.tip === 'tip-v7' && x.core === 'core-v3');
    assert.notEqual(t.pid, pid);
    await client.waitForDiagnostics(MAIN_RS, 'the warning to clear', (d) => !d.some((x) => x.code === 'struct-layout-changed'));
    pid = t.pid;
  });

  it('the restarted app is patched again, and a crash is detected and reported', async () => {
    markLogs();
    await save(CORE_RS, coreV1.replace('"core-v1"', '"core-v4"'));
    const t = await waitForTick('core=core-v4 in the restarted app', (x) => x.core === 'core-v4');
    assert.equal(t.pid, pid);
    const n = client.statuses.length;
    // SIGABRT, as a panic=abort or a failed assertion in C code would raise. (A SIGSEGV sent with
    // kill() is swallowed once by Rust's stack-overflow handler, which only handles real faults.)
    process.kill(pid, 'SIGABRT');
    const crashed = await client.waitFor('a crash status', () => statusAfter(n).find((s) => s.app === 'crashed'));
    assert.match(crashed.message, /SIGABRT/);
    assert.match(crashed.message, /patch/);
    await client.waitFor('the user to be told', () => client.messages.some((m) => /SIGABRT/.test(m.message)));
    // A save now must not try to patch a dead process.
    const before = client.statuses.length;
    await save(CORE_RS, coreV1.replace('"core-v1"', '"core-v5"'));
    await new Promise((r) => setTimeout(r, 2000));
    assert.ok(!statusAfter(before).some((s) => s.patch === 'building'), 'no patch build for a crashed app');
    const status = await client.executeCommand<{ app: string }>('subsecond.status');
    assert.equal(status.app, 'crashed');
    void coreNow;
  });

  it('an app that exits during a patch build is sent nothing; the result is discarded', async () => {
    const started = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
    assert.equal(started.ok, true, started.message);
    const running = await waitForTick('the app to run again', (x) => x.pid !== pid && x.core === 'core-v5');
    const n = client.statuses.length;
    const logsBefore = client.logs.length;
    await save(CORE_RS, coreV1.replace('"core-v1"', '"core-v6"'));
    // rustc alone takes well over 100 ms, so the app is gone long before the patch exists.
    await client.waitFor('the patch build to start', () => statusAfter(n).find((s) => s.patch === 'building'));
    process.kill(running.pid, 'SIGKILL');
    await client.waitFor('the discard to be logged', () =>
      client.logs.slice(logsBefore).find((l) => /exited or restarted during the patch build; the patch was discarded/.test(l)),
    );
    assert.ok(!statusAfter(n).some((s) => s.patch === 'applied'), 'no patch was applied');
    const crashed = statusAfter(n).find((s) => s.app === 'crashed');
    assert.ok(crashed, 'the exit is reported');
    assert.match(crashed.message, /SIGKILL/);
  });
});
