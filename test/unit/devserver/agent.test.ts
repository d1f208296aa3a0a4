// Integration: the real subsecond-agent inside clients/counter (plain `cargo build`, no
// hot-patching) against the real DevServer, and against a bare dx-like server for the frames
// DevServer itself refuses to send (other pid, dx's replay with for_pid null).
import * as assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { WebSocketServer } from 'ws';
import { AgentMessage, AppConnection, DevServer, devserverEnv, newLaunchSecret } from '../../../server/src/devserver';
import { connectApp, query } from './helpers';
import { run } from '../../../server/src/support/process';

const repo = path.resolve(__dirname, '../../../..');
const counterDir = path.join(repo, 'clients', 'counter');
const TICK = /^tick=(\d+) count=(\d+) tip=(\S+) core=(\S+) pid=(\d+)$/;

interface RunningApp {
  child: ChildProcess;
  pid: number;
  lines: string[];
  stderr: string[];
  /** Resolves with the first stdout line (already seen or future) after index `from` matching `re`. */
  waitLine(re: RegExp, from?: number): Promise<string>;
  exited: Promise<number | null>;
}

function startApp(exe: string, env: Record<string, string>): RunningApp {
  // Only the devserver variables given here: none inherited from whatever runs the tests.
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('DIOXUS_') && k !== 'SUBSECOND_LSP'),
  );
  const child = spawn(exe, [], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const stderr: string[] = [];
  const waiters: { re: RegExp; from: number; resolve: (l: string) => void }[] = [];
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const w of [...waiters]) {
      if (lines.length - 1 >= w.from && w.re.test(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  readline.createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    pid: child.pid!,
    lines,
    stderr,
    exited,
    waitLine: (re, from = 0) => {
      const seen = lines.slice(from).find((l) => re.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ re, from, resolve }));
    },
  };
}

function bogusTable(lib: string, aslr: number) {
  return { lib, map: { '4198400': 4096 }, aslr_reference: aslr, new_base_address: 4096, ifunc_count: 0 };
}

