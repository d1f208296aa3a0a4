// State that survives a layout change, as a user lives it: the real server starts the hot-state
// fixture (clients/hot-state: its State in a subsecond_agent::HotState), and edits of State's
// layout (a field added, removed, renamed with `#[serde(alias)]`, retyped to a type serde
// converts) are built, judged by the layout gate, and sent with a MigrateState instruction: the
// agent serializes the value with the old code, deserializes it with the patch's, and swaps it in.
// The counter keeps counting in the same process. A value the new code cannot read leaves the old code
// and value running; a static holding a State by value keeps the change restart-class.
// One launch per symbol mangling, the edits in sequence: legacy names (stable Rust's default),
// where the layout change renames the functions that mention `State` and the server matches them
// through their DWARF instance names, and v0 names (`-C symbol-mangling-version=v0`), which a
// layout change leaves alone.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestLspClient, Diagnostic } from '../support/lsp-client';
import { prepareClientFixture, useLegacyMangling, useV0Mangling } from '../support/counter-fixture';

interface Line {
  tick: number;
  count: number;
  level: string;
  extra: string;
  msg: string;
  pid: number;
}

function parseLine(l: string): Line | undefined {
  const m = /tick=(\d+) count=(\d+) level=(\S+) extra=(\S+) msg=(\S+) pid=(\d+)/.exec(l);
  return m ? { tick: +m[1], count: +m[2], level: m[3], extra: m[4], msg: m[5], pid: +m[6] } : undefined;
}

