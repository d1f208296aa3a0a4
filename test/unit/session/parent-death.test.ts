// A process started through support/process dies with the server even when the server is
// SIGKILLed (no exit handler runs then): the parent-death signal armed at launch.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { isAlive, pollUntil } from '../../support/processes';

const processModule = path.resolve(__dirname, '../../../server/src/support/process.js');

describe('launched processes die with the server', function () {
  this.timeout(30_000);
  it('a SIGKILLed server takes its long-lived child (no agent: plain `sleep`) with it within 2 s', async function () {
    if (process.platform !== 'linux') this.skip();
    // A stand-in server: starts `sleep` the way the session starts an app, prints its pid, idles.
    const script = `
      const { startTracked } = require(${JSON.stringify(processModule)});
      const child = startTracked('sleep', ['600'], { stdio: 'ignore' });
      process.stdout.write(child.pid + '\\n');
      setInterval(() => {}, 1000);`;
    const server = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve) => readline.createInterface({ input: server.stdout! }).once('line', resolve));
    const pid = Number(line);
    try {
      assert.ok(pid > 0 && isAlive(pid), `child ${line} runs`);
      // It is `sleep` itself (setpriv execs it), not a wrapper that would leave it behind.
      await pollUntil('the child to exec sleep', () => /^sleep/.test(fs.readFileSync(`/proc/${pid}/comm`, 'utf8')), 5000);
      server.kill('SIGKILL');
      const t0 = Date.now();
      await pollUntil(`child ${pid} to die with its server`, () => !isAlive(pid), 2000);
      assert.ok(Date.now() - t0 <= 2100);
    } finally {
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});
