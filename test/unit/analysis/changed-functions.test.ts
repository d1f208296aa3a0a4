// changedFunctions(file): the functions whose code differs from the baseline, described as the
// patch proof needs them (kind, symbol path parts, generic / inline / closures / cfg flags,
// ranges), and matchDemangled: which demangled rustc symbol is which changed function.
import * as assert from 'node:assert/strict';
import { matchDemangled } from '../../../server/src/analysis';
import type { ChangedFunction } from '../../../server/src/analysis';
import { FILE, newAnalyzer } from './helpers';

async function changed(before: string, after: string): Promise<ChangedFunction[]> {
  const a = await newAnalyzer();
  a.update(FILE, before);
  assert.deepEqual(a.changedFunctions(FILE), [], 'nothing changed against the first content');
  a.update(FILE, after);
  return a.changedFunctions(FILE);
}

function byName(list: ChangedFunction[], item: string): ChangedFunction {
  const f = list.find((c) => c.item === item);
  assert.ok(f, `${item} is listed; got ${list.map((c) => c.item).join(', ') || 'nothing'}`);
  return f;
}

const BASE = `use std::fmt;

pub struct Circle { r: f32 }

pub trait Shape {
    fn name(&self) -> String;
}

/// Area.
#[inline]
pub fn area(c: &Circle) -> f32 {
    c.r * c.r * 3.14
}

impl Circle {
    pub fn grow(&mut self) { self.r += 1.0; }
    #[inline(always)]
    fn tiny(&self) -> bool { self.r < 1.0 }
}

impl Shape for Circle {
    fn name(&self) -> String { "circle".into() }
}

impl fmt::Display for Circle {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result { write!(f, "c") }
}

pub mod ui {
    pub fn helper<T: Copy>(x: T) -> T { x }
    pub struct Panel<T>(T);
    impl<T> Panel<T> {
        pub fn draw(&self) {}
    }
    pub mod deep {
        pub async fn load() -> u32 { 1 }
        pub fn run(v: Vec<u32>) -> u32 { v.iter().map(|x| x + 1).sum() }
    }
}

#[cfg(feature = "extra")]
fn extra() {}

#[no_mangle]
pub extern "C" fn exported() {}

fn untouched() -> u32 { 7 }
`;

function edit(text: string, from: string, to: string): string {
  assert.ok(text.includes(from), `fixture holds ${from}`);
  return text.replace(from, to);
}

