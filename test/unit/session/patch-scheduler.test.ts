// Patch scheduling, driven with a fake patch attempt: coalescing, and the catch-up that makes sure
// a change no event announced is still patched (and a failed attempt does not loop).
import { strict as assert } from 'node:assert';
import { PatchScheduler, PatchAttempt } from '../../../server/src/session/patch-scheduler';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A disk whose state the "app" catches up with on every settled attempt. */
function fakeWorld(opts: { attemptMs?: number; outcome?: () => PatchAttempt } = {}) {
  const world = { disk: 0, live: 0, attempts: 0 };
  const scheduler = new PatchScheduler({
    patchOnce: async () => {
      world.attempts++;
      const seen = world.disk;
      await sleep(opts.attemptMs ?? 5);
      const outcome = opts.outcome?.() ?? { ok: true, message: 'patched', settled: true };
      if (outcome.settled) world.live = seen;
      return outcome;
    },
    autoPatchAllowed: () => true,
    diskDiffersFromLive: () => world.disk !== world.live,
    settleMs: 60,
  });
  return { world, scheduler };
}

describe('session: patch scheduling', () => {
  it('coalesces saves made during a build into one more attempt with the newest state', async () => {
    const { world, scheduler } = fakeWorld({ attemptMs: 40 });
    world.disk = 1;
    scheduler.schedule(Date.now());
    await sleep(5);
    for (let i = 2; i <= 5; i++) {
      world.disk = i;
      scheduler.schedule(Date.now());
    }
    await sleep(150);
    assert.equal(world.attempts, 2);
    assert.equal(world.live, 5);
    scheduler.dispose();
  });

  it('patches a change that arrived during an attempt without any event', async () => {
    const { world, scheduler } = fakeWorld({ attemptMs: 30 });
    world.disk = 1;
    const run = scheduler.run(false);
    await sleep(10);
    world.disk = 2; // written while the first attempt ran; the watcher dropped its event
    await run;
    assert.equal(world.live, 2, 'the run looped once more for the unannounced change');
    assert.equal(world.attempts, 2);
    scheduler.dispose();
  });

  it('looks at the disk again once saves settle, when a change came after the last attempt', async () => {
    const { world, scheduler } = fakeWorld({ attemptMs: 1 });
    world.disk = 1;
    scheduler.schedule(Date.now());
    await sleep(20);
    assert.equal(world.live, 1);
    world.disk = 2; // a second save 20 ms later whose event never came
    await sleep(120);
    assert.equal(world.live, 2, 'the settle check patched it');
    scheduler.dispose();
  });

  it('does not loop on an attempt that failed or was blocked (it already said why)', async () => {
    const { world, scheduler } = fakeWorld({ outcome: () => ({ ok: false, message: 'patch blocked', settled: false }) });
    world.disk = 1;
    const result = await scheduler.run(false);
    assert.equal(result.message, 'patch blocked');
    await sleep(100);
    assert.equal(world.attempts, 1);
    scheduler.dispose();
  });

  it('bounds the catch-up rounds of one run when the disk never stops changing', async () => {
    let disk = 0;
    let attempts = 0;
    const scheduler = new PatchScheduler({
      patchOnce: async () => {
        attempts++;
        disk++; // every attempt finds yet another change
        return { ok: true, message: 'patched', settled: true };
      },
      autoPatchAllowed: () => true,
      diskDiffersFromLive: () => disk > 0,
      settleMs: 10_000,
    });
    await scheduler.run(false);
    assert.equal(attempts, 4, 'one attempt plus three catch-up rounds');
    scheduler.dispose();
  });
});
