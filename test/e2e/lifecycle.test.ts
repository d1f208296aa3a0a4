// Every process the server starts dies with it: an editor that kills the server (SIGTERM) or
// disappears (stdin closed) must not leave the app running.
import { strict as assert } from 'node:assert';
import { TestLspClient } from '../support/lsp-client';
import { prepareCounterFixture, ticksIn } from '../support/counter-fixture';
import { isAlive, pollUntil } from '../support/processes';

describe('the server takes its app down with it', function () {
  this.timeout(20 * 60_000);
  let appPid: number | undefined;
  afterEach(() => {
    // If the server failed to stop it, don't leave an orphan behind.
    if (appPid !== undefined && isAlive(appPid)) process.kill(appPid, 'SIGKILL');
  });

  for (const how of ['SIGTERM', 'stdin closed'] as const) {
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
      if (how === 'SIGTERM') client.process.kill('SIGTERM');
      else client.process.stdin!.end();
      await exited;
      await pollUntil(`app ${tick.pid} to be stopped`, () => !isAlive(tick.pid), 15_000);
      client.connection.dispose();
    });
  }
});
