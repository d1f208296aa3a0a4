// The workspace around a save: effects across files and crates, the baseline contract (first
// sight, revert, restart of the app, explicit baselines), the change summary the session uses
// to decide what to patch, and positions in LSP units.
import * as assert from 'node:assert/strict';
import { assertFindings, newAnalyzer, textAt } from './helpers';

const crates: Record<string, string> = {
  '/ws/app/src/main.rs': 'app',
  '/ws/app/src/model.rs': 'app',
  '/ws/app/src/ids.rs': 'app',
  '/ws/game/src/lib.rs': 'game',
  '/ws/engine/src/lib.rs': 'engine',
};
const crateOf = (f: string) => crates[f];

describe('analysis: effects across files and crates', () => {
  it('an alias changed in one file warns on the struct that uses it in another, with related info', async () => {
    const a = await newAnalyzer({ crateOf });
    a.update('/ws/app/src/ids.rs', 'pub type Id = u32;\n');
    const model = 'use crate::ids::Id;\npub struct User {\n    pub id: Id,\n}\n';
    a.update('/ws/app/src/model.rs', model);
    a.update('/ws/app/src/ids.rs', 'pub type Id = u64;\n');
    assert.deepEqual(a.findingsFor('/ws/app/src/ids.rs'), [], 'an alias itself is not a finding');
    const fs = a.findingsFor('/ws/app/src/model.rs');
    assertFindings(fs, [{ code: 'struct-layout-changed', item: 'User', says: ['`User` embeds `Id` whose layout changed'] }]);
    assert.equal(textAt(model, fs[0]), 'User');
    assert.equal(fs[0].related?.[0].file, '/ws/app/src/ids.rs');
    assert.deepEqual(fs[0].related?.[0].range, { start: { line: 0, character: 9 }, end: { line: 0, character: 11 } });
    assert.ok(a.findings().get('/ws/app/src/model.rs')?.length === 1, 'findings() includes cross-file effects');
  });

  it('through a chain of aliases, the related info also points at where the change was made', async () => {
    const a = await newAnalyzer({ crateOf });
    a.update('/ws/app/src/ids.rs', 'pub type Raw = u32;\npub type Id = Raw;\n');
    a.update('/ws/app/src/model.rs', 'pub struct User { id: Id }\n');
    a.update('/ws/app/src/ids.rs', 'pub type Raw = u64;\npub type Id = Raw;\n');
    const [f] = a.findingsFor('/ws/app/src/model.rs');
    assert.equal(f.message, '`User` embeds `Id` whose layout changed: requires restart, running instances have the old layout');
    assert.deepEqual(f.related?.map((r) => [r.file, r.range.start.line, r.message]), [
      ['/ws/app/src/ids.rs', 1, '`Id` is defined here; its layout changed'],
      ['/ws/app/src/ids.rs', 0, '`Raw` changed here'],
    ]);
  });

  it('a struct embedded by value from another file warns in both files', async () => {
    const a = await newAnalyzer({ crateOf });
    a.update('/ws/app/src/model.rs', 'pub struct Pos { pub x: f32 }\n');
    a.update('/ws/app/src/main.rs', 'mod model;\nuse model::Pos;\nstruct Player { pos: Pos, hp: u32 }\nfn main() {}\n');
    a.update('/ws/app/src/model.rs', 'pub struct Pos { pub x: f32, pub y: f32 }\n');
    assertFindings(a.findingsFor('/ws/app/src/model.rs'), [{ code: 'struct-layout-changed', item: 'Pos' }]);
    const fs = a.findingsFor('/ws/app/src/main.rs');
    assertFindings(fs, [{ code: 'struct-layout-changed', item: 'Player', says: ['`Player` embeds `Pos`'] }]);
    assert.equal(fs[0].related?.[0].file, '/ws/app/src/model.rs');
  });

  it('a struct of another crate embedded by value warns (resolved by its last path segment)', async () => {
    const a = await newAnalyzer({ crateOf });
    a.update('/ws/engine/src/lib.rs', 'pub struct Transform { pub x: f32 }\n');
    a.update('/ws/app/src/main.rs', 'struct Scene { root: engine::Transform }\nfn main() {}\n');
    a.update('/ws/engine/src/lib.rs', 'pub struct Transform { pub x: f64 }\n');
    assertFindings(a.findingsFor('/ws/app/src/main.rs'), [{ code: 'struct-layout-changed', item: 'Scene' }]);
  });

  it('an ambiguous embedded name prefers the same crate, and is skipped when still ambiguous', async () => {
    const a = await newAnalyzer({ crateOf });
    a.update('/ws/engine/src/lib.rs', 'pub struct Cfg { a: u8 }\npub struct Holder { c: Cfg }\n');
    a.update('/ws/game/src/lib.rs', 'pub struct Cfg { b: u8 }\n');
    a.update('/ws/app/src/main.rs', 'struct Top { c: Cfg }\nfn main() {}\n');
    a.update('/ws/game/src/lib.rs', 'pub struct Cfg { b: u16 }\n');
    assert.deepEqual(a.findingsFor('/ws/engine/src/lib.rs'), [], "engine's Holder means engine's Cfg, which did not change");
    assert.deepEqual(a.findingsFor('/ws/app/src/main.rs'), [], 'two candidates in other crates: skipped, never guessed');
  });

  it('a hot entry defined in another crate and named from the tip crate warns where it is defined', async () => {
    const a = await newAnalyzer({ crateOf });
    a.update('/ws/game/src/lib.rs', 'pub fn tick(world: &mut World) {\n    world.t += 1;\n}\n');
    a.update('/ws/app/src/main.rs', 'fn main() {\n    let mut w = game::World::default();\n    loop { subsecond::call(|| game::tick(&mut w)); }\n}\n');
    a.update('/ws/game/src/lib.rs', 'pub fn tick(world: &mut World, dt: f32) {\n    world.t += 1;\n}\n');
    assertFindings(a.findingsFor('/ws/game/src/lib.rs'), [{ code: 'hot-signature-changed', item: 'tick', says: ['`fn(&mut World)` to `fn(&mut World, f32)`'] }]);
    // nothing about the edit there; the one-capture closure itself is a trap, reported on its own
    assertFindings(a.findingsFor('/ws/app/src/main.rs'), [{ code: 'hot-closure-never-patched', item: 'main', says: ['only `w`'] }]);
  });

  it('a hot-call site names the function of its own file first', async () => {
    const a = await newAnalyzer({ crateOf });
    a.update('/ws/game/src/lib.rs', 'pub fn step(n: u8) {}\n');
    a.update('/ws/app/src/main.rs', 'fn step() {}\nfn main() { subsecond::call(step); }\n');
    a.update('/ws/game/src/lib.rs', 'pub fn step(n: u16) {}\n');
    assert.deepEqual(a.findingsFor('/ws/game/src/lib.rs'), [], "the call site means main.rs's own `step`");
  });

  it('a changed function using a thread-local of another file: kept (no finding), or reset (a warning)', async () => {
    const kept = await newAnalyzer({ crateOf });
    kept.update('/ws/app/src/model.rs', 'thread_local! { pub static FRAMES: Cell<u64> = Cell::new(0); }\n');
    kept.update('/ws/app/src/main.rs', 'fn frame() { FRAMES.with(|f| f.set(f.get() + 1)); }\n');
    kept.update('/ws/app/src/main.rs', 'fn frame() { FRAMES.with(|f| f.set(f.get() + 2)); }\n');
    assertFindings(kept.findingsFor('/ws/app/src/main.rs'), []);
    const a = await newAnalyzer({ crateOf, threadLocalPolicy: 'reset' });
    a.update('/ws/app/src/model.rs', 'thread_local! { pub static FRAMES: Cell<u64> = Cell::new(0); }\n');
    a.update('/ws/app/src/main.rs', 'fn frame() { FRAMES.with(|f| f.set(f.get() + 1)); }\n');
    a.update('/ws/app/src/main.rs', 'fn frame() { FRAMES.with(|f| f.set(f.get() + 2)); }\n');
    assertFindings(a.findingsFor('/ws/app/src/main.rs'), [{ code: 'thread-local-reset', item: 'frame', severity: 'warning', says: ['uses thread-local `FRAMES`: patched code starts from its initial value'] }]);
  });

  it('without crateOf, files of one directory are one crate', async () => {
    const a = await newAnalyzer();
    a.update('/x/src/a.rs', 'pub struct Cfg { a: u8 }\n');
    a.update('/y/src/b.rs', 'pub struct Cfg { a: u8 }\n');
    a.update('/x/src/c.rs', 'struct Top { c: Cfg }\n');
    a.update('/y/src/b.rs', 'pub struct Cfg { a: u32 }\n');
    assert.deepEqual(a.findingsFor('/x/src/c.rs'), [], "c.rs's Cfg is its directory's a.rs");
    a.update('/x/src/a.rs', 'pub struct Cfg { a: u32 }\n');
    assertFindings(a.findingsFor('/x/src/c.rs'), [{ code: 'struct-layout-changed', item: 'Top' }]);
  });
});