describe('analysis: changedFunctions', () => {
  it('lists each kind of function whose body changed, with its symbol path parts', async () => {
    let after = BASE;
    after = edit(after, 'c.r * c.r * 3.14', 'c.r * c.r * std::f32::consts::PI');
    after = edit(after, 'self.r += 1.0;', 'self.r += 2.0;');
    after = edit(after, 'self.r < 1.0', 'self.r < 0.5');
    after = edit(after, '"circle".into()', '"round".into()');
    after = edit(after, 'write!(f, "c")', 'write!(f, "circle")');
    after = edit(after, 'T { x }', 'T { let y = x; y }');
    after = edit(after, 'pub fn draw(&self) {}', 'pub fn draw(&self) { let _ = 1; }');
    after = edit(after, 'async fn load() -> u32 { 1 }', 'async fn load() -> u32 { 2 }');
    after = edit(after, 'x + 1', 'x + 2');
    after = edit(after, 'fn extra() {}', 'fn extra() { let _ = 0; }');
    after = edit(after, 'extern "C" fn exported() {}', 'extern "C" fn exported() { let _ = 0; }');
    const list = await changed(BASE, after);
    assert.deepEqual(list.map((c) => c.path), [
      'area', '<impl Circle>::grow', '<impl Circle>::tiny', '<impl Shape for Circle>::name',
      '<impl fmt::Display for Circle>::fmt', 'ui::helper', 'ui::<impl Panel<T>>::draw', 'ui::deep::load', 'ui::deep::run',
      'extra', 'exported',
    ], 'document order, untouched functions left out');
    assert.ok(list.every((c) => c.kind === 'body' && c.file === FILE && !c.ambiguous));

    const area = byName(list, 'area');
    assert.equal(area.inline, 'inline');
    assert.equal(area.generic, false);
    assert.equal(area.selfType, undefined);
    assert.deepEqual(area.modPath, []);
    assert.deepEqual(area.range.start, { line: 9, character: 0 }, 'starts at its first attribute (doc comments are not code)');
    assert.deepEqual(area.range.end, { line: 12, character: 1 });
    assert.deepEqual(area.nameRange, { start: { line: 10, character: 7 }, end: { line: 10, character: 11 } });

    const tiny = byName(list, 'Circle::tiny');
    assert.equal(tiny.inline, 'always');
    assert.equal(tiny.selfType, 'Circle');
    assert.equal(tiny.trait, undefined);
    assert.deepEqual(tiny.range.start, { line: 16, character: 4 }, 'a method starts at its attribute');

    const name = byName(list, 'Circle::name');
    assert.equal(name.trait, 'Shape');
    assert.equal(name.traitBase, 'Shape');
    assert.equal(name.selfBase, 'Circle');
    assert.equal(name.inline, 'none');
    assert.equal(name.id, 'impl Shape for Circle::name');

    const fmt = byName(list, 'Circle::fmt');
    assert.equal(fmt.trait, 'fmt::Display');
    assert.equal(fmt.traitBase, 'Display');

    const helper = byName(list, 'ui::helper');
    assert.equal(helper.generic, true, 'type parameter on the fn');
    assert.deepEqual(helper.modPath, ['ui']);
    const draw = byName(list, 'ui::Panel::draw');
    assert.equal(draw.generic, true, 'type parameter on the impl');
    assert.equal(draw.selfType, 'Panel<T>');
    assert.equal(draw.selfBase, 'Panel');
    assert.deepEqual(draw.modPath, ['ui']);

    const load = byName(list, 'ui::deep::load');
    assert.equal(load.async, true);
    assert.equal(load.closures, false);
    assert.deepEqual(load.modPath, ['ui', 'deep']);
    assert.equal(byName(list, 'ui::deep::run').closures, true, '|x| x + 2 is a closure');
    assert.equal(byName(list, 'area').closures, false, '`|` as an operator is not a closure');
    assert.equal(byName(list, 'extra').cfg, true);
    assert.equal(byName(list, 'exported').noMangle, true);
    assert.equal(byName(list, 'area').cfg, false);
  });

  it('tells signature changes and added functions from body changes; removed ones are not listed', async () => {
    let after = BASE;
    after = edit(after, 'pub fn grow(&mut self) {', 'pub fn grow(&mut self, by: f32) {');
    after = edit(after, 'fn untouched() -> u32 { 7 }', 'fn fresh() -> u32 { 8 }');
    after = edit(after, 'pub fn helper<T: Copy>(x: T) -> T { x }', 'pub fn helper<T: Copy>(x: T) -> T {\n        x\n    } // reformatted');
    const list = await changed(BASE, after);
    assert.deepEqual(list.map((c) => [c.item, c.kind]), [['Circle::grow', 'signature'], ['fresh', 'added']]);
  });

  it('generic only by `impl Trait` arguments, not by lifetimes', async () => {
    const before = "fn a(x: impl Fn()) { x() }\nfn b<'a>(s: &'a str) -> &'a str { s }\nfn c() -> impl Fn() { || () }\n";
    const after = "fn a(x: impl Fn()) { x(); x() }\nfn b<'a>(s: &'a str) -> &'a str { &s[1..] }\nfn c() -> impl Fn() { || { } }\n";
    const list = await changed(before, after);
    assert.deepEqual(list.map((c) => [c.name, c.generic, c.closures]), [['a', true, false], ['b', false, false], ['c', false, true]]);
  });

  it('cfg alternatives sharing a path are flagged ambiguous', async () => {
    const before = '#[cfg(unix)]\nfn os() -> u8 { 1 }\n#[cfg(windows)]\nfn os() -> u8 { 2 }\n';
    const after = '#[cfg(unix)]\nfn os() -> u8 { 3 }\n#[cfg(windows)]\nfn os() -> u8 { 2 }\n';
    const list = await changed(before, after);
    assert.ok(list.length >= 1 && list.every((c) => c.ambiguous && c.cfg), JSON.stringify(list.map((c) => [c.id, c.ambiguous])));
  });

  it('a function that does not parse is not listed; an unknown file or an unchanged one gives nothing', async () => {
    const a = await newAnalyzer();
    assert.deepEqual(a.changedFunctions('/nowhere.rs'), []);
    a.update(FILE, 'fn b() { 2 }\nfn a() { 1 }\n');
    a.update(FILE, 'fn b() { 3 }\nfn a() { 1 + }\n');
    assert.deepEqual(a.changedFunctions(FILE).map((c) => c.name), ['b']);
    a.rebaseline();
    assert.deepEqual(a.changedFunctions(FILE), []);
  });

  it('a method in a nested impl of a mod with generics in the trait', async () => {
    const before = 'mod conv {\n    impl From<u32> for super::Id {\n        fn from(v: u32) -> Self { Self(v) }\n    }\n}\n';
    const after = before.replace('Self(v)', 'Self(v + 1)');
    const [c] = await changed(before, after);
    assert.equal(c.path, 'conv::<impl From<u32> for super::Id>::from');
    assert.equal(c.traitBase, 'From');
    assert.equal(c.selfBase, 'Id');
    assert.equal(c.generic, false);
  });
});

