// hot-closure-never-patched: subsecond 0.7 takes a closure exactly as large as a fn pointer for a
// fn pointer and looks its captured pointer up in the jump table, so a hot closure with one
// pointer-sized capture never runs patched code. Each story is one version of a file and exactly
// the closure warnings it has, whatever the baseline; the warning sits on the closure's `|..|`.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { assertFindings, describeFindings, FILE, findingsOf, newAnalyzer, textAt } from './helpers';
import type { Finding } from '../../../server/src/analysis';

const REPO = path.resolve(__dirname, '../../../..');
const CODE = 'hot-closure-never-patched';
const closures = (fs: readonly Finding[]) => fs.filter((f) => f.code === CODE);

interface Story {
  story: string;
  text: string;
  /** The enclosing function, the closure head the warning covers, and the capture it names. */
  fires?: { item: string; head: string; place: string };
}

const MAIN_ONE = 'struct State { n: u64 }\nfn tick(s: &mut State) { s.n += 1; }\nfn main() {\n    let mut state = State { n: 0 };\n    loop {\n        subsecond::call(|| tick(&mut state));\n    }\n}\n';

const fires: Story[] = [
  { story: 'a closure borrowing one local: || tick(&mut state)', text: MAIN_ONE, fires: { item: 'main', head: '||', place: 'state' } },
  {
    story: 'a move closure holding one local u64: move || step(n)',
    text: 'fn step(n: u64) {}\nfn main() {\n    let n: u64 = 5;\n    subsecond::call(move || step(n));\n}\n',
    fires: { item: 'main', head: 'move ||', place: 'n' },
  },
  {
    story: 'a move closure holding a u64 known from its literal suffix',
    text: 'fn main() {\n    let n = 5u64;\n    subsecond::call(move || step(n));\n}\n',
    fires: { item: 'main', head: 'move ||', place: 'n' },
  },
  {
    story: 'a method call on self alone: || self.tick()',
    text: 'impl App {\n    fn update(&mut self) {\n        subsecond::call(|| self.tick());\n    }\n}\n',
    fires: { item: 'App::update', head: '||', place: 'self' },
  },
  {
    story: 'a move closure holding &mut self',
    text: 'impl App {\n    fn update(&mut self) {\n        subsecond::call(move || self.tick());\n    }\n}\n',
    fires: { item: 'App::update', head: 'move ||', place: 'self' },
  },
  {
    story: 'a move closure holding a Box',
    text: 'fn main() {\n    let world = Box::new(World::default());\n    subsecond::call(move || world.step());\n}\n',
    fires: { item: 'main', head: 'move ||', place: 'world' },
  },
  {
    story: 'a reference parameter passed on',
    text: 'fn frame(state: &mut State) {\n    subsecond::call(|| tick(state));\n}\n',
    fires: { item: 'frame', head: '||', place: 'state' },
  },
  {
    story: 'one field of a local (a disjoint capture) is still one pointer',
    text: 'fn main() {\n    let mut world = World::new();\n    subsecond::call(|| tick(&mut world.player));\n}\n',
    fires: { item: 'main', head: '||', place: 'world.player' },
  },
  {
    story: 'a field and a method call on it overlap: one capture',
    text: 'fn main() {\n    let mut s = S::new();\n    subsecond::call(|| {\n        s.a.x += 1;\n        s.a.reset();\n    });\n}\n',
    fires: { item: 'main', head: '||', place: 's.a' },
  },
  {
    story: 'HotFn::current with a closure taking an argument',
    text: 'fn main() {\n    let mut world = World::new();\n    let f = subsecond::HotFn::current(|dt: f32| step(&mut world, dt));\n}\n',
    fires: { item: 'main', head: '|dt: f32|', place: 'world' },
  },
  {
    story: 'a bare call(..) in a file that imports subsecond::call',
    text: 'use subsecond::call;\n\nfn main() {\n    let mut state = State::default();\n    call(|| tick(&mut state));\n}\n',
    fires: { item: 'main', head: '||', place: 'state' },
  },
  {
    story: "a closure's own let borrowing the one capture",
    text: 'fn main() {\n    let mut world = World::new();\n    subsecond::call(|| {\n        let w = &mut world;\n        w.step();\n        draw(w);\n    });\n}\n',
    fires: { item: 'main', head: '||', place: 'world' },
  },
  {
    story: 'constants, statics, paths and fn calls around the one capture',
    text: 'fn main() {\n    let mut s = S::new();\n    subsecond::call(|| helper(&mut s, LIMIT, Mode::Fast, std::f64::consts::PI, now()));\n}\n',
    fires: { item: 'main', head: '||', place: 's' },
  },
  {
    story: 'a format string naming the same capture inline',
    text: 'fn main() {\n    let mut s = S::new();\n    subsecond::call(|| {\n        println!("{s:?}");\n        tick(&mut s);\n    });\n}\n',
    fires: { item: 'main', head: '||', place: 's' },
  },
  {
    story: 'a closure inside an enclosing closure capturing its parameter',
    text: 'fn main() {\n    run(|ctx| {\n        subsecond::call(|| draw(&ctx));\n    });\n}\n',
    fires: { item: 'main', head: '||', place: 'ctx' },
  },
];

