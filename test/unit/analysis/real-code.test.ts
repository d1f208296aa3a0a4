// Verdicts on code as real crates write it: minimal reproductions of the edits a sweep over
// ratatui, egui, serde_json and bevy_ecs sources got wrong (issue 12; `npm run bench -- real-crates`
// runs the sweep). Each story is a baseline, a save and exactly the findings the save must bring.
import * as assert from 'node:assert/strict';
import { assertFindings, Expect, FILE, judge, newAnalyzer, textAt } from './helpers';
import type { AnalyzerOptions } from '../../../server/src/analysis';

interface Story {
  story: string;
  before: string;
  after: string;
  expect: Expect[];
  options?: AnalyzerOptions;
}

function stories(list: Story[]): void {
  for (const s of list) {
    it(s.story, async () => {
      const fs = await judge(s.before, s.after, s.options);
      assertFindings(fs, s.expect);
      for (const f of fs) {
        const name = f.item.split('::').pop()!.replace(/!$/, '');
        assert.equal(textAt(s.after, f), name, `the finding sits on the item's name (${f.item})`);
      }
    });
  }
}

// ---- 1. #[cfg] alternatives sharing a name ----------------------------------------------------

// serde_json's src/number.rs: the number representation under opposite cfgs
const NUMBER = `#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Number {
    n: N,
}

#[cfg(not(feature = "arbitrary_precision"))]
#[derive(Copy, Clone)]
enum N {
    PosInt(u64),
    NegInt(i64),
    Float(f64),
}

#[cfg(feature = "arbitrary_precision")]
type N = String;
`;

// egui's src/util/id_type_map.rs: one trait, two definitions
const SERIALIZABLE = `#[cfg(feature = "persistence")]
pub trait SerializableAny:
    'static + Any + Clone + serde::Serialize + for<'a> serde::Deserialize<'a> + Send + Sync
{
}

#[cfg(feature = "persistence")]
impl<T> SerializableAny for T where
    T: 'static + Any + Clone + serde::Serialize + for<'a> serde::Deserialize<'a> + Send + Sync
{
}

#[cfg(not(feature = "persistence"))]
pub trait SerializableAny: 'static + Any + Clone + for<'a> Send + Sync {}

#[cfg(not(feature = "persistence"))]
impl<T> SerializableAny for T where T: 'static + Any + Clone + for<'a> Send + Sync {}
`;

const IMP = `#[cfg(unix)]
mod imp {
    pub struct Handle { fd: i32 }
}
#[cfg(windows)]
mod imp {
    pub struct Handle { raw: usize }
}
`;

const HOT_CFG = `#[cfg(feature = "fast")]
impl App {
    fn tick(&mut self) {}
}
#[cfg(not(feature = "fast"))]
impl App {
    fn tick(&mut self) {}
}
fn run(app: &mut App) { subsecond::call(|| app.tick()); }
`;

const OS = `#[cfg(unix)]
struct Os { fd: i32 }
#[cfg(windows)]
struct Os { handle: usize }
`;

