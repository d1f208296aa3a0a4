// Speculative builds on the fixture workspace (a temp copy): a patch prepared from unsaved text
// (overlays) goes live once committed, the user's files and the real build's outputs are not
// touched before the commit, `file!()` / panic locations name the real file, a real build in
// between makes the prepared patch stale, and a cancelled one stops its rustc.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fatBuild, FatBuild, PatchBuilder, PatchResult, PreparedPatch } from '../../../server/src/engine';
import { recordRlib } from '../../../server/src/engine/recorder';
import { applyAndWaitForTick, cleanupTmp, copyFixture, editMarked, fixtureFatBuildRequest, Proc } from './helpers';

type Ok = Extract<PatchResult, { ok: true }>;

/** The file's text with the marked line replaced (the file itself is not written). */
function edited(file: string, marker: string, replacement: string): string {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => (l.includes(marker) ? `${replacement} ${marker}` : l))
    .join('\n');
}

function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(p, `${fs.statSync(p).size}:${fs.statSync(p).mtimeMs}`);
    }
  };
  walk(dir);
  return out;
}

describe('engine: speculative builds from unsaved text', function () {
  this.timeout(600000);
  let ws: string;
  let fat: FatBuild;
  let app: Proc;
  let aslr: number;
  let builder: PatchBuilder;
  const mainRs = () => path.join(ws, 'app', 'src', 'main.rs');
  const libRs = () => path.join(ws, 'wslib', 'src', 'lib.rs');

  function prepared(p: PreparedPatch): Extract<PreparedPatch, { ok: true }> {
    if (!p.ok) assert.fail(`speculative build failed at ${p.result.stage}: ${p.result.message}`);
    return p;
  }

  const applyAndWait = (r: Ok, pred: (line: string) => boolean) => applyAndWaitForTick(app, r.jumpTable, pred);

  before(async function () {
    ws = copyFixture('speculative');
    const r = await fatBuild(fixtureFatBuildRequest(ws));
    if (!r.ok) assert.fail(`fat build failed: ${r.message}`);
    fat = r.build;
    app = new Proc(fat.exePath);
    aslr = Number((await app.waitFor(/^aslr (\d+)/)).match[1]);
    await app.waitFor(/^tick 2 /);
    builder = new PatchBuilder(fat);
  });
  after(function () {
    app?.stop();
    cleanupTmp();
  });

  it('a workspace-crate and tip edit from unsaved text: nothing real is touched until the commit, then it goes live', async function () {
    const mainBefore = fs.readFileSync(mainRs(), 'utf8');
    const libBefore = fs.readFileSync(libRs(), 'utf8');
    const deps = path.join(ws, 'target', 'debug');
    const before = snapshot(deps);
    const overlays = new Map([
      [libRs(), edited(libRs(), '// EDIT:ws_value', '    500')],
      // where this line is, as a panic would report it
      [mainRs(), edited(mainRs(), '// EDIT:ws_view', '    format!("{}@{}", wslib::ws_value(), std::panic::Location::caller())')],
    ]);
    const p = prepared(await builder.prepare({ changedCrates: ['wslib', 'app'], aslrReference: aslr, overlays }));
    assert.deepEqual(p.result.crates, ['wslib', 'app']);
    assert.equal(fs.readFileSync(mainRs(), 'utf8'), mainBefore, 'the user file is not written');
    assert.equal(fs.readFileSync(libRs(), 'utf8'), libBefore);
    const after = snapshot(deps);
    const changed = [...after].filter(([f, s]) => before.get(f) !== s).map(([f]) => path.relative(deps, f));
    assert.deepEqual(changed, [], 'the real build dir (rlibs, incremental cache) is untouched');
    assert.equal(builder.patchCount, 0);

    const rlib = recordRlib(fat.records['wslib.lib'])!;
    const rlibBefore = fs.statSync(rlib).mtimeMs;
    const r = builder.commit(p);
    assert.ok(r && r.ok);
    assert.match(path.basename(r.soPath), /^libapp-patch-\d+\.so$/);
    assert.equal(r.jumpTable.lib, r.soPath);
    assert.equal(builder.patchCount, 1);
    assert.notEqual(fs.statSync(rlib).mtimeMs, rlibBefore, 'the committed rlib replaces the real one (later builds compile against it)');
    assert.equal(builder.commit(p), undefined, 'a prepared patch commits once');
    const line = await applyAndWait(r, (l) => l.includes('ws=500'));
    const view = /view=(\S+)/.exec(line)![1];
    const lineNo = overlays.get(mainRs())!.split('\n').findIndex((l) => l.includes('std::panic::Location::caller()')) + 1;
    assert.match(view, new RegExp(`^500@app/src/main\\.rs:${lineNo}:\\d+$`), 'file!() and panic locations name the real file, as a real build would');
  });

  it('a real build after the commit carries the committed workspace crate', async function () {
    editMarked(mainRs(), '// EDIT:tip_value', '    7');
    const r = await builder.build({ changedCrates: ['app'], aslrReference: aslr });
    assert.ok(r.ok, r.ok ? '' : r.message);
    assert.deepEqual(r.carriedCrates, ['wslib', 'app']);
    const line = await applyAndWait(r, (l) => /tip=7 /.test(l));
    assert.match(line, /ws=500 /);
  });

  it('a real build in between makes the prepared patch stale: commit refuses it', async function () {
    const p = prepared(await builder.prepare({ changedCrates: ['app'], aslrReference: aslr, overlays: new Map([[mainRs(), edited(mainRs(), '// EDIT:tip_value', '    8')]]) }));
    editMarked(mainRs(), '// EDIT:tip_value', '    9');
    const real = await builder.build({ changedCrates: ['app'], aslrReference: aslr });
    assert.ok(real.ok);
    assert.equal(builder.commit(p), undefined);
    assert.ok(!fs.existsSync(p.result.soPath), 'the stale library is deleted');
  });

  it('a broken buffer fails the speculative build only; a cancelled one stops rustc and reports it', async function () {
    const broken = await builder.prepare({ changedCrates: ['app'], aslrReference: aslr, overlays: new Map([[mainRs(), edited(mainRs(), '// EDIT:tip_value', '    nope')]]) });
    assert.equal(broken.ok, false);
    assert.equal(broken.ok ? '' : broken.result.stage, 'rustc');
    const controller = new AbortController();
    const pending = builder.prepare({
      changedCrates: ['wslib', 'app'],
      aslrReference: aslr,
      overlays: new Map([[libRs(), edited(libRs(), '// EDIT:ws_value', '    600')]]),
      signal: controller.signal,
      priority: 10,
    });
    setTimeout(() => controller.abort(), 150);
    const r = await pending;
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.result.message, /cancelled/);
    // the next real build is unaffected
    editMarked(mainRs(), '// EDIT:tip_value', '    10');
    const real = await builder.build({ changedCrates: ['app'], aslrReference: aslr });
    assert.ok(real.ok, real.ok ? '' : real.message);
    const line = await applyAndWait(real, (l) => /tip=10 /.test(l));
    assert.match(line, /ws=500 /, 'the cancelled workspace edit is not in the app');
  });
  it('a file it read is rewritten after the build (a comment, say): the commit refuses the prepared patch', async () => {
    const count = builder.patchCount;
    const p = prepared(await builder.prepare({ changedCrates: ['wslib', 'app'], aslrReference: aslr, overlays: new Map([[libRs(), edited(libRs(), '// EDIT:ws_value', '    800')]]) }));
    fs.appendFileSync(mainRs(), '\n// a comment: code fingerprints do not see it, line numbers do\n');
    assert.equal(builder.commit(p), undefined);
    assert.equal(builder.patchCount, count);
  });

  it('a source the mirror links to changes during the build: the speculative build is refused', async () => {
    const pending = builder.prepare({
      changedCrates: ['wslib', 'app'],
      aslrReference: aslr,
      overlays: new Map([[libRs(), edited(libRs(), '// EDIT:ws_value', '    700')]]),
    });
    setTimeout(() => fs.utimesSync(mainRs(), new Date(), new Date()), 50); // an editor rewrote main.rs
    const r = await pending;
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.result.message, /app\/src\/main\.rs changed during the speculative build/);
    const root = path.join(ws, 'target', 'subsecond-lsp', 'app', 'speculative');
    await builder.prepare({ changedCrates: ['app'], aslrReference: aslr, overlays: new Map([[mainRs(), edited(mainRs(), '// EDIT:tip_value', '    11')]]) });
    assert.equal(fs.readdirSync(root).filter((f) => f.endsWith('.so')).length, 1, 'only the prepared library is kept');
  });

  it('a trial build is inspected and thrown away: the prepared patch, the real outputs and the patch count are left alone', async () => {
    const p = prepared(await builder.prepare({ changedCrates: ['app'], aslrReference: aslr, overlays: new Map([[mainRs(), edited(mainRs(), '// EDIT:tip_value', '    12')]]) }));
    const deps = path.join(ws, 'target', 'debug');
    const before = snapshot(deps);
    const count = builder.patchCount;
    let seen: { objects: string[]; present: boolean; so: string } | undefined;
    const t = await builder.trial(
      { changedCrates: ['wslib', 'app'], aslrReference: aslr, overlays: new Map([[libRs(), edited(libRs(), '// EDIT:ws_value', '    900')]]) },
      (r) => (seen = { objects: r.objectPaths, present: r.objectPaths.every((o) => fs.existsSync(o)), so: r.soPath }),
    );
    assert.ok(t.ok, t.ok ? '' : t.result.message);
    assert.ok(seen && seen.objects.length > 0 && seen.present, 'inspect sees the objects while they exist');
    assert.ok(seen!.objects.some((o) => o.includes(`${path.sep}trial${path.sep}`)), 'it compiles in a place of its own');
    assert.ok(!seen!.objects.some((o) => o.includes(`${path.sep}speculative${path.sep}`)), "the prepared patch's objects are not its");
    assert.ok(!fs.existsSync(seen!.so), 'its library is deleted');
    assert.equal(builder.patchCount, count, 'never a patch');
    assert.deepEqual([...snapshot(deps)].filter(([f, st]) => before.get(f) !== st).map(([f]) => f), [], 'the real build dir is untouched');
    // The prepared patch survived it, and carries nothing of it.
    const r = builder.commit(p);
    assert.ok(r && r.ok, 'the prepared patch is still the one to commit');
    const line = await applyAndWait(r, (l) => /tip=12 /.test(l));
    assert.match(line, /ws=500 /, "the trial's workspace edit is not in the app");
    // A cancelled trial gives way at once.
    const controller = new AbortController();
    controller.abort();
    const cancelled = await builder.trial({ changedCrates: ['app'], aslrReference: aslr, overlays: new Map(), signal: controller.signal }, () => assert.fail('not inspected'));
    assert.equal(cancelled.ok, false);
  });
});
