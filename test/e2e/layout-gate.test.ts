// The compiler's word on every patch, as a user lives it: the real server starts the layout-gate
// fixture (clients/layout-gate), and edits that change the layout of values the running app holds
// where the source text cannot show it are built, compared with the executable's layouts from
// rustc's debug info, and blocked: the app keeps running its old code in the same process. After
// each revert a harmless body edit goes live again. One launch, the edits in sequence. Then the
// source analysis' own restarts on `Timing`, which stay blocked while a build of the save that is
// never sent tells what the compiler made of them: the layout is unchanged (a field retyped through
// an alias), or what moved (a `#[cfg]`-ed field switched off by its feature); a layout change in
// that build that no source finding names (a const saved with it) is the gate's own finding.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestLspClient, Diagnostic } from '../support/lsp-client';
import { prepareClientFixture } from '../support/counter-fixture';

interface Line {
  tick: number;
  msg: string;
  pid: number;
}

function parseLine(l: string): Line | undefined {
  const m = /tick=(\d+) ticks=\d+ slots=\d+ head=\d+ mode=\d+ msg=(\S+) pid=(\d+)/.exec(l);
  return m ? { tick: +m[1], msg: m[2], pid: +m[3] } : undefined;
}

describe('end to end: the layout gate blocks patches compiled for layouts the app does not have', function () {
  this.timeout(30 * 60_000);
  let client: TestLspClient;
  let mainRs = '';
  let coreRs = '';
  let mainV1 = '';
  let coreV1 = '';
  let pid = 0;
  let cursor = 0;

  const lines = (from = 0): Line[] =>
    client.logs
      .slice(from)
      .filter((l) => l.startsWith('[app stdout]'))
      .map(parseLine)
      .filter((x): x is Line => !!x);
  const latest = () => lines().pop();
  const mark = () => (cursor = client.logs.length);
  const save = async (file: string, text: string) => {
    fs.writeFileSync(file, text);
    await client.changeAndSave(file, text);
  };
  const gateFindings = (d: Diagnostic[]) => d.filter((x) => x.code === 'compiled-layout-changed');
  const patchesApplied = () => Math.max(0, ...client.statuses.map((s) => s.patchesApplied));

  before(async function () {
    this.timeout(40 * 60_000);
    const fixture = prepareClientFixture('layout-gate', 'subsecond-lsp-layout-gate');
    mainRs = path.join(fixture.clientDir, 'src', 'main.rs');
    coreRs = path.join(fixture.clientDir, 'layout-core', 'src', 'lib.rs');
    mainV1 = fs.readFileSync(mainRs, 'utf8');
    coreV1 = fs.readFileSync(coreRs, 'utf8');
    client = new TestLspClient({ rootDir: fixture.clientDir });
    await client.initialize();
    await client.open(mainRs, mainV1);
    await client.open(coreRs, coreV1);
    const started = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
    assert.equal(started.ok, true, `startApp: ${started.message}\n${client.logs.slice(-30).join('\n')}`);
    await client.waitFor('the app to print', () => latest(), 180_000);
    pid = latest()!.pid;
  });

  after(async () => {
    // the server's side of the story, for a failure's post-mortem
    if (client) client.writeServerLog('layout-gate');
    if (client) assert.equal(await client.shutdown(), 0);
  });

  /**
   * Saves an edit that changes a held layout (and `message()`), expects the gate's finding with
   * `summary` on `expectedItem`, the patch blocked, and the same process still printing what it
   * printed before.
   */
  async function expectBlocked(edits: Array<[string, string]>, summary: string, expectedItem: RegExp): Promise<Diagnostic> {
    const statusCount = client.statuses.length;
    const running = latest()!.msg;
    const appliedBefore = patchesApplied();
    mark();
    for (const [file, text] of edits) await save(file, text);
    const diags = await client.waitForDiagnostics(mainRs, `a compiled-layout-changed finding: ${summary}`, (d) => gateFindings(d).some((x) => x.message.includes(summary)), 300_000);
    const finding = gateFindings(diags).find((x) => x.message.includes(summary))!;
    assert.equal(finding.severity, 2, 'shown as a warning that requires a restart');
    const line = mainV1.split('\n')[finding.range.start.line] ?? '';
    assert.match(line, expectedItem, `placed on ${expectedItem}: line ${finding.range.start.line} is ${JSON.stringify(line)}`);
    const blocked = await client.waitFor('the blocked status', () => client.statuses.slice(statusCount).find((s) => s.patch === 'blocked' && /compiled layout/.test(s.message)), 60_000);
    assert.match(blocked.message, /nothing was sent/);
    // The app goes on in the same process, running its old code.
    const before = lines(cursor).length;
    await client.waitFor('three more lines', () => lines(cursor).length >= before + 3 || undefined, 30_000);
    const after = lines(cursor);
    assert.ok(after.every((l) => l.pid === pid && l.msg === running), `old code (${running}) in the same process: ${after.map((l) => `${l.msg}/${l.pid}`).join(', ')}`);
    assert.equal(patchesApplied(), appliedBefore, 'nothing was patched');
    return finding;
  }

  /** Reverts everything and edits `message()` alone: it goes live in the same process; the gate's findings go. */
  async function expectLiveAfterRevert(msg: string): Promise<void> {
    mark();
    const appliedBefore = patchesApplied();
    await save(coreRs, coreV1);
    await save(mainRs, mainV1.replace('"msg-v1"', `"${msg}"`));
    const t = await client.waitFor(`msg=${msg}`, () => lines(cursor).find((l) => l.msg === msg), 120_000);
    assert.equal(t.pid, pid, 'the same process was patched');
    await client.waitForDiagnostics(mainRs, 'the gate findings to clear', (d) => gateFindings(d).length === 0, 60_000);
    const applied = await client.waitFor('the applied status', () => client.statuses.find((s) => s.patch === 'applied' && s.patchesApplied > appliedBefore), 60_000);
    assert.match(applied.message, /layouts verified \(\d+ compared\)/, applied.message);
  }

  it('a field added through a macro_rules! invocation blocks the patch, on the invocation', async () => {
    const edit = mainV1.replace('stats!(ticks, bytes);', 'stats!(ticks, bytes, errors);').replace('"msg-v1"', '"msg-macro"');
    const f = await expectBlocked([[mainRs, edit]], 'Stats: 16 → 24 bytes; errors added at offset 16', /stats!\(ticks, bytes\)/);
    assert.match(f.message, /`layout_app::Stats`/);
    // The compiler's verdict replaces the "not judged" note on that invocation.
    const diags = client.diagnostics.get(client.uri(mainRs)) ?? [];
    assert.equal(diags.filter((d) => d.code === 'macro-items-not-judged').length, 0, JSON.stringify(diags));
    // State holds Stats by value: it is named too, on its definition.
    assert.ok(gateFindings(diags).some((d) => /State: \d+ → \d+ bytes/.test(d.message)), JSON.stringify(gateFindings(diags)));
    await expectLiveAfterRevert('msg-v2');
  });

  it('a const array length of a held struct blocks the patch, on the struct', async () => {
    const edit = mainV1.replace('pub const SLOTS: usize = 3;', 'pub const SLOTS: usize = 9;').replace('"msg-v1"', '"msg-const"');
    await expectBlocked([[mainRs, edit]], 'Held: 24 → 72 bytes; vals: [u64; 3] → [u64; 9]', /pub struct Held/);
    await expectLiveAfterRevert('msg-v3');
  });

  it("a generic argument changed through another crate's alias blocks the patch, on the holder", async () => {
    await expectBlocked(
      [
        [coreRs, coreV1.replace('type Value = u32;', 'type Value = u64;')],
        [mainRs, mainV1.replace('"msg-v1"', '"msg-generic"')],
      ],
      'ring: layout_core::Ring<u32> → layout_core::Ring<u64>',
      /pub struct State/,
    );
    await expectLiveAfterRevert('msg-v4');
  });

  it("an attribute macro from crates.io (bitfield-struct) given a wider backing integer blocks the patch, on the struct", async () => {
    // The fields as written keep their names and types: only the macro's arguments say that
    // `Flags` is now a u16, which the source analysis does not read.
    const edit = mainV1
      .replace('#[bitfield_struct::bitfield(u8)]', '#[bitfield_struct::bitfield(u16)]')
      .replaceAll('#[bits(4)]', '#[bits(8)]')
      .replace('"msg-v1"', '"msg-bitfield"');
    const f = await expectBlocked([[mainRs, edit]], 'Flags: 1 → 2 bytes', /pub struct Flags/);
    assert.match(f.message, /`layout_app::Flags`/);
    const diags = client.diagnostics.get(client.uri(mainRs)) ?? [];
    assert.ok(!diags.some((d) => d.code === 'struct-layout-changed'), `the source verdict alone would have let it through: ${JSON.stringify(diags)}`);
    await expectLiveAfterRevert('msg-v6');
  });

  it('a macro input edit that keeps the layout goes live, and its note says the compiler verified it', async () => {
    mark();
    await save(mainRs, mainV1.replace('stats!(ticks, bytes);', 'stats!(ticks, bytes,);').replace('"msg-v1"', '"msg-v5"'));
    const appliedBefore = patchesApplied();
    const t = await client.waitFor('msg=msg-v5', () => lines(cursor).find((l) => l.msg === 'msg-v5'), 300_000);
    assert.equal(t.pid, pid);
    const applied = await client.waitFor('the applied status', () => client.statuses.find((s) => s.patch === 'applied' && s.patchesApplied > appliedBefore), 60_000);
    assert.match(applied.message, /layouts verified \(\d+ compared\)/, applied.message);
    const diags = await client.waitForDiagnostics(mainRs, 'the verified macro note', (d) => d.some((x) => x.code === 'macro-items-not-judged' && /verified by the compiler/.test(x.message)), 60_000);
    assert.equal(gateFindings(diags).length, 0);
  });

  /**
   * The save since `statusCount` is blocked by Timing's `struct-layout-changed`, nothing was
   * patched, and the same process keeps printing `running` (old code).
   */
  async function expectTimingBlockedOldCodeRunning(statusCount: number, running: string, appliedBefore: number): Promise<void> {
    const blocked = await client.waitFor('the blocked status', () => client.statuses.slice(statusCount).find((s) => s.patch === 'blocked' && /struct-layout-changed/.test(s.message)), 60_000);
    assert.match(blocked.message, /Timing/);
    // The build the note came from was never sent: the same process runs its old code.
    const before = lines(cursor).length;
    await client.waitFor('three more lines', () => lines(cursor).length >= before + 3 || undefined, 30_000);
    const after = lines(cursor);
    assert.ok(after.every((l) => l.pid === pid && l.msg === running), `old code (${running}) in the same process: ${after.map((l) => `${l.msg}/${l.pid}`).join(', ')}`);
    assert.equal(patchesApplied(), appliedBefore, 'nothing was patched');
  }

  /**
   * Saves an edit the source analysis calls a `struct-layout-changed` of `Timing`, waits for that
   * warning to carry what the compiler says (`note`, from a build of the save that is never sent),
   * and checks that it still blocks: the same process keeps printing what it printed before.
   */
  async function expectSourceBlockWithCompilerNote(text: string, note: RegExp): Promise<Diagnostic> {
    const statusCount = client.statuses.length;
    const running = latest()!.msg;
    const appliedBefore = patchesApplied();
    mark();
    await save(mainRs, text);
    const isTiming = (x: Diagnostic) => x.code === 'struct-layout-changed' && /`Timing`/.test(x.message);
    const diags = await client.waitForDiagnostics(mainRs, `the compiler's note ${note} on Timing's struct-layout-changed`, (d) => d.some((x) => isTiming(x) && note.test(x.message)), 300_000);
    const finding = diags.find((x) => isTiming(x) && note.test(x.message))!;
    assert.equal(finding.severity, 2, 'still a warning');
    assert.match(finding.message, /requires restart/, 'the source verdict stands');
    assert.match(mainV1.split('\n')[finding.range.start.line] ?? '', /pub struct Timing/);
    assert.equal(gateFindings(diags).length, 0, 'no patch was built to be sent, so the gate itself found nothing');
    await expectTimingBlockedOldCodeRunning(statusCount, running, appliedBefore);
    return finding;
  }

  it("a source restart on a type whose compiled layout is unchanged stays blocked, and says the compiler found it unchanged", async () => {
    // `Count` is `u64`: the text changed, the compiled layout did not.
    const f = await expectSourceBlockWithCompilerNote(
      mainV1.replace('pub started: u64,', 'pub started: Count,').replace('"msg-v1"', '"msg-alias"'),
      /the compiled layout of `Timing` is unchanged: 24 bytes, the same fields at the same offsets/,
    );
    assert.match(f.message, /field `started` of `Timing` changed type from `u64` to `Count`/);
    assert.match(f.message, /the source verdict still asks for the restart/);
    assert.doesNotMatch(f.message, /compiled layout changed/);
    await expectLiveAfterRevert('msg-v7');
  });

  it('a #[cfg]-ed field switched off by its feature is blocked, and the warning says what the compiler moved', async () => {
    // The package builds with its default feature `extra`: `not(feature = "extra")` compiles `extra` out.
    const f = await expectSourceBlockWithCompilerNote(
      mainV1.replace('#[cfg(feature = "extra")]', '#[cfg(not(feature = "extra"))]').replace('"msg-v1"', '"msg-cfg"'),
      /the compiled layout changed too: Timing: 24 → 16 bytes;.*extra removed \(was at offset \d+\)/,
    );
    assert.match(f.message, /field `extra #\[cfg\(feature = "extra"\)\]: u64` removed from `Timing`/);
    assert.doesNotMatch(f.message, /unchanged/);
    await expectLiveAfterRevert('msg-v8');
  });

  it('a source restart saved with a const edit the source cannot see: the build of the blocked save shows the gate\'s own findings too, and the save stays blocked', async () => {
    // `Timing` is a source restart (compiled the same), and so is `State`, which holds it; `SLOTS`
    // resizes `Held`, which no source finding names: only that build of the save can show it.
    // (`State` grows with `Held`: that is the note on its own source finding.)
    const statusCount = client.statuses.length;
    const running = latest()!.msg;
    const appliedBefore = patchesApplied();
    mark();
    await save(mainRs, mainV1.replace('pub started: u64,', 'pub started: Count,').replace('pub const SLOTS: usize = 3;', 'pub const SLOTS: usize = 9;').replace('"msg-v1"', '"msg-both"'));
    const summary = 'Held: 24 → 72 bytes; vals: [u64; 3] → [u64; 9]';
    const diags = await client.waitForDiagnostics(mainRs, `the gate's finding ${summary} from the build of the blocked save`, (d) => gateFindings(d).some((x) => x.message.includes(summary)), 300_000);
    const held = gateFindings(diags).find((x) => x.message.includes(summary))!;
    assert.equal(held.severity, 2, 'a warning that requires a restart');
    assert.match(mainV1.split('\n')[held.range.start.line] ?? '', /pub struct Held/, 'placed on the struct');
    assert.deepEqual(gateFindings(diags).map((x) => x.message.match(/another layout of `([^`]+)`/)?.[1]), ['layout_app::Held'], 'the types the source findings name get no gate finding of their own');
    const state = await client.waitForDiagnostics(mainRs, "State's note", (d) => d.some((x) => x.code === 'struct-layout-changed' && /`State` embeds/.test(x.message) && /the compiled layout changed too: State: \d+ → \d+ bytes/.test(x.message)), 60_000);
    assert.ok(state);
    const timing = diags.find((x) => x.code === 'struct-layout-changed' && /`Timing`/.test(x.message));
    assert.ok(timing, JSON.stringify(diags));
    assert.match(timing.message, /requires restart/);
    await expectTimingBlockedOldCodeRunning(statusCount, running, appliedBefore);
    await expectLiveAfterRevert('msg-v11');
  });

  it('a source restart whose build fails: the warning says nothing of the compiler, and no build error is shown', async () => {
    mark();
    const appliedBefore = patchesApplied();
    await save(mainRs, mainV1.replace('pub started: u64,', 'pub started: NoSuchType,').replace('"msg-v1"', '"msg-broken"'));
    await client.waitFor('the check to give up', () => client.logs.slice(cursor).find((l) => /layouts of the blocked save: not compared, its build failed \(rustc\)/.test(l)), 120_000);
    const diags = await client.waitForDiagnostics(mainRs, "Timing's finding", (d) => d.some((x) => x.code === 'struct-layout-changed' && /`NoSuchType`/.test(x.message)), 60_000);
    const timing = diags.find((x) => x.code === 'struct-layout-changed' && /`NoSuchType`/.test(x.message))!;
    assert.doesNotMatch(timing.message, /compiled layout/);
    assert.ok(!diags.some((d) => d.code === 'patch-build-error'), `the build nobody asked for shows no errors: ${JSON.stringify(diags)}`);
    assert.equal(patchesApplied(), appliedBefore);
    await expectLiveAfterRevert('msg-v10');
  });

  it("a save during the compiler's check: the note describes only the text it was built from, and a patchable save goes live", async () => {
    const building = () => client.waitFor('the check of the blocked save to start', () => client.logs.slice(cursor).find((l) => /layouts of the blocked save: building it/.test(l)), 120_000);
    mark();
    await save(mainRs, mainV1.replace('pub started: u64,', 'pub started: Count,').replace('"msg-v1"', '"msg-alias2"'));
    await building();
    // Another source restart on the same struct while the first text's build runs.
    const published = client.publishedDiagnostics.length;
    mark();
    await save(mainRs, mainV1.replace('#[cfg(feature = "extra")]', '#[cfg(not(feature = "extra"))]').replace('"msg-v1"', '"msg-cfg2"'));
    await client.waitForDiagnostics(mainRs, "the cfg edit's compiled difference", (d) => d.some((x) => x.code === 'struct-layout-changed' && /removed from `Timing`.*the compiled layout changed too: Timing: 24 → 16 bytes/.test(x.message)), 300_000);
    const stale = client.publishedDiagnostics
      .slice(published)
      .flatMap((p) => p.diagnostics)
      .filter((d) => /removed from `Timing`/.test(d.message) && /is unchanged/.test(d.message));
    assert.deepEqual(stale, [], "the alias edit's note never shows on the cfg edit's finding");
    // A save that makes the code patchable while a check runs: the check gives way, the patch goes live.
    mark();
    await save(mainRs, mainV1.replace('pub started: u64,', 'pub started: Count,').replace('"msg-v1"', '"msg-alias3"'));
    await building();
    await expectLiveAfterRevert('msg-v9');
    const diags = client.diagnostics.get(client.uri(mainRs)) ?? [];
    assert.ok(!diags.some((d) => /compiled layout/.test(d.message)), JSON.stringify(diags));
  });
});