describe('analysis on real code: #[cfg] alternatives sharing a name', () => {
  stories([
    {
      story: 'a variant added to the enum behind one cfg is judged (serde_json `enum N` beside `type N`)',
      before: NUMBER,
      after: NUMBER.replace('    Float(f64),\n', '    Float(f64),\n    Nan,\n'),
      expect: [
        { code: 'enum-layout-changed', item: 'N', says: ['variant `Nan` added to `N`'] },
        { code: 'struct-layout-changed', item: 'Number', says: ['`Number` embeds `N` whose layout changed'] },
      ],
    },
    {
      story: 'reordered variants of a cfg alternative are judged',
      before: NUMBER,
      after: NUMBER.replace('    PosInt(u64),\n    NegInt(i64),\n', '    NegInt(i64),\n    PosInt(u64),\n'),
      expect: [
        { code: 'enum-layout-changed', item: 'N', says: ['variants of `N` reordered'] },
        { code: 'struct-layout-changed', item: 'Number' },
      ],
    },
    {
      story: 'a changed payload of a cfg alternative is judged',
      before: NUMBER,
      after: NUMBER.replace('Float(f64)', 'Float(f32)'),
      expect: [
        { code: 'enum-layout-changed', item: 'N', says: ['payload of variant `Float` of `N` changed from `(f64)` to `(f32)`'] },
        { code: 'struct-layout-changed', item: 'Number' },
      ],
    },
    {
      story: 'the other alternative (an alias) changing target reaches the struct that embeds it',
      before: NUMBER,
      after: NUMBER.replace('type N = String;', 'type N = Box<str>;'),
      expect: [{ code: 'struct-layout-changed', item: 'Number', says: ['`Number` embeds `N` whose layout changed'] }],
    },
    {
      story: 'a method added to one of two cfg definitions of a trait is judged (egui `SerializableAny`)',
      before: SERIALIZABLE,
      after: SERIALIZABLE.replace("pub trait SerializableAny: 'static + Any + Clone + for<'a> Send + Sync {}", "pub trait SerializableAny: 'static + Any + Clone + for<'a> Send + Sync {\n    fn name(&self) -> &str;\n}"),
      expect: [{ code: 'trait-changed', item: 'SerializableAny', says: ['method `name` added to trait `SerializableAny`'] }],
    },
    {
      story: 'a struct inside one of two cfg mods of the same name is judged',
      before: IMP,
      after: IMP.replace('pub struct Handle { fd: i32 }', 'pub struct Handle { fd: i64 }'),
      expect: [{ code: 'struct-layout-changed', item: 'imp::Handle', says: ['field `fd` of `imp::Handle` changed type from `i32` to `i64`'] }],
    },
    {
      story: 'a hot entry in one of two cfg impls changing signature is judged',
      before: HOT_CFG,
      after: HOT_CFG.replace('#[cfg(not(feature = "fast"))]\nimpl App {\n    fn tick(&mut self) {}', '#[cfg(not(feature = "fast"))]\nimpl App {\n    fn tick(&mut self, dt: f32) {}'),
      expect: [{ code: 'hot-signature-changed', item: 'App::tick', says: ['`fn(&mut self)` to `fn(&mut self, f32)`'] }],
    },
    {
      story: 'a cfg added to the only definition keeps it the same item: a new field still warns',
      before: 'struct Cache { hits: u32 }',
      after: '#[cfg(feature = "cache")]\nstruct Cache { hits: u32, misses: u32 }',
      expect: [{ code: 'struct-layout-changed', item: 'Cache', says: ['field `misses: u32` added to `Cache`'] }],
    },
    {
      story: 'both predicates rewritten and one layout changed: the change cannot be attributed, so it warns',
      before: OS,
      after: '#[cfg(target_family = "unix")]\nstruct Os { fd: i32, flags: u8 }\n#[cfg(target_os = "windows")]\nstruct Os { handle: usize }\n',
      expect: [{ code: 'struct-layout-changed', item: 'Os', says: ['`Os` (`#[cfg(target_family = "unix")]`) is one of 2 definitions', 'cannot be matched', 'requires restart'] }],
    },
  ]);

  stories([
    { story: 'the other alternative unchanged, a body edited: nothing', before: NUMBER + 'fn f() -> u8 { 1 }\n', after: NUMBER + 'fn f() -> u8 { 2 }\n', expect: [] },
    { story: 'both predicates rewritten, layouts unchanged: nothing', before: OS, after: OS.replace('#[cfg(unix)]', '#[cfg(target_family = "unix")]').replace('#[cfg(windows)]', '#[cfg(target_os = "windows")]'), expect: [] },
    { story: 'a new cfg alternative of an existing type is a new item', before: OS, after: OS + '#[cfg(target_os = "wasi")]\nstruct Os { id: u64 }\n', expect: [] },
    { story: 'the alternatives swapped in the file: nothing changed', before: OS, after: '#[cfg(windows)]\nstruct Os { handle: usize }\n#[cfg(unix)]\nstruct Os { fd: i32 }\n', expect: [] },
  ]);
});

// ---- 2. valid code that tree-sitter-rust does not parse ----------------------------------------

// egui's src/util/id_type_map.rs, reduced: `&raw` (a variable named raw) and an attribute on a
// struct-pattern field are valid Rust that tree-sitter-rust 0.24 reports as errors
const ID_TYPE_MAP = `impl IdTypeMap {
    pub fn get_temp_raw(&self, raw: RawKey) -> Option<&(dyn Any + Send + Sync)> {
        match self.map.get(&raw)? {
            Element::Value { value, .. } => Some(value.as_ref()),
            Element::Serialized(_) => None,
        }
    }
}

impl Clone for Element {
    fn clone(&self) -> Self {
        match &self {
            Self::Value {
                value,
                clone_fn,
                #[cfg(feature = "persistence")]
                serialize_fn,
            } => Self::Value {
                value: clone_fn(value),
                clone_fn: *clone_fn,
                #[cfg(feature = "persistence")]
                serialize_fn: *serialize_fn,
            },
            Self::Serialized(element) => Self::Serialized(element.clone()),
        }
    }
}

#[cfg(feature = "persistence")]
#[cfg_attr(feature = "serde", derive(serde::Deserialize, serde::Serialize))]
struct PersistedMap(Vec<(u64, SerializedElement)>);
`;

