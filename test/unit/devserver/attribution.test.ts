// Who gets a patch: the devserver's default attribution (the client socket's inode under
// /proc/<pid>/fd), the launch secret and the agent version check, with real processes: a child
// process posing as a plain dioxus-devtools client, and this test process as the impostor.
import * as assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { DevServer, AppConnection } from '../../../server/src/devserver';
import { findInode, canAttributeSockets } from '../../../server/src/devserver/peer-process';
import { connectApp, nextEvent, query, table } from './helpers';

const repo = path.resolve(__dirname, '../../../..');

/** A separate process that connects like dioxus-devtools (its own pid, no agent) and prints every frame. */
function startPlainClient(server: DevServer, aslr: number): { child: ChildProcess; frames: string[]; pid: number } {
  const script = `
    const WebSocket = require('ws');
    const ws = new WebSocket('ws://${server.host}:${server.port}/_dioxus?aslr_reference=${aslr}&build_id=0&pid=' + process.pid);
    ws.on('message', (m) => process.stdout.write(String(m) + '\\n'));
    ws.on('close', () => process.exit(0));
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['-e', script], { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] });
  const frames: string[] = [];
  readline.createInterface({ input: child.stdout! }).on('line', (l) => frames.push(l));
  return { child, frames, pid: child.pid! };
}

describe('devserver attribution (who gets patches)', function () {
  this.timeout(30_000);
  let server: DevServer;
  const refusals: string[] = [];
  const children: ChildProcess[] = [];

  before(function () {
    if (!canAttributeSockets()) this.skip(); // Linux-only mechanism; elsewhere only the secret attributes
  });
  beforeEach(async () => {
    refusals.length = 0;
    server = await DevServer.listen();
    server.on('refused-connection', (m) => refusals.push(m));
  });
  afterEach(async () => {
    await server.close();
    for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  });

  it('parses /proc/net/tcp rows by the client port', () => {
    const table =
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n' +
      '   0: 0100007F:A1B2 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0\n' +
      '   1: 0100007F:1F90 0100007F:A1B2 01 00000000:00000000 00:00000000 00000000  1000        0 4343 1 0\n';
    assert.equal(findInode(table, 0x1f90, 0xa1b2), 4242, 'the client end, not the server end');
    assert.equal(findInode(table, 0x1f90, 0xa1b3), undefined);
  });

  it('a connection from the claimed process itself is attributed', async () => {
    const connected = nextEvent<[AppConnection]>(server, 'app-connected');
    await connectApp(server, query(process.pid, 5000));
    assert.equal((await connected)[0].pid, process.pid);
    assert.equal(server.appForPid(process.pid)?.aslrReference, 5000);
    assert.deepEqual(refusals, []);
  });

  it('an impostor claiming the app’s pid and aslr_reference gets nothing; the plain client gets the patch', async () => {
    const app = startPlainClient(server, 7000);
    children.push(app.child);
    const real = await server.waitForApp(app.pid, 10_000);
    assert.equal(real.isAgent, false);

    // The impostor connects later (the newest connection used to win) and even answers as an agent.
    const refused = nextEvent<[string]>(server, 'refused-connection');
    const impostor = await connectApp(server, query(app.pid, 7000));
    const frames: string[] = [];
    impostor.ws.on('message', (m) => frames.push(String(m)));
    assert.match((await refused)[0], new RegExp(`claims to be pid ${app.pid}, but that process does not hold its socket.*gets no patches`));
    impostor.send({ SubsecondAgent: { Hello: { pid: app.pid, agent_version: '0.1.0' } } });
    assert.equal(await impostor.closed, 1008);

    const delivery = await server.sendPatch(app.pid, table('/tmp/libapp-patch-1.so'), {
      msElapsed: 1,
      expectedAslrReference: 7000,
      ackTimeoutMs: 1000,
    });
    assert.equal(delivery.acked ? 'acked' : delivery.outcome, 'plain-client', 'delivered to the real (plain) client');
    const deadline = Date.now() + 5000;
    while (!app.frames.some((f) => f.includes('libapp-patch-1.so')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(app.frames.some((f) => JSON.parse(f).HotReload?.for_pid === app.pid), `the launched process got it: ${app.frames}`);
    assert.deepEqual(frames, [], 'the impostor received nothing');
    assert.equal(server.appForPid(app.pid)?.id, real.id);
  });

  it('an impostor alone is not mistaken for the app: the patch is refused', async () => {
    const app = startPlainClient(server, 7000);
    children.push(app.child);
    await server.waitForApp(app.pid, 10_000);
    app.child.kill('SIGKILL');
    await new Promise((r) => app.child.once('exit', r));
    const refused = nextEvent<[string]>(server, 'refused-connection');
    await connectApp(server, query(app.pid, 7000));
    await refused;
    await assert.rejects(
      server.sendPatch(app.pid, table('/tmp/x.so'), { msElapsed: 1, expectedAslrReference: 7000, ackTimeoutMs: 100 }),
      /no app with pid \d+ is connected \(a local connection .* does not hold its socket/,
    );
  });

  it('an agent must present its launch secret; a wrong or missing one gets nothing', async () => {
    server.expectLaunch(process.pid, 'c0ffee');
    const wrong = await connectApp(server, query(process.pid, 5000));
    let refused = nextEvent<[string]>(server, 'refused-connection');
    wrong.send({ SubsecondAgent: { Hello: { pid: process.pid, agent_version: '0.1.0', secret: 'beef' } } });
    assert.match((await refused)[0], /presented a wrong launch secret: it gets no patches/);
    assert.equal(await wrong.closed, 1008);

    const missing = await connectApp(server, query(process.pid, 5000));
    refused = nextEvent<[string]>(server, 'refused-connection');
    missing.send({ SubsecondAgent: { Hello: { pid: process.pid, agent_version: '0.1.0' } } });
    assert.match((await refused)[0], /did not present launch secret/);
    assert.equal(await missing.closed, 1008);

    const right = await connectApp(server, query(process.pid, 5000));
    right.send({ SubsecondAgent: { Hello: { pid: process.pid, agent_version: '0.1.0', secret: 'c0ffee' } } });
    const app = await server.waitForApp(process.pid, 5000, { agent: true });
    assert.equal(app.isAgent, true);
    assert.equal(refusals.length, 2);
  });

  it('an agent version the server cannot serve is refused with a clear message', async () => {
    const app = await connectApp(server, query(process.pid, 5000));
    const refused = nextEvent<[string]>(server, 'refused-connection');
    app.send({ SubsecondAgent: { Hello: { pid: process.pid, agent_version: '0.9.3' } } });
    assert.match((await refused)[0], /subsecond-agent is version 0\.9\.3, which this subsecond-lsp cannot serve \(it serves subsecond-agent 0\.1\.x\)/);
    assert.equal(await app.closed, 1008);
    await assert.rejects(
      server.sendPatch(process.pid, table('/tmp/x.so'), { msElapsed: 1, expectedAslrReference: 5000, ackTimeoutMs: 100 }),
      /no app with pid/,
    );
  });
});
