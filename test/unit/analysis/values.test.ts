// Functions passed as values (Bevy systems and observers, routes, callbacks, fn pointers): a
// signature change while the running app holds the function as a value is hot-signature-changed
// (restart) and says where it is registered; a body change a direct caller of a stored value
// never sees, or a Startup system that already ran, is patched-code-unreachable (info).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { assertFindings, describeFindings, FILE, judge, newAnalyzer, textAt } from './helpers';

const BEVY = `use bevy::prelude::*;

fn main() {
    App::new()
        .add_plugins(MinimalPlugins)
        .add_systems(Startup, setup)
        .add_systems(Update, (movement, gravity.run_if(is_on)).chain())
        .add_observer(on_hit)
        .run();
}

fn setup(mut commands: Commands) {
    commands.spawn(Player::default());
}

fn movement(mut q: Query<&mut Transform>) {
    for mut t in &mut q { t.translation.x += 1.0; }
}

fn gravity(mut q: Query<&mut Transform>) {
    for mut t in &mut q { t.translation.y -= 1.0; }
}

fn is_on() -> bool { true }

fn on_hit(trigger: Trigger<Hit>) {
    let _ = trigger;
}
`;

function edit(text: string, from: string, to: string): string {
  assert.ok(text.includes(from), `fixture holds ${from}`);
  return text.replace(from, to);
}

