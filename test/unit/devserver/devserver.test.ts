// DevServer against real `ws` clients posing as apps: handshake, routing, acks, bad input, close.
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import { WebSocket } from 'ws';
import { DevServer, devserverEnv, AppConnection, AgentMessage } from '../../../server/src/devserver';
import { connectAgent, connectApp, connectRegistered, nextEvent, query, table, url } from './helpers';

describe('devserver', () => {
  let server: DevServer;
  const errors: string[] = [];

  beforeEach(async () => {
    errors.length = 0;
    // These tests pose as many processes from this one test process: the claimed pid is taken
    // as proven here. Attribution itself is tested in attribution.test.ts.
    server = await DevServer.listen({ peerCheck: () => true });
    server.on('protocol-error', (m) => errors.push(m));
  });
  afterEach(async () => {
    await server.close();
  });

  it('listens on loopback on a free port and describes itself to apps', () => {
    assert.equal(server.host, '127.0.0.1');
    assert.ok(server.port > 0);
    assert.deepEqual(devserverEnv(server), {
      DIOXUS_DEVSERVER_IP: '127.0.0.1',
      DIOXUS_DEVSERVER_PORT: String(server.port),
      DIOXUS_BUILD_ID: '0',
      DIOXUS_CLI_ENABLED: 'true',
      SUBSECOND_LSP: '1',
    });
  });

  it('binds the address it is given, and points apps at loopback for a wildcard bind', async () => {
    const other = await DevServer.listen({ host: '127.0.0.2', peerCheck: () => true });
    const wildcard = await DevServer.listen({ host: '0.0.0.0' });
    try {
      assert.equal(other.host, '127.0.0.2');
      assert.equal(devserverEnv(other).DIOXUS_DEVSERVER_IP, '127.0.0.2');
      const app = await connectApp(other, query(77, 5000));
      assert.equal((await other.waitForApp(77, 5000)).pid, 77);
      app.ws.close();
      assert.equal(devserverEnv(wildcard).DIOXUS_DEVSERVER_IP, '127.0.0.1');
    } finally {
      await other.close();
      await wildcard.close();
    }
  });

  it('registers an app from its handshake query and learns when it is an agent', async () => {
    const connected = nextEvent<[AppConnection]>(server, 'app-connected');
    const app = await connectApp(server, query(4242, 94_000_000_123, 0));
    const [info] = await connected;
    assert.equal(info.pid, 4242);
    assert.equal(info.aslrReference, 94_000_000_123);
    assert.equal(info.buildId, 0);
    assert.equal(info.isAgent, false);
    assert.equal(server.appForPid(4242), info);
    assert.deepEqual(server.apps(), [info]);
    assert.equal(await server.waitForApp(4242, 1000), info);

    const hello = nextEvent<[AppConnection, AgentMessage]>(server, 'agent-message');
    app.send({ SubsecondAgent: { Hello: { pid: 4242, agent_version: '0.1.0' } } });
    const [from, msg] = await hello;
    assert.equal(from, info);
    assert.deepEqual(msg, { type: 'Hello', pid: 4242, agentVersion: '0.1.0' });
    assert.equal(info.isAgent, true);

    const gone = nextEvent<[AppConnection]>(server, 'app-disconnected');
    app.ws.close();
    assert.equal((await gone)[0], info);
    assert.equal(server.appForPid(4242), undefined);
    assert.deepEqual(errors, []);
  });

  it('waitForApp resolves on a later connection and rejects clearly on timeout', async () => {
    const waiting = server.waitForApp(77, 5000);
    await connectApp(server, query(77, 1000));
    assert.equal((await waiting).pid, 77);
    await assert.rejects(server.waitForApp(78, 20), /pid 78 did not connect .* within 20 ms/);
  });

  it('waitForApp can wait a grace period for the agent’s Hello', async () => {
    // Plain client: the grace runs out and the connection is returned as it is.
    await connectApp(server, query(81, 1000));
    const plain = await server.waitForApp(81, 5000, { helloGraceMs: 20 });
    assert.equal(plain.isAgent, false);
    // Agent: resolves on the Hello, however long the grace.
    const waiting = server.waitForApp(82, 5000, { helloGraceMs: 60_000 });
    const app = await connectApp(server, query(82, 1000));
    app.send({ SubsecondAgent: { Hello: { pid: 82, agent_version: '0.1.0' } } });
    assert.equal((await waiting).isAgent, true);
    await assert.rejects(server.waitForApp(81, 20, { agent: true }), /did not connect and say Hello/);
  });

  it('sends a patch only to the app with that pid, in dx’s frame format', async () => {
    const a = await connectRegistered(server, 111, 5000);
    const b = await connectRegistered(server, 222, 6000);
    const delivery = await server.sendPatch(222, table('/tmp/libcounter-patch-1.so'), {
      msElapsed: 412.4,
      expectedAslrReference: 6000,
      ackTimeoutMs: 1000,
    });
    // b is a plain dioxus-devtools client (no Hello): nothing can confirm the patch.
    assert.equal(delivery.acked, false);
    assert.match(delivery.acked ? '' : delivery.reason, /not confirmed/);
    assert.equal(delivery.acked ? '' : delivery.outcome, 'plain-client');

    const frame = JSON.parse(await b.next());
    assert.deepEqual(frame, {
      HotReload: {
        templates: [],
        assets: [],
        ms_elapsed: 412,
        jump_table: {
          lib: '/tmp/libcounter-patch-1.so',
          map: { '4198400': 12288, '93824992235520': 140737353000000 },
          aslr_reference: 4198000,
          new_base_address: 4096,
          ifunc_count: 0,
        },
        for_build_id: 0,
        for_pid: 222,
      },
    });
    // Frames arrive in order, so if `a` had been sent the patch it would come before this.
    server.broadcast('HotPatchStart');
    assert.equal(await a.next(), '"HotPatchStart"');
    assert.equal(await b.next(), '"HotPatchStart"');
  });

  it('sends an asset reload only to the newest connection of that process', async () => {
    const a = await connectRegistered(server, 111, 5000);
    const b = await connectRegistered(server, 222, 5000);
    assert.equal(server.sendAssetReload(333, ['/assets/main.css']), false, 'no such process: nothing sent');
    assert.equal(server.sendAssetReload(222, ['/assets/main.css']), true);
    assert.deepEqual(JSON.parse(await b.next()), {
      HotReload: { templates: [], assets: ['/assets/main.css'], ms_elapsed: 0, jump_table: null, for_build_id: null, for_pid: null },
    });
    // Frames arrive in order: had `a` been sent the reload, it would come before this.
    server.broadcast('HotPatchStart');
    assert.equal(await a.next(), '"HotPatchStart"');
  });

  it('refuses a patch built for another process image and sends nothing', async () => {
    const a = await connectRegistered(server, 111, 5000);
    await assert.rejects(
      server.sendPatch(111, table('/tmp/lib.so'), { msElapsed: 1, expectedAslrReference: 5001, ackTimeoutMs: 100 }),
      /aslr_reference 5000 but the patch was built for 5001/,
    );
    await assert.rejects(
      server.sendPatch(333, table('/tmp/lib.so'), { msElapsed: 1, expectedAslrReference: 5000, ackTimeoutMs: 100 }),
      /no app with pid 333/,
    );
    const bad = { ...table('/tmp/lib.so'), map: { '0x10': 5 } };
    await assert.rejects(
      server.sendPatch(111, bad, { msElapsed: 1, expectedAslrReference: 5000, ackTimeoutMs: 100 }),
      /map key is not a decimal address/,
    );
    await assert.rejects(
      server.sendPatch(111, table('relative/lib.so'), { msElapsed: 1, expectedAslrReference: 5000, ackTimeoutMs: 100 }),
      /not an absolute path/,
    );
    server.broadcast('FullReloadStart');
    assert.equal(await a.next(), '"FullReloadStart"');
  });

  it('picks the connection whose aslr_reference matches when a pid has two', async () => {
    // A process that reconnected after exec() keeps its pid but not its image.
    const old = await connectRegistered(server, 500, 1111);
    const fresh = await connectApp(server, query(500, 2222)); // registered before the client sees 'open'
    await server.sendPatch(500, table('/tmp/a.so'), { msElapsed: 0, expectedAslrReference: 1111, ackTimeoutMs: 10 });
    assert.equal(JSON.parse(await old.next()).HotReload.for_pid, 500);
    server.broadcast('Shutdown');
    assert.equal(await fresh.next(), '"Shutdown"');
  });

  it('waits for the agent’s PatchResult for that lib', async () => {
    const app = await connectAgent(server, 900, 7000);
    const pending = server.sendPatch(900, table('/tmp/libx-patch-2.so'), {
      msElapsed: 10,
      expectedAslrReference: 7000,
      ackTimeoutMs: 10_000,
    });
    const frame = JSON.parse(await app.next());
    assert.equal(frame.HotReload.jump_table.lib, '/tmp/libx-patch-2.so');
    // A result for another lib does not settle this patch.
    app.send({ SubsecondAgent: { PatchResult: { lib: '/tmp/other.so', ok: true, error: null, apply_micros: 1, entries: 1, pid: 900 } } });
    app.send({
      SubsecondAgent: { PatchResult: { lib: '/tmp/libx-patch-2.so', ok: true, error: null, apply_micros: 830, entries: 2, pid: 900 } },
    });
    assert.deepEqual(await pending, { acked: true, ok: true, error: undefined, applyMicros: 830, entries: 2 });

    const failing = server.sendPatch(900, table('/tmp/libx-patch-3.so'), {
      msElapsed: 10,
      expectedAslrReference: 7000,
      ackTimeoutMs: 10_000,
    });
    await app.next();
    app.send({
      SubsecondAgent: {
        PatchResult: { lib: '/tmp/libx-patch-3.so', ok: false, error: 'Failed to load library: nope', apply_micros: 5, entries: 2, pid: 900 },
      },
    });
    const result = await failing;
    assert.deepEqual(result, { acked: true, ok: false, error: 'Failed to load library: nope', applyMicros: 5, entries: 2 });
    assert.deepEqual(errors, []);
  });

  it('sends the detour plan right before the HotReload frame, to agents only, and returns their detour report', async () => {
    const detourPlan = {
      entries: [[4096, 64, 8192, 80, '_ZN3app4tick17h0123456789abcdefE'], [4160, 32, 8256, 32, '_ZN3app4draw17h0123456789abcdefE']] as Array<[number, number, number, number, string]>,
      keep: [],
      unchanged: ['_ZN3app4draw17h0123456789abcdefE'],
    };
    const app = await connectAgent(server, 910, 7000);
    const pending = server.sendPatch(910, table('/tmp/libd-patch-1.so'), { msElapsed: 1, expectedAslrReference: 7000, ackTimeoutMs: 10_000, detourPlan });
    const plan = JSON.parse(await app.next());
    assert.deepEqual(plan, {
      SubsecondAgent: { DetourPlan: { lib: '/tmp/libd-patch-1.so', aslr_reference: table('/tmp/libd-patch-1.so').aslr_reference, entries: detourPlan.entries, keep: [], unchanged: detourPlan.unchanged } },
    });
    assert.equal(JSON.parse(await app.next()).HotReload.jump_table.lib, '/tmp/libd-patch-1.so');
    const detours = {
      detoured: 1, unchanged: 1, skipped_total: 1, skipped: [{ name: 'short', reason: 'too-short' }], entries_written: 1, islands_retargeted: 0,
      islands_allocated: 1, non_atomic: 0, threads_stopped: 2, stop_micros: 5, retries: 0, micros: 40, cpu_micros: 30, error: null,
    };
    app.send({ SubsecondAgent: { PatchResult: { lib: '/tmp/libd-patch-1.so', ok: true, error: null, apply_micros: 90, entries: 2, pid: 910, detours } } });
    assert.deepEqual(await pending, {
      acked: true, ok: true, error: undefined, applyMicros: 90, entries: 2,
      detours: { detoured: 1, unchanged: 1, skippedTotal: 1, skipped: [{ name: 'short', reason: 'too-short' }], entriesWritten: 1, islandsAllocated: 1, threadsStopped: 2, micros: 40 },
    });

    // A plain dx-compatible client gets the HotReload frame alone, byte for byte as without a plan.
    const plain = await connectRegistered(server, 911, 7000);
    await server.sendPatch(911, table('/tmp/libd-patch-2.so'), { msElapsed: 1, expectedAslrReference: 7000, ackTimeoutMs: 10, detourPlan });
    const frame = await plain.next();
    assert.ok(frame.startsWith('{"HotReload":'), frame);
  });

  it('reports an agent that never answers as not acknowledged', async () => {
    const app = await connectAgent(server, 901, 7000);
    const delivery = await server.sendPatch(901, table('/tmp/slow.so'), { msElapsed: 1, expectedAslrReference: 7000, ackTimeoutMs: 30 });
    assert.equal(delivery.acked, false);
    assert.match(delivery.acked ? '' : delivery.reason, /did not report a result within 30 ms/);
    assert.equal(delivery.acked ? '' : delivery.outcome, 'no-answer');
    await app.next();
  });

  it('settles a pending patch when the app disconnects', async () => {
    const app = await connectAgent(server, 902, 7000);
    const pending = server.sendPatch(902, table('/tmp/crash.so'), { msElapsed: 1, expectedAslrReference: 7000, ackTimeoutMs: 60_000 });
    await app.next();
    app.ws.terminate(); // as if the app crashed while loading the patch
    const delivery = await pending;
    assert.equal(delivery.acked, false);
    assert.match(delivery.acked ? '' : delivery.reason, /disconnected before reporting a result/);
    assert.equal(delivery.acked ? '' : delivery.outcome, 'disconnected');
  });

  it('answers 404 without upgrading on a wrong path', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(url(server, '/elsewhere?pid=1'));
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => reject(new Error('upgraded on a wrong path')));
      ws.on('error', () => undefined);
    });
    assert.equal(status, 404);
    const plain = await new Promise<number>((resolve, reject) => {
      http.get(`http://${server.host}:${server.port}/_dioxus`, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    assert.equal(plain, 426);
    assert.deepEqual(server.apps(), []);
  });

  it('accepts a bad handshake but marks the app unpatchable; without a pid it gets nothing', async () => {
    const err = nextEvent<[string]>(server, 'protocol-error');
    const refused = nextEvent<[string]>(server, 'refused-connection');
    const anonymous = await connectApp(server, '/_dioxus');
    assert.match((await err)[0], /missing aslr_reference.*missing pid/);
    assert.match((await refused)[0], /did not say which process it is: it gets no patches/);
    assert.equal(await anonymous.closed, 1008);
    assert.deepEqual(server.apps(), []);

    const err2 = nextEvent<[string]>(server, 'protocol-error');
    await connectApp(server, '/_dioxus?aslr_reference=0x1000&pid=-5&build_id=zz');
    assert.match((await err2)[0], /invalid aslr_reference.*invalid pid.*invalid build_id/);

    const err3 = nextEvent<[string]>(server, 'protocol-error');
    await connectApp(server, '/_dioxus?aslr_reference=99999999999999999999&pid=12');
    assert.match((await err3)[0], /invalid aslr_reference/);
    await assert.rejects(
      server.sendPatch(12, table('/tmp/x.so'), { msElapsed: 1, expectedAslrReference: 5, ackTimeoutMs: 10 }),
      /reported aslr_reference none/,
    );
  });

  it('survives malformed, binary and oversized frames', async () => {
    const app = await connectRegistered(server, 303, 8000);
    let err = nextEvent<[string]>(server, 'protocol-error');
    app.send('this is not json');
    assert.match((await err)[0], /pid 303.*not JSON/);

    err = nextEvent<[string]>(server, 'protocol-error');
    app.send({ SubsecondAgent: { PatchResult: { lib: 5 } } });
    assert.match((await err)[0], /malformed PatchResult/);

    err = nextEvent<[string]>(server, 'protocol-error');
    app.send({ Whatever: 1 });
    assert.match((await err)[0], /unknown message/);

    err = nextEvent<[string]>(server, 'protocol-error');
    app.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    assert.match((await err)[0], /binary frame/);

    // dx's web clients log through the socket; that is valid protocol, not an error.
    app.send({ Log: { level: 'info', messages: ['hi'] } });

    err = nextEvent<[string]>(server, 'protocol-error');
    app.send('x'.repeat(2 * 1024 * 1024));
    assert.match((await err)[0], /pid 303.*(payload|size)/i);
    assert.equal(await app.closed, 1009);

    // Still serving.
    const again = await connectRegistered(server, 304, 8000);
    server.broadcast('HotPatchStart');
    assert.equal(await again.next(), '"HotPatchStart"');
    assert.ok(errors.every((e) => !/Log/.test(e)));
  });

  it('close() disconnects apps, settles waits and stops listening', async () => {
    const plain = await connectRegistered(server, 1, 100);
    const agent = await connectAgent(server, 2, 200);
    const pending = server.sendPatch(2, table('/tmp/p.so'), { msElapsed: 1, expectedAslrReference: 200, ackTimeoutMs: 60_000 });
    await agent.next();
    // Observed at once so the rejection during close() is not reported as unhandled.
    const waiting = server.waitForApp(3, 60_000).then(
      () => assert.fail('resolved'),
      (e: Error) => e.message,
    );
    const port = server.port;
    await server.close();
    assert.equal(await plain.closed, 1001);
    assert.equal(await agent.closed, 1001);
    const delivery = await pending;
    assert.equal(delivery.acked, false);
    assert.equal(delivery.acked ? '' : delivery.outcome, 'closed');
    assert.match(await waiting, /closed/);
    await assert.rejects(server.sendPatch(2, table('/tmp/p.so'), { msElapsed: 1, expectedAslrReference: 200, ackTimeoutMs: 1 }), /closed/);
    await assert.rejects(
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}${query(1, 1)}`);
        ws.on('open', resolve);
        ws.on('error', reject);
      }),
      /ECONNREFUSED/,
    );
    await server.close(); // idempotent
  });
});
