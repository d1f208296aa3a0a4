// The patchability catalog, one saved edit at a time: every row that is a finding and every row
// that is not. Each story is a baseline (`before`), a save (`after`) and exactly the findings the
// save must produce, with the words their messages must contain.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { assertFindings, Expect, judge, textAt } from './helpers';
import type { AnalyzerOptions } from '../../../server/src/analysis';

interface Story {
  story: string;
  before: string;
  after: string;
  expect: Expect[];
  options?: AnalyzerOptions;
}

const APP = `use std::cell::Cell;

/// The application state.
#[derive(Debug, Clone, Default)]
pub struct App {
    count: u32,
    name: String,
}

impl App {
    pub fn bump(&mut self) {
        self.count += 1;
    }
}

fn helper(x: u32) -> u32 {
    x * 2
}
`;

/** A Dioxus context: `Theme` provided by `App`, read by `Counter` (turbofish) and `Footer` (a binding's type). */
const DX_CONTEXT = `use dioxus::prelude::*;
#[derive(Clone, Copy)]
struct Theme {
    dark: bool,
}
#[component]
fn App() -> Element {
    use_context_provider(|| Theme { dark: true });
    rsx! { Counter {} Footer {} }
}
#[component]
fn Counter() -> Element {
    let t = use_context::<Theme>();
    rsx! { "{t.dark}" }
}
fn Footer() -> Element {
    let t: Theme = use_context();
    rsx! { "{t.dark}" }
}`;