describe('analysis: functions passed as values', () => {
  it('a Bevy system whose parameters change is a restart that names its registration', async () => {
    const after = edit(BEVY, 'fn movement(mut q: Query<&mut Transform>)', 'fn movement(mut q: Query<&mut Transform>, time: Res<Time>)');
    const fs = await judge(BEVY, after);
    assertFindings(fs, [{
      code: 'hot-signature-changed', item: 'movement',
      says: ['`movement` is registered as a value at line 7 (`add_systems`)', 'to `fn(Query<&mut Transform>, Res<Time>)`', 'keeps calling the code of the first build'],
    }]);
    assert.equal(textAt(after, fs[0]), 'movement');
    assert.equal(fs[0].related?.[0].file, FILE);
    assert.equal(fs[0].related?.[0].range.start.line, 6);
  });

  it('a system inside a combinator (`gravity.run_if(is_on)`), its condition, and an observer', async () => {
    for (const [from, to, item] of [
      ['fn gravity(mut q: Query<&mut Transform>)', 'fn gravity(q: Query<&Transform>)', 'gravity'],
      ['fn is_on() -> bool', 'fn is_on(r: Res<State>) -> bool', 'is_on'],
      ['fn on_hit(trigger: Trigger<Hit>)', 'fn on_hit(trigger: On<Hit>)', 'on_hit'],
    ]) {
      const fs = await judge(BEVY, edit(BEVY, from, to));
      assertFindings(fs, [{ code: 'hot-signature-changed', item, says: ['registered as a value at line', item === 'on_hit' ? '(`add_observer`)' : '(`add_systems`)'] }]);
    }
  });

  it('a system body change goes live (Bevy calls it through HotFn): no finding', async () => {
    assertFindings(await judge(BEVY, edit(BEVY, 't.translation.x += 1.0', 't.translation.x += 2.0')), []);
  });

  it('a Startup system body change says it already ran (info)', async () => {
    const fs = await judge(BEVY, edit(BEVY, 'commands.spawn(Player::default());', 'commands.spawn(Player { hp: 3 });'));
    assertFindings(fs, [{ code: 'patched-code-unreachable', item: 'setup', severity: 'info', says: ['`setup` runs in `Startup` (registered at line 6): it already ran'] }]);
  });

  it('a dioxus root component goes live on a body change (called through HotFn), restarts on a signature change', async () => {
    const text = 'fn main() {\n    dioxus::launch(App);\n}\nfn App() -> Element {\n    rsx! { "a" }\n}\n';
    assertFindings(await judge(text, text.replace('rsx! { "a" }', 'rsx! { "b" }')), []);
    assertFindings(await judge(text, text.replace('fn App()', 'fn App(p: Props)')), [{ code: 'hot-signature-changed', item: 'App', says: ['(`dioxus::launch`)'] }]);
  });

  it('#[hot] systems: a signature change is a restart unless hot_patch_signature handles it', async () => {
    const hot = '#[hot]\nfn greet(time: Res<Time>) {}\n';
    assertFindings(await judge(hot, hot.replace('time: Res<Time>', '')), [{ code: 'hot-signature-changed', item: 'greet', says: ['is a `#[hot]` system', 'hot_patch_signature = true'] }]);
    const handled = '#[hot(hot_patch_signature = true)]\nfn greet(time: Res<Time>) {}\nfn main() { App::new().add_systems(Update, greet); }\n';
    assertFindings(await judge(handled, handled.replace('time: Res<Time>', '')), []);
  });

  it('an axum handler: a signature change is a restart, a body change is info (called directly)', async () => {
    const api = 'async fn list() -> String { "a".into() }\nfn app() -> Router {\n    Router::new().route("/", get(list))\n}\n';
    assertFindings(await judge(api, api.replace('async fn list() -> String', 'async fn list(q: Query<P>) -> String')), [
      { code: 'hot-signature-changed', item: 'list', says: ['registered as a value at line 3 (`get`)'] },
    ]);
    const fs = await judge(api, api.replace('"a".into()', '"b".into()'));
    assertFindings(fs, [
      { code: 'patched-code-unreachable', item: 'list', says: ['`list` is passed as a value at line 3 (`get`)', 'called directly, not through subsecond', 'old code'] },
    ]);
    assert.deepEqual(fs[0].related?.map((r) => [r.range.start.line, r.message]), [[2, '`list` is passed here (`get`)']]);
  });

  it('fn pointers in struct fields, let bindings and callbacks', async () => {
    const cases: Array<[string, string]> = [
      ['fn handler(x: u32) {}\nfn build() -> Btn {\n    Btn { on_click: handler }\n}\n', '`Btn { .. }`'],
      ['fn handler(x: u32) {}\nfn build() {\n    let f: fn(u32) = handler;\n    store(f);\n}\n', '`let f`'],
      ['fn handler(x: u32) {}\nfn build(b: &mut Button) {\n    b.on_click(handler);\n}\n', '`on_click`'],
      ['fn handler(x: u32) {}\nfn build(b: &mut Button) {\n    b.set(Box::new(handler));\n}\n', '`set`'],
    ];
    for (const [text, ctx] of cases) {
      const fs = await judge(text, text.replace('fn handler(x: u32)', 'fn handler(x: u64)'));
      assertFindings(fs, [{ code: 'hot-signature-changed', item: 'handler', says: [ctx] }]);
    }
  });

  it('a workspace helper that calls its argument through HotFn (`hot(tip_value)`) is a hot call, not a registration', async () => {
    const text = 'fn hot<T>(f: fn() -> T) -> T {\n    subsecond::call(f)\n}\nfn tip_value() -> u32 {\n    1\n}\nfn main() {\n    loop { println!("{}", hot(tip_value)); }\n}\n';
    assertFindings(await judge(text, text.replace('    1\n', '    2\n')), []);
    assertFindings(await judge(text, text.replace('fn tip_value() -> u32', 'fn tip_value() -> u64')), []);
  });

  it('associated functions passed as `Self::f` / `Type::f` resolve to the method', async () => {
    const text = 'struct Game;\nimpl Game {\n    fn tick(w: &mut World) {}\n    fn plugin(app: &mut App) {\n        app.add_systems(Update, Self::tick);\n    }\n}\n';
    assertFindings(await judge(text, text.replace('fn tick(w: &mut World)', 'fn tick(w: &mut World, dt: f32)')), [
      { code: 'hot-signature-changed', item: 'Game::tick', says: ['`tick` is registered as a value at line 5 (`add_systems`)'] },
    ]);
    const other = 'struct Game;\nimpl Game {\n    fn tick(w: &mut World) {}\n}\nfn main() {\n    App::new().add_systems(Update, Game::tick);\n}\n';
    assertFindings(await judge(other, other.replace('fn tick(w: &mut World)', 'fn tick(w: &World)')), [{ code: 'hot-signature-changed', item: 'Game::tick' }]);
  });

  it('no false positives: calls, immediate adaptors, locals, fields, use lists, strings, comments', async () => {
    const quiet: string[] = [
      // called, not passed
      'fn speed(x: u32) -> u32 { x }\nfn main() { let v = speed(3); println!("{v}"); }\n',
      // iterator adaptors call it right away: new code passes the new function
      'fn parse(s: &str) -> u32 { 0 }\nfn main() { let v: Vec<u32> = lines().map(parse).collect(); }\n',
      'fn parse(s: &str) -> Option<u32> { None }\nfn main() { let v = x.and_then(parse); let w = y.filter_map(parse); }\n',
      // a local with the same name
      'fn speed(x: u32) -> u32 { x }\nfn main() { let speed = 3; run(speed); }\n',
      'fn speed(x: u32) -> u32 { x }\nfn main(speed: u32) { run(speed); }\n',
      'fn speed(x: u32) -> u32 { x }\nfn main() { for speed in xs { run(speed); } }\n',
      'fn speed(x: u32) -> u32 { x }\nfn main() { match v { Some(speed) => run(speed), _ => {} } }\n',
      'fn speed(x: u32) -> u32 { x }\nfn main() { xs.iter().for_each(|speed| run(speed)); }\n',
      // a field or a method of the same name
      'fn speed(x: u32) -> u32 { x }\nfn main() { run(car.speed); run(car.speed()); }\n',
      // a use list, a string, a comment
      'fn speed(x: u32) -> u32 { x }\nfn main() { use crate::a::{speed, other}; run("speed, 1"); /* run(speed) */ }\n',
      // a hot entry: judged as such (and only once)
      'fn speed(x: u32) -> u32 { x }\nfn main() { loop { subsecond::call(speed); } }\n',
      // a label, not a registration
      'fn speed() {}\nfn main() { app.add_systems(Update, other.after(speed)); }\n',
      // a block's value, a return: not evidently stored
      'fn speed(x: u32) -> u32 { x }\nfn pick(k: u8) -> fn(u32) -> u32 { if k == 0 { speed } else { other } }\n',
      'fn speed(x: u32) -> u32 { x }\nfn pick() -> fn(u32) -> u32 { return speed; }\n',
    ];
    for (const text of quiet) {
      const after = text.replace(/fn speed\(x: u32\)|fn parse\(s: &str\)|fn speed\(\)/, (m) => m.replace(')', ', extra: u8)').replace('(, ', '('));
      assert.notEqual(after, text);
      const fs = (await judge(text, after)).filter((f) => f.code !== 'hot-signature-changed' || !text.includes('subsecond::call'));
      assert.deepEqual(fs.map((f) => f.message), [], `${text}\n${describeFindings(fs)}`);
    }
  });

  it('across files: a system defined in one file and registered in another warns where it is defined', async () => {
    const a = await newAnalyzer({ crateOf: () => 'app' });
    const systems = '/ws/app/src/systems.rs';
    const main = '/ws/app/src/main.rs';
    a.update(systems, 'pub fn movement(q: Query<&Transform>) {}\n');
    a.update(main, 'mod systems;\nuse systems::movement;\nfn main() {\n    App::new().add_systems(Update, systems::movement).run();\n}\n');
    a.update(systems, 'pub fn movement(q: Query<&mut Transform>) {}\n');
    const fs = a.findingsFor(systems);
    assertFindings(fs, [{ code: 'hot-signature-changed', item: 'movement', says: ['registered as a value at src/main.rs:4 (`add_systems`)'] }]);
    assert.equal(fs[0].related?.[0].file, main);
    assert.deepEqual(a.findingsFor(main), []);
  });

  it('an ambiguous name (two candidates in other crates) is never guessed', async () => {
    const crates: Record<string, string> = { '/ws/a/src/lib.rs': 'a', '/ws/b/src/lib.rs': 'b', '/ws/app/src/main.rs': 'app' };
    const a = await newAnalyzer({ crateOf: (f) => crates[f] });
    a.update('/ws/a/src/lib.rs', 'pub fn tick(x: u8) {}\n');
    a.update('/ws/b/src/lib.rs', 'pub fn tick(x: u8) {}\n');
    a.update('/ws/app/src/main.rs', 'fn main() { app.add_systems(Update, tick); }\n');
    a.update('/ws/a/src/lib.rs', 'pub fn tick(x: u16) {}\n');
    assert.deepEqual(a.findingsFor('/ws/a/src/lib.rs'), []);
  });

  it('a registration the running app does not have (added with the edit) is not one', async () => {
    const before = 'fn movement(q: Query<&Transform>) {}\nfn build(app: &mut App) { app.run(); }\n';
    const after = 'fn movement(q: Query<&mut Transform>) {}\nfn build(app: &mut App) { app.add_systems(Update, movement).run(); }\n';
    assertFindings(await judge(before, after), []);
  });

  it('broken code never yields the finding, and a revert clears it', async () => {
    const a = await newAnalyzer();
    a.update(FILE, BEVY);
    a.update(FILE, edit(BEVY, 'fn movement(mut q: Query<&mut Transform>) {', 'fn movement(mut q: Query<&mut Transform>, t: Res<Time>) {\n    let = ;'));
    assert.deepEqual(a.findingsFor(FILE).filter((f) => f.item === 'movement'), []);
    a.update(FILE, edit(BEVY, 'fn movement(mut q: Query<&mut Transform>)', 'fn movement(mut q: Query<&mut Transform>, t: Res<Time>)'));
    assert.equal(a.findingsFor(FILE).length, 1);
    a.update(FILE, BEVY);
    assert.deepEqual(a.findingsFor(FILE), []);
  });
});

