// End to end on the fixture workspace (a temp copy): fat build → run the app → edit → patch →
// the running app (same pid) takes the jump table and its output changes while its state (tip
// static, tip thread-local, workspace static) keeps counting. Plus the error paths.
// Generous waits, no timing asserts.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fatBuild, FatBuild, PatchBuilder, PatchResult } from '../../../server/src/engine';
import { applyAndWaitForTick, cleanupTmp, copyFixture, editMarked, fixtureFatBuildRequest, have, Proc, sh } from './helpers';

type Ok = Extract<PatchResult, { ok: true }>;

function request(ws: string, extra: Partial<Parameters<typeof fatBuild>[0]> = {}): Parameters<typeof fatBuild>[0] {
  return { ...fixtureFatBuildRequest(ws), ...extra };
}

function assertOk(r: PatchResult): asserts r is Ok {
  if (!r.ok) assert.fail(`patch failed at ${r.stage}: ${r.message}`);
}

/** Parses `tick N tip=… ws=… state=[ticks=A tls=B mut=C] view=… wsstate=[tls=D mut=E priv=F]`. */
function tick(line: string) {
  const m = /^tick (\d+) tip=(-?\d+) ws=(-?\d+) state=\[ticks=(\d+) tls=(\d+) mut=(\d+)\] view=(\S+) wsstate=\[tls=(\d+) mut=(\d+) priv=(\d+)\]/.exec(line);
  assert.ok(m, `not a tick line: ${line}`);
  return {
    n: Number(m[1]), tip: Number(m[2]), ws: Number(m[3]), ticks: Number(m[4]), tls: Number(m[5]), tipMut: Number(m[6]), view: m[7],
    wsTls: Number(m[8]), wsMut: Number(m[9]), wsPriv: Number(m[10]),
  };
}

