// The layout gate on real rustc output: a small crate compiled as the running app's executable,
// then edited and compiled again as a patch's object; the gate compares what rustc's DWARF says.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LayoutGate, compareLayouts, indexLayouts, readObjectLayouts } from '../../../server/src/layout-gate';
import { CompiledLayouts, workspacePath } from '../../../server/src/session/compiled-layouts';
import { PatchabilityAnalyzer } from '../../../server/src/analysis';
import type { RunningApp } from '../../../server/src/session/app-lifecycle';
import type { PatchResult } from '../../../server/src/engine';

const V1 = `
macro_rules! stats { ($($f:ident),*) => { #[derive(Default)] pub struct Stats { $(pub $f: u64),* } } }
stats!(ticks, bytes);
pub const N: usize = 3;
pub struct Held { pub vals: [u64; N] }
pub struct Ring<T> { pub buf: Vec<T>, pub head: usize }
pub type Elem = u32;
pub struct State { pub stats: Stats, pub held: Held, pub ring: Ring<Elem>, pub mode: Mode }
pub enum Mode { Idle, Run(u32) }
#[inline(never)] fn tick(s: &mut State) -> u64 { s.stats.ticks += 1; s.ring.head += 1; s.held.vals[0] + s.stats.ticks + matches!(s.mode, Mode::Idle) as u64 }
fn main() {
    let mut s = State { stats: Stats::default(), held: Held { vals: [0; N] }, ring: Ring { buf: Vec::new(), head: 0 }, mode: Mode::Run(1) };
    let o: Option<Stats> = None;
    println!("{} {}", tick(&mut s), o.is_none());
}
`;

let dir = '';

function compile(name: string, src: string, args: string[], emit = 'obj,link'): { obj: string; exe: string } {
  const d = path.join(dir, name);
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, 'main.rs'), src);
  execFileSync('rustc', ['--edition', '2021', '--crate-name', 'probe', `--emit=${emit}`, '-Ccodegen-units=1', '-Awarnings', '-o', 'probe', 'main.rs', ...args], { cwd: d, stdio: 'pipe' });
  return { obj: path.join(d, 'probe.o'), exe: path.join(d, 'probe') };
}