describe('analysis on real code: valid code tree-sitter rejects inside a body', () => {
  it('the reproduction really has parse errors (only inside function bodies)', async () => {
    const a = await newAnalyzer();
    a.update(FILE, ID_TYPE_MAP);
    assert.equal(a.hasParseErrors(FILE), true, 'tree-sitter-rust still rejects this valid code; if it no longer does, this reproduction proves nothing');
  });

  stories([
    {
      story: 'a tuple field added to the struct after such a body is judged (egui `PersistedMap`)',
      before: ID_TYPE_MAP,
      after: ID_TYPE_MAP.replace('struct PersistedMap(Vec<(u64, SerializedElement)>);', 'struct PersistedMap(Vec<(u64, SerializedElement)>, u32);'),
      expect: [{ code: 'struct-layout-changed', item: 'PersistedMap', says: ['field 1 (`u32`) added to `PersistedMap`'] }],
    },
    {
      story: 'field 0 retyped after such a body is judged',
      before: ID_TYPE_MAP,
      after: ID_TYPE_MAP.replace('struct PersistedMap(Vec<(u64, SerializedElement)>);', 'struct PersistedMap(Vec<(u32, SerializedElement)>);'),
      expect: [{ code: 'struct-layout-changed', item: 'PersistedMap', says: ['field 0 of `PersistedMap` changed type'] }],
    },
    {
      story: 'the method whose body tree-sitter rejects is itself not judged (it may be mid-edit), its neighbours are',
      before: ID_TYPE_MAP + 'fn run(m: &IdTypeMap) { subsecond::call(|| m.get_temp_raw(k)); }\n',
      after: ID_TYPE_MAP.replace('raw: RawKey)', 'raw: u64)').replace('PersistedMap(Vec<(u64, SerializedElement)>)', 'PersistedMap(Vec<(u64, SerializedElement)>, u8)') + 'fn run(m: &IdTypeMap) { subsecond::call(|| m.get_temp_raw(k)); }\n',
      expect: [{ code: 'struct-layout-changed', item: 'PersistedMap' }],
    },
    {
      story: "a field added to a struct holding `dyn 'static + ..` (valid, rejected by tree-sitter) is judged (egui `NumberFormatter`)",
      before: "pub struct NumberFormatter(\n    Arc<dyn 'static + Sync + Send + Fn(f64, RangeInclusive<usize>) -> String>,\n);\n",
      after: "pub struct NumberFormatter(\n    Arc<dyn 'static + Sync + Send + Fn(f64, RangeInclusive<usize>) -> String>,\n    u8,\n);\n",
      expect: [{ code: 'struct-layout-changed', item: 'NumberFormatter', says: ['field 1 (`u8`) added to `NumberFormatter`'] }],
    },
    {
      story: 'a body really broken mid-edit (unbalanced braces) still leaves what follows unjudged',
      before: ID_TYPE_MAP,
      after: ID_TYPE_MAP.replace('Some(value.as_ref()),', 'Some(value.as_ref()), { if x {').replace('struct PersistedMap(Vec<(u64, SerializedElement)>);', 'struct PersistedMap(Vec<(u64, SerializedElement)>, u32);'),
      expect: [],
    },
  ]);
});

// ---- 3. thread-locals --------------------------------------------------------------------------

const TL = `use std::cell::RefCell;
thread_local! {
    static SCRATCH: RefCell<Frame> = RefCell::new(Frame::default());
}
`;