describe('engine end to end (fixture workspace)', function () {
  this.timeout(600000); // real builds on a shared 2-core machine: generous, never asserted
  let ws: string;
  let fat: FatBuild;
  let app: Proc;
  let aslr: number;
  let builder: PatchBuilder;
  const logs: string[] = [];
  const mainRs = () => path.join(ws, 'app', 'src', 'main.rs');
  const libRs = () => path.join(ws, 'wslib', 'src', 'lib.rs');

  /** Sends a table and waits until a tick line satisfies `pred`. */
  async function applyAndWait(r: Ok, pred: (t: ReturnType<typeof tick>) => boolean) {
    return tick(await applyAndWaitForTick(app, r.jumpTable, (line) => pred(tick(line))));
  }

  before(async function () {
    ws = copyFixture('e2e');
    const lines: string[] = [];
    const r = await fatBuild(request(ws, { onLine: (l) => lines.push(l) }));
    if (!r.ok) assert.fail(`fat build failed: ${r.message}\n${lines.join('\n')}`);
    fat = r.build;
    app = new Proc(fat.exePath);
    aslr = Number((await app.waitFor(/^aslr (\d+)/)).match[1]);
    await app.waitFor(/^tick 3 /);
    builder = new PatchBuilder(fat, { log: (level, msg) => logs.push(`${level}: ${msg}`) });
  });
  after(function () {
    app?.stop();
    cleanupTmp();
  });

  it('fat build: a private copy of the exe, records for both crates, symbols cached', function () {
    assert.ok(fat.exePath.startsWith(path.join(ws, 'target', 'subsecond-lsp', 'app')));
    assert.notEqual(fs.statSync(fat.exePath).ino, fs.statSync(path.join(ws, 'target', 'debug', 'app')).ino);
    assert.equal(fat.arch, process.arch === 'arm64' ? 'aarch64' : 'x86_64');
    assert.equal(fat.tipCrate, 'app');
    assert.ok(fat.records['app.bin'] && fat.records['wslib.lib']);
    assert.ok(fat.link.wholeArchived.some((p) => /libwslib-.*\.rlib$/.test(p)));
    assert.ok(fat.link.finalArgs.includes('-Wl,--export-dynamic'));
    assert.ok(fat.symbols.mainAddress > 0);
    // the app's aslr reference and the static main differ by a page-aligned slide
    assert.equal((aslr - fat.symbols.mainAddress) % 4096, 0);
  });

  it('tip edit: output changes in the same process; tip static and thread-local keep counting', async function () {
    const before = tick((await app.waitFor(/^tick /, app.lines.length - 1)).line);
    assert.equal(before.tip, 1);
    editMarked(mainRs(), '// EDIT:tip_value', '    2');
    const r = await builder.build({ changedCrates: ['app'], aslrReference: aslr });
    assertOk(r);
    assert.deepEqual(r.crates, ['app']);
    assert.ok(fs.existsSync(r.soPath));
    assert.match(path.basename(r.soPath), /^libapp-patch-\d+\.so$/);
    assert.equal(r.jumpTable.aslr_reference, fat.symbols.mainAddress);
    assert.ok(Object.keys(r.jumpTable.map).length > 10);
    assert.ok(['rust-lld', 'lld', 'mold', 'gnu-ld'].includes(r.linker));
    for (const k of ['rustcMs', 'objectsMs', 'stubMs', 'linkMs', 'jumpTableMs', 'totalMs'] as const) assert.ok(r.timings[k] >= 0);
    const pid = app.pid;
    const t = await applyAndWait(r, (x) => x.tip === 2);
    assert.equal(app.pid, pid);
    assert.equal(app.exited, false);
    assert.ok(t.n > before.n, 'ticks keep counting');
    {
      // patched tip_state() reads the app's live static and thread-local, not fresh copies
      // (x86_64 and aarch64 alike: engine/fixups.ts, fixups-aarch64.ts)
      assert.ok(r.stats.staticsRebound >= 1 && r.stats.threadLocalsRebound >= 1, JSON.stringify(r.stats));
      assert.ok(t.ticks >= before.n, `tip static kept: ${JSON.stringify(t)}`);
      assert.ok(t.tls >= before.n, `tip thread-local kept: ${JSON.stringify(t)}`);
      // A `static mut` is read in place: the patch has its own copy, which nothing in it counts.
      // The engine must say so truthfully, not guess at an optimization level.
      assert.equal(t.tipMut, 0, `tip static mut starts fresh in patched code: ${JSON.stringify(t)}`);
      const note = r.notes.find((n) => n.includes('TIP_MUT'));
      assert.match(note ?? '', /static `app::TIP_MUT` starts fresh in the patch \(read or written in place/, r.notes.join('\n'));
      assert.ok(!r.notes.some((n) => /opt-level > 0\?/.test(n)), r.notes.join('\n'));
      assert.ok(!r.notes.some((n) => /__CALLSITE/.test(n)), `no noise about a macro's statics: ${r.notes.join('\n')}`);
    }
  });

  it('workspace crate edit: its thread-local and pub static mut keep the app’s values; a private static mut starts fresh and says so', async function () {
    const before = tick((await app.waitFor(/^tick /, app.lines.length - 1)).line);
    editMarked(libRs(), '// EDIT:ws_state', '    format!("tls={} mut={} priv={}", tls, unsafe { WS_MUT }, unsafe { WS_PRIV } + 1000)');
    const r = await builder.build({ changedCrates: ['wslib'], aslrReference: aslr });
    assertOk(r);
    const t = await applyAndWait(r, (x) => x.wsPriv >= 1000);
    {
      // Workspace crates reach thread-locals through __tls_get_addr (x86_64) or a TLS descriptor
      // (aarch64): rewritten, they read the app's.
      assert.ok(t.wsTls >= before.n, `workspace thread-local kept: ${JSON.stringify(t)} (before: ${JSON.stringify(before)})`);
      assert.ok(t.wsMut >= before.n, `workspace pub static mut kept: ${JSON.stringify(t)}`);
      assert.equal(t.wsPriv, 1000, `workspace private static mut starts fresh in patched code: ${JSON.stringify(t)}`);
      assert.match(r.notes.join('\n'), /static `wslib::WS_PRIV` starts fresh in the patch \(read or written in place/);
      assert.ok(!r.notes.some((n) => /WS_MUT|thread_local/.test(n)), r.notes.join('\n'));
    }
  });

  it('workspace crate edit: rebuilt before the tip, visible directly and through patched tip code', async function () {
    editMarked(libRs(), '// EDIT:ws_value', '    200');
    const r = await builder.build({ changedCrates: ['wslib'], aslrReference: aslr });
    assertOk(r);
    assert.deepEqual(r.crates, ['wslib', 'app']);
    const t = await applyAndWait(r, (x) => x.ws === 200);
    assert.equal(t.tip, 2, 'the earlier tip change stays');
    assert.equal(t.view, '200', 'patched tip code calls the patched workspace function');
  });

  it('tip-only edit after a workspace edit keeps the workspace change (cumulative patches)', async function () {
    editMarked(mainRs(), '// EDIT:tip_value', '    3');
    const r = await builder.build({ changedCrates: ['app'], aslrReference: aslr });
    assertOk(r);
    assert.deepEqual(r.crates, ['app']);
    assert.deepEqual(r.carriedCrates, ['wslib', 'app'], 'the earlier workspace rebuild is carried');
    const t = await applyAndWait(r, (x) => x.tip === 3);
    assert.equal(t.ws, 200);
    assert.equal(t.view, '200');
  });

  it('a patch may call workspace code the fat app never used (whole-archive)', async function () {
    editMarked(mainRs(), '// EDIT:ws_view', '    format!("{}+{}", wslib::ws_value(), wslib::ws_unused())');
    const r = await builder.build({ changedCrates: ['app'], aslrReference: aslr });
    assertOk(r);
    const t = await applyAndWait(r, (x) => x.view === '200+7');
    assert.equal(t.tip, 3);
  });

  it('compile error: ok:false at rustc with a diagnostic on the right file and line; the app keeps running; fix → patched', async function () {
    const line = editMarked(mainRs(), '// EDIT:tip_value', '    "not a number"');
    const r = await builder.build({ changedCrates: ['app'], aslrReference: aslr });
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.stage, 'rustc');
    const err = r.diagnostics.find((d) => d.level === 'error' && d.spans.some((s) => s.is_primary));
    assert.ok(err, `an error diagnostic: ${r.message}`);
    const span = err.spans.find((s) => s.is_primary)!;
    assert.equal(span.file_name, mainRs());
    assert.ok(path.isAbsolute(span.file_name));
    assert.equal(span.line_start, line);
    assert.match(r.message, /mismatched types/);
    const from = app.lines.length;
    await app.waitFor(/^tick .* tip=3 /, from);
    assert.equal(app.exited, false);

    editMarked(mainRs(), '// EDIT:tip_value', '    4');
    const fixed = await builder.build({ changedCrates: ['app'], aslrReference: aslr });
    assertOk(fixed);
    const t = await applyAndWait(fixed, (x) => x.tip === 4);
    assert.equal(t.ws, 200);
  });

  it('a failing workspace crate is retried on the next patch even if not named again', async function () {
    editMarked(libRs(), '// EDIT:ws_value', '    "oops"');
    const bad = await builder.build({ changedCrates: ['wslib'], aslrReference: aslr });
    assert.equal(bad.ok, false);
    if (bad.ok) return;
    assert.equal(bad.stage, 'rustc');
    assert.ok(bad.diagnostics.some((d) => d.spans.some((s) => s.file_name === libRs())));
    editMarked(libRs(), '// EDIT:ws_value', '    300');
    const r = await builder.build({ changedCrates: ['app'], aslrReference: aslr });
    assertOk(r);
    assert.deepEqual(r.crates, ['wslib', 'app']);
    const t = await applyAndWait(r, (x) => x.ws === 300);
    assert.equal(t.tip, 4);
    assert.ok(builder.patchCount >= 6);
  });

  it('GNU ld links a working, state-keeping patch too (fallback linker)', async function () {
    if (!have('ld.bfd') && !have('ld')) this.skip();
    const gnu = new PatchBuilder(fat, { linkers: ['gnu-ld'] });
    editMarked(mainRs(), '// EDIT:tip_value', '    5');
    const r = await gnu.build({ changedCrates: ['wslib'], aslrReference: aslr });
    assertOk(r);
    assert.equal(r.linker, 'gnu-ld');
    const t = await applyAndWait(r, (x) => x.tip === 5);
    assert.equal(t.ws, 300);
    assert.ok(t.ticks >= t.n - 1 && t.tls >= t.n - 1, JSON.stringify(t));
    const none = await new PatchBuilder(fat, { linkers: [] }).build({ changedCrates: [], aslrReference: aslr });
    assert.equal(none.ok, false);
    if (!none.ok) {
      assert.equal(none.stage, 'link');
      assert.match(none.message, /no usable linker/);
    }
  });

  it('bad input: missing tip record, wrong aslr reference, failed link', async function () {
    const noTip = await new PatchBuilder({ ...fat, records: {} }).build({ changedCrates: ['app'], aslrReference: aslr });
    assert.equal(noTip.ok, false);
    if (!noTip.ok) {
      assert.equal(noTip.stage, 'setup');
      assert.match(noTip.message, /no recorded rustc call for the tip crate/);
    }
    const badAslr = await new PatchBuilder(fat).build({ changedCrates: ['app'], aslrReference: fat.symbols.mainAddress + 123 });
    assert.equal(badAslr.ok, false);
    if (!badAslr.ok) assert.equal(badAslr.stage, 'setup');

    const brokenLink = { ...fat, link: { ...fat.link, args: [...fat.link.args, '-Wl,-Bdynamic', '-lsubsecond_no_such_library'] } };
    const r = await new PatchBuilder(brokenLink).build({ changedCrates: ['app'], aslrReference: aslr });
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.stage, 'link');
      assert.match(r.message, /subsecond_no_such_library/);
    }
  });
});