describe('analysis: calls the jump table cannot reach (patched-code-unreachable)', () => {
  const SHAPES = `pub trait Shape {
    fn name(&self) -> String;
}

pub struct Circle;

impl Shape for Circle {
    fn name(&self) -> String {
        "circle".into()
    }
}

pub struct Scene {
    shapes: Vec<Box<dyn Shape>>,
}
`;

  it('a trait impl method whose trait is used as `dyn Trait`: info naming the trait object', async () => {
    const fs = await judge(SHAPES, SHAPES.replace('"circle"', '"round"'));
    assertFindings(fs, [{
      code: 'patched-code-unreachable', item: 'Circle::name', severity: 'info',
      says: ['`Circle::name` is a method of `Shape`, which is used as `Box<dyn Shape>` (line 14)', 'values created before the patch', 'old code'],
    }]);
    assert.equal(textAt(SHAPES.replace('"circle"', '"round"'), fs[0]), 'name');
  });

  it('no `dyn` use (static dispatch only), or only in a comment or a string: nothing', async () => {
    const noDyn = SHAPES.replace('shapes: Vec<Box<dyn Shape>>,', 'shapes: Vec<Circle>, // not Box<dyn Shape>\n    label: &\'static str, ');
    assertFindings(await judge(noDyn, noDyn.replace('"circle"', '"round"')), []);
    const inString = SHAPES.replace('shapes: Vec<Box<dyn Shape>>,', 'shapes: Vec<Circle>,\n}\nconst S: &str = "dyn Shape";\nstruct T {');
    assertFindings(await judge(inString, inString.replace('"circle"', '"round"')), []);
  });

  it('framework traits held as trait objects outside the workspace: eframe::App, Bevy Plugin', async () => {
    const egui = 'impl eframe::App for DemoApp {\n    fn ui(&mut self, ui: &mut egui::Ui) {\n        ui.label("a");\n    }\n}\n';
    assertFindings(await judge(egui, egui.replace('"a"', '"b"')), [{ code: 'patched-code-unreachable', item: 'DemoApp::ui', says: ['`DemoApp::ui` is a method of `eframe::App`, which eframe holds as `Box<dyn eframe::App>`', 'old vtable'] }]);
    const imported = 'use eframe::{App, Frame};\nimpl App for DemoApp {\n    fn update(&mut self) {\n        let _ = 1;\n    }\n}\n';
    assertFindings(await judge(imported, imported.replace('1;', '2;')), [{ code: 'patched-code-unreachable', item: 'DemoApp::update' }]);
    const plugin = 'use bevy::prelude::*;\nimpl Plugin for GamePlugin {\n    fn build(&self, app: &mut App) {\n        app.insert_resource(Score(0));\n    }\n}\n';
    assertFindings(await judge(plugin, plugin.replace('Score(0)', 'Score(1)')), [{ code: 'patched-code-unreachable', item: 'GamePlugin::build', says: ['calls once while building the app'] }]);
    // another crate's `App` trait: nothing known
    const other = 'use mylib::App;\nimpl App for DemoApp {\n    fn update(&mut self) {\n        let _ = 1;\n    }\n}\n';
    assertFindings(await judge(other, other.replace('1;', '2;')), []);
  });

  it('the trait used as dyn in another file counts', async () => {
    const a = await newAnalyzer({ crateOf: () => 'app' });
    const shapes = '/ws/app/src/shapes.rs';
    const body = 'impl Shape for Circle {\n    fn name(&self) -> String { "c".into() }\n}\n';
    a.update(shapes, body);
    a.update('/ws/app/src/main.rs', 'fn main() {\n    let s: Vec<Box<dyn shapes::Shape>> = vec![];\n}\n');
    a.update(shapes, body.replace('"c"', '"d"'));
    assertFindings(a.findingsFor(shapes), [{ code: 'patched-code-unreachable', item: 'Circle::name', says: ['`Box<dyn shapes::Shape>` (src/main.rs:2)'] }]);
  });

  it('a boxed closure whose code changed: info; a change outside the closure: nothing', async () => {
    const text = 'impl App {\n    fn setup(&mut self) {\n        let n = 1;\n        self.handlers.push(Box::new(move |e: &Event| {\n            println!("{e:?}");\n        }));\n    }\n}\n';
    assertFindings(await judge(text, text.replace('println!("{e:?}")', 'eprintln!("{e:?}")')), [
      { code: 'patched-code-unreachable', item: 'App::setup', says: ['`App::setup` changed a closure it stores (`Box::new(..)` at line 4)', 'created before the patch keep their old code'] },
    ]);
    assertFindings(await judge(text, text.replace('let n = 1;', 'let n = 2;')), []);
  });

  it('a closure bound by `let` and boxed by name, or stored in a struct field, counts too', async () => {
    const byName = 'fn make() -> Box<dyn Fn(u32) -> u32> {\n    let scale = 2;\n    let cb = move |x: u32| x * scale;\n    Box::new(cb)\n}\n';
    assertFindings(await judge(byName, byName.replace('x * scale', 'x * scale + 1')), [{ code: 'patched-code-unreachable', item: 'make', says: ['a closure it stores (`Box::new(..)` at line 3)'] }]);
    const field = 'fn timer() -> Timer<impl FnMut()> {\n    Timer {\n        every: 5,\n        on_tick: move || println!("tick"),\n    }\n}\n';
    assertFindings(await judge(field, field.replace('"tick"', '"tock"')), [{ code: 'patched-code-unreachable', item: 'timer', says: ['a closure it stores (`Timer { .. }` at line 4)'] }]);
    assertFindings(await judge(field, field.replace('every: 5', 'every: 6')), []);
    // a closure used right away is not stored
    const local = 'fn sum(v: &[u32]) -> u32 {\n    let f = |x: &u32| x + 1;\n    v.iter().map(f).sum()\n}\n';
    assertFindings(await judge(local, local.replace('x + 1', 'x + 2')), []);
  });

  it('a function called from a one-capture hot closure subsecond never patches: info', async () => {
    const text = 'struct State { n: u64 }\nfn tick(s: &mut State) { s.n += 1; }\nfn main() {\n    let mut state = State { n: 0 };\n    loop {\n        subsecond::call(|| tick(&mut state));\n    }\n}\n';
    const fs = await judge(text, text.replace('s.n += 1', 's.n += 2'));
    assertFindings(fs, [{ code: 'patched-code-unreachable', item: 'tick', says: ['`tick` is called from a hot closure subsecond never patches (line 6)'] }]);
    // with two captures the closure is patched: nothing to say
    const two = text.replace('tick(&mut state)', 'tick(&mut state, &mut other)').replace('fn tick(s: &mut State)', 'fn tick(s: &mut State, o: &mut u8)');
    assertFindings(await judge(two, two.replace('s.n += 1', 's.n += 2')), []);
  });

  it('only while the body differs from the baseline', async () => {
    const a = await newAnalyzer();
    a.update(FILE, SHAPES);
    a.update(FILE, SHAPES.replace('"circle"', '"round"'));
    assert.equal(a.findingsFor(FILE).length, 1);
    a.rebaseline();
    assert.deepEqual(a.findingsFor(FILE), []);
  });
});

