// The lenses say only what is known: "✓ live" and "applied" after an agent's confirmation, "sent …
// not confirmed" for a client that does not report back (Dioxus' devtools client).
import { strict as assert } from 'node:assert';
import { statusLenses } from '../../../server/src/lsp/render';
import type { FunctionStatus, SessionStatus } from '../../../server/src/session/observer';

const FILE = { start: { line: 0, character: 0 }, end: { line: 40, character: 0 } };
const range = (line: number) => ({ start: { line, character: 0 }, end: { line: line + 3, character: 1 } });
const running = (over: Partial<SessionStatus>): SessionStatus => ({ app: 'running', pid: 9, patch: 'applied', patchesApplied: 2, blockingFindings: 0, message: '', ...over });
const titles = (status: SessionStatus, fns: FunctionStatus[]) => statusLenses(status, [], FILE, fns).map((l) => l.command!.title);

describe('lsp: status and per-function lenses', () => {
  it('a component and a function: pending, live (confirmed) and sent (not confirmed) say what the app has', () => {
    const fns: FunctionStatus[] = [
      { name: 'Counter', range: range(3), state: 'pending', component: true },
      { name: 'helper', range: range(8), state: 'pending' },
      { name: 'App', range: range(12), state: 'live', patch: 2, ms: 310, component: true },
      { name: 'Footer', range: range(20), state: 'sent', patch: 1, component: true },
    ];
    assert.deepEqual(titles(running({}), fns).slice(3), [
      '⚡ patch component (whole pending change)',
      '⚡ patch (whole pending change)',
      '✓ live · patch 2 · 310 ms',
      '↗ sent · patch 1 (not confirmed: the app\'s client does not report back)',
    ]);
  });

  it('the status lens says "sent, not confirmed" when no patch was confirmed, and counts both when some were', () => {
    assert.equal(titles(running({ patchesUnconfirmed: 2, lastPatchMs: 900 }), [])[1], '↗ 2 patches sent, not confirmed (the app\'s client does not report back), last in 900 ms');
    assert.equal(titles(running({ patchesUnconfirmed: 1 }), [])[1], '✓ 1 of 2 patches applied, 1 sent unconfirmed');
    assert.equal(titles(running({}), [])[1], '✓ 2 patches applied');
  });
});