for (const mangling of ['legacy', 'v0'] as const)
describe(`end to end: HotState values migrate when a patch changes their layout (${mangling} symbol names)`, function () {
  this.timeout(30 * 60_000);
  let client: TestLspClient;
  let mainRs = '';
  let v1 = '';
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
  const save = async (text: string) => {
    fs.writeFileSync(mainRs, text);
    await client.changeAndSave(mainRs, text);
  };
  const patchesApplied = () => Math.max(0, ...client.statuses.map((s) => s.patchesApplied));
  const stateFindings = (d: Diagnostic[]) => d.filter((x) => /`State`|State:/.test(x.message));

  // The edits, each from the previous one.
  const withSpeed = () =>
    v1
      .replace('    pub level: String,\n}', '    pub level: String,\n    #[serde(default)]\n    pub speed: f32,\n}')
      .replace('fn extra(_state: &State) -> String {\n    "none".to_string()', 'fn extra(state: &State) -> String {\n    format!("speed={}", state.speed)')
      .replace('State { count: 0, level: "forest".to_string() }', 'State { count: 0, level: "forest".to_string(), speed: 0.0 }');

  before(async function () {
    this.timeout(40 * 60_000);
    // Each mangling its own copy and target/ (the flag changes every crate's fingerprint).
    const fixture = prepareClientFixture('hot-state', mangling === 'v0' ? 'subsecond-lsp-hot-state' : 'subsecond-lsp-hot-state-legacy');
    if (mangling === 'v0') useV0Mangling(fixture.clientDir);
    else useLegacyMangling(fixture.clientDir);
    mainRs = path.join(fixture.clientDir, 'src', 'main.rs');
    v1 = fs.readFileSync(mainRs, 'utf8');
    client = new TestLspClient({ rootDir: fixture.clientDir });
    await client.initialize();
    await client.open(mainRs, v1);
    const started = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
    assert.equal(started.ok, true, `startApp: ${started.message}\n${client.logs.slice(-30).join('\n')}`);
    await client.waitFor('the app to print', () => latest(), 180_000);
    pid = latest()!.pid;
    await client.waitFor('the HotState types reported', () => client.logs.find((l) => /holds HotState values of hot_state_app::State/.test(l)), 60_000);
  });

  after(async () => {
    if (client) client.writeServerLog(`state-migration-${mangling}`);
    if (client) assert.equal(await client.shutdown(), 0);
  });

  /** Saves `text` and waits for a line that `live` accepts; the same process, the count kept. */
  async function expectMigrated(text: string, live: (l: Line) => boolean, what: string): Promise<string> {
    const before = latest()!;
    const appliedBefore = patchesApplied();
    const statusCount = client.statuses.length;
    mark();
    await save(text);
    const line = await client.waitFor(what, () => {
      // (a status is shown again on every publication: only a new message counts)
      const seen = new Set(client.statuses.slice(0, statusCount).map((s) => s.message));
      const refused = client.statuses.slice(statusCount).find((s) => (s.patch === 'blocked' || s.patch === 'failed') && !seen.has(s.message));
      if (refused) throw new Error(`the patch was ${refused.patch}: ${refused.message}`);
      return lines(cursor).find(live);
    }, 300_000);
    assert.equal(line.pid, pid, 'the same process was patched');
    assert.ok(line.count > before.count, `the count kept counting: ${before.count} then ${line.count}`);
    const applied = await client.waitFor('the applied status', () => client.statuses.find((s) => s.patch === 'applied' && s.patchesApplied > appliedBefore), 60_000);
    return applied.message;
  }

  it('a field added with #[serde(default)] migrates: the count goes on, the new field defaults', async () => {
    const status = await expectMigrated(withSpeed(), (l) => l.extra === 'speed=0', 'extra=speed=0');
    assert.match(status, /state migrated: `State` gains `speed`: f32/, status);
    // Never a restart warning about State: an info that says it was migrated.
    const diags = await client.waitForDiagnostics(mainRs, 'the state-migrated info', (d) => d.some((x) => x.code === 'state-migrated' && /migrated/.test(x.message)), 60_000);
    assert.equal(diags.filter((x) => x.severity === 2 && /State/.test(x.message)).length, 0, JSON.stringify(stateFindings(diags)));
    assert.equal(diags.find((x) => x.code === 'state-migrated')!.severity, 3);
    // The old value's fields came across.
    assert.equal(latest()!.level, 'forest');
    if (mangling === 'legacy') {
      // The layout change renamed the functions mentioning State; the patch carried them, matched by instance.
      const carried = client.logs.find((l) => /legacy symbol names: \d+ functions renamed by the layout change matched through their DWARF instance names/.test(l));
      assert.ok(carried, 'the renamed functions were matched');
    }
  });

  it('a value the new code cannot deserialize leaves the old code and value running, and says so', async () => {
    const running = latest()!;
    const statusCount = client.statuses.length;
    mark();
    const retyped = withSpeed()
      .replace('    pub level: String,\n    #[serde(default)]', '    pub level: u32,\n    #[serde(default)]')
      .replace('    state.level.clone()', '    state.level.to_string()')
      .replace('level: "forest".to_string(), speed', 'level: 7, speed')
      .replace('"msg-v1"', '"msg-retyped"');
    await save(retyped);
    const failed = await client.waitFor('the failed status', () => client.statuses.slice(statusCount).find((s) => s.patch === 'failed'), 300_000);
    assert.match(failed.message, /could not apply the patch: HotState<hot_state_app::State>: the new code could not deserialize the value/, failed.message);
    assert.match(failed.message, /keeps running its previous code/);
    const before = lines(cursor).length;
    await client.waitFor('three more lines', () => lines(cursor).length >= before + 3 || undefined, 30_000);
    const after = lines(cursor);
    assert.ok(
      after.every((l) => l.pid === pid && l.msg === running.msg && l.level === 'forest' && l.extra === 'speed=0'),
      `old code and value in the same process: ${after.map((l) => `${l.msg}/${l.level}/${l.pid}`).join(', ')}`,
    );
    assert.ok(after[after.length - 1].count > running.count, 'the old code keeps counting');
    const diags = await client.waitForDiagnostics(mainRs, 'the failure on State', (d) => d.some((x) => x.severity === 2 && /Migrating its HotState values failed/.test(x.message)), 60_000);
    assert.ok(diags.length > 0);
  });

  it('back to the migrated layout, a body edit goes live without migrating again', async () => {
    const status = await expectMigrated(withSpeed().replace('"msg-v1"', '"msg-again"'), (l) => l.msg === 'msg-again', 'msg=msg-again');
    assert.doesNotMatch(status, /state migrated/, status);
    assert.match(status, /layouts verified/, status);
    assert.equal(latest()!.extra, 'speed=0');
  });

  const withoutLevel = () =>
    withSpeed()
      .replace('    pub level: String,\n', '')
      .replace('    state.level.clone()', '    "gone".to_string()')
      .replace('State { count: 0, level: "forest".to_string(), speed: 0.0 }', 'State { count: 0, speed: 0.0 }')
      .replace('"msg-v1"', '"msg-removed"');
  // `count` renamed to `total`, read from the old value through `#[serde(alias)]`.
  const renamed = () =>
    withoutLevel()
      .replace('    pub count: u64,\n', '    #[serde(alias = "count")]\n    pub total: u64,\n')
      .replace('    state.count += 1;', '    state.total += 1;')
      .replace('        state.count,\n', '        state.total,\n')
      .replace('State { count: 0, speed: 0.0 }', 'State { total: 0, speed: 0.0 }')
      .replace('"msg-removed"', '"msg-renamed"');

  it('a field removed migrates too', async () => {
    const status = await expectMigrated(withoutLevel(), (l) => l.level === 'gone' && l.msg === 'msg-removed', 'level=gone');
    assert.match(status, /state migrated: `State` loses `level`\)/, status); // measured from the migrated layout, which has `speed`
    assert.equal(latest()!.extra, 'speed=0');
  });

  it('a field renamed with #[serde(alias)] migrates with its value (the count goes on)', async () => {
    const status = await expectMigrated(renamed(), (l) => l.msg === 'msg-renamed', 'msg=msg-renamed');
    assert.match(status, /state migrated: `State` gains `total`: u64 .*; loses `count`/, status);
  });

  it('a field retyped to a type serde converts the old value to migrates with its value', async () => {
    // u64 → f64: the JSON number reads as either; `{}` of a whole f64 prints no fraction.
    const retyped = renamed()
      .replace('    pub total: u64,\n', '    pub total: f64,\n')
      .replace('    state.total += 1;', '    state.total += 1.0;')
      .replace('State { total: 0, speed: 0.0 }', 'State { total: 0.0, speed: 0.0 }')
      .replace('"msg-renamed"', '"msg-retyped-f64"');
    const status = await expectMigrated(retyped, (l) => l.msg === 'msg-retyped-f64', 'msg=msg-retyped-f64');
    assert.match(status, /state migrated: `State` retypes `total`: u64 → f64/, status);
  });

  it('a static that holds a State by value keeps the change restart-class, naming it', async () => {
    const running = latest()!;
    const appliedBefore = patchesApplied();
    mark();
    const held = v1
      .replace('    pub level: String,\n}', '    pub level: String,\n    #[serde(default)]\n    pub lives: u32,\n}')
      .replace('State { count: 0, level: "forest".to_string() }', 'State { count: 0, level: "forest".to_string(), lives: 0 }')
      .replace('fn main() {', 'static SPARE: std::sync::Mutex<Option<State>> = std::sync::Mutex::new(None);\n\nfn main() {')
      .replace('"msg-v1"', '"msg-held"');
    await save(held);
    const diags = await client.waitForDiagnostics(mainRs, 'a restart warning naming SPARE', (d) => d.some((x) => x.severity === 2 && /held by value: `static SPARE/.test(x.message)), 120_000);
    assert.ok(diags.some((x) => x.code === 'struct-layout-changed'));
    const before = lines(cursor).length;
    await client.waitFor('three more lines', () => lines(cursor).length >= before + 3 || undefined, 30_000);
    const after = lines(cursor);
    assert.ok(after.every((l) => l.pid === pid && l.msg === running.msg), `old code in the same process: ${after.map((l) => l.msg).join(', ')}`);
    assert.equal(patchesApplied(), appliedBefore, 'nothing was patched');
    assert.ok(client.statuses.some((s) => s.patch === 'blocked'), 'the status says blocked');
  });
});
