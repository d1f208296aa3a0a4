// The shadow a speculative build compiles from: the mirror of the sources and the rustc call
// rewritten to it. Pure rewriting and file placement; the speculative build itself is tested
// against a real app in speculative.test.ts.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { shadowPathOf, shadowRecord, writeShadowSources, ShadowError, ShadowLayout } from '../../../server/src/engine/shadow';
import type { RustcRecord } from '../../../server/src/engine/recorder';
import { cleanupTmp, tmpDir } from './helpers';

function layoutIn(root: string): ShadowLayout {
  const spec = path.join(root, 'target', 'subsecond-lsp', 'app', 'speculative');
  return {
    workspaceRoot: root,
    targetDir: path.join(root, 'target'),
    sourcesDir: path.join(spec, 'src'),
    outDir: path.join(spec, 'out'),
    incrementalDir: path.join(spec, 'incremental'),
  };
}

function record(root: string, args: string[], cwd = root): RustcRecord {
  return { crateName: 'app', kind: 'bin', rustc: 'rustc', args, env: {}, cwd, pid: 1, time: 0 };
}

describe('engine: the shadow of a speculative build', () => {
  after(cleanupTmp);

  it('rewrites out-dir, incremental, extern of rebuilt crates and relative paths; keeps the relative crate root', () => {
    const root = '/ws';
    const l = layoutIn(root);
    const rebuilt = new Map([['/ws/target/debug/deps/libcore_lib-1.rlib', '/ws/target/subsecond-lsp/app/speculative/out/libcore_lib-1.rlib']]);
    const rec = record(root, [
      '--crate-name', 'app', '--edition=2021', 'src/main.rs', '--crate-type', 'bin', '--emit=dep-info,link',
      '-C', 'incremental=/ws/target/debug/incremental', '-Cincremental=/ws/target/debug/incremental',
      '--out-dir', '/ws/target/debug/deps', '-L', 'dependency=target/debug/deps', '-Lnative=vendor/lib',
      '--extern', 'renamed=/ws/target/debug/deps/libcore_lib-1.rlib', '--extern', 'other=target/debug/deps/libother-2.rlib',
      '-C', 'metadata=abc', '-C', 'linker=/shim',
    ]);
    const out = shadowRecord(rec, l, rebuilt);
    assert.equal(out.cwd, l.sourcesDir);
    assert.deepEqual(out.args, [
      '--crate-name', 'app', '--edition=2021', 'src/main.rs', '--crate-type', 'bin', '--emit=dep-info,link',
      '-C', `incremental=${l.incrementalDir}`, `-Cincremental=${l.incrementalDir}`,
      '--out-dir', l.outDir, '-L', 'dependency=/ws/target/debug/deps', '-Lnative=/ws/vendor/lib',
      // by the rlib's path, so a renamed dependency is found too
      '--extern', `renamed=${l.outDir}/libcore_lib-1.rlib`, '--extern', 'other=/ws/target/debug/deps/libother-2.rlib',
      '-C', 'metadata=abc', '-C', 'linker=/shim',
      `--remap-path-prefix=${l.sourcesDir}=/ws`,
    ]);
    assert.equal(rec.args[3], 'src/main.rs', 'the record itself is not changed');
  });

  it('maps an absolute crate root and a member cwd into the mirror; refuses what lies outside the workspace', () => {
    const l = layoutIn('/ws');
    const member = shadowRecord(record('/ws', ['/ws/member/src/lib.rs', '--out-dir', '/o'], '/ws/member'), l, new Map());
    assert.equal(member.cwd, path.join(l.sourcesDir, 'member'));
    assert.equal(member.args[0], path.join(l.sourcesDir, 'member', 'src', 'lib.rs'));
    assert.throws(() => shadowRecord(record('/ws', ['src/main.rs', '--out-dir', '/o'], '/elsewhere'), l, new Map()), ShadowError);
    assert.throws(() => shadowRecord(record('/ws', ['/elsewhere/src/main.rs', '--out-dir', '/o']), l, new Map()), /outside the workspace root/);
    assert.throws(() => shadowRecord(record('/ws', ['src/main.rs']), l, new Map()), /without --out-dir/);
    assert.throws(() => shadowRecord(record('/ws', ['@/tmp/args', '--out-dir', '/o']), l, new Map()), /argument file/);
    assert.equal(shadowPathOf(l, '/ws/target/debug/build/x/out/gen.rs'), undefined, 'generated files are read where they are');
  });

  it('mirrors inputs as symlinks and buffers as files, never touching the originals', () => {
    const root = tmpDir('shadow');
    const l = layoutIn(root);
    fs.mkdirSync(path.join(root, 'src'), { recursive: true });
    fs.writeFileSync(path.join(root, 'src', 'main.rs'), 'mod m;\nfn main() {}\n');
    fs.writeFileSync(path.join(root, 'src', 'm.rs'), 'pub fn f() {}\n');
    fs.writeFileSync(path.join(root, 'src', 'data.txt'), 'data');
    fs.mkdirSync(path.join(root, 'target', 'debug'), { recursive: true });
    fs.writeFileSync(path.join(root, 'target', 'debug', 'gen.rs'), '');
    const inputs = ['src/main.rs', 'src/m.rs', 'src/data.txt', 'target/debug/gen.rs'].map((f) => path.join(root, f));
    const placed = writeShadowSources(l, inputs, new Map([[path.join(root, 'src', 'm.rs'), 'pub fn f() { /* unsaved */ }\n']]));
    assert.equal(placed, 3);
    const mirror = (f: string) => path.join(l.sourcesDir, f);
    assert.equal(fs.readlinkSync(mirror('src/main.rs')), path.join(root, 'src', 'main.rs'));
    assert.equal(fs.readlinkSync(mirror('src/data.txt')), path.join(root, 'src', 'data.txt'));
    assert.equal(fs.lstatSync(mirror('src/m.rs')).isSymbolicLink(), false);
    assert.equal(fs.readFileSync(mirror('src/m.rs'), 'utf8'), 'pub fn f() { /* unsaved */ }\n');
    assert.equal(fs.readFileSync(path.join(root, 'src', 'm.rs'), 'utf8'), 'pub fn f() {}\n', 'the user file is untouched');
    assert.equal(fs.existsSync(mirror('target/debug/gen.rs')), false);
    // a second speculation starts from a clean mirror: an earlier buffer does not linger
    writeShadowSources(l, inputs, new Map());
    assert.equal(fs.lstatSync(mirror('src/m.rs')).isSymbolicLink(), true);
    assert.throws(() => writeShadowSources(l, [], new Map([['/elsewhere/x.rs', '']])), /outside the workspace root/);
  });
});