describe('analysis on real code: a thread-local changing type', () => {
  stories([
    {
      story: "a function body's thread-local with a new initializer only is patchable code",
      before: 'fn frame() -> u32 {\n    thread_local! { static N: Cell<u32> = const { Cell::new(0) }; }\n    N.with(|n| n.get())\n}',
      after: 'fn frame() -> u32 {\n    thread_local! { static N: Cell<u32> = const { Cell::new(1) }; }\n    N.with(|n| n.get() + 1)\n}',
      expect: [],
    },
  ]);
  stories([
    {
      story: 'a thread-local changing type requires a restart (engine keeps thread-locals, x86_64)',
      options: { threadLocalPolicy: 'keep' },
      before: TL,
      after: TL.replace('static SCRATCH: RefCell<Frame>', 'static SCRATCH: RefCell<Vec<Frame>>'),
      expect: [{ code: 'thread-local-type-changed', item: 'SCRATCH', says: ['thread-local `SCRATCH` changed type from `RefCell<Frame>` to `RefCell<Vec<Frame>>`', 'requires restart'] }],
    },
    {
      story: 'with a resetting engine too: the fresh copy is sized and initialised from the old binary',
      options: { threadLocalPolicy: 'reset' },
      before: TL,
      after: TL.replace('static SCRATCH: RefCell<Frame>', 'static SCRATCH: RefCell<Vec<Frame>>'),
      expect: [{ code: 'thread-local-type-changed', item: 'SCRATCH' }],
    },
    {
      story: 'a thread-local declared in a function body changing type requires a restart',
      before: 'fn frame() -> u32 {\n    thread_local! { static N: Cell<u32> = const { Cell::new(0) }; }\n    N.with(|n| n.get())\n}',
      after: 'fn frame() -> u64 {\n    thread_local! { static N: Cell<u64> = const { Cell::new(0) }; }\n    N.with(|n| n.get())\n}',
      expect: [{ code: 'thread-local-type-changed', item: 'frame', says: ['thread-local `N` in `frame` changed type from `Cell<u32>` to `Cell<u64>`'] }],
    },
    {
      story: 'a thread-local added to a function body requires a restart',
      before: 'fn frame() -> u32 {\n    7\n}',
      after: 'fn frame() -> u32 {\n    thread_local! { static N: Cell<u32> = const { Cell::new(0) }; }\n    N.with(|n| n.get())\n}',
      expect: [{ code: 'thread-local-added', item: 'frame', severity: 'restart', says: ['new thread-local `N` in `frame` requires restart'] }],
    },
    {
      story: 'a thread-local holding a struct whose layout changed requires a restart',
      before: TL + 'struct Frame { n: u32 }\n',
      after: TL + 'struct Frame { n: u32, t: f64 }\n',
      expect: [
        { code: 'struct-layout-changed', item: 'Frame' },
        { code: 'thread-local-type-changed', item: 'SCRATCH', says: ['thread-local `SCRATCH` holds `Frame` whose layout changed'] },
      ],
    },
  ]);
});

// ---- 4. renames ---------------------------------------------------------------------------------

describe('analysis on real code: renamed at the same type and position', () => {
  stories([
    { story: 'a field renamed in place is not a layout change', before: 'struct P { a: u8, b: u64 }', after: 'struct P { a: u8, c: u64 }', expect: [] },
    { story: 'several fields renamed in place are not a layout change', before: 'struct P { a: u8, b: u64 }', after: 'struct P { x: u8, y: u64 }', expect: [] },
    { story: 'a variant renamed in place is not a layout change', before: 'enum E { A(u8), B }', after: 'enum E { A(u8), C }', expect: [] },
    { story: 'a named payload field renamed in place is not a layout change', before: 'enum E { A { x: f32, y: f32 }, B }', after: 'enum E { A { left: f32, y: f32 }, B }', expect: [] },
    {
      story: 'a field renamed in place beside its #[cfg] alternative of the same name is not a change (bevy_ecs `Entity`)',
      before: 'struct Entity {\n    #[cfg(target_endian = "little")]\n    index: EntityIndex,\n    generation: EntityGeneration,\n    #[cfg(target_endian = "big")]\n    index: EntityIndex,\n}',
      after: 'struct Entity {\n    #[cfg(target_endian = "little")]\n    row: EntityIndex,\n    generation: EntityGeneration,\n    #[cfg(target_endian = "big")]\n    index: EntityIndex,\n}',
      expect: [],
    },
    {
      story: 'a struct embedding a type with a renamed field is not a finding either',
      before: 'struct Inner { a: u32 }\nstruct Outer { i: Inner }',
      after: 'struct Inner { count: u32 }\nstruct Outer { i: Inner }',
      expect: [],
    },
  ]);
  stories([
    {
      story: 'a field renamed and retyped is a change',
      before: 'struct P { a: u8, b: u64 }',
      after: 'struct P { a: u8, c: u32 }',
      expect: [{ code: 'struct-layout-changed', item: 'P', says: ['field `c: u32` added to `P`', 'field `b: u64` removed from `P`'] }],
    },
    {
      story: 'the #[cfg] of a field changed is a change',
      before: 'struct P {\n    #[cfg(feature = "a")]\n    x: u8,\n}',
      after: 'struct P {\n    #[cfg(feature = "b")]\n    x: u8,\n}',
      expect: [{ code: 'struct-layout-changed', item: 'P', says: ['field `x #[cfg(feature = "b")]: u8` added to `P`'] }],
    },
    {
      story: 'variants swapped by renaming is a reorder',
      before: 'enum E { A, B }',
      after: 'enum E { B, A }',
      expect: [{ code: 'enum-layout-changed', item: 'E', says: ['variants of `E` reordered'] }],
    },
  ]);
});

