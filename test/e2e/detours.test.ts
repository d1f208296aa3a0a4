// Entry detours on a real process: clients/detours never calls subsecond::call in its loop, keeps
// a trait object, a boxed closure and a fn pointer made at startup, and runs two threads calling a
// function in a tight loop. The engine and the devserver are driven directly (no LSP) to keep the
// 200-patch run fast. Generous waits, no timing asserts. Both suites run twice: with this
// toolchain's symbol names (legacy on stable) and with v0 names (`_R…`, nightly's default since
// 2025-11-21), which every step that reads names (detour plan, keep list, proof) must read too.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fatBuild, FatBuild, PatchBuilder, PatchResult, keepListFor } from '../../server/src/engine';
import { DevServer, devserverEnv, PatchDelivery, detouredByReport } from '../../server/src/devserver';
import { prepareClientFixture, useV0Mangling } from '../support/counter-fixture';
import { Proc } from '../unit/engine/helpers';
import { TestLspClient } from '../support/lsp-client';
import { demangle } from '../../server/src/engine/demangle';

type Ok = Extract<PatchResult, { ok: true }>;

interface Line {
  plain: string;
  dyn: string;
  closure: string;
  fnptr: string;
  hot: string;
  sig: number;
  spin: [number, number];
  frames: number;
}

function parse(line: string): Line | undefined {
  const m = /^plain=(\S+) dyn=(\S+) closure=(\S+) fnptr=(\S+) hot=(\S+) sig=(\d+) spin=(\d+),(\d+) frames=(\d+)/.exec(line);
  if (!m) return undefined;
  return { plain: m[1], dyn: m[2], closure: m[3], fnptr: m[4], hot: m[5], sig: +m[6], spin: [+m[7], +m[8]], frames: +m[9] };
}