describe('analysis: values and unreachable code on a realistic app (fixtures/analysis/bevy_app.rs)', () => {
  const APP = fs.readFileSync(path.resolve(__dirname, '../../../../test/fixtures/analysis/bevy_app.rs'), 'utf8');
  const cases: Array<{ edit: [string, string]; expect: Array<{ code: 'hot-signature-changed' | 'patched-code-unreachable'; item: string; says: string[] }> }> = [
    { edit: ['fn movement(mut players: Query<&mut Player>, time: Res<Time>)', 'fn movement(mut players: Query<&mut Player>)'], expect: [{ code: 'hot-signature-changed', item: 'movement', says: ['(`add_systems`)'] }] },
    { edit: ['p.speed + time.delta_secs()', 'p.speed + 2.0 * time.delta_secs()'], expect: [] },
    { edit: ['fn is_alive(players: Query<&Player>)', 'fn is_alive(players: Query<(&Player, &Name)>)'], expect: [{ code: 'hot-signature-changed', item: 'is_alive', says: ['(`add_systems`)'] }] },
    { edit: ['fn on_hit(trigger: Trigger<Hit>,', 'fn on_hit(trigger: On<Hit>,'], expect: [{ code: 'hot-signature-changed', item: 'on_hit', says: ['(`add_observer`)'] }] },
    { edit: ['fn tally(mut score: ResMut<Score>, players: Query<&Player>)', 'fn tally(mut score: ResMut<Score>)'], expect: [{ code: 'hot-signature-changed', item: 'Scoring::tally', says: ['(`add_systems`)'] }] },
    { edit: ['commands.spawn(Player { hp: 100, speed: 2.0 });', 'commands.spawn(Player { hp: 120, speed: 2.0 });'], expect: [{ code: 'patched-code-unreachable', item: 'setup', says: ['runs in `Startup`'] }] },
    { edit: ['"dash"', '"dash!"'], expect: [{ code: 'patched-code-unreachable', item: 'Dash::name', says: ['used as `Box<dyn Ability>`'] }] },
    { edit: ['p.hp += 10 * bonus;', 'p.hp += 20 * bonus;'], expect: [{ code: 'patched-code-unreachable', item: 'Loadout::new', says: ['changed a closure it stores (`Box::new(..)`'] }] },
    { edit: ['fn describe(p: &Player) -> String', 'fn describe(p: &Player, verbose: bool) -> String'], expect: [{ code: 'hot-signature-changed', item: 'describe', says: ['(`Loadout { .. }`)'] }] },
    { edit: ['"hp {} speed {}"', '"hp={} speed={}"'], expect: [{ code: 'patched-code-unreachable', item: 'describe', says: ['passed as a value', '(`Loadout { .. }`)'] }] },
    { edit: ['"ok"', '"healthy"'], expect: [{ code: 'patched-code-unreachable', item: 'health', says: ['passed as a value at line', '(`get`)'] }] },
    { edit: ['async fn list_players(State(db): State<Db>)', 'async fn list_players(State(db): State<Db>, q: Query<Page>)'], expect: [{ code: 'hot-signature-changed', item: 'list_players', says: ['(`get`)'] }] },
    { edit: ['fn parse_line(l: &str) -> Option<u32>', 'fn parse_line(l: &str) -> Option<u64>'], expect: [] },
    { edit: ['l.trim().parse().ok()', 'l.trim().parse().ok().filter(|v| *v > 0)'], expect: [] },
    { edit: ['self.strength as f32 * 0.5', 'self.strength as f32 * 0.25'], expect: [{ code: 'patched-code-unreachable', item: 'Shield::cooldown', says: ['`Ability`'] }] },
  ];
  for (const c of cases) {
    it(`${c.edit[0].slice(0, 50)} → ${c.edit[1].slice(0, 50)}`, async () => {
      assertFindings(await judge(APP, edit(APP, c.edit[0], c.edit[1])), c.expect);
    });
  }
});
