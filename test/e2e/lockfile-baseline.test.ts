// An app without a Cargo.lock (a fresh `cargo new`, a repository that does not commit it): the
// first fat build writes one. That lock file is what the app is built from, its baseline, never a
// "lockfile-changed … Requires restart" about the app still being built. A real edit of the lock
// file afterwards still is one. The real server over stdio builds a copy of clients/counter whose
// Cargo.lock was deleted (cargo resolves offline, from the crates already downloaded); the edit
// is made on disk only (as `cargo update` would), so the file watcher must see it.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestLspClient } from '../support/lsp-client';
import { prepareClientFixture, ticksIn } from '../support/counter-fixture';

describe('end to end: the Cargo.lock our own build writes is the baseline, not a change', function () {
  this.timeout(20 * 60_000);
  let client: TestLspClient;
  let dir: string;
  let lock: string;

  const lockfileFindings = () =>
    client.publishedDiagnostics.filter((p) => p.diagnostics.some((d) => d.code === 'lockfile-changed'));

  before(async function () {
    this.timeout(30 * 60_000);
    dir = prepareClientFixture('counter', 'subsecond-lsp-e2e-no-lock').clientDir;
    lock = path.join(dir, 'Cargo.lock');
    fs.rmSync(lock);
    client = new TestLspClient({ rootDir: dir, env: { ...process.env, CARGO_NET_OFFLINE: 'true' } });
    await client.initialize();
    const main = path.join(dir, 'src', 'main.rs');
    await client.open(main, fs.readFileSync(main, 'utf8'));
    const started = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
    assert.equal(started.ok, true, `startApp: ${started.message}\n${client.logs.slice(-30).join('\n')}`);
    await client.waitFor('the app to tick', () => ticksIn(client.logs).pop(), 120_000);
  });

  after(async () => {
    if (client) assert.equal(await client.shutdown(), 0);
  });

  it('the first fat build writes Cargo.lock, and no lockfile-changed is ever published', async () => {
    assert.ok(fs.existsSync(lock), 'cargo wrote Cargo.lock during the fat build');
    // The watcher reports files after a pause; give it ample time to have reported the new lock.
    await new Promise((r) => setTimeout(r, 2000));
    assert.deepEqual(lockfileFindings(), [], 'no lockfile-changed finding, not even for a moment');
    assert.ok(!client.statuses.some((s) => s.patch === 'blocked'), 'nothing was blocked');
    const status = await client.executeCommand<{ app: string; blockingFindings: number }>('subsecond.status');
    assert.equal(status.app, 'running');
    assert.equal(status.blockingFindings, 0);
  });

  it('a real edit of Cargo.lock afterwards still requires a restart, and its revert clears it', async () => {
    const original = fs.readFileSync(lock, 'utf8');
    // counter-core's entry, as if another version were locked
    const edited = original.replace(/(name = "counter-core"\nversion = ")0\.1\.0"/, '$10.1.1"');
    assert.notEqual(edited, original, 'the lock file has a counter-core entry to edit');
    fs.writeFileSync(lock, edited);
    const diags = await client.waitForDiagnostics(lock, 'a lockfile-changed finding', (d) => d.some((x) => x.code === 'lockfile-changed'), 60_000);
    assert.match(diags.find((x) => x.code === 'lockfile-changed')!.message, /Requires restart/);
    fs.writeFileSync(lock, original);
    await client.waitForDiagnostics(lock, 'the lockfile-changed finding to clear', (d) => !d.some((x) => x.code === 'lockfile-changed'), 60_000);
  });
});