describe('engine fat build errors', function () {
  this.timeout(600000); // real builds on a shared 2-core machine: generous, never asserted
  after(cleanupTmp);

  it('no cargo on PATH', async function () {
    const ws = copyFixture('nocargo');
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent-bin-dir';
    try {
      const r = await fatBuild(request(ws));
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.message, /cargo was not found on PATH/);
    } finally {
      process.env.PATH = saved;
    }
  });

  it('missing and broken manifests', async function () {
    const ws = copyFixture('manifest');
    const missing = await fatBuild(request(ws, { manifestPath: path.join(ws, 'nope', 'Cargo.toml') }));
    assert.equal(missing.ok, false);
    if (!missing.ok) assert.match(missing.message, /manifest not found/);
    fs.writeFileSync(path.join(ws, 'Cargo.toml'), '[workspace\nmembers = ');
    const broken = await fatBuild(request(ws));
    assert.equal(broken.ok, false);
    if (!broken.ok) assert.match(broken.message, /Cargo\.toml|parse|manifest/i);
  });

  it('compile errors come back as diagnostics with absolute paths; a stripped profile is refused clearly', async function () {
    const ws = copyFixture('fatdiag');
    const lib = path.join(ws, 'wslib', 'src', 'lib.rs');
    const line = editMarked(lib, '// EDIT:ws_value', '    "oops"');
    const r = await fatBuild(request(ws));
    assert.equal(r.ok, false);
    if (r.ok) return;
    const err = r.diagnostics.find((d) => d.level === 'error' && d.spans.length > 0);
    assert.ok(err, r.message);
    assert.equal(err.spans[0].file_name, lib);
    assert.equal(err.spans[0].line_start, line);

    editMarked(lib, '// EDIT:ws_value', '    100');
    const stripped = await fatBuild(request(ws, { extraCargoArgs: ['--config', 'profile.dev.strip=true'] }));
    assert.equal(stripped.ok, false);
    if (!stripped.ok) assert.match(stripped.message, /no symbol table; set profile\.dev\.strip = false/);
    // sanity: the binary cargo produced really is stripped
    assert.doesNotMatch(sh('readelf', ['-S', path.join(ws, 'target', 'debug', 'app')]), /\.symtab/);
  });
});