const findings: Story[] = [
  // ---- struct-layout-changed ------------------------------------------------------------------
  {
    story: 'a saved new field warns on the struct and blocks the patch',
    before: APP,
    after: APP.replace('name: String,', 'name: String,\n    extra: bool,'),
    expect: [{ code: 'struct-layout-changed', item: 'App', says: ['field `extra: bool` added to `App`', 'running instances have the old layout'] }],
  },
  {
    story: 'a removed field warns',
    before: APP,
    after: APP.replace('    name: String,\n', ''),
    expect: [{ code: 'struct-layout-changed', item: 'App', says: ['field `name: String` removed from `App`'] }],
  },
  {
    story: 'a saved field type change warns and blocks the patch',
    before: 'struct P { x: u32, y: u32 }',
    after: 'struct P { x: u64, y: u32 }',
    expect: [{ code: 'struct-layout-changed', item: 'P', says: ['field `x` of `P` changed type from `u32` to `u64`'] }],
  },
  {
    story: 'a change of a generic argument in a field type warns',
    before: 'struct P { items: Option<u32> }',
    after: 'struct P { items: Option<u64> }',
    expect: [{ code: 'struct-layout-changed', item: 'P', says: ['changed type from `Option<u32>` to `Option<u64>`'] }],
  },
  {
    story: 'reordered fields warn',
    before: 'struct P { a: u8, b: u64 }',
    after: 'struct P { b: u64, a: u8 }',
    expect: [{ code: 'struct-layout-changed', item: 'P', says: ['fields of `P` reordered'] }],
  },
  {
    story: 'a field renamed while another is added warns about the addition only',
    before: 'struct P { a: u8, b: u64 }',
    after: 'struct P { a: u8, c: u64, d: bool }',
    expect: [{ code: 'struct-layout-changed', item: 'P', says: ['field `d: bool` added to `P`'] }],
  },
  {
    story: 'a field renamed to the name of another field is a swap, not a rename',
    before: 'struct P { a: u8, b: u8 }',
    after: 'struct P { b: u8, a: u8 }',
    expect: [{ code: 'struct-layout-changed', item: 'P', says: ['fields of `P` reordered'] }],
  },
  {
    story: 'a new generic parameter warns',
    before: 'struct Wrap<T> { v: T }',
    after: 'struct Wrap<T, U> { v: T, u: U }',
    expect: [{ code: 'struct-layout-changed', item: 'Wrap', says: ['generic parameters of `Wrap` changed from `<T>` to `<T, U>`'] }],
  },
  {
    story: 'a new #[repr] warns',
    before: 'struct P { a: u8, b: u32 }',
    after: '#[repr(C)]\nstruct P { a: u8, b: u32 }',
    expect: [{ code: 'struct-layout-changed', item: 'P', says: ['`#[repr]` of `P` changed from none to `#[repr(C)]`'] }],
  },
  {
    story: 'a struct that changes shape from named fields to a tuple warns',
    before: 'struct P { a: u8 }',
    after: 'struct P(u8);',
    expect: [{ code: 'struct-layout-changed', item: 'P', says: ['changed shape from named fields to a tuple struct'] }],
  },
  {
    story: 'a tuple struct with an extra field warns',
    before: 'struct Meters(f32);',
    after: 'struct Meters(f32, f32);',
    expect: [{ code: 'struct-layout-changed', item: 'Meters', says: ['field 1 (`f32`) added to `Meters`'] }],
  },
  {
    story: 'a union field type change warns',
    before: 'union Bits { i: u32, f: f32 }',
    after: 'union Bits { i: u64, f: f32 }',
    expect: [{ code: 'struct-layout-changed', item: 'Bits', says: ['field `i` of `Bits` changed type'] }],
  },
  {
    story: 'a struct embedding a changed struct by value warns too, pointing at the embedded type',
    before: 'struct Outer { inner: Inner, n: u8 }\nstruct Inner { x: u8 }',
    after: 'struct Outer { inner: Inner, n: u8 }\nstruct Inner { x: u8, y: u8 }',
    expect: [
      { code: 'struct-layout-changed', item: 'Inner', says: ['field `y: u8` added to `Inner`'] },
      { code: 'struct-layout-changed', item: 'Outer', says: ['`Outer` embeds `Inner` whose layout changed'] },
    ],
  },
  {
    story: 'embedding is transitive, through arrays, tuples and Option',
    before: 'struct A { b: [Option<(B, u8)>; 2] }\nstruct B { c: C }\nstruct C { x: u8 }',
    after: 'struct A { b: [Option<(B, u8)>; 2] }\nstruct B { c: C }\nstruct C { x: u16 }',
    expect: [
      { code: 'struct-layout-changed', item: 'C' },
      { code: 'struct-layout-changed', item: 'B', says: ['`B` embeds `C`'] },
      { code: 'struct-layout-changed', item: 'A', says: ['`A` embeds `B`'] },
    ],
  },
  {
    story: 'a type held behind a pointer does not make the holder change layout',
    before: 'struct Outer { a: Box<Inner>, b: Vec<Inner>, c: &\'static Inner, d: Option<Box<Inner>>, e: std::rc::Rc<Inner>, f: *const Inner }\nstruct Inner { x: u8 }',
    after: 'struct Outer { a: Box<Inner>, b: Vec<Inner>, c: &\'static Inner, d: Option<Box<Inner>>, e: std::rc::Rc<Inner>, f: *const Inner }\nstruct Inner { x: u64 }',
    expect: [{ code: 'struct-layout-changed', item: 'Inner' }],
  },
  {
    story: 'a type alias that resolves differently changes the layout of structs using it',
    before: 'type Id = u32;\nstruct User { id: Id }',
    after: 'type Id = u64;\nstruct User { id: Id }',
    expect: [{ code: 'struct-layout-changed', item: 'User', says: ['`User` embeds `Id` whose layout changed'] }],
  },
  {
    story: 'a struct in an inline module is named with its module path',
    before: 'mod ui {\n    pub struct Panel { w: u32 }\n}',
    after: 'mod ui {\n    pub struct Panel { w: u32, h: u32 }\n}',
    expect: [{ code: 'struct-layout-changed', item: 'ui::Panel', says: ['field `h: u32` added to `ui::Panel`'] }],
  },
  // ---- enum-layout-changed --------------------------------------------------------------------
  {
    story: 'a new enum variant warns',
    before: 'enum Shape { Circle(f32), Square(f32) }',
    after: 'enum Shape { Circle(f32), Square(f32), Triangle }',
    expect: [{ code: 'enum-layout-changed', item: 'Shape', says: ['variant `Triangle` added to `Shape`'] }],
  },
  {
    story: 'a removed enum variant warns',
    before: 'enum Shape { Circle(f32), Square(f32) }',
    after: 'enum Shape { Circle(f32) }',
    expect: [{ code: 'enum-layout-changed', item: 'Shape', says: ['variant `Square` removed from `Shape`'] }],
  },
  {
    story: 'reordered variants warn',
    before: 'enum Dir { Up, Down }',
    after: 'enum Dir { Down, Up }',
    expect: [{ code: 'enum-layout-changed', item: 'Dir', says: ['variants of `Dir` reordered'] }],
  },
  {
    story: 'a changed variant payload warns',
    before: 'enum Shape { Circle { r: f32 }, Dot }',
    after: 'enum Shape { Circle { r: f64 }, Dot }',
    expect: [{ code: 'enum-layout-changed', item: 'Shape', says: ['payload of variant `Circle` of `Shape` changed from `{ r: f32 }` to `{ r: f64 }`'] }],
  },
  {
    story: 'a changed explicit discriminant warns',
    before: 'enum Level { Low = 1, High = 2 }',
    after: 'enum Level { Low = 1, High = 3 }',
    expect: [{ code: 'enum-layout-changed', item: 'Level', says: ['discriminant of variant `High` of `Level` changed from `2` to `3`'] }],
  },
  {
    story: 'a changed enum #[repr] warns',
    before: '#[repr(u8)]\nenum Level { Low, High }',
    after: '#[repr(u16)]\nenum Level { Low, High }',
    expect: [{ code: 'enum-layout-changed', item: 'Level', says: ['`#[repr]` of `Level` changed from `#[repr(u8)]` to `#[repr(u16)]`'] }],
  },
  {
    story: 'new enum generic parameters warn',
    before: 'enum Either<L> { Left(L), Right }',
    after: 'enum Either<L, R> { Left(L), Right(R) }',
    expect: [{ code: 'enum-layout-changed', item: 'Either', says: ['generic parameters of `Either` changed'] }],
  },
  {
    story: 'an enum carrying a changed struct by value warns',
    before: 'enum Msg { Move(Pos), Quit }\nstruct Pos { x: i32 }',
    after: 'enum Msg { Move(Pos), Quit }\nstruct Pos { x: i32, y: i32 }',
    expect: [
      { code: 'struct-layout-changed', item: 'Pos' },
      { code: 'enum-layout-changed', item: 'Msg', says: ['`Msg` embeds `Pos` whose layout changed'] },
    ],
  },
  // ---- statics --------------------------------------------------------------------------------
  {
    story: 'a static whose type changes warns',
    before: 'static LIMIT: u32 = 10;',
    after: 'static LIMIT: u64 = 10;',
    expect: [{ code: 'static-type-changed', item: 'LIMIT', says: ['static `LIMIT` changed type from `u32` to `u64`'] }],
  },
  {
    story: 'a static that becomes mutable warns',
    before: 'static LIMIT: u32 = 10;',
    after: 'static mut LIMIT: u32 = 10;',
    expect: [{ code: 'static-type-changed', item: 'LIMIT', says: ['from `static` to `static mut`'] }],
  },
  {
    story: 'a static holding a changed struct by value warns',
    before: 'static ORIGIN: Pos = Pos { x: 0 };\nstruct Pos { x: i32 }',
    after: 'static ORIGIN: Pos = Pos { x: 0 };\nstruct Pos { x: i64 }',
    expect: [
      { code: 'struct-layout-changed', item: 'Pos' },
      { code: 'static-type-changed', item: 'ORIGIN', says: ['static `ORIGIN` holds `Pos` whose layout changed'] },
    ],
  },
  // What the engine does with the static decides what the message may claim (engine/fixups.ts;
  // seen in the counter app: an AtomicU64 kept counting, a plain u64 read its new value).
  {
    story: 'a changed initializer of a static with interior mutability: the running app keeps its value',
    before: 'static HITS: AtomicU64 = AtomicU64::new(0);',
    after: 'static HITS: AtomicU64 = AtomicU64::new(100);',
    expect: [{ code: 'static-initializer-changed', item: 'HITS', says: ['initializer of static `HITS` changed: the running app keeps the value it has (patched code uses the app\'s static)'] }],
  },
  {
    story: 'a changed initializer of plain read-only data: patched code reads the new value, the rest the old one',
    before: 'static LIMIT: u64 = 7;\nstatic TABLE: [u8; 4] = [1, 2, 3, 4];',
    after: 'static LIMIT: u64 = 8;\nstatic TABLE: [u8; 4] = [1, 2, 3, 5];',
    expect: [
      { code: 'static-initializer-changed', item: 'LIMIT', says: ['patched code reads the new value', 'code that is not patched still the old one'] },
      { code: 'static-initializer-changed', item: 'TABLE', says: ['patched code reads the new value'] },
    ],
  },
  {
    story: 'a changed initializer of a static of another type says which value depends on its storage, not that it is kept',
    before: 'static GREETING: &str = "hello";',
    after: 'static GREETING: &str = "bonjour";',
    expect: [{ code: 'static-initializer-changed', item: 'GREETING', says: ['code that is not patched keeps the value the app has; patched code reads the new value if the static is plain read-only data'] }],
  },
  // ---- traits ---------------------------------------------------------------------------------
  {
    story: 'a trait method whose signature changes warns: vtables would not match',
    before: 'trait Widget {\n    fn draw(&self, ui: &mut Ui);\n}',
    after: 'trait Widget {\n    fn draw(&self, ui: &mut Ui, dt: f32);\n}',
    expect: [{ code: 'trait-changed', item: 'Widget', says: ['method `draw` of trait `Widget` changed signature', 'vtables of live objects would not match'] }],
  },
  {
    story: 'a trait that gains a method warns',
    before: 'trait Widget {\n    fn draw(&self);\n}',
    after: 'trait Widget {\n    fn draw(&self);\n    fn size(&self) -> (u32, u32) { (0, 0) }\n}',
    expect: [{ code: 'trait-changed', item: 'Widget', says: ['method `size` added to trait `Widget`'] }],
  },
  {
    story: 'a trait that loses a method warns',
    before: 'trait Widget {\n    fn draw(&self);\n    fn hide(&self);\n}',
    after: 'trait Widget {\n    fn draw(&self);\n}',
    expect: [{ code: 'trait-changed', item: 'Widget', says: ['method `hide` removed from trait `Widget`'] }],
  },
  {
    story: 'a trait that gains an associated type warns',
    before: 'trait Source {\n    fn next(&mut self) -> u8;\n}',
    after: 'trait Source {\n    type Item;\n    fn next(&mut self) -> u8;\n}',
    expect: [{ code: 'trait-changed', item: 'Source', says: ['associated type `Item` added to trait `Source`'] }],
  },
  {
    story: 'an associated const that changes type warns',
    before: 'trait Limits {\n    const MAX: u32;\n}',
    after: 'trait Limits {\n    const MAX: u64;\n}',
    expect: [{ code: 'trait-changed', item: 'Limits', says: ['associated const `MAX` of trait `Limits` changed type from `u32` to `u64`'] }],
  },
  // ---- hot entries ----------------------------------------------------------------------------
  {
    story: 'a hot entry passed to subsecond::call that changes signature warns',
    before: 'fn tick(state: &mut State) { state.n += 1; }\nfn main() { let mut s = State::default(); loop { subsecond::call(|| tick(&mut s)); } }',
    after: 'fn tick(state: &mut State, dt: u32) { state.n += dt; }\nfn main() { let mut s = State::default(); loop { subsecond::call(|| tick(&mut s)); } }',
    expect: [{ code: 'hot-signature-changed', item: 'tick', says: ['hot entry `tick` changed signature from `fn(&mut State)` to `fn(&mut State, u32)`'] }],
  },
  {
    story: 'a function passed by path to HotFn::current is a hot entry',
    before: 'fn frame(n: u32) -> u32 { n }\nfn run() { subsecond::HotFn::current(frame).call((1,)); }',
    after: 'fn frame(n: u64) -> u32 { n as u32 }\nfn run() { subsecond::HotFn::current(frame).call((1,)); }',
    expect: [{ code: 'hot-signature-changed', item: 'frame', says: ['from `fn(u32) -> u32` to `fn(u64) -> u32`'] }],
  },
  {
    story: "a function named in the agent's hot! helper is a hot entry",
    before: 'mod widgets { pub fn label(s: &str) -> String { s.into() } }\nfn draw() { let t = subsecond_agent::hot!(widgets::label)("x"); }',
    after: 'mod widgets { pub fn label(s: &str, bold: bool) -> String { s.into() } }\nfn draw() { let t = subsecond_agent::hot!(widgets::label)("x"); }',
    expect: [{ code: 'hot-signature-changed', item: 'widgets::label' }],
  },
  {
    story: 'the seed pattern subsecond::call(|| self.subsecond_fn(ui, frame)) makes subsecond_fn a hot entry',
    before: 'impl eframe::App for MyApp {\n    fn update(&mut self, ui: &mut Ui, frame: &mut Frame) {\n        subsecond::call(|| self.subsecond_fn(ui, frame));\n    }\n}\nimpl MyApp {\n    fn subsecond_fn(&mut self, ui: &mut Ui, frame: &mut Frame) {}\n}',
    after: 'impl eframe::App for MyApp {\n    fn update(&mut self, ui: &mut Ui, frame: &mut Frame) {\n        subsecond::call(|| self.subsecond_fn(ui, frame));\n    }\n}\nimpl MyApp {\n    fn subsecond_fn(&mut self, ui: &mut Ui) {}\n}',
    expect: [{ code: 'hot-signature-changed', item: 'MyApp::subsecond_fn', says: ['`fn(&mut self, &mut Ui, &mut Frame)` to `fn(&mut self, &mut Ui)`'] }],
  },
  // ---- thread-locals --------------------------------------------------------------------------
  {
    story: 'a new thread_local! requires a restart',
    before: 'fn f() {}',
    after: 'thread_local! {\n    static SCRATCH: RefCell<Vec<u8>> = RefCell::new(Vec::new());\n}\nfn f() {}',
    expect: [{ code: 'thread-local-added', item: 'SCRATCH', severity: 'restart', says: ['new thread-local `SCRATCH` requires restart: a patch cannot add thread-local storage to the running process'] }],
  },
  {
    story: 'a thread-local whose type changes requires a restart',
    before: 'thread_local!(static COUNT: Cell<u32> = Cell::new(0));',
    after: 'thread_local!(static COUNT: Cell<u64> = Cell::new(0));',
    expect: [{ code: 'thread-local-type-changed', item: 'COUNT', severity: 'restart', says: ['thread-local `COUNT` changed type from `Cell<u32>` to `Cell<u64>`'] }],
  },
  {
    story: "a thread-local's new initializer is information: the running app keeps its value",
    before: 'thread_local! { static COUNT: Cell<u32> = const { Cell::new(0) }; }',
    after: 'thread_local! { static COUNT: Cell<u32> = const { Cell::new(5) }; }',
    expect: [{ code: 'thread-local-initializer-changed', item: 'COUNT', severity: 'info', says: ['initializer of thread-local `COUNT` changed', 'each thread that has it keeps its value'] }],
  },
  {
    // Nothing is lost (the patch binds to the app's thread-local), so nothing is said: a
    // `thread-local-reset` saying "keeps its value" contradicted its own code.
    story: 'a changed function that uses a thread-local the engine keeps (policy keep) is no finding',
    before: 'thread_local! { static COUNT: Cell<u32> = Cell::new(0); }\nfn tick() { COUNT.with(|c| c.set(c.get() + 1)); }',
    after: 'thread_local! { static COUNT: Cell<u32> = Cell::new(0); }\nfn tick() { COUNT.with(|c| c.set(c.get() + 2)); }',
    expect: [],
  },
  {
    story: 'with a resetting engine the same edit says the value resets',
    options: { threadLocalPolicy: 'reset' },
    before: 'thread_local! { static COUNT: Cell<u32> = Cell::new(0); }\nfn tick() { COUNT.with(|c| c.set(c.get() + 1)); }',
    after: 'thread_local! { static COUNT: Cell<u32> = Cell::new(0); }\nfn tick() { COUNT.with(|c| c.set(c.get() + 2)); }',
    expect: [{ code: 'thread-local-reset', item: 'tick', severity: 'warning', says: ['`tick` uses thread-local `COUNT`: patched code starts from its initial value and does not see the running app\'s value'] }],
  },
  {
    story: 'a changed function that uses a static mut is told the truth: binary-crate and private ones start fresh per patch',
    before: 'static mut HITS: u64 = 0;\nfn tick() { unsafe { HITS += 1; } }',
    after: 'static mut HITS: u64 = 0;\nfn tick() { unsafe { HITS += 2; } }',
    expect: [{ code: 'static-mut-reset', item: 'tick', severity: 'warning', says: ['`tick` uses `static mut` `HITS`: patched code gets its own copy, starting from the initial value with every patch', 'a `static` holding an atomic or a Mutex keeps its value'] }],
  },
  {
    story: 'an unchanged function using a static mut, or a changed one using a plain static, says nothing',
    before: 'static mut HITS: u64 = 0;\nstatic PLAIN: u64 = 1;\nfn tick() { unsafe { HITS += 1; } }\nfn other() -> u64 { PLAIN }',
    after: 'static mut HITS: u64 = 0;\nstatic PLAIN: u64 = 1;\nfn tick() { unsafe { HITS += 1; } }\nfn other() -> u64 { PLAIN + 1 }',
    expect: [],
  },
  // ---- component-props-changed (Dioxus) --------------------------------------------------------
  {
    story: 'a new parameter of a #[component] changes its props: restart, naming the component',
    before: '#[component]\nfn Counter(label: String, count: i32) -> Element {\n    rsx! { p { "{label}: {count}" } }\n}',
    after: '#[component]\nfn Counter(label: String, count: i32, #[props(default)] step: i32) -> Element {\n    rsx! { p { "{label}: {count}" } }\n}',
    expect: [{ code: 'component-props-changed', item: 'Counter', says: ['props of component `Counter` changed', 'requires restart'] }],
  },
  {
    story: 'a parameter of a #[component] that changes type is a props change too (any path to the attribute)',
    before: '#[dioxus::prelude::component]\nfn Counter(count: i32) -> Element { rsx! {} }',
    after: '#[dioxus::prelude::component]\nfn Counter(count: i64) -> Element { rsx! {} }',
    expect: [{ code: 'component-props-changed', item: 'Counter' }],
  },
  // ---- component-hooks-changed (Dioxus) --------------------------------------------------------
  {
    story: 'a hook added to a component: info, the hooks from the new one on meet the old list by position',
    before: 'fn App() -> Element {\n    let mut count = use_signal(|| 0);\n    rsx! { button { onclick: move |_| count += 1, "{count}" } }\n}',
    after: 'fn App() -> Element {\n    let mut count = use_signal(|| 0);\n    let doubled = use_memo(move || count() * 2);\n    rsx! { button { onclick: move |_| count += 1, "{count} {doubled}" } }\n}',
    expect: [{
      code: 'component-hooks-changed', item: 'App', severity: 'info',
      says: ['the hooks of component `App` changed (`use_signal` → `use_signal`, `use_memo`)', 'by call order', 'where `App` is the root (the component launched) from its hook #2 (`use_memo`) on', 'starts from its initializer', 'as a child component it is re-created by the patch, all its hooks fresh'],
    }],
  },
  {
    story: 'a hook removed from a #[component], a generic one among them, is info too',
    before: '#[component]\nfn Counter(label: String) -> Element {\n    let a = use_signal::<i32>(|| 0);\n    let b = dioxus::hooks::use_signal(|| 1);\n    rsx! { "{label} {a} {b}" }\n}',
    after: '#[component]\nfn Counter(label: String) -> Element {\n    let b = dioxus::hooks::use_signal(|| 1);\n    rsx! { "{label} {b}" }\n}',
    expect: [{ code: 'component-hooks-changed', item: 'Counter', says: ['(`use_signal`, `use_signal` → `use_signal`)', 'from its hook #1 (`use_signal`) on', "(possibly another hook's)"] }],
  },
  {
    story: 'a hook put before another of the same kind: the first differing call (binding, arguments) is named',
    before: 'fn App() -> Element {\n    let mut count = use_signal(|| 0);\n    rsx! { "{count}" }\n}',
    after: 'fn App() -> Element {\n    let shadow = use_signal(|| 0);\n    let mut count = use_signal(|| 0);\n    rsx! { "{shadow} {count}" }\n}',
    expect: [{ code: 'component-hooks-changed', item: 'App', says: ['(`use_signal` → `use_signal`, `use_signal`)', 'from its hook #1 (`use_signal`) on'] }],
  },
  {
    story: 'the last hook of a component removed',
    before: 'fn App() -> Element {\n    let a = use_signal(|| 0);\n    use_effect(move || println!("{a}"));\n    rsx! {}\n}',
    after: 'fn App() -> Element {\n    let a = use_signal(|| 0);\n    rsx! {}\n}',
    expect: [{ code: 'component-hooks-changed', item: 'App', says: ['(`use_signal`, `use_effect` → `use_signal`)', 'after the removed ones'] }],
  },
  {
    story: 'a component body changed with the same hooks, or a plain function calling a hook, says nothing',
    before: 'fn App() -> Element {\n    let a = use_signal(|| 0);\n    rsx! { "{a}" }\n}\nfn helper() -> u32 { 1 }',
    after: 'fn App() -> Element {\n    let a = use_signal(|| 5);\n    let n = a.use_count();\n    rsx! { "{a} {n}" }\n}\nfn helper() -> u32 { let _ = use_signal(|| 0); 1 }',
    expect: [],
  },
  // ---- Dioxus contexts, globals and server functions -------------------------------------------
  {
    story: 'a Dioxus context type whose layout changes: one layout finding on the type, naming the components that provide and read it',
    before: DX_CONTEXT,
    after: DX_CONTEXT.replace('struct Theme {\n    dark: bool,\n}', 'struct Theme {\n    dark: bool,\n    accent: u32,\n}'),
    expect: [{
      code: 'struct-layout-changed', item: 'Theme',
      says: ['field `accent: u32` added to `Theme`', '`Theme` is a Dioxus context (provided by `App`, read by `Counter`, `Footer`)', 'by its type id, which a layout change keeps'],
    }],
  },
  {
    story: 'a context provided through a wrapper (Signal::new) and a type embedded in it: each layout finding names the components',
    before: 'struct Theme { dark: bool }\nstruct Settings { theme: Theme }\nfn App() -> Element {\n    use_context_provider(|| Signal::new(Settings { theme: Theme { dark: false } }));\n    rsx! {}\n}\nfn Panel() -> Element {\n    let s = use_context::<Signal<Settings>>();\n    rsx! {}\n}',
    after: 'struct Theme { dark: bool, size: u8 }\nstruct Settings { theme: Theme }\nfn App() -> Element {\n    use_context_provider(|| Signal::new(Settings { theme: Theme { dark: false } }));\n    rsx! {}\n}\nfn Panel() -> Element {\n    let s = use_context::<Signal<Settings>>();\n    rsx! {}\n}',
    expect: [
      { code: 'struct-layout-changed', item: 'Theme', says: ['field `size: u8` added'] },
      { code: 'struct-layout-changed', item: 'Settings', says: ['`Settings` embeds `Theme`', '`Settings` is a Dioxus context (provided by `App`, read by `Panel`)'] },
    ],
  },
  {
    story: 'a component that provides another context type: info, the old one stays provided where the component stays mounted',
    before: DX_CONTEXT,
    after: DX_CONTEXT.replace('use_context_provider(|| Theme { dark: true });', 'use_context_provider(|| Palette::default());'),
    expect: [{
      code: 'context-provider-changed', item: 'App', severity: 'info',
      says: ['the context `App` provides changed (`Theme` → `Palette`)', 'the old `Theme` stays provided beside the new `Palette`', 'a component the patch re-creates provides only the new one'],
    }],
  },
  {
    story: "a global signal's initializer changed: info, the app keeps the signal's value once read",
    before: 'static COUNT: GlobalSignal<i32> = Signal::global(|| 0);\nfn App() -> Element { rsx! { "{COUNT}" } }',
    after: 'static COUNT: GlobalSignal<i32> = Signal::global(|| 10);\nfn App() -> Element { rsx! { "{COUNT}" } }',
    expect: [{ code: 'global-initializer-changed', item: 'COUNT', says: ['initializer of global signal `COUNT` changed', 'keeps the signal\'s value and the new initializer never runs', 'restart the app to start from the new value'] }],
  },
  {
    story: "a global memo's computation changed: info, the app keeps computing it with the old code",
    before: 'static DOUBLED: dioxus::prelude::GlobalMemo<i32> = Memo::global(|| COUNT() * 2);',
    after: 'static DOUBLED: dioxus::prelude::GlobalMemo<i32> = Memo::global(|| COUNT() * 3);',
    expect: [{ code: 'global-initializer-changed', item: 'DOUBLED', says: ['computation of global memo `DOUBLED` changed', 'keeps recomputing it with the old code'] }],
  },
  {
    story: 'a line added above a global signal moves its key: a warning that patched code gets a fresh signal (and no initializer info)',
    before: 'use dioxus::prelude::*;\nstatic COUNT: GlobalSignal<i32> = Signal::global(|| 0);\nfn App() -> Element { rsx! { "{COUNT}" } }',
    after: 'use dioxus::prelude::*;\n// counts clicks\nstatic COUNT: GlobalSignal<i32> = Signal::global(|| 10);\nfn App() -> Element { rsx! { "{COUNT}" } }',
    expect: [{
      code: 'global-signal-moved', item: 'COUNT', severity: 'warning',
      says: ['global signal `COUNT` moved (its `Signal::global` call from line 2, column 35 to line 3, column 35)', 'patched code reading `COUNT` gets a fresh signal from its initializer', 'code that is not patched keeps the running app\'s value'],
    }],
  },
  {
    story: "a global memo that gains `pub` moves along its line: the same warning",
    before: 'static DOUBLED: GlobalMemo<i32> = Memo::global(|| 2);',
    after: 'pub static DOUBLED: GlobalMemo<i32> = Memo::global(|| 2);',
    expect: [{ code: 'global-signal-moved', item: 'DOUBLED', severity: 'warning', says: ['global memo `DOUBLED` moved', 'to line 1, column 39', 'a fresh memo'] }],
  },
  {
    story: "a global signal's value type changed: restart, naming the static and how Dioxus keeps it",
    before: 'static NAME: GlobalSignal<i32> = Signal::global(|| 0);',
    after: 'static NAME: GlobalSignal<String> = Signal::global(|| String::new());',
    expect: [{ code: 'static-type-changed', item: 'NAME', says: ['static `NAME` changed type from `GlobalSignal<i32>` to `GlobalSignal<String>`', 'one signal per `Signal::global` call position', 'replace the other\'s signal'] }],
  },
  {
    story: 'a #[server] function whose signature changes: restart, both halves must match',
    before: '#[server]\nasync fn add(a: i32, b: i32) -> Result<i32, ServerFnError> {\n    Ok(a + b)\n}',
    after: '#[server]\nasync fn add(a: i32, b: i32, c: i32) -> Result<i32, ServerFnError> {\n    Ok(a + b + c)\n}',
    expect: [{ code: 'server-fn-signature-changed', item: 'add', says: ['server function `add`: signature changed', 'client half', 'server half'] }],
  },
  {
    story: "a fullstack #[post] route changed in a Dioxus file: restart, the server registered the old route",
    before: 'use dioxus::prelude::*;\n#[post("/api/add")]\nasync fn add(a: i32) -> Result<i32> {\n    Ok(a)\n}',
    after: 'use dioxus::prelude::*;\n#[post("/api/sum")]\nasync fn add(a: i32) -> Result<i32> {\n    Ok(a)\n}',
    expect: [{ code: 'server-fn-signature-changed', item: 'add', says: ['attribute changed (`#[post("/api/add")]` → `#[post("/api/sum")]`)'] }],
  },
  // ---- main -----------------------------------------------------------------------------------
  {
    story: 'a change to fn main is information: it already ran',
    before: 'fn main() {\n    println!("hi");\n}',
    after: 'fn main() {\n    println!("hello");\n}',
    expect: [{ code: 'main-changed', item: 'main', says: ['`fn main` changed: it already ran, the change applies on the next start'] }],
  },
  {
    story: 'a new signature for fn main is information too',
    before: 'fn main() {}',
    after: 'fn main() -> Result<(), String> { Ok(()) }',
    expect: [{ code: 'main-changed', item: 'main' }],
  },
];

