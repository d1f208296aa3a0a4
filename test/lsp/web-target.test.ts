// A Dioxus web app (wasm32-unknown-unknown) is not this engine's: startApp says so plainly and
// points to `dx serve`, before any build, instead of failing somewhere in the fat build.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestLspClient } from '../support/lsp-client';
import { tempProject, removeDir } from '../support/fixtures';

const MANIFEST = '[package]\nname = "web-app"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n';
const MAIN = 'fn main() {}\n';
const LOCK = (renderer: string) =>
  'version = 4\n\n' +
  ['dioxus', 'dioxus-core', renderer, 'web-app'].map((n) => `[[package]]\nname = "${n}"\nversion = "0.7.10"\n`).join('\n');

describe('startApp on a web (wasm) build', function () {
  this.timeout(120_000);
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach(removeDir));

  const start = async (files: Record<string, string>, settings: Record<string, unknown>) => {
    const dir = tempProject({ 'Cargo.toml': MANIFEST, 'src/main.rs': MAIN, ...files });
    dirs.push(dir);
    const client = new TestLspClient({ rootDir: dir, initializationOptions: { subsecond: settings } });
    await client.initialize();
    const r = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
    assert.equal(await client.shutdown(), 0);
    // Refused before the fat build: nothing was compiled.
    assert.ok(!fs.existsSync(path.join(dir, 'target', 'subsecond-lsp')), 'no build ran');
    return { r, client };
  };

  it('a wasm32 --target in cargoArgs: refused, pointing to dx serve', async () => {
    const { r, client } = await start({ 'Cargo.lock': LOCK('dioxus-web') }, { cargoArgs: ['--target', 'wasm32-unknown-unknown'] });
    assert.equal(r.ok, false);
    assert.match(r.message, /^cannot start web-app: the build target is wasm32-unknown-unknown \(a web build\): subsecond-lsp hot-patches native processes only\. For a Dioxus web app run `dx serve`/);
    assert.ok(client.statuses.some((s) => s.patch === 'failed' && /dx serve/.test(s.message)), 'the status says it too');
  });

  it('a Dioxus app with only the web renderer: refused the same way', async () => {
    const { r } = await start({ 'Cargo.lock': LOCK('dioxus-web') }, {});
    assert.equal(r.ok, false);
    assert.match(r.message, /renders only for the web .*Run `dx serve` for the web, or enable dioxus' `desktop` feature/);
  });
});