// ---- 5. macro-generated items ----------------------------------------------------------------------

const FLAGS = `bitflags::bitflags! {
    #[derive(Clone, Copy)]
    pub struct Modifiers: u8 {
        const SHIFT = 1;
        const CTRL = 2;
    }
}

macro_rules! id_type {
    ($name:ident) => {
        #[derive(Clone, Copy)]
        pub struct $name(u32);
    };
}

id_type!(NodeId);

fn f() -> u8 { 1 }
`;

describe('analysis on real code: items generated by macros', () => {
  stories([
    {
      story: 'a changed bitflags! input says its items are not judged, once',
      before: FLAGS,
      after: FLAGS.replace('        const CTRL = 2;\n', '        const CTRL = 2;\n        const ALT = 4;\n'),
      expect: [{ code: 'macro-items-not-judged', item: 'bitflags!', severity: 'info', says: ['items generated by `bitflags!` are not judged'] }],
    },
    {
      story: 'a changed macro_rules! template used at item level says its items are not judged',
      before: FLAGS,
      after: FLAGS.replace('pub struct $name(u32);', 'pub struct $name(u64);'),
      expect: [{ code: 'macro-items-not-judged', item: 'id_type!', severity: 'info', says: ['items generated by `id_type!` are not judged: its definition changed'] }],
    },
    {
      story: 'a changed invocation of a local macro says so on that invocation',
      before: FLAGS,
      after: FLAGS.replace('id_type!(NodeId);', 'id_type!(NodeIndex);'),
      expect: [{ code: 'macro-items-not-judged', item: 'id_type!', severity: 'info', says: ['items generated by `id_type!` are not judged'] }],
    },
    {
      story: 'a changed macro among the items of a trait says so (it may add trait methods)',
      before: 'trait Visit {\n    fn a(&self);\n    visit_methods!(u8, u16);\n}',
      after: 'trait Visit {\n    fn a(&self);\n    visit_methods!(u8, u16, u32);\n}',
      expect: [{ code: 'macro-items-not-judged', item: 'visit_methods!', severity: 'info', says: ['items generated by `visit_methods!` are not judged'] }],
    },
  ]);
  stories([
    { story: 'a body edit beside an unchanged macro says nothing', before: FLAGS, after: FLAGS.replace('{ 1 }', '{ 2 }'), expect: [] },
    { story: 'a new macro invocation is new code', before: FLAGS, after: FLAGS + 'id_type!(EdgeId);\n', expect: [] },
    { story: 'a macro_rules! change without item-level uses is patchable code', before: 'macro_rules! m { () => { 1 } }\nfn f() -> u8 { m!() }', after: 'macro_rules! m { () => { 2 } }\nfn f() -> u8 { m!() }', expect: [] },
    {
      story: 'a brace macro among impl items does not hide the methods after it',
      before: 'impl App {\n    delegate! { to self.inner { fn len(&self) -> usize; } }\n    fn tick(&mut self) {}\n}\nfn r(a: &mut App) { subsecond::call(|| a.tick()); }',
      after: 'impl App {\n    delegate! { to self.inner { fn len(&self) -> usize; } }\n    fn tick(&mut self, n: u8) {}\n}\nfn r(a: &mut App) { subsecond::call(|| a.tick()); }',
      expect: [{ code: 'hot-signature-changed', item: 'App::tick' }],
    },
  ]);
});