const silent: Story[] = [
  // ---- zero or two+ captures ------------------------------------------------------------------
  { story: 'no capture at all (a zero-sized closure)', text: 'fn main() {\n    subsecond::call(|| tick());\n}\n' },
  { story: 'a static is not captured', text: 'static mut STATE: u64 = 0;\nfn main() {\n    subsecond::call(|| unsafe { tick(&mut STATE) });\n}\n' },
  { story: 'two captures, as clients/counter does', text: 'fn main() {\n    let mut state = State { count: 0 };\n    let mut ticks: u64 = 0;\n    loop {\n        subsecond::call(|| tick(&mut state, &mut ticks));\n    }\n}\n' },
  { story: 'self and another parameter: || self.frame(ui)', text: 'impl App {\n    fn update(&mut self, ui: &mut Ui) {\n        subsecond::call(|| self.frame(ui));\n    }\n}\n' },
  { story: 'three captures, as clients/egui-demo does', text: 'impl eframe::App for DemoApp {\n    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {\n        subsecond::call(|| self.frame_ui(ui, frame));\n    }\n}\n' },
  { story: 'two disjoint fields of one local are two captures', text: 'fn main() {\n    let mut s = S::new();\n    subsecond::call(|| {\n        s.a += 1;\n        s.b += 1;\n    });\n}\n' },
  { story: 'two tuple fields are two captures', text: 'fn main() {\n    let mut p = (0u32, 0u32);\n    subsecond::call(|| {\n        p.0 += 1;\n        p.1 += 1;\n    });\n}\n' },
  // ---- fn items and other calls -----------------------------------------------------------------
  { story: 'a fn item passed to subsecond::call', text: 'fn main() {\n    subsecond::call(tick);\n}\n' },
  { story: 'a fn item passed to HotFn::current', text: 'fn main() {\n    let w = World::new();\n    subsecond::HotFn::current(render).call((&w,));\n}\n' },
  { story: 'a closure not passed to a hot call', text: 'fn main() {\n    let mut s = S::new();\n    run(|| tick(&mut s));\n    std::thread::spawn(move || work(s));\n}\n' },
  { story: 'a method named call is not subsecond', text: 'fn main() {\n    let mut s = S::new();\n    pool.call(|| tick(&mut s));\n    other::call(|| tick(&mut s));\n}\n' },
  { story: 'a bare call(..) without importing subsecond::call', text: 'fn main() {\n    let mut s = S::new();\n    call(|| tick(&mut s));\n}\n' },
  { story: 'a closure that is not the only argument', text: 'fn main() {\n    let mut s = S::new();\n    subsecond::call(|| tick(&mut s), 1);\n}\n' },
  // ---- shadowing ------------------------------------------------------------------------------
  { story: "the closure's parameter shadows the outer name", text: 'fn main() {\n    let mut state = State::new();\n    subsecond::HotFn::current(|state: &mut State| tick(state));\n}\n' },
  { story: "the closure's own let shadows the outer name", text: 'fn main() {\n    let mut state = State::new();\n    subsecond::call(|| {\n        let mut state = State::new();\n        tick(&mut state)\n    });\n}\n' },
  { story: 'a for binding inside the closure hiding an outer name is not guessed at', text: 'fn main() {\n    let i = 0;\n    let mut s = S::new();\n    subsecond::call(|| for i in 0..3 { tick(&mut s, i) });\n}\n' },
  // ---- move closures of unknown or other size -------------------------------------------------
  { story: 'a move closure holding an integer of inferred type', text: 'fn main() {\n    let n = 5;\n    subsecond::call(move || step(n));\n}\n' },
  { story: 'a move closure holding a u32', text: 'fn main() {\n    let n: u32 = 5;\n    subsecond::call(move || step(n));\n}\n' },
  { story: 'a move closure holding a struct by value', text: 'fn main() {\n    let s = S::new();\n    subsecond::call(move || s.tick());\n}\n' },
  // ---- fat pointers (two words) ---------------------------------------------------------------
  { story: 'a slice reference is a fat pointer', text: 'fn f(items: &mut [u8]) {\n    subsecond::call(|| items.sort());\n}\n' },
  { story: 'a trait object reference is a fat pointer', text: 'fn f(w: &mut dyn Widget) {\n    subsecond::call(|| w.draw());\n}\n' },
  { story: 'a method call on a binding of unknown type may auto-deref into a trait object', text: 'fn main() {\n    for w in widgets.iter_mut() {\n        subsecond::call(|| w.draw());\n    }\n}\n' },
  // ---- what the reading does not understand ---------------------------------------------------
  { story: 'a nested closure', text: 'fn main() {\n    let mut s = S::new();\n    subsecond::call(|| s.items.iter().for_each(|x| draw(x)));\n}\n' },
  { story: 'a macro it cannot read', text: 'fn main() {\n    let mut s = S::new();\n    subsecond::call(|| {\n        log::info!("x");\n        tick(&mut s)\n    });\n}\n' },
  { story: 'a struct update', text: 'fn main() {\n    let s = S::new();\n    subsecond::call(|| draw(S { a: 1, ..s }));\n}\n' },
  { story: 'a name it never saw bound (a fn item used as a value)', text: 'fn main() {\n    let mut s = S::new();\n    subsecond::call(|| apply(&mut s, step));\n}\n' },
  { story: 'a format string naming a second capture inline', text: 'fn main() {\n    let mut s = S::new();\n    let frame = 0;\n    subsecond::call(|| {\n        println!("{frame}");\n        tick(&mut s)\n    });\n}\n' },
  { story: 'a nested fn does not see the outer bindings', text: 'fn main() {\n    let mut s = S::new();\n    fn inner() {\n        subsecond::call(|| tick(&mut s));\n    }\n}\n' },
  { story: 'closures in #[cfg(test)] code are never in the running binary', text: '#[cfg(test)]\nmod tests {\n    fn t() {\n        let mut s = S::new();\n        subsecond::call(|| tick(&mut s));\n    }\n}\n' },
];