describe('analysis: closures keep their names only in their order', () => {
  const src = (body: string) => `fn build_world() -> u32 {\n${body}\n}\nfn other() -> u32 { 1 }\n`;
  const reshaped = async (before: string, after: string) => byName(await changed(src(before), src(after)), 'build_world').closuresReshaped;

  it('a closure inserted before, removed, or moved renumbers the ones after it', async () => {
    const base = '    let a = Box::new(|x: u32| x + 1);\n    let b = move || 2;\n    a(b())';
    assert.equal(await reshaped(base, '    let z = |y: u8| y;\n' + base + ' + z(1) as u32'), true, 'inserted before');
    assert.equal(await reshaped(base, '    let b = move || 2;\n    b()'), true, 'the first one removed');
    assert.equal(await reshaped(base, '    let b = move || 2;\n    let a = Box::new(|x: u32| x + 1);\n    a(b())'), true, 'swapped');
    assert.equal(await reshaped(base, base.replace('|x: u32|', '|x: u64|')), true, 'parameters changed');
    assert.equal(await reshaped('    let a = || -> u32 { 1 };\n    a()', '    let a = || -> u64 { 1 };\n    a() as u32'), true, 'return type changed');
    assert.equal(await reshaped(base, '    let c = async { 3 };\n' + base), true, 'an async block inserted before');
    const same = '    let a = || 1;\n    let b = || 2;\n    a() + b()';
    assert.equal(await reshaped(same, '    let z = || 9;\n' + same + ' + z()'), true, 'one of the same head inserted before');
    assert.equal(await reshaped(same, '    let b = || 2;\n    let a = || 1;\n    a() + b()'), true, 'two of the same head swapped');
    assert.equal(await reshaped(same, '    let a = || 1;\n    a()'), true, 'the last one removed: the number is free, but a removal is never assumed harmless');
    assert.equal(await reshaped(same, '    tracing::info!("start");\n' + same), true, 'a macro call that may expand to a closure inserted before (tracing\'s do)');
  });

  it('bodies edited in place, closures added after the last, or none before or after keep every name', async () => {
    const base = '    let a = Box::new(|x: u32| x + 1);\n    let b = move || 2;\n    a(b())';
    assert.equal(await reshaped(base, base.replace('x + 1', 'x + 10').replace('|| 2', '|| 20')), false, 'bodies edited');
    assert.equal(await reshaped(base, base.replace('a(b())', 'let c = |s: &str| s.len() as u32;\n    a(b()) | 4 + c("x")')), false, 'one added after the last (and `|` as an operator)');
    assert.equal(await reshaped('    let a = || 1;\n    a()', '    let a = || 1;\n    let z = || 9;\n    a() + z()'), false, 'one of the same head appended');
    const logged = '    info!("a");\n    let a = || 1;\n    a()';
    assert.equal(await reshaped(logged, logged.replace('"a"', '"b"')), false, 'a macro call edited in place');
    const two = '    let a = || 1;\n    let b = || 2;\n    a() + b()';
    assert.equal(await reshaped(two, '    println!("start {}", 1);\n' + two), false, 'std formatting macros hold no closure');
    assert.equal(await reshaped('    1 + 2', '    let f = || 3;\n    f()'), false, 'no closure before');
    assert.equal(await reshaped(base, '    3'), false, 'none after');
  });
});

