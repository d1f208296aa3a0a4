// An app that cannot read our files still gets its patches. A runner (here the `appTerminal`
// command prefix, a script this test writes) starts the counter in a private mount namespace with
// an empty tmpfs over the fixture's target/ (and so over the session dir and its patches/): the
// app cannot open a patch library by path. Its agent says so at Hello (it cannot read the launch's
// probe), the server sends the library's bytes, and the same process runs the new code, loaded
// from the agent's own memory file. An ordinary launch still gets paths.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TestLspClient } from '../support/lsp-client';
import { prepareCounterFixture, parseTick, Tick, CounterFixture } from '../support/counter-fixture';
import { isAlive, pollUntil } from '../support/processes';

/** The counter's tick lines in any of the server's log lines (a prefix's output is forwarded as stderr). */
const ticks = (logs: string[]): Tick[] => logs.map((l) => (l.startsWith('[app ') ? parseTick(l) : undefined)).filter((t): t is Tick => !!t);

/** What process `pid` has mapped from files whose path contains `part`. */
const mapped = (pid: number, part: string): string[] =>
  [...new Set(fs.readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').map((l) => l.split(/\s+/).slice(5).join(' ')))].filter((f) => f.includes(part));

/**
 * The runner: hides target/ behind an empty tmpfs, in a mount namespace of the app's own, keeping
 * only what the launch itself uses: the executable's run dir (the launch wrapper writes the pid
 * there) and the app log. Then it execs the launch command (same pid all the way to the app).
 */
function writeRunner(dir: string, fx: CounterFixture): string {
  const target = path.join(fx.counterDir, 'target');
  const session = path.join(target, 'subsecond-lsp', 'counter');
  const hold = path.join(dir, 'hold');
  const runner = path.join(dir, 'hide-target.sh');
  const inner = [
    'set -e',
    'target=$1 session=$2 hold=$3; shift 3',
    'mkdir -p "$hold/run"; touch "$hold/app.log"',
    'mount --bind "$session/run" "$hold/run"',
    'mount --bind "$session/app.log" "$hold/app.log"',
    'mount -t tmpfs -o size=1m tmpfs "$target"',
    'mkdir -p "$session/run"; touch "$session/app.log"',
    'mount --bind "$hold/run" "$session/run"',
    'mount --bind "$hold/app.log" "$session/app.log"',
    'exec "$@"',
  ].join('\n');
  const script = `#!/bin/bash\nexec unshare --mount --propagation private bash -c '${inner}' hide-target "${target}" "${session}" "${hold}" "$@"\n`;
  fs.writeFileSync(runner, script, { mode: 0o755 });
  return runner;
}

describe('an app that cannot read our files gets its patches as bytes', function () {
  this.timeout(30 * 60_000);
  let client: TestLspClient | undefined;
  let fx: CounterFixture;
  let mainV1: string;
  let work: string;

  before(function () {
    const probe = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs tmpfs /mnt']);
    if (probe.status !== 0) {
      if (process.env.CI) assert.fail(`unshare --mount cannot mount here (root is needed): ${probe.stderr}`);
      this.skip();
    }
    fx = prepareCounterFixture();
    mainV1 = fs.readFileSync(fx.mainRs, 'utf8');
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'hidden-target-'));
  });
  afterEach(async () => {
    if (client) await client.shutdown();
    client = undefined;
    fs.writeFileSync(fx.mainRs, mainV1);
  });
  after(() => work && fs.rmSync(work, { recursive: true, force: true }));

  const startAndPatch = async (c: TestLspClient, tip: string): Promise<{ before: Tick; after: Tick }> => {
    await c.initialize();
    await c.open(fx.mainRs, mainV1);
    const started = await c.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
    assert.equal(started.ok, true, `${started.message}\n${c.logs.slice(-20).join('\n')}`);
    const pid = Number(/pid (\d+)/.exec(started.message)?.[1]);
    const before = await c.waitFor('a tick', () => ticks(c.logs).find((t) => t.pid === pid), 15 * 60_000);
    const text = mainV1.replace('"tip-v1"', `"${tip}"`);
    fs.writeFileSync(fx.mainRs, text);
    await c.changeAndSave(fx.mainRs, text);
    const after = await c.waitFor(`tip=${tip}`, () => ticks(c.logs).find((t) => t.tip === tip), 300_000);
    await c.waitFor('the applied status', () => c.statuses.find((s) => s.patch === 'applied'), 60_000);
    return { before, after };
  };

  it('under a runner that hides target/, the agent reports it cannot read it and the patch arrives as bytes: same pid, new code', async () => {
    const runner = writeRunner(work, fx);
    client = new TestLspClient({ rootDir: fx.counterDir, initializationOptions: { subsecond: { appTerminal: [runner] } } });
    const { before, after } = await startAndPatch(client, 'tip-hidden');
    const pid = before.pid;
    assert.equal(after.pid, pid, 'the same process runs the new code');
    assert.ok(after.count > before.count, 'and kept its state');

    const patches = path.join(fx.counterDir, 'target', 'subsecond-lsp', 'counter', 'patches');
    const said = client.logs.find((l) => /patch libraries are sent to pid \d+ over its connection/.test(l));
    assert.ok(said, `the server decided bytes:\n${client.logs.filter((l) => /patch librar/.test(l)).join('\n')}`);
    assert.match(said, new RegExp(`sent to pid ${pid} over its connection: its agent cannot read ${patches.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `));
    assert.ok(
      client.statuses.some((st) => /connected through subsecond-agent \(.*; patch libraries sent over the connection\)/.test(st.message)),
      'the status line says so too',
    );
    // The library is ours alone: the app's view of the file system has no such file.
    const lib = fs.readdirSync(patches).find((f) => /^libcounter-patch-\d+\.so$/.test(f));
    assert.ok(lib, `a patch library was built: ${fs.readdirSync(patches)}`);
    assert.equal(fs.existsSync(path.join(patches, lib)), true);
    assert.equal(fs.existsSync(`/proc/${pid}/root${path.join(patches, lib)}`), false, 'the app cannot see it');
    // What it runs came from its own memory file, not from our path.
    assert.deepEqual(mapped(pid, patches), []);
    assert.ok(mapped(pid, '/memfd:libcounter-patch-').length > 0, `the patch is mapped from the agent's memory file:\n${mapped(pid, 'patch').join('\n')}`);

    const stopped = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.stopApp');
    assert.equal(stopped.ok, true, stopped.message);
    await pollUntil('the app to be gone', () => !isAlive(pid), 10_000);
  });

  it('an ordinary local launch still gets paths', async () => {
    client = new TestLspClient({ rootDir: fx.counterDir });
    const { before, after } = await startAndPatch(client, 'tip-local');
    const pid = before.pid;
    assert.equal(after.pid, pid);
    const patches = path.join(fx.counterDir, 'target', 'subsecond-lsp', 'counter', 'patches');
    assert.ok(
      client.logs.some((l) => l.includes(`patch libraries reach pid ${pid} by path: its agent read this launch's probe in ${patches}`)),
      client.logs.filter((l) => /patch librar/.test(l)).join('\n'),
    );
    assert.ok(!client.logs.some((l) => /over its connection/.test(l)));
    assert.ok(mapped(pid, patches).length > 0, 'the patch is mapped from our file');
    assert.deepEqual(mapped(pid, '/memfd:'), []);
  });
});
