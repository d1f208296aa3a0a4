// The outcome of every patch reaches the user in a form the editor shows by default. Editors that
// ignore the custom `subsecond/status` notification (Helix, Zed, a plain LSP client) get each
// outcome as `window/showMessage` too: Info for "⚡ patched …", Warning for "patch blocked …",
// Error for a failed patch build. A client declaring `experimental.subsecond.showsStatus` (our
// Neovim plugin, our VS Code extension) renders the status itself and gets no such messages.
// The real server over stdio runs the real counter app (clients/counter, copied), which really is
// patched, blocked by a layout change, and fails to build a type error.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { TestLspClient } from '../support/lsp-client';
import { CounterFixture, prepareCounterFixture, ticksIn } from '../support/counter-fixture';

const CAPABILITIES = {
  window: { workDoneProgress: true },
  workspace: { codeLens: { refreshSupport: true } },
  textDocument: { synchronization: { didSave: true }, publishDiagnostics: { relatedInformation: true } },
};
const OUTCOME_TEXT = /⚡ patched|patch blocked|patch build failed/;

describe('patch outcomes as messages for editors that do not show subsecond/status', function () {
  this.timeout(20 * 60_000);
  let fixture: CounterFixture;
  let mainV1: string;
  let client: TestLspClient | undefined;

  before(() => {
    fixture = prepareCounterFixture('subsecond-lsp-lsp-patch-outcomes');
    mainV1 = fs.readFileSync(fixture.mainRs, 'utf8');
  });

  afterEach(async () => {
    if (client) assert.equal(await client.shutdown(), 0);
    client = undefined;
    fs.writeFileSync(fixture.mainRs, mainV1);
  });

  async function start(capabilities: Record<string, unknown>): Promise<TestLspClient> {
    const c = (client = new TestLspClient({ rootDir: fixture.counterDir, capabilities }));
    await c.initialize();
    await c.open(fixture.mainRs, mainV1);
    const started = await c.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
    assert.equal(started.ok, true, `startApp: ${started.message}\n${c.logs.slice(-30).join('\n')}`);
    await c.waitFor('the app to tick', () => ticksIn(c.logs).pop(), 120_000);
    return c;
  }

  /** Saves main.rs as an editor does, then waits for the patch state `patch` whose message matches. */
  async function saveFor(c: TestLspClient, text: string, patch: string, message: RegExp): Promise<string> {
    const n = c.statuses.length;
    fs.writeFileSync(fixture.mainRs, text);
    await c.changeAndSave(fixture.mainRs, text);
    const s = await c.waitFor(`a "${patch}" status`, () => c.statuses.slice(n).find((x) => x.patch === patch && message.test(x.message)), 180_000);
    return s.message;
  }

  /** A patch that applies, one blocked by a layout change, one rustc rejects: their status messages. */
  async function threeOutcomes(c: TestLspClient): Promise<{ applied: string; blocked: string; failed: string }> {
    const v2 = mainV1.replace('"tip-v1"', '"tip-v2"');
    const applied = await saveFor(c, v2, 'applied', /^⚡ patched main\.rs/);
    await c.waitFor('tip=tip-v2 in the running app', () => ticksIn(c.logs).find((t) => t.tip === 'tip-v2'), 60_000);
    const blocked = await saveFor(c, v2.replace('pub count: u64,', 'pub count: u64,\n    pub extra: u8,'), 'blocked', /^patch blocked/);
    // back to what runs, then a body rustc rejects
    const n = c.statuses.length;
    fs.writeFileSync(fixture.mainRs, v2);
    await c.changeAndSave(fixture.mainRs, v2);
    await c.waitFor('the revert to settle', () => c.statuses.slice(n).find((x) => x.patch === 'unchanged'), 60_000);
    const failed = await saveFor(c, v2.replace('"tip-v2"', 'no_such_value_here'), 'failed', /^patch build failed/);
    return { applied, blocked, failed };
  }

  it('a client without the capability gets each outcome as showMessage: Info, Warning, Error', async () => {
    const c = await start(CAPABILITIES);
    const { applied, blocked, failed } = await threeOutcomes(c);
    const shown = (type: number, message: string) => c.messages.filter((m) => m.type === type && m.message === message);
    await c.waitFor('the three messages', () => shown(3, applied).length && shown(2, blocked).length && shown(1, failed).length, 10_000);
    // once each, even where the session also notifies
    assert.equal(shown(3, applied).length, 1, 'patched: one Info message');
    assert.equal(shown(2, blocked).length, 1, 'blocked: one Warning message');
    assert.equal(shown(1, failed).length, 1, 'failed: one Error message');
  });

  it('a client declaring experimental.subsecond.showsStatus gets the status only', async () => {
    const c = await start({ ...CAPABILITIES, experimental: { subsecond: { showsStatus: true } } });
    const outcomes = await threeOutcomes(c);
    await new Promise((r) => setTimeout(r, 1000)); // a message would follow its status at once
    assert.deepEqual(c.messages.filter((m) => OUTCOME_TEXT.test(m.message)), [], `no outcome as a message (status: ${JSON.stringify(outcomes)})`);
  });
});