describe('analysis: the baseline contract', () => {
  const F = '/ws/app/src/main.rs';
  const before = 'struct P { x: u32 }\nfn f() { let a = 1; }\n';
  const after = 'struct P { x: u64 }\nfn f() { let a = 1; }\n';

  it('the first content seen is the baseline: no findings on first sight', async () => {
    const a = await newAnalyzer();
    a.update(F, after);
    assert.deepEqual(a.findingsFor(F), []);
    assert.ok(a.has(F));
    assert.deepEqual(a.changeSummary(), []);
  });

  it('a warning stays until the edit is reverted', async () => {
    const a = await newAnalyzer();
    a.update(F, before);
    a.update(F, after);
    assert.equal(a.findingsFor(F).length, 1);
    a.update(F, after.replace('fn f() { let a = 1; }', 'fn f() { let a = 2; }'));
    assert.equal(a.findingsFor(F).length, 1, 'another save does not clear it');
    a.update(F, before);
    assert.deepEqual(a.findingsFor(F), [], 'reverting the edit clears it');
    assert.deepEqual(a.changeSummary(), [], 'and nothing is left to patch');
  });

  it('restarting the app (rebaseline) clears findings, and later edits are judged against the new baseline', async () => {
    const a = await newAnalyzer();
    a.update(F, before);
    a.update(F, after);
    a.rebaseline();
    assert.deepEqual(a.findingsFor(F), []);
    assert.deepEqual(a.changeSummary(), []);
    a.update(F, before);
    assertFindings(a.findingsFor(F), [{ code: 'struct-layout-changed', item: 'P', says: ['from `u64` to `u32`'] }]);
  });

  it('rebaseline of some files leaves the others judged against their old baseline', async () => {
    const a = await newAnalyzer();
    a.update(F, before);
    a.update('/ws/app/src/other.rs', before);
    a.update(F, after);
    a.update('/ws/app/src/other.rs', after);
    a.rebaseline([F]);
    assert.deepEqual(a.findingsFor(F), []);
    assert.equal(a.findingsFor('/ws/app/src/other.rs').length, 1);
  });

  it('an explicit baseline is what edits are judged against', async () => {
    const a = await newAnalyzer();
    a.setBaseline(F, before);
    assert.equal(a.has(F), false, 'a baseline alone is not current content');
    a.update(F, after);
    assert.equal(a.findingsFor(F).length, 1, 'the first update does not replace an explicit baseline');
    a.setBaseline(F, after);
    assert.deepEqual(a.findingsFor(F), []);
  });

  it('remove forgets a file, baseline included', async () => {
    const a = await newAnalyzer();
    a.update(F, before);
    a.update(F, after);
    a.remove(F);
    assert.equal(a.has(F), false);
    assert.deepEqual(a.findingsFor(F), []);
    a.update(F, after);
    assert.deepEqual(a.findingsFor(F), [], 'seen again: a new baseline');
  });
});

