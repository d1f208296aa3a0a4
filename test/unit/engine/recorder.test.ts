// The generated shims run for real (with a fake rustc), and the pure helpers around them:
// records, response files, fat-link rewriting, kept link args, rebuild order, diagnostics.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseRustcStderr, stripAnsi, summarizeErrors } from '../../../server/src/engine/diagnostics';
import { demangle } from '../../../server/src/engine/demangle';
import { bustFingerprints, profileDirFor } from '../../../server/src/engine/fat-build';
import { planFatLink, userLinker } from '../../../server/src/engine/fat-link';
import { x86TpOffset } from '../../../server/src/engine/fixups';
import { keptLinkArgs, explainLinkError, linkPatch, linkerCandidates } from '../../../server/src/engine/linker';
import {
  ENV_LINK_MODE, ENV_OBJDIR, ENV_RECORD_DIR, expandResponseFiles, installShims, readRecords, recordRlib, rustcOption, selectRecords, splitNul,
} from '../../../server/src/engine/recorder';
import { rebuildOrder, replayEnv } from '../../../server/src/engine/thin-build';
import { cleanupTmp, tmpDir } from './helpers';

describe('engine/recorder and shims', function () {
  this.timeout(600000); // real builds on a shared 2-core machine: generous, never asserted
  let dir: string;
  let shims: ReturnType<typeof installShims>;
  let fakeRustc: string;
  before(function () {
    dir = tmpDir('rec');
    shims = installShims(path.join(dir, 'session'));
    fakeRustc = path.join(dir, 'rustc');
    fs.writeFileSync(fakeRustc, '#!/bin/sh\necho "ran $#"\n', { mode: 0o755 });
  });
  after(cleanupTmp);

  function runRecorder(args: string[], extraEnv: Record<string, string> = {}) {
    return spawnSync(shims.recorder, [fakeRustc, ...args], {
      cwd: dir,
      env: { ...process.env, [ENV_RECORD_DIR]: shims.recordDir, CARGO_MAKEFLAGS: '-j --jobserver-fds=3,4', ...extraEnv },
      encoding: 'utf8',
    });
  }

  it('recorder: saves rustc, args (verbatim), env and cwd per crate, then runs rustc', function () {
    const args = ['--crate-name', 'my_lib', '--edition=2021', 'src/lib.rs', '--crate-type', 'lib', '--out-dir', '/t/deps', '-C', 'extra-filename=-abc', 'arg with  spaces', "quote'd"];
    const r = runRecorder(args, { MULTI: 'line1\nline2' });
    assert.equal(r.status, 0);
    assert.equal(r.stdout.trim(), `ran ${args.length}`);
    runRecorder(['--crate-name', '___', '--crate-type', 'proc-macro']); // cargo's probe: not recorded
    runRecorder(['--crate-name', 'build_script_build', '--crate-type', 'bin']);
    const recs = readRecords(shims.recordDir);
    assert.equal(recs.length, 1);
    const rec = recs[0];
    assert.equal(rec.crateName, 'my_lib');
    assert.equal(rec.kind, 'lib');
    assert.equal(rec.rustc, fakeRustc);
    assert.deepEqual(rec.args, args);
    assert.equal(rec.cwd, fs.realpathSync(dir));
    assert.equal(rec.env.MULTI, 'line1\nline2');
    assert.equal(recordRlib(rec), '/t/deps/libmy_lib-abc.rlib');
    // replays drop cargo's jobserver and our own variables
    const env = replayEnv({ ...rec.env, SUBSECOND_LSP_FOO: '1', RUSTC_WORKSPACE_WRAPPER: 'x' }, { EXTRA: '1' });
    assert.equal(env.CARGO_MAKEFLAGS, undefined);
    assert.equal(env.RUSTC_WORKSPACE_WRAPPER, undefined);
    assert.equal(env.SUBSECOND_LSP_FOO, undefined);
    assert.equal(env.EXTRA, '1');
  });

  it('recorder: keeps a copy of cargo @argfiles (cargo deletes them)', function () {
    const argfile = path.join(dir, 'args.txt');
    fs.writeFileSync(argfile, '--crate-name\nbig_bin\n--crate-type\nbin\nsrc/main.rs\n');
    assert.equal(runRecorder([`@${argfile}`]).status, 0);
    fs.rmSync(argfile);
    const rec = readRecords(shims.recordDir).find((r) => r.crateName === 'big_bin');
    assert.ok(rec, 'crate name found inside the argfile');
    assert.equal(rec.kind, 'bin');
    assert.deepEqual(rec.args, ['--crate-name', 'big_bin', '--crate-type', 'bin', 'src/main.rs']);
  });

  it('capture shim: hard-links the objects (response files too), records args, never creates -o', function () {
    const objdir = path.join(dir, 'captured');
    const src = path.join(dir, 'deps dir');
    fs.mkdirSync(src, { recursive: true });
    for (const f of ['a.rcgu.o', 'b.rcgu.o', 'symbols.o', 'c.rcgu.o']) fs.writeFileSync(path.join(src, f), f);
    const rsp = path.join(dir, 'linker-args');
    fs.writeFileSync(rsp, `${path.join(src, 'c.rcgu.o').replace(/([\\ ])/g, '\\$1')}\n-lc\n`);
    const out = path.join(dir, 'out-binary');
    const r = spawnSync(shims.linkShim, ['-m64', path.join(src, 'a.rcgu.o'), path.join(src, 'symbols.o'), path.join(src, 'b.rcgu.o'), `@${rsp}`, '-o', out], {
      env: { ...process.env, [ENV_LINK_MODE]: 'capture', [ENV_OBJDIR]: objdir },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(fs.existsSync(out), false);
    assert.deepEqual(fs.readdirSync(objdir).sort(), ['a.rcgu.o', 'b.rcgu.o', 'c.rcgu.o', 'link-args', 'symbols.o']);
    assert.equal(fs.readFileSync(path.join(objdir, 'c.rcgu.o'), 'utf8'), 'c.rcgu.o');
    const recorded = splitNul(fs.readFileSync(path.join(objdir, 'link-args'), 'utf8'));
    assert.deepEqual(recorded, ['-m64', path.join(src, 'a.rcgu.o'), path.join(src, 'symbols.o'), path.join(src, 'b.rcgu.o'), path.join(src, 'c.rcgu.o'), '-lc', '-o', out]);
    // hard links: same inode, no copy
    assert.equal(fs.statSync(path.join(objdir, 'a.rcgu.o')).ino, fs.statSync(path.join(src, 'a.rcgu.o')).ino);
  });

  it('capture shim fails clearly without an object directory', function () {
    const r = spawnSync(shims.linkShim, ['x.o'], { env: { ...process.env, [ENV_LINK_MODE]: 'capture', [ENV_OBJDIR]: '' }, encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /SUBSECOND_LSP_OBJDIR is not set/);
  });

  it('response files: rustc GNU-style escapes', function () {
    const files: Record<string, string> = { '/r': 'a\\ b.o\nc\\\\d\n-lc\n' };
    assert.deepEqual(expandResponseFiles(['x', '@/r', '@/missing'], (p) => {
      if (!(p in files)) throw new Error('ENOENT');
      return files[p];
    }), ['x', 'a b.o', 'c\\d', '-lc', '@/missing']);
  });

  it('rustc options and record selection', function () {
    const args = ['-C', 'extra-filename=-1', '-Cextra-filename=-2', '--out-dir=/o', '--crate-name', 'x'];
    assert.equal(rustcOption(args, '-C extra-filename'), '-2');
    assert.equal(rustcOption(args, '--out-dir'), '/o');
    const mk = (extra: string, time: number) => ({ crateName: 'w', kind: 'lib', rustc: 'r', args: ['--out-dir', '/d', '-C', `extra-filename=${extra}`], env: {}, cwd: '/', pid: time, time });
    const host = mk('-host', 1);
    const target = mk('-target', 2);
    assert.equal(selectRecords([host, target], new Set())['w.lib'], target, 'latest wins by default');
    assert.equal(selectRecords([target, host], new Set(['/d/libw-target.rlib']))['w.lib'], target, 'the linked rlib wins');
  });

  it('fat link: whole-archive for workspace/registry rlibs only, --export-dynamic added', function () {
    const members: Record<string, string[]> = {
      '/ws/target/debug/deps/libwslib-1.rlib': ['lib.rmeta', 'wslib-1.a.rcgu.o', 'wslib-1.b.rcgu.o'],
      '/reg/target/debug/deps/libzsys-2.rlib': ['lib.rmeta', 'zsys-2.rcgu.o', 'adler32.o'],
    };
    const plan = planFatLink(
      ['-m64', 'x.rcgu.o', '/ws/target/debug/deps/libwslib-1.rlib', '/reg/target/debug/deps/libzsys-2.rlib', '/rust/lib/rustlib/x86_64-unknown-linux-gnu/lib/libstd-3.rlib', '-B/rust/lib/rustlib/x/bin/gcc-ld', '-fuse-ld=lld', '-o', 'out'],
      (p) => members[p],
    );
    assert.deepEqual(plan.finalArgs, [
      '-m64', 'x.rcgu.o',
      '-Wl,--whole-archive', '/ws/target/debug/deps/libwslib-1.rlib', '-Wl,--no-whole-archive',
      '/reg/target/debug/deps/libzsys-2.rlib',
      '/rust/lib/rustlib/x86_64-unknown-linux-gnu/lib/libstd-3.rlib',
      '-B/rust/lib/rustlib/x/bin/gcc-ld', '-fuse-ld=lld', '-o', 'out', '-Wl,--export-dynamic',
    ]);
    assert.deepEqual(plan.wholeArchived, ['/ws/target/debug/deps/libwslib-1.rlib']);
    assert.equal(userLinker(['-C', 'linker=clang', '-C', 'linker=/s/bin/subsecond-link-shim'], '/s/bin/subsecond-link-shim'), 'clang');
    assert.equal(userLinker(['-C', 'linker=/s/bin/subsecond-link-shim'], '/s/bin/subsecond-link-shim'), undefined);
  });

  it('patch link keeps target flags, existing -L dirs and dynamic -l libraries only', function () {
    const kept = keptLinkArgs(['-m64', 'a.o', '-Wl,-Bstatic', '-lstaticfoo', '/x/libstd.rlib', '-Wl,-Bdynamic', '-lgcc_s', '-lc', '-L', '/nonexistent-dir-xyz', '-L', '/tmp', '-L/usr', '-o', 'out', '-pie']);
    assert.deepEqual(kept, ['-m64', '-lgcc_s', '-lc', '-L', '/tmp', '-L/usr']);
    assert.match(explainLinkError('relocation R_X86_64_TPOFF32 against foo cannot be used with -shared') ?? '', /thread_local/);
  });

  it('linking without any usable linker fails clearly', async function () {
    const r = await linkPatch({ driver: 'cc', candidates: [], objects: [], output: path.join(dir, 'x.so'), keptArgs: [], cwd: dir });
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.message, /no usable linker found/);
    assert.deepEqual(linkerCandidates({ envPath: '/nonexistent' }), []);
    const bad = await linkPatch({ driver: '/nonexistent/cc', candidates: [{ kind: 'gnu-ld', flags: [] }], objects: [], output: path.join(dir, 'y.so'), keptArgs: [], cwd: dir });
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.match(bad.message, /cannot run the linker driver/);
  });

  it('rebuild order: changed crates, then dependents, dependencies first (diamond)', function () {
    // c depends on a and b; b depends on a; app depends on c
    const crates = { a: [], b: ['a'], c: ['a', 'b'], app: ['c'], other: [] };
    assert.deepEqual(rebuildOrder(crates, ['a'], new Set(['app'])), ['a', 'b', 'c']);
    assert.deepEqual(rebuildOrder(crates, ['b'], new Set(['app'])), ['b', 'c']);
    assert.deepEqual(rebuildOrder(crates, ['app'], new Set(['app'])), []);
  });

  it('rustc JSON diagnostics: absolute paths, no ANSI, artifacts apart', function () {
    const diag = {
      $message_type: 'diagnostic',
      message: 'mismatched types',
      code: { code: 'E0308', explanation: null },
      level: 'error',
      spans: [{ file_name: 'app/src/main.rs', line_start: 3, line_end: 3, column_start: 5, column_end: 9, is_primary: true, label: 'expected `i32`' }],
      children: [{ message: 'note', code: null, level: 'note', spans: [], children: [], rendered: null }],
      rendered: '\u001b[0m\u001b[1m\u001b[38;5;9merror[E0308]\u001b[0m: mismatched types',
    };
    const stderr = [JSON.stringify(diag), '{"artifact":"/t/deps/x.d","emit":"dep-info"}', 'thread panicked', ''].join('\n');
    const r = parseRustcStderr(stderr, '/ws');
    assert.equal(r.diagnostics.length, 1);
    const d = r.diagnostics[0];
    assert.equal(d.spans[0].file_name, '/ws/app/src/main.rs');
    assert.equal(d.code?.code, 'E0308');
    assert.equal(d.rendered, 'error[E0308]: mismatched types');
    assert.equal(d.children.length, 1);
    assert.deepEqual(r.artifacts, [{ artifact: '/t/deps/x.d', emit: 'dep-info' }]);
    assert.deepEqual(r.text, ['thread panicked']);
    assert.equal(summarizeErrors(r.diagnostics, []), 'mismatched types (/ws/app/src/main.rs:3:5)');
    assert.equal(stripAnsi('\u001b[1mbold\u001b[0m'), 'bold');
  });

  it('profile dirs and fingerprint busting', function () {
    assert.equal(profileDirFor('/t'), '/t/debug');
    assert.equal(profileDirFor('/t', ['--release']), '/t/release');
    assert.equal(profileDirFor('/t', ['--profile', 'fast', '--target', 'aarch64-unknown-linux-gnu']), '/t/aarch64-unknown-linux-gnu/fast');
    // build.target in cargo's config puts the build under the triple too; --target wins over it
    assert.equal(profileDirFor('/t', [], 'aarch64-unknown-linux-gnu'), '/t/aarch64-unknown-linux-gnu/debug');
    assert.equal(profileDirFor('/t', ['--target', 'x86_64-unknown-linux-gnu'], 'aarch64-unknown-linux-gnu'), '/t/x86_64-unknown-linux-gnu/debug');
    const fp = path.join(dir, 'target', 'debug', '.fingerprint');
    for (const d of ['my-lib-0123456789abcdef', 'app-fedcba9876543210', 'serde-0123456789abcdef']) fs.mkdirSync(path.join(fp, d), { recursive: true });
    const removed = bustFingerprints(path.join(dir, 'target', 'debug'), ['my_lib', 'app']).sort();
    assert.deepEqual(removed, ['app-fedcba9876543210', 'my-lib-0123456789abcdef']);
    assert.deepEqual(fs.readdirSync(fp), ['serde-0123456789abcdef']);
  });

  it('demangles legacy Rust names for notes; TLS offsets follow x86-64 variant II', function () {
    assert.equal(demangle('_ZN3app7TIP_TLS29_$u7b$$u7b$constant$u7d$$u7d$17he9c5337b57a98cdfE'), 'app::TIP_TLS::{{constant}}');
    // `$u8$` inside `$LT$u8$GT$` is a type name, not an escape (a real rustc 1.95 symbol)
    assert.equal(demangle('_ZN1g1b37_$LT$impl$u20$g..a..Foo$LT$u8$GT$$GT$4name17h9db5d9238cb74dd8E'), 'g::b::<impl g::a::Foo<u8>>::name');
    assert.equal(demangle('_ZN4core3ptr42drop_in_place$LT$alloc..string..String$GT$17h0123456789abcdefE.llvm.123'), 'core::ptr::drop_in_place<alloc::string::String>');
    assert.equal(demangle('plain_c_name'), 'plain_c_name');
    assert.equal(x86TpOffset(0x28, { memsz: 0xa0, align: 8 }), -0x78); // measured on the fixture
    assert.equal(x86TpOffset(0, { memsz: 0x11, align: 16 }), -0x20);
  });
});