const notFindings: Story[] = [
  { story: 'a function body change is patchable', before: APP, after: APP.replace('x * 2', 'x * 3 + 1'), expect: [] },
  {
    story: 'a #[component] whose rsx! changes, and a plain fn whose parameters change, are patchable',
    before: '#[component]\nfn Counter(count: i32) -> Element {\n    rsx! { p { "{count}" } }\n}\nfn helper(a: i32) -> i32 { a }',
    after: '#[component]\nfn Counter(count: i32) -> Element {\n    rsx! { p { "Count: {count}" } }\n}\nfn helper(a: i32, b: i32) -> i32 { a + b }',
    expect: [],
  },
  {
    story: 'a struct that is no Dioxus context changes layout: the finding says nothing about contexts',
    before: DX_CONTEXT + '\nstruct Other { a: u8 }',
    after: DX_CONTEXT + '\nstruct Other { a: u16 }',
    expect: [{ code: 'struct-layout-changed', item: 'Other' }],
  },
  {
    story: "a context's providers and readers edited (same type, same layout) are patchable",
    before: DX_CONTEXT,
    after: DX_CONTEXT.replace('Theme { dark: true }', 'Theme { dark: false }').replace('"{t.dark}"', '"dark: {t.dark}"'),
    expect: [],
  },
  {
    story: 'a context provider added to a component, or one whose value changes (same type), is no finding',
    before: DX_CONTEXT,
    after: DX_CONTEXT.replace('use_context_provider(|| Theme { dark: true });', 'use_context_provider(|| Theme { dark: false });\n    provide_context(Palette::default());'),
    expect: [],
  },
  {
    story: 'a plain static keeps its own initializer finding; a global signal whose readers change is patchable',
    before: 'static COUNT: GlobalSignal<i32> = Signal::global(|| 0);\nstatic LIMIT: std::sync::atomic::AtomicU32 = AtomicU32::new(1);\nfn App() -> Element { rsx! { "{COUNT}" } }',
    after: 'static COUNT: GlobalSignal<i32> = Signal::global(|| 0);\nstatic LIMIT: std::sync::atomic::AtomicU32 = AtomicU32::new(2);\nfn App() -> Element { rsx! { "Count: {COUNT}" } }',
    expect: [{ code: 'static-initializer-changed', item: 'LIMIT' }],
  },
  {
    story: 'lines added below a global signal, or above one keyed by name (with_name), move nothing',
    before: 'static COUNT: GlobalSignal<i32> = Signal::global(|| 0);\nstatic NAMED: GlobalSignal<i32> = GlobalSignal::with_name(|| 0, "named");\nfn a() {}',
    after: '// named globals\nstatic COUNT2: u8 = 0;\nstatic NAMED: GlobalSignal<i32> = GlobalSignal::with_name(|| 0, "named");\nfn a() {}\nfn b() {}',
    expect: [],
  },
  {
    story: 'a #[server] function whose body changes is patchable',
    before: '#[server]\nasync fn add(a: i32, b: i32) -> Result<i32, ServerFnError> {\n    Ok(a + b)\n}',
    after: '#[server]\nasync fn add(a: i32, b: i32) -> Result<i32, ServerFnError> {\n    tracing::info!("add");\n    Ok(b + a)\n}',
    expect: [],
  },
  {
    story: 'a #[get] handler of another web framework (no dioxus in the file) is no server function',
    before: 'use actix_web::get;\n#[get("/")]\nasync fn index() -> String {\n    String::new()\n}',
    after: 'use actix_web::get;\n#[get("/")]\nasync fn index(req: HttpRequest) -> String {\n    String::new()\n}',
    expect: [],
  },
  { story: 'a method body change is patchable', before: APP, after: APP.replace('self.count += 1;', 'self.count += 2;\n        self.name.push(\'!\');'), expect: [] },
  { story: 'a new function is patchable', before: APP, after: APP + '\nfn added(a: u8) -> u8 { a }\n', expect: [] },
  { story: 'a new method is patchable', before: APP, after: APP.replace('impl App {', 'impl App {\n    fn reset(&mut self) { self.count = 0; }'), expect: [] },
  { story: 'a new type, impl and static are patchable', before: APP, after: APP + '\nstruct Fresh { a: u8 }\nimpl Fresh { fn go(&self) {} }\nenum NewE { A }\nstatic NEW_S: u8 = 1;\ntrait NewT { fn t(&self); }\n', expect: [] },
  { story: 'comments and doc comments are not changes', before: APP, after: APP.replace('/// The application state.', '/// The whole application state.\n// note: keep small').replace('count: u32,', 'count: u32, // clicks\n    /* the name */'), expect: [] },
  { story: 'reformatting is not a change', before: APP, after: APP.replace('pub struct App {\n    count: u32,\n    name: String,\n}', 'pub struct App { count : u32 , name : String }').replace('x * 2', 'x\n        * 2'), expect: [] },
  { story: 'visibility is not a layout change', before: APP, after: APP.replace('    count: u32,', '    pub(crate) count: u32,').replace('pub struct App', 'struct App'), expect: [] },
  { story: 'derives are not a layout change', before: APP, after: APP.replace('#[derive(Debug, Clone, Default)]', '#[derive(Debug, Clone, Default, PartialEq)]'), expect: [] },
  { story: 'attributes that do not affect layout are not a change', before: APP, after: APP.replace('pub struct App', '#[allow(dead_code)]\n#[must_use]\npub struct App').replace('fn helper', '#[inline]\nfn helper'), expect: [] },
  { story: 'a removed struct is not a finding', before: APP + '\nstruct Gone { a: u8 }\n', after: APP, expect: [] },
  { story: 'a removed function is not a finding', before: APP + '\nfn gone() {}\n', after: APP, expect: [] },
  {
    story: 'code under #[cfg(test)] is never in the running binary',
    before: APP + '\n#[cfg(test)]\nmod tests {\n    struct Fixture { a: u8 }\n    #[test]\n    fn t() { assert_eq!(1, 1); }\n}\n#[cfg(test)]\nstruct TestOnly { a: u8 }\n',
    after: APP + '\n#[cfg(test)]\nmod tests {\n    struct Fixture { a: u64, b: u8 }\n    #[test]\n    fn t() { assert_eq!(2, 2); }\n}\n#[cfg(test)]\nstruct TestOnly { a: u64 }\n',
    expect: [],
  },
  { story: 'a #[test] function is not patchable code', before: '#[test]\nfn main() { a(); }', after: '#[test]\nfn main() { b(); }', expect: [] },
  { story: 'a trait default method body change is patchable', before: 'trait W {\n    fn size(&self) -> u32 { 1 }\n}', after: 'trait W {\n    fn size(&self) -> u32 { 2 }\n}', expect: [] },
  { story: 'a signature change of a function that is not a hot entry is patchable', before: 'fn util(a: u8) {}\nfn main2() { subsecond::call(other); }\nfn other() {}', after: 'fn util(a: u16) {}\nfn main2() { subsecond::call(other); }\nfn other() {}', expect: [] },
  { story: 'a renamed parameter keeps the signature of a hot entry', before: 'fn tick(s: &mut S) {}\nfn r() { subsecond::call(tick); }', after: 'fn tick(state: &mut S) {}\nfn r() { subsecond::call(tick); }', expect: [] },
  { story: 'a const value change is patchable code', before: 'const N: usize = 3;', after: 'const N: usize = 4;', expect: [] },
  { story: 'a macro_rules! change is patchable code', before: 'macro_rules! m { () => { 1 } }', after: 'macro_rules! m { () => { 2 } }', expect: [] },
  { story: 'reordering whole items is not a change', before: 'struct A { a: u8 }\nstruct B { b: u8 }', after: 'struct B { b: u8 }\nstruct A { a: u8 }', expect: [] },
  { story: 'a function that uses no thread-local changes silently', before: 'thread_local! { static T: u8 = 0; }\nfn f() { let x = 1; }', after: 'thread_local! { static T: u8 = 0; }\nfn f() { let x = 2; }', expect: [] },
];

