// The session's state migration on its own: which layout findings become state-migrated infos,
// when the gate's verdict becomes a MigrateState plan (registered types, no holders; with legacy
// names only when the renamed functions are carried), and that a migrated layout is the app's
// from then on.
import { strict as assert } from 'node:assert';
import type { Finding } from '../../../server/src/analysis';
import type { LayoutChange, TypeLayout } from '../../../server/src/layout-gate';
import type { RunningApp } from '../../../server/src/session/app-lifecycle';
import type { CompiledLayoutsVerdict } from '../../../server/src/session/compiled-layouts';
import { StateMigration } from '../../../server/src/session/state-migration';

const layout = (fields: Array<[string, number, string]>, size: number): TypeLayout =>
  ({ name: 'app::State', kind: 'struct', size, align: 8, fields: fields.map(([name, offset, type]) => ({ name, offset, type })), variants: [] }) as unknown as TypeLayout;
const v1 = layout([['count', 0, 'u64']], 8);
const v2 = layout([['count', 0, 'u64'], ['speed', 8, 'f32']], 16);

function fakeApp(names: string[]): RunningApp {
  return { bin: { crateName: 'app' }, build: { workspaceCrates: { app: {} }, symbols: { functionNames: () => names } } } as unknown as RunningApp;
}
const V0 = ['_RNvCs1234_3app4tick'];
const LEGACY = ['_ZN3app4tick17h0123456789abcdefE'];

const range = { start: { line: 3, character: 11 }, end: { line: 3, character: 16 } };
const sourceFinding: Finding = { code: 'struct-layout-changed', severity: 'restart', file: '/w/src/main.rs', range, item: 'State', message: 'State: field `speed` added (requires restart)' };

function verdict(changes: LayoutChange[]): CompiledLayoutsVerdict {
  return {
    findings: changes.map((c) => ({ code: 'compiled-layout-changed', severity: 'restart', file: '/w/src/main.rs', range, item: 'State', message: `layout of ${c.type} changed` }) as Finding),
    summaries: changes.map((c) => c.summary),
    claim: 'layouts verified (3 compared)',
    verdict: { verified: true, changes, compared: 3, ms: 1 },
  };
}
const change = (before: TypeLayout, after: TypeLayout): LayoutChange => ({ type: 'app::State', before, after, summary: 'State: 8 → 16 bytes' });

