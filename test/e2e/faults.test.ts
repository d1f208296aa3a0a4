// Faults outside the user's code, with the real server, cargo and counter app: each must be named
// for what it is — a full disk, deleted fat-build files, a kill from outside — and never be
// mistaken for a build error or blamed on a patch.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { WebSocket } from 'ws';
import { TestLspClient } from '../support/lsp-client';
import { prepareCounterFixture, ticksIn, CounterFixture } from '../support/counter-fixture';

describe('faults are named for what they are', function () {
  this.timeout(20 * 60_000);
  let fx: CounterFixture;
  let mainV1: string;
  let client: TestLspClient | undefined;

  before(() => {
    fx = prepareCounterFixture();
    mainV1 = fs.readFileSync(fx.mainRs, 'utf8');
  });
  afterEach(async () => {
    fs.writeFileSync(fx.mainRs, mainV1);
    if (client) await client.shutdown().catch(() => undefined);
    client = undefined;
  });

  const start = async (c: TestLspClient) => {
    await c.initialize();
    const started = await c.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
    assert.equal(started.ok, true, `${started.message}\n${c.logs.slice(-20).join('\n')}`);
    return c.waitFor('a tick', () => ticksIn(c.logs)[0], 15 * 60_000);
  };
  const save = async (c: TestLspClient, text: string) => {
    fs.writeFileSync(fx.mainRs, text);
    await c.open(fx.mainRs, text).catch(() => undefined);
    await c.changeAndSave(fx.mainRs, text);
  };

  it('a full disk while linking a patch says "no space left on …", and the app keeps its code', async function () {
    // A one-page (4 KB) tmpfs over the patch output directory, in a private mount namespace of the server.
    const patches = path.join(fx.counterDir, 'target', 'subsecond-lsp', 'counter', 'patches');
    fs.mkdirSync(patches, { recursive: true });
    const probe = spawnSync('unshare', ['-rm', 'sh', '-c', `mount -t tmpfs -o size=4k tmpfs "${patches}"`]);
    if (probe.status !== 0) this.skip(); // no mount namespaces here (needs root or user namespaces)
    client = new TestLspClient({
      rootDir: fx.counterDir,
      wrap: ['unshare', '-rm', 'sh', '-c', 'mount -t tmpfs -o size=4k tmpfs "$0" && exec "$@"', patches],
    });
    const first = await start(client);
    const n = client.statuses.length;
    await save(client, mainV1.replace('"tip-v1"', '"tip-full"'));
    const failed = await client.waitFor('the patch to fail', () => client!.statuses.slice(n).find((s) => s.patch === 'failed'), 300_000);
    assert.match(failed.message, /no space left on the disk holding \S*patches \(\d+\.\d MB free\)/, failed.message);
    assert.doesNotMatch(failed.message, /Bus error|signal 7/);
    const mark = client.logs.length;
    const later = await client.waitFor('another tick', () => ticksIn(client!.logs.slice(mark))[0]);
    assert.equal(later.pid, first.pid);
    assert.equal(later.tip, 'tip-v1', 'the app runs its previous code');
  });

  it('deleted fat-build files say "restart"; after the restart a patch is live and an outside SIGKILL is not blamed on it', async () => {
    client = new TestLspClient({ rootDir: fx.counterDir });
    const first = await start(client);

    // An impostor connecting with the app's pid is refused, and the user is told.
    const port = Number(/devserver listening on ws:\/\/127\.0\.0\.1:(\d+)\//.exec(client.logs.join('\n'))?.[1]);
    assert.ok(port > 0, 'the devserver port is logged');
    const impostor = new WebSocket(`ws://127.0.0.1:${port}/_dioxus?aslr_reference=4096&build_id=0&pid=${first.pid}`);
    impostor.on('error', () => undefined);
    const closeCode = await new Promise<number>((resolve) => impostor.on('close', (code) => resolve(code)));
    assert.equal(closeCode, 1008);
    await client.waitFor('the user to be told', () =>
      client!.messages.find((m) => m.type === 2 && new RegExp(`claims to be pid ${first.pid}, but that process does not hold its socket`).test(m.message)),
    );

    const deps = path.join(fx.counterDir, 'target', 'debug', 'deps');
    const removed = fs.readdirSync(deps).filter((f) => /^libsubsecond-[0-9a-f]+\.(rlib|rmeta)$/.test(f));
    assert.ok(removed.length > 0, 'the fat build made libsubsecond');
    for (const f of removed) fs.rmSync(path.join(deps, f));

    let n = client.statuses.length;
    await save(client, mainV1.replace('"tip-v1"', '"tip-gone"'));
    const failed = await client.waitFor('the patch to fail', () => client!.statuses.slice(n).find((s) => s.patch === 'failed'), 300_000);
    assert.match(failed.message, /the fat build's artifacts are gone \(\S*libsubsecond-[0-9a-f]+\.rlib no longer exists.*restart the app/, failed.message);
    assert.equal(client.diagnosticsFor(fx.mainRs).filter((d) => d.code === 'patch-build-error').length, 0, 'not shown as an error in the user’s code');

    const restarted = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.restartApp');
    assert.equal(restarted.ok, true, restarted.message);
    const again = await client.waitFor('the rebuilt app', () => ticksIn(client!.logs).find((t) => t.pid !== first.pid && t.tip === 'tip-gone'), 600_000);

    n = client.statuses.length;
    await save(client, mainV1.replace('"tip-v1"', '"tip-live"'));
    await client.waitFor('tip=tip-live', () => ticksIn(client!.logs).find((t) => t.pid === again.pid && t.tip === 'tip-live'), 300_000);
    process.kill(again.pid, 'SIGKILL'); // from outside, right after the patch went live
    const crashed = await client.waitFor('the exit status', () => client!.statuses.slice(n).find((s) => s.app === 'crashed' || s.app === 'stopped'));
    assert.match(crashed.message, /SIGKILL/);
    assert.doesNotMatch(crashed.message, /likely cause/, 'an outside kill is not blamed on the patch');
    assert.match(crashed.message, /signal from outside the app/);
  });
});
