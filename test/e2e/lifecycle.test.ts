// Every process the server starts dies with it: an editor that kills the server (SIGTERM, or
// SIGKILL as the OOM killer does), disappears (stdin closed), or a killed `run` in a terminal
// must not leave the app running.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { TestLspClient, SERVER_BIN } from '../support/lsp-client';
import { prepareCounterFixture, ticksIn } from '../support/counter-fixture';
import { isAlive, pollUntil } from '../support/processes';

describe('the server takes its app down with it', function () {
  this.timeout(20 * 60_000);
  let appPid: number | undefined;
  afterEach(() => {
    // If the server failed to stop it, don't leave an orphan behind.
    if (appPid !== undefined && isAlive(appPid)) process.kill(appPid, 'SIGKILL');
  });

  for (const how of ['SIGTERM', 'stdin closed', 'SIGKILL'] as const) {
    it(`when the editor ends it (${how})`, async () => {
      const fx = prepareCounterFixture();
      // The app must not simply die of its closed stdout: only the server may be what stops it.
      const client = new TestLspClient({ rootDir: fx.counterDir, env: { ...process.env, COUNTER_IGNORE_CLOSED_STDOUT: '1' } });
      await client.initialize();
      const started = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
      assert.equal(started.ok, true, started.message);
      const tick = await client.waitFor('a tick', () => ticksIn(client.logs)[0], 120_000);
      appPid = tick.pid;
      assert.ok(isAlive(tick.pid));
      const exited = new Promise<void>((resolve) => client.process.once('exit', () => resolve()));
      if (how === 'stdin closed') client.process.stdin!.end();
      else client.process.kill(how);
      await exited;
      // SIGKILL: no handler of the server runs; the app must still be gone within 2 s.
      await pollUntil(`app ${tick.pid} to be stopped`, () => !isAlive(tick.pid), how === 'SIGKILL' ? 2000 : 15_000);
      client.connection.dispose();
    });
  }

  it('when `subsecond-lsp run` is killed with SIGKILL', async () => {
    const fx = prepareCounterFixture();
    let out = '';
    const child = spawn(process.execPath, [SERVER_BIN, 'run', '--manifest-path', `${fx.counterDir}/Cargo.toml`], {
      cwd: fx.counterDir,
      env: { ...process.env, COUNTER_IGNORE_CLOSED_STDOUT: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    try {
      const lines = () => out.split('\n').map((l) => l.replace(/^.*?app │ /, '[app stdout] '));
      const tick = await pollUntil('the first tick', () => ticksIn(lines())[0], 15 * 60_000, () => out.slice(-3000));
      appPid = tick.pid;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
      await pollUntil(`app ${tick.pid} to be stopped`, () => !isAlive(tick.pid), 2000);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
