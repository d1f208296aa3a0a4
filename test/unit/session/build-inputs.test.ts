// What a saved file means for the build beyond a crate's Rust code: restart findings for edits a
// patch cannot carry (comment-only edits excepted), compile-time inputs from dep-info, the lib
// crates to replay, and files that are not part of the running app. Real `cargo metadata`; the
// fat build is stood in for by records and a dep-info file written here.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FatBuild } from '../../../server/src/engine';
import { BuildInputs } from '../../../server/src/session/build-inputs';
import { loadWorkspace, WorkspaceModel, BinTarget } from '../../../server/src/workspace/cargo-workspace';
import { tempProject, removeDir } from '../../support/fixtures';

describe('session/build-inputs', function () {
  this.timeout(60_000);
  let dir: string;
  let ws: WorkspaceModel;
  let bin: BinTarget;
  let inputs: BuildInputs;
  const f = (rel: string) => path.join(dir, rel);
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(f(rel)), { recursive: true });
    fs.writeFileSync(f(rel), text);
  };
  const original = new Map<string, string>();
  const restore = (rel: string) => write(rel, original.get(rel)!);

  before(async () => {
    dir = tempProject({
      'Cargo.toml': '[workspace]\nmembers = [".", "macros"]\n\n[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\nbuild = "build.rs"\n\n[dependencies]\nmacros = { path = "macros" }\n\n[[bin]]\nname = "app"\npath = "src/main.rs"\n\n[[bin]]\nname = "tool"\npath = "tools/tool.rs"\n',
      'Cargo.lock': '# lock\nversion = 4\n',
      'build.rs': 'fn main() {\n    println!("cargo:rustc-env=X=1");\n}\n',
      'src/lib.rs': 'pub fn f() -> &\'static str { include_str!("../data/motd.txt") }\n',
      'src/main.rs': 'mod view;\nfn main() {}\n',
      'src/view.rs': '',
      'tools/tool.rs': 'fn main() {}\n',
      'tests/it.rs': '',
      'data/motd.txt': 'v1',
      'macros/Cargo.toml': '[package]\nname = "macros"\nversion = "0.1.0"\nedition = "2021"\n[lib]\nproc-macro = true\n',
      'macros/src/lib.rs': 'pub fn helper() -> u32 {\n    1\n}\n',
    });
    for (const rel of ['Cargo.toml', 'Cargo.lock', 'build.rs', 'macros/src/lib.rs']) original.set(rel, fs.readFileSync(f(rel), 'utf8'));
    const load = await loadWorkspace(f('Cargo.toml'));
    assert.ok(load.ok, !load.ok ? load.message : '');
    ws = load.model;
    bin = ws.bins().find((b) => b.binName === 'app')!;
    inputs = new BuildInputs(() => ws);
  });
  after(() => dir && removeDir(dir));

  it('without a running app, nothing is a finding', () => {
    write('Cargo.toml', `${original.get('Cargo.toml')}\n[features]\nx = []\n`);
    assert.equal(inputs.changed(f('Cargo.toml')), 'none');
    assert.deepEqual(inputs.findings(), []);
    restore('Cargo.toml');
  });

  it('knows what to watch: Rust files, manifests, the lock file, cargo configs; not arbitrary files yet', () => {
    for (const rel of ['src/lib.rs', 'Cargo.toml', 'macros/Cargo.toml', 'Cargo.lock', '.cargo/config.toml', 'rust-toolchain.toml']) assert.ok(inputs.isWatched(f(rel)), rel);
    assert.equal(inputs.isWatched(f('data/motd.txt')), false, 'a data file is known only from dep-info');
    assert.equal(inputs.isWatched(f('README.md')), false);
  });

  it('a manifest edit is a restart finding on the changed line that says what changed; a comment is not; a revert clears it', () => {
    inputs.takeBaseline();
    inputs.ownBuildEnded();
    write('Cargo.toml', original.get('Cargo.toml')!.replace('edition = "2021"', 'edition = "2021" # comment\n# a whole comment line'));
    assert.equal(inputs.changed(f('Cargo.toml')), 'none');
    const edited = original.get('Cargo.toml')!.replace('[dependencies]\n', '[dependencies]\nlog = "0.4"\n');
    write('Cargo.toml', edited);
    assert.equal(inputs.changed(f('Cargo.toml')), 'restart');
    const [finding] = inputs.findings();
    assert.equal(finding.code, 'manifest-changed');
    assert.equal(finding.severity, 'restart');
    assert.equal(finding.range.start.line, edited.split('\n').indexOf('log = "0.4"'));
    assert.match(finding.message, /dependencies changed/);
    assert.match(finding.message, /Requires restart/);
    const [problem] = inputs.problemsFor(f('Cargo.toml'));
    assert.equal(problem.requiresRestart, true);
    assert.equal(problem.code, 'manifest-changed');
    restore('Cargo.toml');
    assert.equal(inputs.changed(f('Cargo.toml')), 'none');
    assert.deepEqual(inputs.findings(), []);
  });

  it('features, the lock file, a new cargo config, a build script and a proc-macro crate: each its own finding', () => {
    inputs.takeBaseline();
    inputs.ownBuildEnded();
    write('Cargo.toml', `${original.get('Cargo.toml')}\n[features]\nloud = []\n`);
    assert.equal(inputs.changed(f('Cargo.toml')), 'restart');
    assert.match(inputs.problemsFor(f('Cargo.toml'))[0].message, /features changed/);
    write('Cargo.lock', '# lock\nversion = 4\n[[package]]\nname = "x"\n');
    assert.equal(inputs.changed(f('Cargo.lock')), 'restart');
    write('.cargo/config.toml', '[build]\nrustflags = ["-Copt-level=1"]\n');
    assert.equal(inputs.changed(f('.cargo/config.toml')), 'restart');
    write('build.rs', original.get('build.rs')!.replace('// nothing', '').replace('{\n', '{\n    // only a comment\n'));
    assert.equal(inputs.changed(f('build.rs')), 'none', 'a comment in build.rs changes nothing');
    write('build.rs', original.get('build.rs')!.replace('X=1', 'X=2'));
    assert.equal(inputs.changed(f('build.rs')), 'restart');
    write('macros/src/lib.rs', original.get('macros/src/lib.rs')!.replace('1', '2'));
    // the layout gate judges a proc-macro edit: rebuilt (with the crates that expand it), no finding
    assert.equal(inputs.changed(f('macros/src/lib.rs')), 'rebuild');
    assert.equal(inputs.isProcMacroInput(f('macros/src/lib.rs')), true);
    assert.deepEqual(inputs.cratesToRebuild([f('macros/src/lib.rs')], bin), ['macros']);
    assert.ok(!inputs.findings().some((x) => x.code === 'proc-macro-changed'));
    // until the gate cannot vouch for it: then a restart finding again, saying why
    assert.deepEqual(inputs.procMacroEditsUngated([f('macros/src/lib.rs')], 'layouts unverified: no types'), [f('macros/src/lib.rs')]);
    const codes = inputs.findings().map((x) => x.code).sort();
    assert.deepEqual(codes, ['build-script-changed', 'cargo-config-changed', 'lockfile-changed', 'manifest-changed', 'proc-macro-changed']);
    const macro = inputs.findings().find((x) => x.code === 'proc-macro-changed')!;
    assert.equal(macro.item, 'macros');
    assert.match(macro.message, /layouts unverified: no types/);
    assert.equal(inputs.changed(f('macros/src/lib.rs')), 'restart', 'it stands until the next fat build');
    assert.equal(inputs.changed(f('src/lib.rs')), 'rebuild');
    // a new fat build starts from what is on disk: no findings
    inputs.takeBaseline();
    assert.deepEqual(inputs.findings(), []);
    write('macros/src/lib.rs', original.get('macros/src/lib.rs')!.replace('1', '3'));
    assert.equal(inputs.changed(f('macros/src/lib.rs')), 'rebuild', 'gated again after a new fat build');
    for (const rel of ['Cargo.toml', 'Cargo.lock', 'build.rs', 'macros/src/lib.rs']) restore(rel);
    fs.rmSync(f('.cargo'), { recursive: true });
  });

  it('a Cargo.lock our own build writes is the baseline, a later edit of it a restart finding', () => {
    const lock = f('Cargo.lock');
    fs.rmSync(lock); // an app that never had one
    inputs.takeBaseline();
    write('Cargo.lock', '# written by cargo during the fat build\nversion = 4\n');
    assert.equal(inputs.changed(lock), 'none', 'cargo writing the lock file during our build is no change');
    assert.deepEqual(inputs.findings(), []);
    inputs.ownBuildEnded();
    assert.equal(inputs.changed(lock), 'none', 'what the build left is the baseline');
    write('Cargo.lock', '# written by cargo during the fat build\nversion = 4\n[[package]]\nname = "x"\n');
    assert.equal(inputs.changed(lock), 'restart');
    assert.deepEqual(inputs.findings().map((x) => x.code), ['lockfile-changed']);
    // a failed build ends too: the next one starts over
    inputs.takeBaseline();
    assert.deepEqual(inputs.findings(), []);
    restore('Cargo.lock');
    inputs.ownBuildEnded();
    assert.equal(inputs.changed(lock), 'none');
  });

    it('lib crates to replay and files outside the app, from module trees', () => {
    assert.deepEqual(inputs.cratesToRebuild([f('src/lib.rs')], bin), ['app']);
    assert.deepEqual(inputs.cratesToRebuild([f('src/main.rs'), f('src/view.rs')], bin), []);
    assert.deepEqual(inputs.outsideApp([f('src/lib.rs'), f('src/view.rs'), f('tools/tool.rs'), f('tests/it.rs')], bin), [f('tools/tool.rs'), f('tests/it.rs')]);
  });

  it("dep-info: a data file read with include_str! is its crate's compile-time input, watched and rebuilt", () => {
    const outDir = f('target/debug/deps');
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, 'app-0123.d'), `${outDir}/libapp-0123.rlib: src/lib.rs data/motd.txt\n\nsrc/lib.rs:\ndata/motd.txt:\n`);
    const rec = (crateName: string, kind: string) => ({
      crateName, kind, rustc: 'rustc', args: ['--crate-name', crateName, '--emit=dep-info,metadata,link', '-C', 'extra-filename=-0123', '--out-dir', outDir], env: {}, cwd: dir, pid: 1, time: 0,
    });
    const fake = { records: { 'app.lib': rec('app', 'lib') } } as unknown as FatBuild;
    inputs.takeBaseline();
    const live = inputs.builtFrom(fake);
    assert.deepEqual([...live.keys()], [f('data/motd.txt')]);
    assert.deepEqual(inputs.compileTimeInputs(), [f('data/motd.txt')]);
    assert.equal(inputs.kindOf(f('data/motd.txt')), 'compile-time-input');
    assert.ok(inputs.isWatched(f('data/motd.txt')));
    assert.ok(inputs.filesToWatch().includes(f('data/motd.txt')));
    assert.equal(inputs.changed(f('data/motd.txt')), 'rebuild');
    assert.deepEqual(inputs.cratesToRebuild([f('data/motd.txt')], bin), ['app']);
    assert.deepEqual(inputs.outsideApp([f('data/motd.txt')], bin), []);
  });
});