describe('analysis: the patchability catalog', () => {
  describe('saved edits that are findings', () => {
    for (const s of findings) {
      it(s.story, async () => {
        const fs = await judge(s.before, s.after, s.options);
        assertFindings(fs, s.expect);
        for (const f of fs) {
          const name = f.item.split('::').pop()!;
          assert.equal(textAt(s.after, f), name, `the finding sits on the item's name (${f.item})`);
        }
      });
    }
  });

  describe('saved edits that are not findings', () => {
    for (const s of notFindings) {
      it(s.story, async () => {
        assertFindings(await judge(s.before, s.after, s.options), s.expect);
      });
    }
  });
});

/** The classes docs/findings.md ("Class: …" under `## code`) and README's table give each code. */
function documentedClasses(): { docs: Map<string, Set<string>>; readme: Map<string, Set<string>> } {
  const repo = path.resolve(__dirname, '../../../..');
  const classWords = (text: string) => new Set([...text.matchAll(/\b(restart|warning|info|error)\b/g)].map((m) => m[1]));
  const docs = new Map<string, Set<string>>();
  for (const m of fs.readFileSync(path.join(repo, 'docs/findings.md'), 'utf8').matchAll(/^## ([a-z-]+)\n\nClass: ([^\n]+)/gm))
    docs.set(m[1], classWords(m[2].replace(/\(does not block[^)]*\)/g, '')));
  const readme = new Map<string, Set<string>>();
  for (const m of fs.readFileSync(path.join(repo, 'README.md'), 'utf8').matchAll(/^\| `([a-z-]+)` \| ([^|]+) \|/gm)) {
    // "warning (restart)" is the restart class; "warning (does not block)" the warning class
    const words = classWords(m[2].replace(/\(does not block\)/g, ''));
    if (words.has('restart')) words.delete('warning');
    readme.set(m[1], words);
  }
  return { docs, readme };
}

describe('analysis: what each code says agrees with its name and its documented class', () => {
  it('every finding the stories produce has a severity findings.md and the README give its code', async () => {
    const { docs, readme } = documentedClasses();
    const wrong: string[] = [];
    for (const s of [...findings, ...notFindings]) {
      for (const f of await judge(s.before, s.after, s.options)) {
        if (!docs.get(f.code)?.has(f.severity)) wrong.push(`findings.md: ${f.code} is not "${f.severity}" (${[...(docs.get(f.code) ?? [])]})`);
        if (!readme.get(f.code)?.has(f.severity)) wrong.push(`README: ${f.code} is not "${f.severity}" (${[...(readme.get(f.code) ?? [])]})`);
        // A code that says a value is lost must not say it is kept, and a kept value is not a warning.
        if (/-reset$/.test(f.code) && /keeps? (its|their|the) values?/.test(f.message.split(';')[0])) wrong.push(`${f.code} says the value is kept: ${f.message}`);
      }
    }
    assert.deepEqual([...new Set(wrong)], []);
  });
});

export const catalogStoryCount = findings.length + notFindings.length;