describe('layout gate: compiled layouts from rustc debug info', function () {
  this.timeout(120_000);
  let v1: { obj: string; exe: string };

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layout-gate-'));
    v1 = compile('v1', V1, ['-g']);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the same source compiles to the same layouts: verified, nothing changed', async () => {
    const gate = new LayoutGate(v1.exe, ['probe']);
    const again = compile('same', V1.replace('s.stats.ticks += 1;', 's.stats.ticks += 2;'), ['-g']);
    const v = await gate.check([again.obj]);
    assert.ok(v.verified, JSON.stringify(v));
    assert.deepEqual(v.changes, []);
    assert.ok(v.compared >= 5, `compared ${v.compared} types`);
  });

  it('a field added by a macro_rules! invocation and a const array length are seen', async () => {
    const gate = new LayoutGate(v1.exe, ['probe']);
    const v2 = compile('v2', V1.replace('stats!(ticks, bytes);', 'stats!(ticks, bytes, errors);').replace('pub const N: usize = 3;', 'pub const N: usize = 9;'), ['-g']);
    const v = await gate.check([v2.obj]);
    assert.ok(v.verified, JSON.stringify(v));
    const summaries = v.changes.map((c) => c.summary);
    assert.ok(summaries.includes('Stats: 16 → 24 bytes; errors added at offset 16'), summaries.join('\n'));
    assert.ok(summaries.includes('Held: 24 → 72 bytes; vals: [u64; 3] → [u64; 9]'), summaries.join('\n'));
    assert.ok(summaries.some((s) => /^State: \d+ → \d+ bytes/.test(s)), summaries.join('\n'));
    assert.ok(summaries.includes('Option<probe::Stats>: 24 → 32 bytes'), summaries.join('\n'));
  });

  it('a generic argument changed through a type alias: the holder sees another instance', async () => {
    const gate = new LayoutGate(v1.exe, ['probe']);
    const v3 = compile('v3', V1.replace('pub type Elem = u32;', 'pub type Elem = u64;'), ['-g']);
    const v = await gate.check([v3.obj]);
    assert.ok(v.verified, JSON.stringify(v));
    const state = v.changes.find((c) => c.type === 'probe::State');
    assert.ok(state, v.changes.map((c) => c.summary).join('\n'));
    assert.match(state.summary, /ring: probe::Ring<u32> → probe::Ring<u64>/);
  });

  it('DWARF 5 objects compare with a DWARF 4 executable alike', async () => {
    const gate = new LayoutGate(v1.exe, ['probe']);
    const d5 = compile('d5', V1, ['-g', '-Cdwarf-version=5']);
    const v = await gate.check([d5.obj]);
    assert.ok(v.verified && v.changes.length === 0, JSON.stringify(v));
  });

  it('limited debuginfo: unverified, with the reason, never "verified"', async () => {
    const limited = compile('limited', V1, ['-Cdebuginfo=1']);
    const v = await new LayoutGate(limited.exe, ['probe']).check([v1.obj]);
    assert.equal(v.verified, false);
    assert.match(v.verified ? '' : v.reason, /describes no types.*debug = 2/);
    const thinLimited = await new LayoutGate(v1.exe, ['probe']).check([limited.obj]);
    assert.equal(thinLimited.verified, false);
  });

  it('an unreadable object is unverified, not a crash', async () => {
    const junk = path.join(dir, 'junk.o');
    fs.writeFileSync(junk, 'not an object');
    const v = await new LayoutGate(v1.exe, ['probe']).check([junk]);
    assert.equal(v.verified, false);
  });

  it('one name with several layouts in the executable: equal to any is no change', () => {
    const a = readObjectLayouts(fs.readFileSync(v1.obj), ['probe']).types;
    const stats = a.find((t) => t.name === 'probe::Stats')!;
    const other = { ...stats, size: 99 };
    const index = indexLayouts([other, stats]);
    assert.equal(index.get('probe::Stats')!.length, 2);
    assert.deepEqual(compareLayouts(index, [stats]).changes, []);
    assert.equal(compareLayouts(indexLayouts([other]), [stats]).changes.length, 1);
  });

  it('in the pipeline: unverified layouts say so in the claim and block nothing; a change is a finding on its type', async () => {
    const analyzer = await PatchabilityAnalyzer.create({ crateOf: () => 'probe' });
    const main = path.join(dir, 'v1', 'main.rs');
    analyzer.setBaseline(main, V1);
    analyzer.update(main, V1);
    const layouts = new CompiledLayouts(analyzer, () => undefined);
    const appFor = (exe: string) => ({ build: { exePath: exe, workspaceCrates: { probe: [] }, workspaceRoot: dir } }) as unknown as RunningApp;
    const patch = (obj: string) => ({ ok: true, objectPaths: [obj] }) as unknown as Extract<PatchResult, { ok: true }>;
    const limited = compile('limited-exe', V1, ['-Cdebuginfo=1']);
    const unverified = await layouts.judge(appFor(limited.exe), patch(v1.obj), [main]);
    assert.deepEqual(unverified.findings, []);
    assert.match(unverified.claim, /^layouts unverified: the executable describes no types/);
    const junk = path.join(dir, 'junk-exe');
    fs.writeFileSync(junk, 'not an executable');
    const unreadable = await layouts.judge(appFor(junk), patch(v1.obj), [main]);
    assert.deepEqual(unreadable.findings, []);
    assert.match(unreadable.claim, /^layouts unverified: its debug info could not be read/);
    const v2 = compile('v2-pipeline', V1.replace('pub const N: usize = 3;', 'pub const N: usize = 9;'), ['-g']);
    const changed = await layouts.judge(appFor(v1.exe), patch(v2.obj), [main]);
    const held = changed.findings.find((f) => f.item === 'Held')!;
    assert.equal(held.code, 'compiled-layout-changed');
    assert.equal(held.severity, 'restart');
    assert.equal(V1.split('\n')[held.range.start.line].includes('pub struct Held'), true, 'placed on the struct');
    assert.ok(changed.summaries.includes('Held: 24 → 72 bytes; vals: [u64; 3] → [u64; 9]'), changed.summaries.join('\n'));
    analyzer.dispose();
  });

  it('in the pipeline: a change of a type the sources derive a Bevy Component for says why Bevy cannot take it; a plain type does not', async () => {
    const analyzer = await PatchabilityAnalyzer.create({ crateOf: () => 'probe' });
    const main = path.join(dir, 'v1', 'main.rs');
    // the analysis reads the sources as a Bevy app has them; rustc builds them without Bevy
    const asBevy = `use bevy::prelude::*;\n${V1.replace('pub struct Held', '#[derive(Component)]\npub struct Held')}`;
    analyzer.setBaseline(main, asBevy);
    analyzer.update(main, asBevy);
    const layouts = new CompiledLayouts(analyzer, () => undefined);
    const app = { build: { exePath: v1.exe, workspaceCrates: { probe: [] }, workspaceRoot: dir } } as unknown as RunningApp;
    const v2 = compile('v2-bevy', V1.replace('pub const N: usize = 3;', 'pub const N: usize = 9;').replace('stats!(ticks, bytes);', 'stats!(ticks, bytes, errors);'), ['-g']);
    const changed = await layouts.judge(app, { ok: true, objectPaths: [v2.obj] } as unknown as Extract<PatchResult, { ok: true }>, [main]);
    const held = changed.findings.find((f) => f.item === 'Held')!;
    assert.equal(held.code, 'compiled-layout-changed');
    assert.match(held.message, /new offsets; Bevy keeps the component `Held` in the World in storage laid out at its first registration, .* cannot be migrated\. Nothing was sent; restart the app/);
    const stats = changed.findings.find((f) => f.item === 'Stats')!;
    assert.equal(stats.code, 'compiled-layout-changed');
    assert.doesNotMatch(stats.message, /Bevy/);
    analyzer.dispose();
  });

  it('finds the workspace type a layout is about', () => {
    assert.equal(workspacePath('core::option::Option<counter::Stats>', ['counter']), 'counter::Stats');
    assert.equal(workspacePath('counter_core::Ring<u32>', ['counter', 'counter_core']), 'counter_core::Ring');
    assert.equal(workspacePath('alloc::vec::Vec<u8>', ['counter']), undefined);
  });
});
