// Settings reach the server from initializationOptions and from workspace/configuration, and bad
// values are reported instead of crashing or being silently used.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { TestLspClient } from '../support/lsp-client';
import { tempProject, removeDir, SINGLE_PACKAGE_MANIFEST } from '../support/fixtures';

const SMALL = 'pub struct A { pub x: u8 }\nfn main() {}\n';
const BIG = 'pub struct A { pub x: u8 }\n' + '// padding\n'.repeat(400) + 'fn main() {}\n';

describe('settings', function () {
  this.timeout(60_000);
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach(removeDir));

  const project = () => {
    const dir = tempProject({ 'Cargo.toml': SINGLE_PACKAGE_MANIFEST, 'src/main.rs': SMALL, 'src/big.rs': BIG });
    dirs.push(dir);
    return dir;
  };

  it('maxFileBytes from initializationOptions skips larger files, and says so', async () => {
    const dir = project();
    const client = new TestLspClient({ rootDir: dir, initializationOptions: { subsecond: { maxFileBytes: 1000 } } });
    await client.initialize();
    await client.waitFor('a too-large notice', () => client.messages.find((m) => /big\.rs .*too large/.test(m.message)));
    const main = path.join(dir, 'src', 'main.rs');
    await client.open(main, SMALL);
    await client.changeAndSave(main, SMALL.replace('x: u8', 'x: u16'));
    await client.waitForDiagnostics(main, 'the small file is still judged', (d) => d.some((x) => x.code === 'struct-layout-changed'));
    assert.equal(await client.shutdown(), 0);
  });

  it('workspace/configuration is pulled and wins over initializationOptions', async () => {
    const dir = project();
    const client = new TestLspClient({
      rootDir: dir,
      initializationOptions: { subsecond: { maxFileBytes: 100_000 } },
      configuration: { maxFileBytes: 1000 },
    });
    await client.initialize();
    await client.waitFor('a too-large notice from the pulled setting', () => client.messages.find((m) => /big\.rs .*too large/.test(m.message)));
    assert.equal(await client.shutdown(), 0);
  });

  it('settings of the wrong type are reported and the defaults kept', async () => {
    const dir = project();
    const client = new TestLspClient({ rootDir: dir, initializationOptions: { subsecond: { autoPatch: 'yes', cargoArgs: 'x', maxFileBytes: -1 } } });
    await client.initialize();
    await client.waitFor('three setting warnings', () => client.messages.filter((m) => /setting "/.test(m.message)).length >= 3);
    const texts = client.messages.map((m) => m.message).join('\n');
    assert.match(texts, /"autoPatch" must be true or false/);
    assert.match(texts, /"cargoArgs" must be an array of strings/);
    assert.match(texts, /"maxFileBytes" must be a positive number/);
    assert.ok(!client.messages.some((m) => /too large/.test(m.message)), 'the default size limit is kept');
    const main = path.join(dir, 'src', 'main.rs');
    await client.open(main, SMALL);
    await client.changeAndSave(main, SMALL.replace('x: u8', 'x: u16'));
    await client.waitForDiagnostics(main, 'analysis to run', (d) => d.some((x) => x.code === 'struct-layout-changed'));
    assert.equal(await client.shutdown(), 0);
  });
});
