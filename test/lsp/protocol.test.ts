// Protocol hygiene as a strict client sees it: the server only uses what the client declared.
// Failures arrive as window/showMessage notifications (showMessageRequest is for choices, and
// Helix does not implement it), and nothing is registered dynamically without the client's leave.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { TestLspClient } from '../support/lsp-client';
import { tempProject, removeDir, SINGLE_PACKAGE_MANIFEST } from '../support/fixtures';

const BROKEN_MAIN = 'fn main() {\n    let x: u32 = "text";\n}\n';

// What Helix 25.07 declares, in substance: configuration pull, no dynamic registration anywhere,
// no window.showMessage (so no showMessageRequest), no progress.
const STRICT_CAPABILITIES = {
  workspace: { configuration: true, didChangeConfiguration: { dynamicRegistration: false }, codeLens: { refreshSupport: true } },
  textDocument: { synchronization: { didSave: true, dynamicRegistration: false }, publishDiagnostics: { relatedInformation: true } },
};

describe('protocol hygiene', function () {
  this.timeout(180_000);
  const dirs: string[] = [];
  const clients: TestLspClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.shutdown();
    dirs.splice(0).forEach(removeDir);
  });

  it('a client without dynamic registration or showMessageRequest support receives neither, and failures still reach it', async () => {
    const dir = tempProject({ 'Cargo.toml': SINGLE_PACKAGE_MANIFEST, 'src/main.rs': BROKEN_MAIN });
    dirs.push(dir);
    const client = new TestLspClient({
      rootDir: dir,
      capabilities: STRICT_CAPABILITIES,
      configuration: {},
      initializationOptions: { subsecond: { autoPatch: 'yes' } },
    });
    clients.push(client);
    await client.initialize();
    await client.waitFor('the settings warning', () => client.messages.find((m) => /"autoPatch" must be true or false/.test(m.message)));
    // A fat build that fails: the error the user must see.
    const start = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
    assert.equal(start.ok, false, JSON.stringify(start));
    const failure = await client.waitFor('the build failure message', () => client.messages.find((m) => /fat build failed/.test(m.message)));
    assert.equal(failure.type, 1, 'shown as an error');
    assert.match(failure.message, /^fat build failed: mismatched types/);
    assert.equal(failure.message.match(/fat build failed/g)?.length, 1, `the prefix once: ${failure.message}`);
    assert.equal(start.message.match(/fat build failed/g)?.length, 1, `the prefix once in the command result: ${start.message}`);
    assert.deepEqual(client.serverRequests, [], 'no showMessageRequest, no client/registerCapability');
    await client.executeCommand('subsecond.status'); // a later answer: the failure had its chance to be said twice
    assert.equal(client.messages.filter((m) => /fat build failed/.test(m.message)).length, 1, `said once: ${JSON.stringify(client.messages)}`);
  });

  it("says a command's answer as a message unless the client shows answers itself", async () => {
    const dir = tempProject({ 'Cargo.toml': SINGLE_PACKAGE_MANIFEST, 'src/main.rs': 'fn main() {}\n' });
    dirs.push(dir);
    // Helix and Zed: no way to show what :lsp-workspace-command returned.
    const helixLike = new TestLspClient({ rootDir: dir, capabilities: STRICT_CAPABILITIES });
    clients.push(helixLike);
    await helixLike.initialize();
    const answer = await helixLike.executeCommand<{ ok: boolean; message: string }>('subsecond.stopApp');
    assert.equal(answer.message, 'no app is running');
    const said = await helixLike.waitFor('the answer as a message', () => helixLike.messages.find((m) => m.message === 'subsecond: no app is running'));
    assert.equal(said.type, 3, 'an info message');
    // The Neovim plugin and the VS Code extension show answers themselves and say so.
    const plugin = new TestLspClient({ rootDir: dir, capabilities: { ...STRICT_CAPABILITIES, experimental: { subsecond: { showsCommandResults: true } } } });
    clients.push(plugin);
    await plugin.initialize();
    await plugin.executeCommand('subsecond.stopApp');
    await plugin.executeCommand('subsecond.status'); // a later answer, so the first one had its chance
    assert.deepEqual(plugin.messages, [], 'no message for a client that shows answers itself');
  });

  it('registers didChangeConfiguration when the client allows it', async () => {
    const dir = tempProject({ 'Cargo.toml': SINGLE_PACKAGE_MANIFEST, 'src/main.rs': 'fn main() {}\n' });
    dirs.push(dir);
    const client = new TestLspClient({
      rootDir: dir,
      configuration: {},
      capabilities: { ...STRICT_CAPABILITIES, workspace: { ...STRICT_CAPABILITIES.workspace, didChangeConfiguration: { dynamicRegistration: true } } },
    });
    clients.push(client);
    await client.initialize();
    const reg = await client.waitFor('a registration', () => client.serverRequests.find((r) => r.method === 'client/registerCapability'));
    const regs = (reg.params as { registrations: Array<{ method: string }> }).registrations;
    assert.deepEqual(
      regs.map((r) => r.method),
      ['workspace/didChangeConfiguration'],
    );
    await client.open(path.join(dir, 'src', 'main.rs'), 'fn main() {}\n');
  });
});