describe('analysis: matchDemangled', () => {
  // rustc 1.95, legacy mangling (the default for app crates), demangled with `nm -C`
  const fn = (over: Partial<ChangedFunction>): ChangedFunction => ({
    file: FILE, id: '', kind: 'body', name: '', item: '', modPath: [], path: '', generic: false, inline: 'none',
    async: false, closures: false, closuresReshaped: false, noMangle: false, cfg: false, ambiguous: false,
    range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
    nameRange: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
    ...over,
  });

  it('free functions, in nested mods, with or without the hash, and their closures', () => {
    const helper = fn({ name: 'helper', modPath: ['inner'] });
    assert.equal(matchDemangled(helper, 'sym::b::inner::helper', 'sym::b'), 'fn');
    assert.equal(matchDemangled(helper, 'sym::b::inner::helper::h89a55af4a8af4a47', 'sym::b'), 'fn');
    assert.equal(matchDemangled(helper, 'sym::b::inner::helper::{{closure}}', 'sym::b'), 'closure');
    assert.equal(matchDemangled(helper, 'sym::b::inner::helper::{closure#0}', 'sym::b'), 'closure');
    assert.equal(matchDemangled(helper, 'sym::inner::helper', 'sym::b'), undefined, 'another module');
    assert.equal(matchDemangled(helper, 'sym::b::inner::helpers', 'sym::b'), undefined);
    assert.equal(matchDemangled(fn({ name: 'main' }), 'sym::main::h6499859942355982', 'sym'), 'fn');
  });

  it('inherent and trait impl methods, legacy form: under the module of the impl block, types fully qualified', () => {
    const get = fn({ name: 'get', selfType: 'Foo<T>', selfBase: 'Foo' });
    assert.equal(matchDemangled(get, 'sym::b::<impl sym::a::Foo<T>>::get::hedcd96e55501ed9d', 'sym::b'), 'fn');
    assert.equal(matchDemangled(get, 'sym::b::<impl sym::a::Shape for sym::a::Foo<u8>>::get', 'sym::b'), undefined, 'a trait impl is not the inherent one');
    const name = fn({ name: 'name', selfType: 'Foo<u8>', selfBase: 'Foo', trait: 'Shape', traitBase: 'Shape' });
    assert.equal(matchDemangled(name, 'sym::b::<impl sym::a::Shape for sym::a::Foo<u8>>::name', 'sym::b'), 'fn');
    assert.equal(matchDemangled(name, 'sym::b::<impl sym::a::Other for sym::a::Foo<u8>>::name', 'sym::b'), undefined);
    assert.equal(matchDemangled(name, 'sym::<impl sym::a::Shape for sym::a::Foo<u8>>::name', 'sym::b'), undefined, 'impl block in another module');
    // a legacy escape a demangler left (or mis-decoded) inside the self type's generics
    assert.equal(matchDemangled(name, 'sym::b::<impl sym::a::Shape for sym::a::Foo$LT$u8$GT$>::name', 'sym::b'), 'fn');
    assert.equal(matchDemangled(name, 'sym::b::<impl sym::a::Shape for sym::a::Foo$LTGT$>::name', 'sym::b'), 'fn');
    const fmtFn = fn({ name: 'fmt', selfType: 'crate::a::Foo<u16>', selfBase: 'Foo', trait: 'std::fmt::Display', traitBase: 'Display' });
    assert.equal(matchDemangled(fmtFn, 'sym::b::<impl core::fmt::Display for sym::a::Foo<u16>>::fmt::h415846b3a10a9106', 'sym::b'), 'fn');
  });

  it('v0 form: <Self as Trait>::name with the crate in one of the paths', () => {
    const name = fn({ name: 'name', selfType: 'Foo<u8>', selfBase: 'Foo', trait: 'Shape', traitBase: 'Shape' });
    assert.equal(matchDemangled(name, '<sym::a::Foo<u8> as sym::a::Shape>::name', 'sym::b'), 'fn');
    assert.equal(matchDemangled(name, '<other::Foo<u8> as other::Shape>::name', 'sym::b'), undefined);
    const get = fn({ name: 'get', selfType: 'Foo<T>', selfBase: 'Foo' });
    assert.equal(matchDemangled(get, '<sym::a::Foo<u8>>::get', 'sym'), 'fn');
    // older legacy form: the type's own path
    assert.equal(matchDemangled(get, 'sym::a::Foo<T>::get', 'sym::b'), 'fn');
    assert.equal(matchDemangled(get, 'other::a::Foo<T>::get', 'sym::b'), undefined);
    assert.equal(matchDemangled(get, 'sym::a::Bar<T>::get', 'sym::b'), undefined);
  });

  it('v0 form: generic instances and numbered closures (rustc-demangle of real v0 names)', () => {
    const gen = fn({ name: 'gen' });
    assert.equal(matchDemangled(gen, 'sym::gen::<u8>', 'sym'), 'fn');
    assert.equal(matchDemangled(gen, 'sym::gen::<alloc::vec::Vec<u8>, &str>', 'sym'), 'fn');
    assert.equal(matchDemangled(gen, 'sym::gen::<u8>::{closure#0}', 'sym'), 'closure');
    assert.equal(matchDemangled(gen, 'sym::gen::{closure#1}::{closure#0}', 'sym'), 'closure');
    assert.equal(matchDemangled(gen, 'sym::other::<u8>', 'sym'), undefined);
    assert.equal(matchDemangled(gen, '<std::thread::LocalKey<u8>>::with::<sym::gen::{closure#0}, u32>', 'sym'), undefined, 'std code instantiated with the closure');
    const get = fn({ name: 'get', selfType: 'Ring<T>', selfBase: 'Ring' });
    assert.equal(matchDemangled(get, '<sym::model::Ring<u32>>::get::{closure#0}', 'sym::ui'), 'closure');
    assert.equal(matchDemangled(get, '<sym::model::Ring<u32>>::get::<f64>', 'sym::ui'), 'fn');
  });
});
