// Patch libraries for apps that cannot read our files, and peers that /proc cannot attribute, with
// the real subsecond-agent inside clients/counter (plain `cargo build`) against the real DevServer:
// - the launch's probe decides paths or bytes; bytes arrive whole and are loaded from the agent's
//   own copy (an anonymous memory file), even after our file is gone;
// - through a TCP forwarder (what `ssh -R` or `adb reverse` is to the devserver) the app's socket
//   is held by another process and its pid is not the launched one: it is served only because it
//   presents its launch secret; a peer there without the secret, or with a wrong one, gets nothing.
import * as assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { AgentMessage, DevServer, devserverEnv, newLaunchSecret, SECRET_HEADER } from '../../../server/src/devserver';
import { chooseDelivery, chunks, readPatchLibrary, writeLaunchProbe, MAX_PATCH_LIBRARY_BYTES, PATCH_LIBRARY_CHUNK_BYTES } from '../../../server/src/devserver/patch-library';
import { canAttributeSockets } from '../../../server/src/devserver/peer-process';
import { run } from '../../../server/src/support/process';
import { connectApp, query } from './helpers';
import { WebSocket } from 'ws';

const repo = path.resolve(__dirname, '../../../..');
const counterDir = path.join(repo, 'clients', 'counter');
const TICK = /^tick=(\d+) count=(\d+) tip=(\S+) core=(\S+) pid=(\d+)$/;

interface Started {
  child: ChildProcess;
  /** The pid of the app itself (its tick lines say it). */
  appPid: Promise<number>;
  /** The same, once known (a runner's app must be stopped by it). */
  knownAppPid?: number;
  stderr: string[];
  exited: Promise<void>;
}