describe('subsecond-agent in clients/counter', function () {
  this.timeout(60_000);
  let exe: string;
  let tmp: string;
  const apps: RunningApp[] = [];

  before(async function () {
    this.timeout(600_000); // a cold cargo build on two shared cores takes minutes
    const build = await run('cargo', ['build', '--quiet'], { cwd: counterDir });
    assert.equal(build.spawnError, undefined, `cannot run cargo: ${build.spawnError?.message}`);
    assert.equal(build.code, 0, `cargo build of clients/counter failed:\n${build.stderr}`);
    // Run a private copy: other tests may rebuild target/debug/counter while this one runs.
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-test-'));
    exe = path.join(tmp, 'counter');
    fs.copyFileSync(path.join(counterDir, 'target', 'debug', 'counter'), exe);
    fs.chmodSync(exe, 0o755);
  });

  after(async () => {
    for (const app of apps) {
      if (app.child.exitCode === null && app.child.signalCode === null) {
        app.child.kill('SIGTERM');
        await app.exited;
      }
    }
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  describe('against DevServer', () => {
    let server: DevServer;
    let app: RunningApp;
    let conn: AppConnection;
    const messages: AgentMessage[] = [];
    const refusals: string[] = [];
    const secret = newLaunchSecret();

    before(async () => {
      server = await DevServer.listen();
      server.on('agent-message', (_app, msg) => messages.push(msg));
      server.on('refused-connection', (m) => refusals.push(m));
      app = startApp(exe, devserverEnv(server, secret));
      server.expectLaunch(app.pid, secret);
      apps.push(app);
      conn = await server.waitForApp(app.pid, 30_000, { agent: true });
    });
    after(async () => {
      await server?.close();
    });

    it('connects with its real pid and a nonzero aslr_reference, and says Hello', () => {
      assert.equal(conn.pid, app.pid);
      assert.ok(conn.aslrReference !== undefined && conn.aslrReference > 0, `aslr_reference ${conn.aslrReference}`);
      assert.equal(conn.buildId, 0);
      assert.equal(conn.isAgent, true);
      assert.equal(conn.patchLibraries, 'path', 'without a probe nothing is known: paths, as before');
      assert.deepEqual(
        messages.find((m) => m.type === 'Hello'),
        // No patch directory was named, so there is no probe to read.
        { type: 'Hello', pid: app.pid, agentVersion: '0.1.0', secret, probe: null },
      );
      assert.deepEqual(refusals, []);
    });

    it('an impostor with the app’s pid and aslr_reference gets nothing; the real agent gets the patch', async () => {
      const impostor = await connectApp(server, query(app.pid, conn.aslrReference!));
      const got: string[] = [];
      impostor.ws.on('message', (m) => got.push(String(m)));
      // Were it believed, this would be the newest connection and its "ok" would be taken for the app's.
      impostor.send({ SubsecondAgent: { Hello: { pid: app.pid, agent_version: '0.1.0', secret: 'guess' } } });
      assert.equal(await impostor.closed, 1008);
      assert.match(refusals.join('\n'), new RegExp(`claims to be pid ${app.pid}, but that process does not hold its socket`));
      const lib = path.join(tmp, 'libcounter-patch-impostor.so');
      const delivery = await server.sendPatch(app.pid, bogusTable(lib, 4096), {
        msElapsed: 5,
        expectedAslrReference: conn.aslrReference!,
        ackTimeoutMs: 30_000,
      });
      // Only the real agent can answer this: it checks the library and says it does not exist.
      assert.ok(delivery.acked && !delivery.ok, JSON.stringify(delivery));
      assert.match(delivery.error ?? '', /libcounter-patch-impostor\.so does not exist/);
      assert.deepEqual(got, []);
    });

    it('prints one tick line at a time', async () => {
      const line = await app.waitLine(TICK);
      const [, tick, count, tip, core, pid] = TICK.exec(line)!;
      assert.equal(tick, count);
      assert.equal(tip, 'tip-v1');
      assert.equal(core, 'core-v1');
      assert.equal(Number(pid), app.pid);
    });

    it('reports a patch it cannot load as failed and keeps running', async () => {
      const lib = path.join(tmp, 'libcounter-patch-404.so');
      const delivery = await server.sendPatch(app.pid, bogusTable(lib, 4096), {
        msElapsed: 5,
        expectedAslrReference: conn.aslrReference!,
        ackTimeoutMs: 30_000,
      });
      assert.equal(delivery.acked, true, JSON.stringify(delivery));
      assert.ok(delivery.acked);
      assert.equal(delivery.ok, false);
      assert.match(delivery.error ?? '', /libcounter-patch-404\.so does not exist/);
      assert.equal(delivery.entries, 1);
      // Still ticking afterwards, with the same process and state.
      const after = app.lines.length;
      const first = Number(TICK.exec(await app.waitLine(TICK, after))![1]);
      const later = Number(TICK.exec(await app.waitLine(new RegExp(`^tick=${first + 2} `), after))![1]);
      assert.equal(later, first + 2);
      assert.equal(app.child.exitCode, null);
    });

    it('reports a dlopen failure for a file that is not a library', async () => {
      const lib = path.join(tmp, 'libcounter-patch-garbage.so');
      fs.writeFileSync(lib, 'not an ELF file');
      const delivery = await server.sendPatch(app.pid, bogusTable(lib, 4096), {
        msElapsed: 5,
        expectedAslrReference: conn.aslrReference!,
        ackTimeoutMs: 30_000,
      });
      assert.ok(delivery.acked && !delivery.ok);
      // Plain cargo builds do not export `main`, which the agent checks before dlopen; with the
      // engine's --export-dynamic the dlopen error itself would be reported.
      assert.match(delivery.error ?? '', /export `main`|Failed to load library/);
      const after = app.lines.length;
      await app.waitLine(TICK, after);
    });

    it('reconnects after the devserver restarts on the same port', async () => {
      const port = server.port;
      await server.close();
      server = await DevServer.listen({ port });
      const again = await server.waitForApp(app.pid, 30_000, { agent: true });
      assert.equal(again.aslrReference, conn.aslrReference);
      assert.notEqual(again.id, undefined);
    });
  });

  describe('against a bare dx-like server', () => {
    it('ignores tables for other pids and dx replays, applies (and reports) only its own', async () => {
      const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
      await new Promise((r) => wss.once('listening', r));
      const port = (wss.address() as { port: number }).port;
      const received: string[] = [];
      const gotResult = new Promise<void>((resolve) => {
        wss.on('connection', (ws, req) => {
          const pid = Number(new URL(req.url!, 'http://x').searchParams.get('pid'));
          ws.on('message', (d) => {
            received.push(d.toString());
            if (d.toString().includes('PatchResult')) resolve();
          });
          const frame = (forPid: number | null, lib: string) =>
            JSON.stringify({
              HotReload: {
                templates: [],
                assets: [],
                ms_elapsed: 1,
                jump_table: bogusTable(lib, 4096),
                for_build_id: 0,
                for_pid: forPid,
              },
            });
          // In order: someone else's patch, dx's replay to a fresh client, an unknown message, ours.
          ws.send(frame(pid + 1, '/nonexistent/other-pid.so'));
          ws.send(frame(null, '/nonexistent/replay.so'));
          ws.send(JSON.stringify({ SomethingNew: { x: 1 } }));
          ws.send('"HotPatchStart"');
          ws.send(frame(pid, '/nonexistent/ours.so'));
        });
      });
      const app = startApp(exe, {
        DIOXUS_DEVSERVER_IP: '127.0.0.1',
        DIOXUS_DEVSERVER_PORT: String(port),
        SUBSECOND_LSP: '1',
      });
      apps.push(app);
      try {
        await gotResult;
        const results = received.filter((r) => r.includes('PatchResult')).map((r) => JSON.parse(r).SubsecondAgent.PatchResult);
        assert.equal(results.length, 1);
        assert.equal(results[0].lib, '/nonexistent/ours.so');
        assert.equal(results[0].pid, app.pid);
        assert.equal(results[0].ok, false);
        assert.ok(JSON.parse(received[0]).SubsecondAgent.Hello);
      } finally {
        app.child.kill('SIGTERM');
        await app.exited;
        await new Promise((r) => wss.close(r));
      }
    });

    it('exits the app when its launcher is gone and the connection drops (the server was killed)', async () => {
      // The launcher pid is one that is not the app's parent: as after the server died and the app
      // was re-parented. While the server's socket is up nothing happens; when it drops, the app exits.
      const server = await DevServer.listen();
      const app = startApp(exe, { ...devserverEnv(server), SUBSECOND_LSP_PARENT_PID: String(process.pid + 1_000_000) });
      apps.push(app);
      try {
        await server.waitForApp(app.pid, 30_000, { agent: true });
        await app.waitLine(TICK);
        assert.equal(app.child.exitCode, null, 'running while connected');
        await server.close();
        assert.equal(await app.exited, 1);
        assert.ok(app.stderr.some((l) => /subsecond-lsp \(pid \d+\), which launched this app, is gone: exiting/.test(l)), app.stderr.join('\n'));
      } finally {
        await server.close();
      }
    });

    it('keeps running across a server restart while its launcher is alive', async () => {
      const server = await DevServer.listen();
      const app = startApp(exe, { ...devserverEnv(server), SUBSECOND_LSP_PARENT_PID: String(process.pid) });
      apps.push(app);
      let again: DevServer | undefined;
      try {
        await server.waitForApp(app.pid, 30_000, { agent: true });
        const port = server.port;
        await server.close();
        again = await DevServer.listen({ port });
        await again.waitForApp(app.pid, 30_000, { agent: true });
        assert.equal(app.child.exitCode, null);
      } finally {
        await again?.close();
      }
    });

    it('says nothing to the server without SUBSECOND_LSP=1 (as under dx)', async () => {
      const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
      await new Promise((r) => wss.once('listening', r));
      const port = (wss.address() as { port: number }).port;
      const received: string[] = [];
      const connected = new Promise<void>((resolve) => {
        wss.on('connection', (ws, req) => {
          const pid = Number(new URL(req.url!, 'http://x').searchParams.get('pid'));
          ws.on('message', (d) => received.push(d.toString()));
          ws.send(
            JSON.stringify({
              HotReload: { templates: [], assets: [], ms_elapsed: 1, jump_table: bogusTable('/nonexistent/x.so', 4096), for_build_id: 0, for_pid: pid },
            }),
          );
          resolve();
        });
      });
      const env: Record<string, string> = { DIOXUS_DEVSERVER_IP: '127.0.0.1', DIOXUS_DEVSERVER_PORT: String(port) };
      const app = startApp(exe, env);
      apps.push(app);
      try {
        await connected;
        // The agent logs the failed patch on stderr; by then it would have sent a report.
        while (!app.stderr.some((l) => l.includes('/nonexistent/x.so'))) {
          await new Promise((r) => setTimeout(r, 50));
        }
        const pingBack = await new Promise<number>((resolve) => {
          // A round trip on the same socket after the patch: anything the agent sent arrives first.
          const ws = [...wss.clients][0];
          ws.once('pong', () => resolve(received.length));
          ws.ping();
        });
        assert.equal(pingBack, 0, received.join('\n'));
      } finally {
        app.child.kill('SIGTERM');
        await app.exited;
        await new Promise((r) => wss.close(r));
      }
    });
  });
});