describe('session: state migration', () => {
  let sources: Array<[string, string]>;
  let registered: string[];
  let app: RunningApp;
  const make = () =>
    new StateMigration({ app: () => app, registered: () => registered, sources: () => sources, cratesOf: () => ['app'] });
  beforeEach(() => {
    sources = [['/w/src/main.rs', 'pub struct State { count: u64, speed: f32 }\nfn tick(s: &mut State) {}\n']];
    registered = ['app::State'];
    app = fakeApp(V0);
  });

  it('a layout finding on a registered type nothing else holds becomes a state-migrated info', () => {
    const f = make().rewrite(sourceFinding);
    assert.equal(f.code, 'state-migrated');
    assert.equal(f.severity, 'info');
    assert.match(f.message, /the next patch migrates its values/);
  });

  it('stays restart-class, saying why: a holder, an unregistered type; legacy names are no reason by themselves', () => {
    sources.push(['/w/src/game.rs', 'pub struct Game { state: State }\n']);
    const held = make().rewrite(sourceFinding);
    assert.equal(held.severity, 'restart');
    assert.match(held.message, /also held by value: `pub struct Game \{ state: State \}` \(game\.rs:1\)/);
    sources.pop();
    app = fakeApp(LEGACY);
    const legacy = make().rewrite(sourceFinding);
    assert.equal(legacy.code, 'state-migrated', 'the gate and the renamed functions have the last word after the build');
    app = fakeApp(V0);
    registered = ['app::Other'];
    assert.deepEqual(make().rewrite(sourceFinding), sourceFinding);
  });

  it("turns the gate's verdict into a plan, and a migrated layout is no change afterwards", () => {
    const m = make();
    const first = m.judge(app, verdict([change(v1, v2)]));
    assert.deepEqual(first.findings, []);
    assert.deepEqual(first.migrate?.types, ['app::State']);
    m.confirmed(app, first.migrate!, first.migrateChanges!);
    assert.match(m.rewrite(sourceFinding).message, /were migrated to the new layout \(`State` gains `speed`: f32/);
    // The executable still has v1: the same v2 again is no change, a v3 is described from v2.
    const again = m.judge(app, verdict([change(v1, v2)]));
    assert.deepEqual(again.verdict.verified && again.verdict.changes, []);
    assert.equal(again.migrate, undefined);
    const v3 = layout([['speed', 0, 'f32']], 4);
    const third = m.judge(app, verdict([change(v1, v3)]));
    assert.equal(third.migrate?.descriptions.get('app::State'), '`State` loses `count`');
  });

  it('a failed migration keeps the finding restart-class with the reason until the next attempt', () => {
    const m = make();
    const plan = m.judge(app, verdict([change(v1, v2)])).migrate!;
    m.failed(app, plan, 'the new code could not deserialize the value');
    const f = m.rewrite(sourceFinding);
    assert.equal(f.severity, 'restart');
    assert.match(f.message, /Migrating its HotState values failed: the new code could not deserialize/);
    m.retrying(app);
    assert.equal(m.rewrite(sourceFinding).severity, 'info');
  });

  it('with legacy names whose renamed functions cannot be carried, or a holder, the gate finding stays, with the reason', () => {
    app = fakeApp(LEGACY);
    const legacy = make().judge(app, verdict([change(v1, v2)])); // no patch to read the renamed functions from
    assert.equal(legacy.migrate, undefined);
    assert.equal(legacy.renamed, undefined);
    assert.match(legacy.findings[0].message, /Not migrated: the patch could not be read/);
    const said = make();
    said.judge(app, verdict([change(v1, v2)]));
    const f = said.rewrite(sourceFinding);
    assert.equal(f.severity, 'restart');
    assert.match(f.message, /Migrating its HotState values failed: the patch could not be read/);
    app = fakeApp(V0);
    sources.push(['/w/src/spare.rs', 'static SPARE: Option<State> = None;\n']);
    const held = make().judge(app, verdict([change(v1, v2)]));
    assert.equal(held.migrate, undefined);
    assert.match(held.findings[0].message, /Not migrated: `State` is held by value outside its HotState handles: `static SPARE/);
  });

  it('a legacy app whose values were migrated blocks a later patch that cannot carry the renamed functions', () => {
    app = fakeApp(LEGACY);
    const m = make();
    m.confirmed(app, { types: ['app::State'], descriptions: new Map() }, [change(v1, v2)]);
    // The executable still has v1; the patch v2 again: no layout change left, yet its functions are renamed.
    const later = m.judge(app, verdict([change(v1, v2)]));
    assert.deepEqual(later.findings, []);
    assert.match(later.refused ?? '', /`State` values were migrated by an earlier patch, and this patch must carry the functions that layout renamed: the patch could not be read/);
    // With v0 names nothing is renamed: nothing to carry.
    app = fakeApp(V0);
    const v0 = make();
    v0.confirmed(app, { types: ['app::State'], descriptions: new Map() }, [change(v1, v2)]);
    assert.equal(v0.judge(app, verdict([change(v1, v2)])).refused, undefined);
  });

  it('a thread-local, a local a closure captures, or a trait object holding the type keeps the gate finding, naming the holder', () => {
    const holders: Array<[string, RegExp]> = [
      ['thread_local! { static CUR: RefCell<State> = RefCell::new(State::default()); }\n', /`thread_local! \{ static CUR: RefCell<State> = RefCell::new…` \(extra\.rs:1\)/],
      ['fn run() {\n    let spare = State::default();\n    subsecond::call(move || spare.count);\n}\n', /`let spare = State::default\(\);` \(extra\.rs:2\)/],
      ['fn keep(v: &mut Vec<Box<dyn Any>>) { v.push(Box::new(State { count: 1 })); }\n', /`fn keep\(v: &mut Vec<Box<dyn Any>>\) \{ v\.push\(Box::new\(Stat…` \(extra\.rs:1\)/],
    ];
    for (const [text, named] of holders) {
      sources = [['/w/src/main.rs', 'pub struct State { count: u64, speed: f32 }\n'], ['/w/src/extra.rs', text]];
      const v = make().judge(app, verdict([change(v1, v2)]));
      assert.equal(v.migrate, undefined, text);
      assert.match(v.findings[0].message, /Not migrated: `State` is held by value outside its HotState handles: /);
      assert.match(v.findings[0].message, named);
      assert.equal(make().rewrite(sourceFinding).severity, 'restart');
    }
  });
});