/** Starts `argv` with only the given devserver variables; the app's pid comes from its first tick. */
function start(argv: string[], env: Record<string, string>): Started {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DIOXUS_') && !k.startsWith('SUBSECOND_LSP')));
  const child = spawn(argv[0], argv.slice(1), { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  readline.createInterface({ input: child.stderr! }).on('line', (l) => stderr.push(l));
  const appPid = new Promise<number>((resolve) => {
    readline.createInterface({ input: child.stdout! }).on('line', (l) => {
      const m = TICK.exec(l);
      if (m) resolve(Number(m[5]));
    });
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const started: Started = { child, appPid, stderr, exited };
  void appPid.then((pid) => (started.knownAppPid = pid));
  return started;
}

/** The targets of a process's open file descriptors (memfds read `/memfd:<name> (deleted)`). */
function openFiles(pid: number): string[] {
  const dir = `/proc/${pid}/fd`;
  return fs.readdirSync(dir).flatMap((fd) => {
    try {
      return [fs.readlinkSync(`${dir}/${fd}`)];
    } catch {
      return [];
    }
  });
}

/** What `ssh -R` or `adb reverse` is to the devserver: a TCP forwarder, so the socket we see is its own. */
async function forwarderTo(serverPort: number): Promise<{ port: number; close: () => Promise<void> }> {
  const open = new Set<net.Socket>();
  const relay = net.createServer((inbound) => {
    const upstream = net.connect(serverPort, '127.0.0.1');
    open.add(inbound).add(upstream);
    inbound.pipe(upstream).pipe(inbound);
    const end = () => {
      inbound.destroy();
      upstream.destroy();
    };
    inbound.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
  return {
    port: (relay.address() as net.AddressInfo).port,
    close: async () => {
      for (const socket of open) socket.destroy();
      await new Promise((r) => relay.close(r));
    },
  };
}

/** A peer that connects (with these headers), says Hello and collects frames until it is closed. */
function peerUntilClosed(port: number, pid: number, aslr: number, headers: Record<string, string>): Promise<{ code: number; frames: string[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${query(pid, aslr)}`, { headers });
    const frames: string[] = [];
    ws.on('message', (m) => frames.push(String(m)));
    ws.on('open', () => ws.send(JSON.stringify({ SubsecondAgent: { Hello: { pid, agent_version: '0.1.0', probe: null } } })));
    ws.on('close', (code) => resolve({ code, frames }));
    ws.on('error', reject);
  });
}

function bogusTable(lib: string, aslr: number) {
  return { lib, map: { '4198400': 4096 }, aslr_reference: aslr, new_base_address: 4096, ifunc_count: 0 };
}

describe('patch libraries as bytes (pure parts)', () => {
  let tmp: string;
  beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'patch-bytes-'))));
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('a launch probe replaces the previous one; paths only when the agent read this one', () => {
    const first = writeLaunchProbe(tmp);
    const second = writeLaunchProbe(tmp);
    assert.equal(fs.existsSync(first.path), false, 'one probe per session dir');
    assert.equal(fs.readFileSync(second.path, 'utf8'), second.token);
    assert.match(second.token, /^[0-9a-f]{32}$/);
    assert.equal(chooseDelivery(second.token, second).delivery, 'path');
    assert.equal(chooseDelivery(null, second).delivery, 'bytes');
    assert.match(chooseDelivery(null, second).why, /cannot read .*patch-bytes-/);
    assert.equal(chooseDelivery(first.token, second).delivery, 'bytes', 'a stale or foreign file is not ours');
    assert.equal(chooseDelivery(undefined, second).delivery, 'path', 'an agent that predates bytes gets paths');
    assert.equal(chooseDelivery(null, undefined).delivery, 'path', 'no probe, nothing known: paths as before');
  });

  it('reads libraries within the bound, in 1 MiB frames', () => {
    const lib = path.join(tmp, 'lib.so');
    fs.writeFileSync(lib, Buffer.alloc(PATCH_LIBRARY_CHUNK_BYTES * 2 + 5, 7));
    const read = readPatchLibrary(lib);
    assert.ok('bytes' in read);
    assert.deepEqual(chunks(read.bytes).map((c) => c.length), [PATCH_LIBRARY_CHUNK_BYTES, PATCH_LIBRARY_CHUNK_BYTES, 5]);
    const huge = path.join(tmp, 'huge.so');
    fs.closeSync(fs.openSync(huge, 'w'));
    fs.truncateSync(huge, MAX_PATCH_LIBRARY_BYTES + 1); // sparse: nothing is written
    assert.match((readPatchLibrary(huge) as { problem: string }).problem, /is 128\.0 MB, more than the 128 MB that are sent over a connection/);
    fs.writeFileSync(path.join(tmp, 'empty.so'), '');
    assert.match((readPatchLibrary(path.join(tmp, 'empty.so')) as { problem: string }).problem, /is empty/);
    assert.match((readPatchLibrary(path.join(tmp, 'gone.so')) as { problem: string }).problem, /cannot read the patch library .*gone\.so/);
  });
});

describe('patch libraries as bytes and secret-attributed peers, with the real agent', function () {
  this.timeout(60_000);
  let exe: string;
  let tmp: string;
  let server: DevServer;
  const started: Started[] = [];
  const messages: AgentMessage[] = [];
  const refusals: string[] = [];

  before(async function () {
    if (!canAttributeSockets()) this.skip(); // the forwarder cases need /proc to fail on purpose
    this.timeout(600_000); // a cold cargo build on two shared cores takes minutes
    const build = await run('cargo', ['build', '--quiet'], { cwd: counterDir });
    assert.equal(build.code, 0, `cargo build of clients/counter failed:\n${build.stderr}`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'patch-bytes-agent-'));
    exe = path.join(tmp, 'counter');
    fs.copyFileSync(path.join(counterDir, 'target', 'debug', 'counter'), exe);
    fs.chmodSync(exe, 0o755);
  });
  beforeEach(async () => {
    messages.length = 0;
    refusals.length = 0;
    server = await DevServer.listen();
    server.on('agent-message', (_app, msg) => messages.push(msg));
    server.on('refused-connection', (m) => refusals.push(m));
  });
  afterEach(async () => {
    for (const s of started.splice(0)) {
      if (s.knownAppPid !== undefined && s.knownAppPid !== s.child.pid) {
        try {
          process.kill(s.knownAppPid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      if (s.child.exitCode === null && s.child.signalCode === null) {
        s.child.kill('SIGKILL');
        await s.exited;
      }
    }
    await server?.close();
  });
  after(() => tmp && fs.rmSync(tmp, { recursive: true, force: true }));

  const forwarder = () => forwarderTo(server.port);

  /** Launches the counter (directly, or under a runner shell that is not the app) the way the session does. */
  function launch(opts: { runner?: boolean; port?: number; hideProbe?: boolean } = {}): { s: Started; secret: string; pid: number } {
    const secret = newLaunchSecret();
    const env = devserverEnv(server, secret);
    if (opts.port) env.DIOXUS_DEVSERVER_PORT = String(opts.port);
    // The probe is where the app cannot see it: as in a container or on another machine.
    if (opts.hideProbe) fs.rmSync(env.SUBSECOND_LSP_PROBE);
    // `; true` keeps the shell alive as the app's parent: the launched pid is not the app's.
    const argv = opts.runner ? ['bash', '-c', '"$0"; true', exe] : [exe];
    const s = start(argv, env);
    started.push(s);
    server.expectLaunch(s.child.pid!, secret);
    return { s, secret, pid: s.child.pid! };
  }

  it('an app that reads the probe gets paths; one that cannot gets the library itself, loaded from its own copy', async () => {
    server.setPatchDirectory(path.join(tmp, 'patches'));
    const reader = launch();
    const readerConn = await server.waitForApp(reader.pid, 30_000, { agent: true });
    assert.equal(readerConn.patchLibraries, 'path', readerConn.patchLibrariesWhy);
    assert.match(readerConn.patchLibrariesWhy ?? '', /read this launch's probe/);
    const hello = messages.find((m) => m.type === 'Hello' && m.pid === reader.pid);
    assert.ok(hello && hello.type === 'Hello' && typeof hello.probe === 'string' && /^[0-9a-f]{32}$/.test(hello.probe), JSON.stringify(hello));

    const blind = launch({ hideProbe: true });
    const conn = await server.waitForApp(blind.pid, 30_000, { agent: true });
    assert.equal(conn.patchLibraries, 'bytes');
    assert.match(conn.patchLibrariesWhy ?? '', /its agent cannot read .*patches/);

    // Our file disappears the moment it is sent: only bytes that travelled can still be loaded.
    const lib = path.join(tmp, 'patches', 'libcounter-patch-7.so');
    fs.writeFileSync(lib, Buffer.concat([Buffer.from('\x7fELF'), Buffer.alloc(PATCH_LIBRARY_CHUNK_BYTES + 4096, 1)]));
    const sent = server.sendPatch(blind.pid, bogusTable(lib, 4096), { msElapsed: 1, expectedAslrReference: conn.aslrReference!, ackTimeoutMs: 30_000 });
    fs.rmSync(lib);
    const delivery = await sent;
    assert.ok(delivery.acked && !delivery.ok, JSON.stringify(delivery));
    // Past "does not exist": the agent had the library; a plain cargo build exports no `main`, so
    // it stops at the next check (the e2e test applies a real patch this way).
    assert.doesNotMatch(delivery.error ?? '', /does not exist/);
    assert.match(delivery.error ?? '', /export `main`/);
    const result = messages.find((m) => m.type === 'PatchResult');
    assert.equal(result?.type === 'PatchResult' && result.lib, lib, 'the result names the library as we sent it');
    assert.ok(
      openFiles(blind.pid).some((f) => f === '/memfd:libcounter-patch-7.so (deleted)'),
      `the agent holds its own copy: ${openFiles(blind.pid).join(', ')}`,
    );

    // The same vanished file by path: the reader cannot have it.
    const byPath = await server.sendPatch(reader.pid, bogusTable(lib, 4096), {
      msElapsed: 1,
      expectedAslrReference: readerConn.aslrReference!,
      ackTimeoutMs: 30_000,
    });
    assert.ok(byPath.acked && /libcounter-patch-7\.so does not exist/.test(byPath.error ?? ''), JSON.stringify(byPath));
    assert.ok(!openFiles(reader.pid).some((f) => f.startsWith('/memfd:')), 'no bytes went to the app that reads paths');

    // Too big to send: refused before anything is sent, with the reason.
    const huge = path.join(tmp, 'patches', 'libcounter-patch-8.so');
    fs.closeSync(fs.openSync(huge, 'w'));
    fs.truncateSync(huge, MAX_PATCH_LIBRARY_BYTES + 1);
    await assert.rejects(
      server.sendPatch(blind.pid, bogusTable(huge, 4096), { msElapsed: 1, expectedAslrReference: conn.aslrReference!, ackTimeoutMs: 1000 }),
      /refusing to send patch: the patch library .*libcounter-patch-8\.so is 128\.0 MB, more than the 128 MB/,
    );
  });

  it('through a forwarder, an app in another process than the launched one is served only with its secret; without it a peer gets nothing', async () => {
    const { port, close } = await forwarder();
    try {
      const app = launch({ runner: true, port });
      const appPid = await app.s.appPid;
      assert.notEqual(appPid, app.pid, 'the launched process (the runner) is not the app');
      const conn = await server.waitForApp(app.pid, 30_000, { agent: true });
      assert.equal(conn.appPid, appPid, 'it stands for the launch, and keeps its own pid for its frames');
      assert.deepEqual(refusals, []);
      const delivery = await server.sendPatch(app.pid, bogusTable('/nonexistent/libcounter-patch-9.so', 4096), {
        msElapsed: 1,
        expectedAslrReference: conn.aslrReference!,
        ackTimeoutMs: 30_000,
      });
      // Only the real agent answers this (it checks the library), and only for a table addressed to its own pid.
      assert.ok(delivery.acked && /libcounter-patch-9\.so does not exist/.test(delivery.error ?? ''), JSON.stringify(delivery));

      // Peers through the same forwarder that claim the launched pid or the app's: no secret, a wrong one.
      const none = await peerUntilClosed(port, app.pid, conn.aslrReference!, {});
      const wrong = await peerUntilClosed(port, appPid, conn.aslrReference!, { [SECRET_HEADER]: newLaunchSecret() });
      assert.deepEqual([none.code, wrong.code], [1008, 1008]);
      assert.deepEqual([...none.frames, ...wrong.frames], [], 'they received nothing');
      assert.match(refusals[0], new RegExp(`claims to be pid ${app.pid}, but that process does not hold its socket .*presented no launch secret: it gets no patches`));
      assert.match(refusals[1], new RegExp(`claims to be pid ${appPid} with a launch secret that matches no launched app: it gets no patches`));
      assert.equal(server.appForPid(app.pid)?.id, conn.id, 'the app is still the one served');
      assert.equal(server.appForPid(appPid), undefined);
    } finally {
      await close();
    }
  });

  it('a peer with the secret does not take patches from the app that holds its own socket', async () => {
    const { port, close } = await forwarder();
    try {
      const app = launch();
      const conn = await server.waitForApp(app.pid, 30_000, { agent: true });
      // Something that read the app's environment, through a tunnel, claiming the app's pid and image.
      const secret = (await fs.promises.readFile(`/proc/${app.pid}/environ`, 'utf8')).split('\0').find((v) => v.startsWith('SUBSECOND_LSP_SECRET='))!.split('=')[1];
      const frames: string[] = [];
      const other = new WebSocket(`ws://127.0.0.1:${port}${query(app.pid, conn.aslrReference!)}`, { headers: { [SECRET_HEADER]: secret } });
      other.on('message', (m) => frames.push(String(m)));
      await new Promise((r) => other.once('open', r));
      other.send(JSON.stringify({ SubsecondAgent: { Hello: { pid: app.pid, agent_version: '0.1.0', secret, probe: null } } }));
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(server.appForPid(app.pid)?.id, conn.id, 'the process’s own connection stays the app');
      const delivery = await server.sendPatch(app.pid, bogusTable('/nonexistent/libcounter-patch-10.so', 4096), {
        msElapsed: 1,
        expectedAslrReference: conn.aslrReference!,
        ackTimeoutMs: 30_000,
      });
      assert.ok(delivery.acked && /libcounter-patch-10\.so does not exist/.test(delivery.error ?? ''), JSON.stringify(delivery));
      assert.deepEqual(frames.filter((f) => f.includes('HotReload')), [], 'the other peer got no patch');
      other.close();
    } finally {
      await close();
    }
  });

  it('directly, a peer that cannot be attributed and has no secret gets nothing, as before', async () => {
    // Claims a pid that is not its own (this test process holds the socket) and presents no secret.
    const impostor = await connectApp(server, query(process.pid + 1_000_000, 5000));
    const got: string[] = [];
    impostor.ws.on('message', (m) => got.push(String(m)));
    assert.equal(await impostor.closed, 1008);
    assert.equal(server.apps().length, 0);
    assert.deepEqual(got, []);
    assert.match(refusals.join('\n'), /does not hold its socket/);
  });
});