describe('session/build-inputs: what runs at build time', function () {
  this.timeout(60_000);
  let dir: string;
  let ws: WorkspaceModel;
  let inputs: BuildInputs;
  const f = (rel: string) => path.join(dir, rel);
  const write = (rel: string, text: string) => fs.writeFileSync(f(rel), text);

  before(async () => {
    dir = tempProject({
      'Cargo.toml':
        '[workspace]\nmembers = [".", "gen", "macros", "helper"]\n\n[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\nbuild = "build.rs"\n\n' +
        '[dependencies]\nmacros = { path = "macros" }\n\n[build-dependencies]\ngen = { path = "gen" }\n',
      'build.rs': 'fn main() {}\n',
      'src/main.rs': 'fn main() {}\n',
      'data/list.txt': 'a,b\n',
      'schema/one.txt': '1\n',
      'schema/deep/two.txt': '2\n',
      'gen/Cargo.toml': '[package]\nname = "gen"\nversion = "0.1.0"\nedition = "2021"\n',
      'gen/src/lib.rs': 'pub fn schema() -> &\'static str {\n    "v1"\n}\n',
      'macros/Cargo.toml': '[package]\nname = "macros"\nversion = "0.1.0"\nedition = "2021"\n[lib]\nproc-macro = true\n\n[dependencies]\nhelper = { path = "../helper" }\n',
      'macros/src/lib.rs': '',
      'helper/Cargo.toml': '[package]\nname = "helper"\nversion = "0.1.0"\nedition = "2021"\n',
      'helper/src/lib.rs': 'pub fn h() -> u32 {\n    1\n}\n',
    });
    const load = await loadWorkspace(f('Cargo.toml'));
    assert.ok(load.ok, !load.ok ? load.message : '');
    ws = load.model;
    inputs = new BuildInputs(() => ws);
    // What cargo leaves after running app's build script (relative paths: the package root).
    const out = f('target/debug/build/app-0123456789abcdef');
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, 'output'), 'cargo:rustc-env=X=1\ncargo:rerun-if-changed=build.rs\ncargo:rerun-if-changed=data/list.txt\ncargo::rerun-if-changed=schema\n');
    const fake = {
      records: {},
      packageName: 'app',
      buildScripts: [{ packageId: `path+file://${dir}#app@0.1.0`, outputFile: path.join(out, 'output') }],
    } as unknown as FatBuild;
    inputs.takeBaseline();
    inputs.builtFrom(fake);
  });
  after(() => dir && removeDir(dir));

  it('a file a build script reads is a restart finding naming the file and the script; a directory stands for its files', () => {
    for (const rel of ['data/list.txt', 'schema/one.txt', 'schema/deep/two.txt']) {
      assert.equal(inputs.kindOf(f(rel)), 'build-script-input', rel);
      assert.ok(inputs.filesToWatch().includes(f(rel)), rel);
    }
    assert.equal(inputs.kindOf(f('build.rs')), 'build-script', 'the script itself stays a build script');
    write('data/list.txt', 'a,b,c\n');
    assert.equal(inputs.changed(f('data/list.txt')), 'restart');
    const finding = inputs.findings().find((x) => x.file === f('data/list.txt'));
    assert.equal(finding?.code, 'build-script-input-changed');
    assert.match(finding!.message, /^data\/list\.txt is read by the build script of `app` \(cargo:rerun-if-changed\).*Requires restart\.$/);
    write('data/list.txt', 'a,b\n');
    assert.equal(inputs.changed(f('data/list.txt')), 'none', 'reverted');
    assert.deepEqual(inputs.findings(), []);
  });

  it("a build-dependency's and a proc-macro dependency's code is a restart finding naming it; comments are not", () => {
    write('gen/src/lib.rs', 'pub fn schema() -> &\'static str {\n    "v2"\n}\n');
    assert.equal(inputs.changed(f('gen/src/lib.rs')), 'restart');
    const gen = inputs.findings().find((x) => x.file === f('gen/src/lib.rs'));
    assert.equal(gen?.code, 'build-dependency-changed');
    assert.match(gen!.message, /^`gen` is a build-dependency of `app`'s build script: .*Requires restart/);
    write('gen/src/lib.rs', 'pub fn schema() -> &\'static str {\n    // only a comment\n    "v1"\n}\n');
    assert.equal(inputs.changed(f('gen/src/lib.rs')), 'none');
    write('helper/src/lib.rs', 'pub fn h() -> u32 {\n    2\n}\n');
    assert.equal(inputs.changed(f('helper/src/lib.rs')), 'restart');
    assert.match(inputs.findings().find((x) => x.file === f('helper/src/lib.rs'))!.message, /^`helper` is a dependency of the proc-macro crate `macros`/);
    assert.equal(inputs.changed(f('src/main.rs')), 'rebuild', "the app's own code is patched as ever");
  });
});