describe('analysis: hot closures subsecond never patches', () => {
  describe('closures with exactly one pointer-sized capture warn', () => {
    for (const s of fires) {
      it(s.story, async () => {
        const got = closures(await findingsOf(s.text));
        const f = s.fires!;
        assertFindings(got, [{ code: CODE, item: f.item, says: [`captures only \`${f.place}\``, 'subsecond 0.7', 'never run its patched code', 'pass a fn item'] }]);
        assert.equal(textAt(s.text, got[0]), f.head, 'the warning sits on the closure head');
        assert.ok(!got[0].message.includes('requires restart'), 'a warning about the code, not a restart');
      });
    }
  });

  describe('closures that do not warn', () => {
    for (const s of silent) {
      it(s.story, async () => {
        const got = closures(await findingsOf(s.text));
        assert.deepEqual(got, [], describeFindings(got));
      });
    }
  });

  it('the exact range: the `||` of the call on line 5', async () => {
    const [f] = await findingsOf(MAIN_ONE);
    assert.equal(f.severity, 'warning');
    assert.deepEqual(f.range, { start: { line: 5, character: 24 }, end: { line: 5, character: 26 } });
    assert.equal(f.file, FILE);
  });

  it('the exact range of a move closure with parameters: `move |dt|`', async () => {
    const text = 'fn main() {\n    let w = Box::new(World::new());\n    let f = subsecond::HotFn::current(move |dt| w.step(dt));\n}\n';
    const got = closures(await findingsOf(text));
    assert.equal(got.length, 1, describeFindings(got));
    assert.deepEqual(got[0].range, { start: { line: 2, character: 38 }, end: { line: 2, character: 47 } });
    assert.equal(textAt(text, got[0]), 'move |dt|');
  });

  it("never fires on the repo's clients", async () => {
    const a = await newAnalyzer();
    const files = ['clients/counter/src/main.rs', 'clients/egui-demo/src/main.rs', 'clients/egui-demo/src/my_component.rs'];
    for (const rel of files) {
      const file = path.join(REPO, rel);
      a.update(file, fs.readFileSync(file, 'utf8'));
      const got = closures(a.findingsFor(file));
      assert.deepEqual(got, [], `${rel}:\n${describeFindings(got)}`);
    }
  });

  it('fires once on the fixture whose loop captures only `world`', async () => {
    const text = fs.readFileSync(path.join(REPO, 'test/fixtures/analysis/game.rs'), 'utf8');
    const got = closures(await findingsOf(text));
    assertFindings(got, [{ code: CODE, item: 'run_forever', says: ['captures only `world`'] }]);
  });

  it('is a property of the current code: present in the baseline, gone when fixed, back when broken again', async () => {
    const a = await newAnalyzer();
    a.update(FILE, MAIN_ONE);
    assert.equal(closures(a.findingsFor(FILE)).length, 1, 'the first version (also the baseline) has it');
    a.rebaseline();
    assert.equal(closures(a.findingsFor(FILE)).length, 1, 'a restart does not make it go away');
    const fixed = MAIN_ONE.replace('let mut state = State { n: 0 };', 'let mut state = State { n: 0 };\n    let mut ticks = 0u64;').replace('tick(&mut state)', 'tick(&mut state, &mut ticks)');
    a.update(FILE, fixed);
    assert.deepEqual(closures(a.findingsFor(FILE)), [], 'capturing a second value fixes it');
    a.update(FILE, MAIN_ONE);
    assert.equal(closures(a.findingsFor(FILE)).length, 1, 'and reverting to one capture brings it back');
    assert.deepEqual(a.findingsFor(FILE).filter((f) => f.severity === 'restart'), [], 'it never asks for a restart');
  });

  it('broken code mid-edit never throws and never warns falsely', async () => {
    const a = await newAnalyzer();
    a.update(FILE, 'fn main() {\n    let mut state = State::new();\n    let mut ticks = 0u64;\n    subsecond::call(|| tick(&mut state, &mut ticks));\n}\n');
    const midEdits = [
      // the second capture half deleted: the function does not parse
      'fn main() {\n    let mut state = State::new();\n    let mut ticks = 0u64;\n    subsecond::call(|| tick(&mut state, &mut ));\n}\n',
      'fn main() {\n    let mut state = State::new();\n    let mut ticks = 0u64;\n    subsecond::call(|| tick(&mut state\n}\n',
      'fn main() {\n    let mut state = ;\n    subsecond::call(|| tick(&mut state));\n}\n',
      'fn main() {\n    let mut state = State::new();\n    subsecond::call(|| tick(&mut state)\n',
      'fn main() {\n    subsecond::call(|\n}\n',
      'fn main() {\n    subsecond::call(move |\n}\n',
      'fn main() { subsecond::call(|| { let x = ; tick(&mut s) }); }\n',
      'call(|| x',
      '||||| subsecond::call(move || move || |a| |b| a(b)) ..= ..',
      'fn main() { let s = 1; subsecond::call(|| match s { 1 => , _ => f(s) }); }',
      'fn f(\u0000: u8) { subsecond::call(|| 😀(&mut 😀)); }',
    ];
    for (const text of midEdits) {
      a.update(FILE, text);
      const got = closures(a.findingsFor(FILE));
      assert.deepEqual(got, [], `${JSON.stringify(text)}:\n${describeFindings(got)}`);
    }
    // finishing the edit with one capture left is a real warning
    a.update(FILE, 'fn main() {\n    let mut state = State::new();\n    let mut ticks = 0u64;\n    subsecond::call(|| tick(&mut state));\n}\n');
    assert.equal(closures(a.findingsFor(FILE)).length, 1);
  });

  it('other findings of the same save keep their places, sorted by position', async () => {
    const a = await newAnalyzer();
    const before = 'struct A { x: u8 }\n' + MAIN_ONE;
    a.update(FILE, before);
    a.update(FILE, before.replace('x: u8', 'x: u16'));
    const got = a.findingsFor(FILE);
    assert.deepEqual(got.map((f) => f.code), ['struct-layout-changed', CODE]);
  });
});
