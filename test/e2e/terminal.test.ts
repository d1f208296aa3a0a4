// Terminal mode, the README's main command: `subsecond-lsp run` builds and starts the app, sees
// saves made by any editor through the file watcher, patches, and stops everything on Ctrl-C.
import { strict as assert } from 'node:assert';
import { spawn, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { SERVER_BIN } from '../support/lsp-client';
import { prepareCounterFixture, ticksIn } from '../support/counter-fixture';
import { isAlive, pollUntil } from '../support/processes';

describe('terminal mode: subsecond-lsp run', function () {
  this.timeout(20 * 60_000);
  let child: ChildProcess | undefined;
  let out = '';

  const waitFor = <T>(what: string, check: () => T | undefined | false, timeoutMs = 180_000): Promise<T> =>
    pollUntil(what, check, timeoutMs, () => `output:\n${out.slice(-3000)}`);

  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('builds, runs, patches a file saved outside any editor, and Ctrl-C stops the app too', async () => {
    const fx = prepareCounterFixture();
    child = spawn(process.execPath, [SERVER_BIN, 'run', '--manifest-path', `${fx.counterDir}/Cargo.toml`], {
      cwd: fx.counterDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    const lines = () => out.split('\n').map((l) => l.replace(/^.*?app │ /, '[app stdout] '));
    const first = await waitFor('the first tick', () => ticksIn(lines())[0], 15 * 60_000);
    assert.equal(first.tip, 'tip-v1');
    await waitFor('the watcher', () => /watching for saves/.test(out));

    const main = fs.readFileSync(fx.mainRs, 'utf8');
    fs.writeFileSync(fx.mainRs, main.replace('"tip-v1"', '"tip-term"'));
    const patched = await waitFor('tip=tip-term', () => ticksIn(lines()).find((t) => t.tip === 'tip-term'));
    assert.equal(patched.pid, first.pid, 'patched in place');
    assert.match(out, /patched main\.rs in \d+ ms/);

    fs.writeFileSync(fx.mainRs, main.replace('pub count: u64,', 'pub count: u64,\n    pub extra: u8,'));
    await waitFor('a readable restart warning', () => /warning\[struct-layout-changed\] src\/main\.rs:\d+:\d+: .*requires restart/.test(out));

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    assert.equal(await exited, 130);
    await waitFor('the app to be stopped', () => !isAlive(first.pid), 10_000);
  });

  it('says clearly what is wrong with bad arguments', async () => {
    child = spawn(process.execPath, [SERVER_BIN, 'run', '--frobnicate'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    const code = await new Promise<number | null>((resolve) => child!.once('exit', (c) => resolve(c)));
    assert.equal(code, 2);
    assert.match(out, /unknown argument "--frobnicate"/);
    assert.match(out, /usage: subsecond-lsp run/);
  });
});
