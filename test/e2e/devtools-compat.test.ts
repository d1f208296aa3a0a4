// The compatibility contract: an app built with plain `dioxus_devtools::connect_subsecond()`, as
// Bevy's plugin and Dioxus apps are, must be hot-patched unmodified. The real server over stdio
// builds and starts clients/devtools-app (no subsecond-agent), and saves become live code in that
// same process. Such a client never answers, so the server can only say the patch was sent.
// Generous waits, no timing asserts. The fixture is copied to a temp dir whose target/ is kept
// between runs, so only the first run pays for compiling dioxus-core and its dependencies.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestLspClient } from '../support/lsp-client';
import { prepareClientFixture } from '../support/counter-fixture';

interface DevtoolsTick {
  tick: number;
  msg: string;
  pid: number;
  line: string;
}

/** The fixture's `tick=… msg=… pid=…` lines among the server's logs (app stdout is `[app stdout] …`). */
function ticksIn(logs: string[]): DevtoolsTick[] {
  const out: DevtoolsTick[] = [];
  for (const l of logs) {
    if (!l.startsWith('[app stdout]')) continue;
    const m = /tick=(\d+) msg=(\S+) pid=(\d+)/.exec(l);
    if (m) out.push({ tick: +m[1], msg: m[2], pid: +m[3], line: l });
  }
  return out;
}

describe('end to end: an unmodified dioxus-devtools client is hot-patched', function () {
  this.timeout(20 * 60_000);
  let client: TestLspClient;
  let mainRs: string;
  let mainV1: string;
  let pid: number;
  let logCursor = 0;

  const markLogs = () => (logCursor = client.logs.length);
  const waitForTick = (what: string, pred: (t: DevtoolsTick) => boolean, timeoutMs = 180_000) =>
    client.waitFor(what, () => ticksIn(client.logs.slice(logCursor)).find(pred), timeoutMs);
  const latestTick = (): DevtoolsTick | undefined => ticksIn(client.logs).pop();

  const save = async (text: string) => {
    fs.writeFileSync(mainRs, text); // an editor writes the file, then sends didSave
    await client.changeAndSave(mainRs, text);
  };

  /** Saves `message()` returning `next`, then checks the same process prints it and the status says how it got there. */
  const patchTo = async (next: string) => {
    const before = latestTick()!;
    const n = client.statuses.length;
    markLogs();
    await save(mainV1.replace('"devtools-v1"', `"${next}"`));
    const after = await waitForTick(`msg=${next}`, (t) => t.msg === next);
    assert.equal(after.pid, pid, 'the same process was patched');
    assert.ok(after.tick > before.tick, `ticks went on counting: ${before.tick} then ${after.tick}`);
    const verdict = await client.waitFor('a patch verdict', () =>
      client.statuses.slice(n).find((s) => s.patch === 'applied' || s.patch === 'failed'),
    );
    assert.equal(verdict.patch, 'applied', verdict.message);
    // A dx-compatible client does not acknowledge, so the server must not claim a confirmed apply.
    assert.match(verdict.message, /sent to a dx-compatible client/);
    assert.match(verdict.message, /does not report back/);
    assert.doesNotMatch(verdict.message, /applied in/);
  };

  before(async function () {
    this.timeout(30 * 60_000);
    const fixture = prepareClientFixture('devtools-app', 'subsecond-lsp-e2e-devtools');
    mainRs = path.join(fixture.clientDir, 'src', 'main.rs');
    mainV1 = fs.readFileSync(mainRs, 'utf8');
    assert.ok(!/subsecond[_-]agent/.test(fs.readFileSync(path.join(fixture.clientDir, 'Cargo.toml'), 'utf8')), 'the fixture must not use the agent');
    client = new TestLspClient({ rootDir: fixture.clientDir });
    await client.initialize();
    await client.open(mainRs, mainV1);
    // The first run compiles dioxus-core, dioxus-signals and friends.
    const started = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
    assert.equal(started.ok, true, `startApp: ${started.message}\n${client.logs.slice(-30).join('\n')}`);
    await client.waitFor('the app to tick', () => latestTick(), 120_000);
  });

  after(async () => {
    if (client) {
      const code = await client.shutdown();
      assert.equal(code, 0);
    }
  });

  it('connects through dioxus_devtools as a dx-compatible client, not the agent', async () => {
    const first = latestTick()!;
    pid = first.pid;
    assert.equal(first.msg, 'devtools-v1');
    const running = client.statuses.filter((s) => s.app === 'running').pop();
    assert.ok(running, 'a running status was published');
    assert.match(running.message, /connected through a dx-compatible client/);
    assert.doesNotMatch(running.message, /subsecond-agent/);
    assert.equal(running.patch, 'idle', running.message);
  });

  it('a save of message() changes the running app: same pid, ticks keep counting', async () => {
    await patchTo('devtools-v2');
  });

  it('a second save lands too', async () => {
    await patchTo('devtools-v3');
    // Once v3 is live, nothing older comes back.
    markLogs();
    await waitForTick('a few more ticks', () => ticksIn(client.logs.slice(logCursor)).length >= 3);
    const since = ticksIn(client.logs.slice(logCursor));
    assert.ok(since.every((t) => t.msg === 'devtools-v3' && t.pid === pid), since.map((t) => t.line).join('\n'));
    const status = await client.executeCommand<{ app: string; patch: string; patchesApplied: number }>('subsecond.status');
    assert.equal(status.app, 'running');
    assert.equal(status.patch, 'applied');
    assert.equal(status.patchesApplied, 2);
  });
});
