// Restart builds first and the diagnostics describe the present: a restart whose fat build fails
// leaves the old app running (same pid, still ticking) and every message says so; the fix
// restarts it. Warnings about the running app go away when the edit is reverted or no app runs.
// The app's output is in the launch's log file (its path in the status) and in
// `subsecond/appOutput` notifications.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { TestLspClient, Diagnostic } from '../support/lsp-client';
import { prepareCounterFixture, ticksIn, parseTick, Tick } from '../support/counter-fixture';
import { isAlive } from '../support/processes';

type Result = { ok: boolean; message: string };

describe('restart builds first; diagnostics describe the present', function () {
  this.timeout(30 * 60_000);
  let client: TestLspClient;
  const output: Array<{ stream: string; line: string }> = [];
  let mainRs = '';
  let mainV1 = '';

  const ticksSince = (n: number): Tick[] => ticksIn(client.logs.slice(n));
  const save = async (text: string) => {
    fs.writeFileSync(mainRs, text);
    await client.changeAndSave(mainRs, text);
  };
  const codes = (d: Diagnostic[]) => d.map((x) => x.code);
  /** State gets a field (a restart-class change), initialised so that it builds. */
  const withField = (text: string) =>
    text.replace('pub count: u64,', 'pub count: u64,\n    pub extra: u8,').replace('State { count: 0 }', 'State { count: 0, extra: 0 }');

  before(async function () {
    const fx = prepareCounterFixture();
    mainRs = fx.mainRs;
    mainV1 = fs.readFileSync(mainRs, 'utf8');
    client = new TestLspClient({ rootDir: fx.counterDir });
    client.connection.onNotification('subsecond/appOutput', (p: { stream: string; line: string }) => void output.push(p));
    await client.initialize();
    await client.open(mainRs, mainV1);
  });

  after(async () => {
    if (client) await client.shutdown();
  });

  let pid0 = 0;

  it("the app's output is in subsecond/appOutput and in the log file the status names", async () => {
    const started = await client.executeCommand<Result>('subsecond.startApp');
    assert.equal(started.ok, true, started.message);
    const tick = await client.waitFor('a tick', () => ticksIn(client.logs)[0], 120_000);
    pid0 = tick.pid;
    await client.waitFor('a tick in subsecond/appOutput', () => output.some((o) => o.stream === 'stdout' && parseTick(o.line)?.pid === pid0));
    const status = await client.executeCommand<{ appLog?: string; app: string }>('subsecond.status');
    assert.equal(status.app, 'running');
    assert.ok(status.appLog, 'the status names the log file');
    assert.ok(client.statuses.some((s) => (s as { appLog?: string }).appLog === status.appLog), 'subsecond/status carries it too');
    const log = fs.readFileSync(status.appLog, 'utf8');
    assert.match(log, new RegExp(`counter started \\(pid ${pid0}\\)`));
    assert.ok(log.split('\n').some((l) => parseTick(l)?.pid === pid0), 'the tick lines are in the log');
  });

  it('a restart warning goes away when the edit is reverted', async () => {
    const layout = withField(mainV1);
    await save(layout);
    await client.waitForDiagnostics(mainRs, 'the layout warning', (d) => codes(d).includes('struct-layout-changed'));
    const blocked = await client.waitFor('the blocked status', () => client.statuses.find((s) => s.patch === 'blocked'));
    assert.match(blocked.message, /run "subsecond\.restartApp" to apply/);
    await save(mainV1);
    await client.waitForDiagnostics(mainRs, 'no warning after the revert', (d) => d.length === 0);
  });

  it('a restart whose build fails leaves the old app running, and says so', async () => {
    const broken = withField(mainV1).replace('*ticks += 1;', '*ticks += 1;\n    let _x: u32 = "oops";');
    await save(broken);
    await client.waitForDiagnostics(mainRs, 'the layout warning', (d) => codes(d).includes('struct-layout-changed'));
    const restarted = await client.executeCommand<Result>('subsecond.restartApp');
    assert.equal(restarted.ok, false, restarted.message);
    assert.match(restarted.message, /restart failed: fat build failed/);
    assert.match(restarted.message, new RegExp(`counter \\(pid ${pid0}\\) keeps running its previous code`));
    assert.ok(isAlive(pid0), 'the old app still runs');
    const n = client.logs.length;
    const t = await client.waitFor('the old app to keep ticking', () => ticksSince(n)[0], 30_000);
    assert.equal(t.pid, pid0);
    const diags = await client.waitForDiagnostics(mainRs, 'the build error', (d) => codes(d).includes('patch-build-error'));
    const err = diags.find((d) => d.code === 'patch-build-error')!;
    assert.match(err.message, /E0308|mismatched types/);
    assert.match(err.message, new RegExp(`the restart was not done: counter \\(pid ${pid0}\\) keeps running its previous code`));
    assert.ok(codes(diags).includes('struct-layout-changed'), 'the running app still has the old layout: the warning stays true');
    const status = await client.executeCommand<{ app: string; pid?: number; patch: string }>('subsecond.status');
    assert.equal(status.app, 'running');
    assert.equal(status.pid, pid0);
  });

  it('the fix restarts it: a new process, the old one gone, no stale diagnostics', async () => {
    const fixed = withField(mainV1);
    await save(fixed);
    const restarted = await client.executeCommand<Result>('subsecond.restartApp');
    assert.equal(restarted.ok, true, restarted.message);
    const pid1 = Number(/pid (\d+)/.exec(restarted.message)?.[1]);
    assert.notEqual(pid1, pid0);
    assert.equal(isAlive(pid0), false, 'the old app was stopped');
    const n = client.logs.length;
    await client.waitFor('the new app to tick', () => ticksSince(n).find((t) => t.pid === pid1), 60_000);
    await client.waitForDiagnostics(mainRs, 'no diagnostics against the new baseline', (d) => d.length === 0);
  });

  it('warnings about the running app go away when no app runs', async () => {
    await save(mainV1); // removes the field again: a layout change against the running app
    await client.waitForDiagnostics(mainRs, 'the layout warning', (d) => codes(d).includes('struct-layout-changed'));
    const stopped = await client.executeCommand<Result>('subsecond.stopApp');
    assert.equal(stopped.ok, true, stopped.message);
    await client.waitForDiagnostics(mainRs, 'no warning once no app runs', (d) => d.length === 0);
    const blocked = await client.executeCommand<Result>('subsecond.patch');
    assert.equal(blocked.ok, false);
    assert.match(blocked.message, /no app is running: run "subsecond\.startApp" to start it/);
  });
});