describe('analysis: memory', () => {
  it('only the most recently updated files keep a syntax tree; the others re-parse fully and judge the same', async () => {
    const a = await newAnalyzer({ maxTrees: 2 });
    const src = (n: number, t: string) => `struct S${n} { a: ${t} }\nfn f${n}() { let x = ${n}; }\n`;
    for (let i = 0; i < 5; i++) a.update(`/m/f${i}.rs`, src(i, 'u8'));
    assert.equal(a.treeCount, 2);
    for (let i = 0; i < 5; i++) a.update(`/m/f${i}.rs`, src(i, 'u16'));
    for (let i = 0; i < 5; i++) assertFindings(a.findingsFor(`/m/f${i}.rs`), [{ code: 'struct-layout-changed', item: `S${i}` }]);
    assert.equal(a.treeCount, 2);
    a.dispose();
  });
});

describe('analysis: the change summary', () => {
  it('lists items whose code changed, bodies included, with the crate', async () => {
    const a = await newAnalyzer({ crateOf });
    const src = 'struct S { a: u8 }\nimpl S {\n    fn m(&self) -> u8 { 1 }\n}\nfn f() {}\nfn g() {}\n';
    a.update('/ws/game/src/lib.rs', src);
    a.update('/ws/game/src/lib.rs', src.replace('{ 1 }', '{ 2 }').replace('fn g() {}', 'fn g() { h(); }') + 'fn added() {}\n');
    assert.deepEqual(a.changeSummary(), [{ file: '/ws/game/src/lib.rs', crate: 'game', changedItems: ['S::m', 'g', 'added'] }]);
  });

  it('comments and formatting are not changes', async () => {
    const a = await newAnalyzer();
    const src = 'fn f() {\n    let x = 1;\n}\n';
    a.update('/p/a.rs', src);
    a.update('/p/a.rs', '// hello\nfn f() { let x =\n 1; /* tidy */ }\n');
    assert.deepEqual(a.changeSummary(), []);
  });

  it('a removed item is a change, and the crate is undefined without crateOf', async () => {
    const a = await newAnalyzer();
    a.update('/p/a.rs', 'fn f() {}\nfn g() {}\n');
    a.update('/p/a.rs', 'fn f() {}\n');
    assert.deepEqual(a.changeSummary(), [{ file: '/p/a.rs', crate: undefined, changedItems: ['g'] }]);
  });
});

describe('analysis: positions', () => {
  it('finding ranges are in UTF-16 code units (LSP), after emoji and accents', async () => {
    const a = await newAnalyzer();
    const pre = '// 😀 émoji\nconst S: &str = "😀😀"; struct Ünï { a: u8 }\n';
    a.update('/p/u.rs', pre);
    const post = pre.replace('a: u8', 'a: u16');
    a.update('/p/u.rs', post);
    const [f] = a.findingsFor('/p/u.rs');
    assert.equal(f.item, 'Ünï');
    assert.deepEqual(f.range, { start: { line: 1, character: 31 }, end: { line: 1, character: 34 } });
    assert.equal(textAt(post, f), 'Ünï');
  });

  it('positions follow edits above the item (incremental updates shift them)', async () => {
    const a = await newAnalyzer();
    let text = 'struct P { x: u8 }\n';
    a.update('/p/s.rs', text);
    text = 'struct P { x: u16 }\n';
    a.update('/p/s.rs', text);
    text = '// one\n// two 😀\n' + text;
    a.update('/p/s.rs', text);
    const [f] = a.findingsFor('/p/s.rs');
    assert.equal(f.range.start.line, 2);
    assert.equal(textAt(text, f), 'P');
  });
});
