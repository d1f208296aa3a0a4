// Well-framed but wrong LSP traffic: a second `initialize`, document notifications whose params
// have the wrong types. Each gets one clean error (a response error, or a log line for a
// notification), never a stack trace, and the server keeps serving.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { TestLspClient } from '../support/lsp-client';
import { tempProject, removeDir, SINGLE_PACKAGE_MANIFEST } from '../support/fixtures';

const MAIN = 'pub struct App {\n    pub count: u64,\n}\n\nfn main() {}\n';

describe('language server with wrong-typed requests', function () {
  this.timeout(60_000);
  let dir: string;
  let client: TestLspClient;
  before(async () => {
    dir = tempProject({ 'Cargo.toml': SINGLE_PACKAGE_MANIFEST, 'src/main.rs': MAIN });
    client = new TestLspClient({ rootDir: dir });
    await client.initialize();
  });
  after(async () => {
    if (client) assert.equal(await client.shutdown(), 0);
    removeDir(dir);
  });

  const noStack = () => {
    for (const text of [...client.logs, ...client.messages.map((m) => m.message)]) assert.doesNotMatch(text, /\n\s+at |\.js:\d+:\d+/, text);
  };

  it('a second initialize is answered with a clean InvalidRequest error', async () => {
    await assert.rejects(
      client.request('initialize', { processId: null, rootUri: client.uri(dir), capabilities: {} }),
      (err: { code: number; message: string }) => {
        assert.equal(err.code, -32600);
        assert.match(err.message, /^initialize was already received/);
        return true;
      },
    );
    noStack();
  });

  it('didOpen with a number for text, a number for textDocument, or no params is reported and ignored', async () => {
    const uri = client.uri(path.join(dir, 'src', 'main.rs'));
    await client.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'rust', version: 1, text: 5 } });
    await client.connection.sendNotification('textDocument/didOpen', { textDocument: 7 });
    await client.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version: 2 }, contentChanges: 'all of it' });
    await client.waitFor('the three rejections', () => client.logs.filter((l) => l.startsWith('ignored textDocument/')).length >= 3);
    const rejected = client.logs.filter((l) => l.startsWith('ignored textDocument/'));
    assert.deepEqual(rejected, [
      'ignored textDocument/didOpen: textDocument.text is a number, expected a string',
      'ignored textDocument/didOpen: textDocument is a number, expected an object',
      'ignored textDocument/didChange: contentChanges is a string, expected an array',
    ]);
    // Requests with a wrong-typed document still get a plain answer.
    assert.deepEqual(await client.request('textDocument/codeLens', { textDocument: 5 }), []);
    noStack();
    // And the server still judges a well-formed save.
    const file = path.join(dir, 'src', 'main.rs');
    await client.open(file, MAIN);
    await client.changeAndSave(file, MAIN.replace('pub count: u64,', 'pub count: u64,\n    pub name: String,'));
    await client.waitForDiagnostics(file, 'a layout warning', (d) => d.some((x) => x.code === 'struct-layout-changed'));
  });
});