for (const mangling of ['default', 'v0'] as const) {
const v0 = mangling === 'v0';
const suffix = v0 ? ' (v0 symbol names)' : '';
/** The fixture copy, built with v0 names for the v0 suites. */
const fixture = (tmpName: string) => {
  const fx = prepareClientFixture('detours', v0 ? `${tmpName}-v0` : tmpName);
  if (v0) useV0Mangling(fx.clientDir);
  return fx;
};

describe(`end to end: entry detours (engine + devserver + subsecond-agent)${suffix}`, function () {
  this.timeout(40 * 60_000);
  let dir: string;
  let mainRs: string;
  let fat: FatBuild;
  let server: DevServer;
  let app: Proc;
  let builder: PatchBuilder;
  let aslr: number;

  const edit = (from: string | RegExp, to: string) => {
    const text = fs.readFileSync(mainRs, 'utf8');
    const next = text.replace(from, to);
    assert.notEqual(next, text, `edit ${from} did not apply`);
    fs.writeFileSync(mainRs, next);
  };

  async function patch(opts: { detours?: boolean; keep?: Array<{ name: string; selfBase?: string }> } = {}): Promise<{ result: Ok; delivery: PatchDelivery }> {
    const result = await builder.build({ changedCrates: [], aslrReference: aslr });
    if (!result.ok) assert.fail(`patch failed at ${result.stage}: ${result.message}`);
    const delivery = await server.sendPatch(app.pid, result.jumpTable, {
      msElapsed: 0,
      expectedAslrReference: aslr,
      ackTimeoutMs: 30_000,
      detourPlan:
        opts.detours === false
          ? undefined
          : { entries: result.detourPlan.entries, unchanged: result.detourPlan.unchanged, keep: keepListFor(result.detourPlan, opts.keep ?? []) },
    });
    // As the session does: what the agent detoured is the code those entries lead to from now on.
    builder.settleDetours(result.detourPlan, delivery.acked && delivery.ok ? detouredByReport(delivery.detours) : undefined);
    assert.ok(delivery.acked, `not acknowledged: ${JSON.stringify(delivery)}`);
    assert.ok(delivery.ok, `not applied: ${delivery.error}`);
    return { result, delivery };
  }

  async function waitForLine(what: string, pred: (l: Line) => boolean, timeoutMs = 30_000): Promise<Line> {
    let from = Math.max(0, app.lines.length - 1);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = await app.waitFor(/^plain=/, from, Math.max(1, deadline - Date.now())).catch((e: Error) => {
        throw new Error(`waiting for ${what}: ${e.message}`);
      });
      const l = parse(hit.line)!;
      if (pred(l)) return l;
      from = hit.index + 1;
    }
  }

  before(async function () {
    const fx = fixture('subsecond-lsp-detours');
    dir = fx.clientDir;
    mainRs = path.join(dir, 'src', 'main.rs');
    const built = await fatBuild({
      manifestPath: path.join(dir, 'Cargo.toml'),
      workspaceRoot: dir,
      targetDir: path.join(dir, 'target'),
      packageName: 'detours',
      binName: 'detours',
      workspaceCrates: { detours: [] },
      sessionDir: path.join(dir, 'target', 'subsecond-lsp', 'detours'),
    });
    if (!built.ok) assert.fail(`fat build failed: ${built.message}`);
    fat = built.build;
    // (the default suites take the toolchain's default: legacy on stable, v0 on nightly)
    if (v0) assert.ok([...fat.symbols.functionNames()].some((n) => n.startsWith('_RNvCs') && n.includes('7detours')), 'v0 names of the app crate');
    builder = new PatchBuilder(fat);
    server = await DevServer.listen();
    app = new Proc(fat.exePath, [], { ...process.env, ...devserverEnv(server) });
    const conn = await server.waitForApp(app.pid, 60_000, { agent: true });
    assert.ok(conn.aslrReference, 'the app reported its main');
    aslr = conn.aslrReference;
    const first = await waitForLine('the first line', () => true);
    assert.deepEqual([first.plain, first.dyn, first.closure, first.fnptr, first.hot, first.sig], ['p0', 'd0', 'c0', 'f0', 'h0', 20]);
  });

  after(async function () {
    app?.stop();
    await server?.close();
  });

  it('detours off: plain jump-table semantics, the loop keeps its old code', async function () {
    edit('"p0"', '"pX"');
    const { delivery } = await patch({ detours: false });
    assert.ok(delivery.acked && delivery.detours === undefined, 'no detour report without a plan');
    const frames = (await waitForLine('a line after the patch', () => true)).frames;
    const later = await waitForLine('three more lines', (l) => l.frames >= frames + 3);
    assert.equal(later.plain, 'p0', 'without detours the running loop calls the original function');
  });

  it('makes edits live through direct calls, trait objects, boxed closures, fn pointers and one-capture hot closures', async function () {
    edit('"pX"', '"p1"');
    edit('"d0"', '"d1"');
    edit('"c0"', '"c1"');
    edit('"f0"', '"f1"');
    edit('"h0"', '"h1"');
    const { delivery } = await patch();
    assert.ok(delivery.acked);
    const d = delivery.detours;
    assert.ok(d, 'the agent reported detours');
    assert.equal(d.error, undefined);
    assert.ok(d.detoured > 5, `detoured ${d.detoured}`);
    const l = await waitForLine('every value patched', (x) => x.plain === 'p1' && x.dyn === 'd1' && x.closure === 'c1' && x.fnptr === 'f1' && x.hot === 'h1');
    assert.equal(l.sig, 20);
    // A second patch detours the first patch's copies as well as the executable's.
    edit('"p1"', '"p2"');
    edit('"d1"', '"d2"');
    await patch();
    await waitForLine('second patch live', (x) => x.plain === 'p2' && x.dyn === 'd2' && x.closure === 'c1');
  });

  it('rewrites the entries of the functions whose code changed, not of every function of the crate', async function () {
    // Closures read `{{closure}}` in legacy names and `{closure#N}` in v0 ones: compared as `{closure}`.
    const changedNames = (r: Ok) =>
      r.detourPlan.changes.map((c) => demangle(c.name).replace(/::h[0-9a-f]{16}$/, '').replace(/\{\{closure\}\}|\{closure#\d+\}/g, '{closure}')).sort();
    // One function's string literal: only that function's code differs from what its entries run.
    // `detours::main` and the threads' closure count in every patch: they use the static SPIN,
    // which main accesses in a shape the engine does not rebind (the patch gets its own SPIN), so
    // their new copies are not the code they run.
    const SPIN_USERS = ['detours::main', 'detours::main::{closure}'];
    edit('"p2"', '"p-count"');
    const one = await patch();
    assert.deepEqual(changedNames(one.result), [...SPIN_USERS, 'detours::plain_value']);
    assert.ok(one.result.detourPlan.unchanged.length >= 5, `the crate's other functions are in the plan as unchanged: ${one.result.detourPlan.unchanged.length}`);
    assert.ok(one.delivery.acked && one.delivery.detours);
    assert.equal(one.delivery.detours.detoured, 3, JSON.stringify(one.delivery.detours));
    assert.equal(one.delivery.detours.unchanged, one.result.detourPlan.unchanged.length);
    await waitForLine('p-count live', (x) => x.plain === 'p-count' && x.dyn === 'd2');
    // Another edit: a trait method and a closure made at startup; plain_value is as patched now.
    edit('"d2"', '"d-count"');
    edit('"c1"', '"c-count"');
    const two = await patch();
    assert.deepEqual(changedNames(two.result), ['<detours::Obj as detours::Describe>::describe', ...SPIN_USERS, 'detours::main::{closure}']);
    assert.ok(two.delivery.acked && two.delivery.detours);
    assert.equal(two.delivery.detours.detoured, 4, JSON.stringify(two.delivery.detours));
    await waitForLine('the second edit live', (x) => x.plain === 'p-count' && x.dyn === 'd-count' && x.closure === 'c-count');
    // Back to a text an earlier patch had: still a change against the code its entries lead to now.
    edit('"p-count"', '"p2"');
    const back = await patch();
    assert.deepEqual(changedNames(back.result), [...SPIN_USERS, 'detours::plain_value']);
    await waitForLine('p2 live again', (x) => x.plain === 'p2' && x.closure === 'c-count');
    // A function new in a patch is in no jump table, so no detour ever reaches its copies: its
    // callers run it from their own patch. An edit of only the new function is therefore a change
    // of plain_value, whose code calls it.
    edit('fn plain_value() -> &\'static str {\n    "p2"\n}', 'fn plain_value() -> &\'static str {\n    helper_value()\n}\n\nfn helper_value() -> &\'static str {\n    "p-helper-1"\n}');
    await patch();
    await waitForLine('the new helper live', (x) => x.plain === 'p-helper-1');
    edit('"p-helper-1"', '"p-helper-2"');
    const helper = await patch();
    assert.deepEqual(changedNames(helper.result), [...SPIN_USERS, 'detours::plain_value']);
    await waitForLine('the helper edit live', (x) => x.plain === 'p-helper-2');
    edit('    helper_value()\n}', '    "p2"\n}');
    await patch();
    await waitForLine('p2 live again', (x) => x.plain === 'p2');
  });

  it('leaves a function whose signature changed on its old entry', async function () {
    edit('fn sig_value(x: u64) -> u64 {\n    x * 10\n}', 'fn sig_value(x: u64, y: &u64) -> u64 {\n    x * 100 + *y\n}');
    edit('sig_value(2),', 'sig_value(2, &7),');
    const { result, delivery } = await patch({ keep: [{ name: 'sig_value' }] });
    // Legacy symbol names hash the signature, so the new sig_value usually has another name and is
    // not in the table at all; with v0 names it is, and must then be kept.
    const kept = new Set(delivery.acked ? delivery.detours?.skipped.filter((s) => s.reason === 'signature-changed').map((s) => s.name) : []);
    for (const e of result.detourPlan.entries) {
      if (e[4].includes('sig_value')) assert.ok(kept.has(e[4]), `${e[4]} was not kept`);
    }
    edit('"p2"', '"p3"');
    await patch({ keep: [{ name: 'sig_value' }] });
    // The original loop still calls the old sig_value with one argument, and does not crash.
    const l = await waitForLine('p3 with the old sig_value', (x) => x.plain === 'p3');
    assert.equal(l.sig, 20);
    const later = await waitForLine('more lines', (x) => x.frames >= l.frames + 3);
    assert.equal(later.sig, 20);
  });

  // the v0 run proves the names are read; the threads' safety does not depend on them
  const n = Number(process.env.DETOURS_PATCHES ?? (v0 ? 20 : 200));
  it(`two threads calling a function in a tight loop see each of ${n} patches, without crashing`, async function () {
    for (let i = 1; i <= n; i++) {
      edit(/black_box\(\d+\) \/\/ spin/, `black_box(${i}) // spin`);
      const { delivery } = await patch({ keep: [{ name: 'sig_value' }] });
      assert.ok(delivery.acked && delivery.detours && !delivery.detours.error, `patch ${i}: ${JSON.stringify(delivery)}`);
      await waitForLine(`both threads on patch ${i}`, (x) => x.spin[0] === i && x.spin[1] === i);
    }
    assert.ok(!app.exited, 'the app is still running');
  });
});

describe(`end to end: an app without subsecond::call is hot-patched through the language server${suffix}`, function () {
  this.timeout(30 * 60_000);
  let client: TestLspClient;
  let mainRs: string;
  let mainV1: string;
  const lines = () => client.logs.filter((l) => l.startsWith('[app stdout]')).map((l) => parse(l.replace(/^\[app stdout\]\s*/, ''))).filter((l): l is Line => !!l);

  before(async function () {
    const fx = fixture('subsecond-lsp-detours-lsp');
    mainRs = path.join(fx.clientDir, 'src', 'main.rs');
    mainV1 = fs.readFileSync(mainRs, 'utf8');
    client = new TestLspClient({ rootDir: fx.clientDir });
    await client.initialize();
    await client.open(mainRs, mainV1);
    // Without a running agent the one-capture closure is (truthfully) flagged.
    await client.waitForDiagnostics(mainRs, 'the hot-closure warning', (d) => d.some((x) => x.code === 'hot-closure-never-patched'));
    const started = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
    assert.equal(started.ok, true, `startApp: ${started.message}\n${client.logs.slice(-30).join('\n')}`);
    await client.waitFor('the app to print', () => lines().length > 0, 180_000);
  });

  after(async () => {
    if (client) assert.equal(await client.shutdown(), 0);
  });

  it('says entry detours apply, and a save of a function the loop calls directly goes live', async () => {
    const running = client.statuses.filter((s) => s.app === 'running').pop();
    assert.ok(running, 'a running status was published');
    assert.match(running.message, /subsecond-agent \(entry detours on\)/);
    // Entry detours reach what that warning and the "made before the patch" notes are about.
    await client.waitForDiagnostics(mainRs, 'the hot-closure warning to go', (d) => !d.some((x) => x.code === 'hot-closure-never-patched'));
    const n = client.statuses.length;
    const text = mainV1.replace('"p0"', '"p-lsp"').replace('"d0"', '"d-lsp"').replace('"c0"', '"c-lsp"');
    fs.writeFileSync(mainRs, text);
    await client.changeAndSave(mainRs, text);
    const verdict = await client.waitFor('a patch verdict', () => client.statuses.slice(n).find((s) => s.patch === 'applied' || s.patch === 'failed' || s.patch === 'blocked'), 180_000);
    assert.equal(verdict.patch, 'applied', verdict.message);
    // plain_value, Obj::describe, the boxed closure, and main and the threads' closure (see above):
    // the functions whose code changed.
    assert.match(verdict.message, /\b5 changed functions detoured/);
    // Proof before the claim, in both manglings: the status names what went live.
    assert.match(verdict.message, /^⚡ patched main\.rs .* — live: [^;]*`plain_value`/);
    assert.match(verdict.message, / — live: [^;]*`Obj::describe`/);
    await client.waitFor('the new values', () => lines().find((l) => l.plain === 'p-lsp' && l.dyn === 'd-lsp' && l.closure === 'c-lsp'), 60_000);
    const notes = client.diagnosticsFor(mainRs).filter((x) => x.code === 'patched-code-unreachable' || x.code === 'hot-closure-never-patched');
    assert.deepEqual(notes, [], 'no note claims old values keep old code');
  });

  it('a closure inserted before the stored one: the stored closure keeps its own code, and the status says so', async () => {
    // The intruder takes the stored closure's number (v0 `main::{closure#0}`; legacy: the same
    // hash for the same signature): patched by name, the stored closure would print "c-intruder".
    const prev = mainV1.replace('"p0"', '"p-lsp"').replace('"d0"', '"d-lsp"').replace('"c0"', '"c-lsp"');
    const stored = '    let stored = Stored { f: Box::new(|| "c-lsp") };';
    assert.ok(prev.includes(stored));
    const text = prev
      .replace(stored, '    let intruder = || "c-intruder";\n    std::hint::black_box(intruder());\n' + stored.replace('"c-lsp"', '"c-new"'))
      .replace('"p-lsp"', '"p-closures"');
    const n = client.statuses.length;
    const applied = client.statuses[n - 1]?.patchesApplied ?? 0;
    fs.writeFileSync(mainRs, text);
    await client.changeAndSave(mainRs, text);
    const verdict = await client.waitFor('a patch verdict', () => client.statuses.slice(n).find((s) => (s.patch === 'applied' && s.patchesApplied > applied) || s.patch === 'failed' || s.patch === 'blocked'), 180_000);
    assert.equal(verdict.patch, 'applied', verdict.message);
    assert.match(verdict.message, /closures of `main` were added, removed or reordered: closures made before the patch keep their old code/);
    const seen = lines().length;
    await client.waitFor('the new plain value', () => lines().slice(seen).find((l) => l.plain === 'p-closures'), 60_000);
    const after = lines().slice(seen).filter((l) => l.plain === 'p-closures');
    await client.waitFor('three more lines', () => (lines().length - seen >= 3 ? true : undefined), 30_000);
    for (const l of lines().slice(seen).filter((x) => x.plain === 'p-closures')) assert.equal(l.closure, 'c-lsp', 'the stored closure runs its own (previous) code');
    assert.ok(after.length > 0);
    assert.ok(client.statuses.slice(n).every((s) => s.app !== 'crashed' && s.app !== 'stopped'), 'the app stays alive');
  });
});
}
