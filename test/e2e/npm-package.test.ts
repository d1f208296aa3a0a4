// The npm package as a user gets it: `npm pack`, `npm install -g <tarball>` into an empty prefix,
// then the installed `subsecond-lsp` (not the repository's bin) serves LSP and runs an app.
// Nothing of the repository may be needed: the installed files must not name it, and the
// server's own files (compiled code, the grammar's wasm, the link shim) come from the package.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT, TestLspClient } from '../support/lsp-client';
import { prepareCounterFixture, ticksIn } from '../support/counter-fixture';
import { removeDir, tempProject, SINGLE_PACKAGE_MANIFEST } from '../support/fixtures';
import { pollUntil } from '../support/processes';
import { openDocHref } from '../support/doc-links';

/** The environment without what npm passes to scripts it runs (npm test sets npm_config_* for us). */
function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

function npm(args: string[], cwd: string, env: NodeJS.ProcessEnv): string {
  const r = spawnSync('npm', args, { cwd, env, encoding: 'utf8', timeout: 10 * 60_000 });
  assert.equal(r.status, 0, `npm ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function filesBelow(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

const MAIN = `pub struct App {
    pub count: u64,
}

fn main() {
    let app = App { count: 0 };
    println!("{}", app.count);
}
`;

describe('the npm package, installed from its tarball', function () {
  this.timeout(20 * 60_000);
  let work: string;
  let installed: string;
  let bin: string;
  let pathEnv: string;

  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'subsecond-lsp-npm-'));
    const prefix = path.join(work, 'prefix');
    fs.mkdirSync(prefix);
    const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', work], path.join(REPO_ROOT, 'server'), cleanEnv({}))) as Array<{ filename: string }>;
    assert.ok(!fs.existsSync(path.join(REPO_ROOT, 'server', 'dist')), 'postpack removed the build it made in the repository');
    // Installed from a directory the repository is not above, into a prefix that starts empty.
    npm(['install', '-g', '--no-audit', '--no-fund', path.join(work, packed[0].filename)], work, cleanEnv({ npm_config_prefix: prefix }));
    installed = path.join(prefix, 'lib', 'node_modules', 'subsecond-lsp');
    bin = path.join(prefix, 'bin', 'subsecond-lsp');
    pathEnv = `${path.join(prefix, 'bin')}${path.delimiter}${process.env.PATH ?? ''}`;
  });

  after(() => removeDir(work));

  it('holds the compiled server and the grammar, needs no native build, and names no repository path', () => {
    assert.ok(fs.existsSync(path.join(installed, 'dist', 'cli.js')));
    assert.ok(fs.existsSync(path.join(installed, 'dist', 'engine', 'link-shim-main.js')));
    assert.ok(fs.existsSync(path.join(installed, 'dist', 'grammar', 'tree-sitter-rust.wasm')));
    assert.ok(!fs.existsSync(path.join(installed, 'node_modules', 'tree-sitter-rust')), 'the grammar is shipped, not built on install');
    for (const w of ['subsecond_debuginfo.wasm', 'subsecond_rsx_templates.wasm'])
      assert.ok(fs.existsSync(path.join(installed, 'dist', 'wasm', w)), `dist/wasm/${w} is shipped`);
    // The rsx! template module answers from the package's own wasm.
    const rsx = require(path.join(installed, 'dist', 'support', 'rsx-templates.js')) as typeof import('../../server/src/support/rsx-templates');
    const app = 'fn app() -> Element { rsx! { h1 { "Hello" } } }';
    const update = rsx.rsxTemplateUpdate(app, app.replace('Hello', 'Hi'), 'src/main.rs');
    assert.equal(update.kind, 'templates', JSON.stringify(update));
    assert.ok(!fs.existsSync(path.join(installed, 'src')), 'TypeScript sources are not shipped');
    for (const doc of ['findings.md', 'configuration.md', 'protocol.md'])
      assert.equal(fs.readFileSync(path.join(installed, 'docs', doc), 'utf8'), fs.readFileSync(path.join(REPO_ROOT, 'docs', doc), 'utf8'), `docs/${doc} is shipped`);
    assert.ok(!fs.existsSync(path.join(REPO_ROOT, 'server', 'docs')), 'postpack removed the docs it copied');
    const manifest = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')) as Record<string, unknown>;
    for (const k of ['repository', 'homepage', 'bugs']) assert.equal(manifest[k], undefined, `no invented "${k}" address`);
    for (const f of filesBelow(path.join(installed, 'dist')).filter((f) => f.endsWith('.js')))
      assert.ok(!fs.readFileSync(f, 'utf8').includes(REPO_ROOT), `${f} names the repository`);
    const version = spawnSync(bin, ['--version'], { encoding: 'utf8', cwd: work, env: cleanEnv({ PATH: pathEnv }) });
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'server', 'package.json'), 'utf8')) as { version: string };
    assert.equal(version.stdout.trim(), pkg.version);
  });

  it('serves LSP: initialize, then a struct-layout warning on save', async () => {
    const dir = tempProject({ 'Cargo.toml': SINGLE_PACKAGE_MANIFEST, 'src/main.rs': MAIN });
    const mainRs = path.join(dir, 'src', 'main.rs');
    const client = new TestLspClient({ rootDir: dir, serverCommand: bin, env: cleanEnv({ PATH: pathEnv }) });
    try {
      const init = (await client.initialize()) as { capabilities: unknown; serverInfo?: { name: string } };
      assert.equal(init.serverInfo?.name, 'subsecond-lsp');
      await client.open(mainRs, MAIN);
      await client.changeAndSave(mainRs, MAIN.replace('pub count: u64,', 'pub count: u64,\n    pub extra: bool,').replace('count: 0 }', 'count: 0, extra: false }'));
      const d = await client.waitForDiagnostics(mainRs, 'a struct-layout-changed warning', (ds) => ds.some((x) => x.code === 'struct-layout-changed'));
      const warning = d.find((x) => x.code === 'struct-layout-changed')!;
      assert.equal(warning.severity, 2);
      // The link leads into the installed package's own docs, to the code's section.
      const doc = openDocHref(warning.codeDescription?.href ?? '');
      assert.equal(fs.realpathSync(doc.file), fs.realpathSync(path.join(installed, 'docs', 'findings.md')));
      assert.equal(doc.heading, 'struct-layout-changed');
    } finally {
      assert.equal(await client.shutdown(), 0, `server exit code (stderr: ${client.stderr.slice(-500)})`);
      removeDir(dir);
    }
  });

  it('runs an app from the terminal and patches it (the link shim and recorder come from the package)', async () => {
    const fx = prepareCounterFixture();
    let out = '';
    const child: ChildProcess = spawn(bin, ['run', '--manifest-path', path.join(fx.counterDir, 'Cargo.toml')], {
      cwd: fx.counterDir,
      env: cleanEnv({ PATH: pathEnv }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    const waitFor = <T>(what: string, check: () => T | undefined | false, ms = 180_000) => pollUntil(what, check, ms, () => `output:\n${out.slice(-3000)}`);
    const lines = () => out.split('\n').map((l) => l.replace(/^.*?app │ /, '[app stdout] '));
    try {
      const first = await waitFor('the first tick', () => ticksIn(lines())[0], 15 * 60_000);
      await waitFor('the watcher', () => /watching for saves/.test(out));
      fs.writeFileSync(fx.mainRs, fs.readFileSync(fx.mainRs, 'utf8').replace('"tip-v1"', '"tip-installed"'));
      const patched = await waitFor('tip=tip-installed', () => ticksIn(lines()).find((t) => t.tip === 'tip-installed'));
      assert.equal(patched.pid, first.pid, 'patched in place');
      // the layout gate runs from the package too (its wasm module and its worker thread)
      await waitFor('the layouts verified', () => /layouts verified \(\d+ compared\)/.test(out));
    } finally {
      const exited = new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)));
      child.kill('SIGINT');
      assert.equal(await exited, 130);
    }
  });
});
