// What a crash says about patches: a patch sent and not yet confirmed may already run (the agent
// takes the jump table before it reports), so an exit in that window names it.
import { strict as assert } from 'node:assert';
import { patchBlame } from '../../../server/src/session/app-process';

describe('crash attribution (patchBlame)', () => {
  const abort = { code: null, signal: 'SIGABRT' as NodeJS.Signals, requested: false };
  const term = { code: null, signal: 'SIGTERM' as NodeJS.Signals, requested: false };
  it('a fault while a patch is unconfirmed names the patch as a possible cause', () => {
    assert.equal(patchBlame(abort, undefined, 10_500, 10_000), ' 0.5 s after a patch was sent (not confirmed: it may have been applied): the patch may be the cause');
    assert.equal(patchBlame(term, 1_000, 10_500, 10_000), ' (a signal from outside the app, 0.5 s after a patch was sent (not confirmed: it may have been applied))');
  });
  it('without a patch on its way: applied patches as before, nothing without any', () => {
    assert.equal(patchBlame(abort, undefined, 10_500), '');
    assert.equal(patchBlame(abort, 9_000, 10_500), ' 1.5 s after a patch was applied: the patch is the likely cause');
    assert.equal(patchBlame(term, 9_000, 10_500), ' (a signal from outside the app; patches had been applied earlier)');
  });
});
