// The devserver's side of state migration: an agent's HotStateTypes are remembered per
// connection; a patch that migrates goes only to an agent that reported those types, with
// MigrateState right before its HotReload frame, and the agent's `migrated` comes back.
import * as assert from 'node:assert/strict';
import { DevServer, AppConnection, AgentMessage } from '../../../server/src/devserver';
import { connectAgent, connectRegistered, nextEvent, table } from './helpers';

describe('devserver: state migration', () => {
  let server: DevServer;
  const errors: string[] = [];
  beforeEach(async () => {
    errors.length = 0;
    server = await DevServer.listen({ peerCheck: () => true });
    server.on('protocol-error', (m) => errors.push(m));
  });
  afterEach(async () => {
    await server.close();
  });

  it('remembers the reported types, sends MigrateState before the patch and returns what was migrated', async () => {
    const app = await connectAgent(server, 920, 7000);
    const reported = nextEvent<[AppConnection, AgentMessage]>(server, 'agent-message');
    app.send({ SubsecondAgent: { HotStateTypes: { pid: 920, types: ['app::State'] } } });
    assert.deepEqual((await reported)[1], { type: 'HotStateTypes', pid: 920, types: ['app::State'] });
    assert.deepEqual(server.appForPid(920)?.hotStateTypes, ['app::State']);

    const pending = server.sendPatch(920, table('/tmp/libm-patch-1.so'), { msElapsed: 1, expectedAslrReference: 7000, ackTimeoutMs: 10_000, migrate: ['app::State'] });
    assert.deepEqual(JSON.parse(await app.next()), { SubsecondAgent: { MigrateState: { lib: '/tmp/libm-patch-1.so', types: ['app::State'] } } });
    assert.equal(JSON.parse(await app.next()).HotReload.jump_table.lib, '/tmp/libm-patch-1.so');
    app.send({ SubsecondAgent: { PatchResult: { lib: '/tmp/libm-patch-1.so', ok: true, error: null, apply_micros: 90, entries: 2, pid: 920, migrated: ['app::State'] } } });
    assert.deepEqual(await pending, { acked: true, ok: true, error: undefined, applyMicros: 90, entries: 2, migrated: ['app::State'] });
    assert.deepEqual(errors, []);
  });

  it('refuses, sending nothing, a migration to a client that did not report the types', async () => {
    const agent = await connectAgent(server, 921, 7000);
    await assert.rejects(
      server.sendPatch(921, table('/tmp/libm-patch-2.so'), { msElapsed: 1, expectedAslrReference: 7000, ackTimeoutMs: 10, migrate: ['app::State'] }),
      /migrates app::State, which app pid 921 did not report as HotState types/,
    );
    const plain = await connectRegistered(server, 922, 7000);
    await assert.rejects(server.sendPatch(922, table('/tmp/libm-patch-3.so'), { msElapsed: 1, expectedAslrReference: 7000, ackTimeoutMs: 10, migrate: ['app::State'] }));
    // Nothing reached either: the next frame each gets is a patch sent without a migration.
    void server.sendPatch(921, table('/tmp/libm-patch-4.so'), { msElapsed: 1, expectedAslrReference: 7000, ackTimeoutMs: 10 });
    assert.equal(JSON.parse(await agent.next()).HotReload.jump_table.lib, '/tmp/libm-patch-4.so');
    await server.sendPatch(922, table('/tmp/libm-patch-5.so'), { msElapsed: 1, expectedAslrReference: 7000, ackTimeoutMs: 10 });
    assert.equal(JSON.parse(await plain.next()).HotReload.jump_table.lib, '/tmp/libm-patch-5.so');
  });

  it('a malformed HotStateTypes or migrated list is a protocol error', async () => {
    const app = await connectAgent(server, 923, 7000);
    const err = nextEvent<[string]>(server, 'protocol-error');
    app.send({ SubsecondAgent: { HotStateTypes: { pid: 923, types: [1] } } });
    assert.match((await err)[0], /malformed HotStateTypes/);
    assert.equal(server.appForPid(923)?.hotStateTypes, undefined);
  });
});
