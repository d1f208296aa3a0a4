// Legacy names after a layout change: which renamed function of the patch replaces which of the
// executable (migration/renamed-instances.ts). The names are legacy symbols as rustc makes them;
// paths and DWARF instance names are given per symbol, as the session reads them.
import { strict as assert } from 'node:assert';
import { describeUnmatched, matchRenamedInstances } from '../../../server/src/migration';
import type { DefinedFunction, RenamedInput } from '../../../server/src/migration';

/** A legacy symbol for `path` (segments) with a hash. */
const sym = (path: string[], hash: string) => `_ZN${path.map((p) => `${p.length}${p}`).join('')}17h${hash.padStart(16, '0')}E`;

interface Fn {
  name: string;
  path: string;
  instance?: string;
  at: number;
}
const fn = (segs: string[], hash: string, instance: string | undefined, at: number): Fn => ({ name: sym(segs, hash), path: segs.join('::'), instance, at });

function run(fat: Fn[], patch: Fn[], migrating = ['app::State']) {
  const all = [...fat, ...patch];
  const pathOf = new Map(all.map((f) => [f.name, f.path]));
  const defined = (list: Fn[]): DefinedFunction[] => list.map((f) => ({ name: f.name, addresses: new Set([f.at]) }));
  const names = (list: Fn[]) => (wanted: readonly string[]) => new Map(list.filter((f) => wanted.includes(f.name) && f.instance !== undefined).map((f) => [f.name, f.instance!]));
  const input: RenamedInput = {
    fat: defined(fat),
    patch: defined(patch),
    migrating,
    demangle: (ns) => ns.map((n) => pathOf.get(n) ?? n),
    fatInstances: names(fat),
    patchInstances: names(patch),
  };
  return matchRenamedInstances(input);
}

describe('migration: renamed legacy functions matched by DWARF instance', () => {
  const unchanged = fn(['app', 'message'], '1', 'message', 0x100);

  it('matches a function taking the migrated type, the codec instance of the migrated type and its closures, one to one', () => {
    const fat = [
      unchanged,
      fn(['app', 'tick'], 'a1', 'tick(&mut app::State)', 0x200),
      fn(['agent', 'restore_erased'], 'a2', 'restore_erased<app::State>', 0x300),
      fn(['agent', 'restore_erased', '{{closure}}'], 'a3', '{closure#0}<app::State>', 0x310),
      fn(['agent', 'restore_erased', '{{closure}}'], 'a4', '{closure#1}<app::State>', 0x320),
      // another type's instance, not renamed: stays out of it
      fn(['agent', 'restore_erased'], 'b1', 'restore_erased<app::Settings>', 0x400),
    ];
    const patch = [
      unchanged,
      fn(['app', 'tick'], 'c1', 'tick(&mut app::State)', 0x1200),
      fn(['agent', 'restore_erased'], 'c2', 'restore_erased<app::State>', 0x1300),
      fn(['agent', 'restore_erased', '{{closure}}'], 'c4', '{closure#1}<app::State>', 0x1320),
      fn(['agent', 'restore_erased', '{{closure}}'], 'c3', '{closure#0}<app::State>', 0x1310),
      fn(['agent', 'restore_erased'], 'b1', 'restore_erased<app::Settings>', 0x1400),
    ];
    const m = run(fat, patch);
    assert.deepEqual(m.unmatched, []);
    assert.deepEqual(
      m.pairs.map((p) => [p.fromAddress, p.toAddress, p.instance]).sort(),
      [
        [0x200, 0x1200, 'tick(&mut app::State)'],
        [0x300, 0x1300, 'restore_erased<app::State>'],
        [0x310, 0x1310, '{closure#0}<app::State>'],
        [0x320, 0x1320, '{closure#1}<app::State>'],
      ].sort(),
    );
  });

  it('never matches another instance of the same path (a generic over another type)', () => {
    // `show::<String>` gone, `show::<f32>` new: one candidate per side by path, different instances.
    const m = run([unchanged, fn(['app', 'show'], 'a1', 'show<alloc::string::String>', 0x200)], [unchanged, fn(['app', 'show'], 'c1', 'show<f32>', 0x1200)]);
    assert.deepEqual(m.pairs, []);
    assert.deepEqual(m.unmatched, [], 'not about the migrated type: left alone, as any renamed function');
  });

  it('refuses when the migrated type\'s instance has two candidates on a side, or no DWARF name', () => {
    const twice = run(
      [fn(['agent', 'HotState<T>', 'call', '{{closure}}'], 'a1', '{closure#0}<app::State, ()>', 0x200)],
      [
        fn(['agent', 'HotState<T>', 'call', '{{closure}}'], 'c1', '{closure#0}<app::State, ()>', 0x1200),
        fn(['agent', 'HotState<T>', 'call', '{{closure}}'], 'c2', '{closure#0}<app::State, ()>', 0x1300),
      ],
    );
    assert.deepEqual(twice.pairs, []);
    assert.equal(twice.unmatched.length, 1);
    assert.match(twice.unmatched[0].reason, /1 functions of the executable and 2 of the patch are that instance/);
    assert.match(describeUnmatched(twice.unmatched), /`agent::HotState<T>::call::\{\{closure\}\}` \(`\{closure#0\}<app::State, \(\)>`\)/);

    // No longer instantiated (no field needs dropping): left out, as a removed function is.
    const gone = run([fn(['core', 'ptr', 'drop_in_place<app::State>'], 'a1', 'drop_in_place<app::State>', 0x200)], [fn(['agent', 'other'], 'c1', 'other', 0x1200)]);
    assert.deepEqual(gone, { pairs: [], unmatched: [] });

    const noDwarf = run([fn(['core', 'ptr', 'drop_in_place<app::State>'], 'a1', undefined, 0x200)], [fn(['core', 'ptr', 'drop_in_place<app::State>'], 'c1', 'drop_in_place<app::State>', 0x1200)]);
    assert.match(noDwarf.unmatched[0].reason, /debug info names no instance/);
  });

  it('never matches a function whose signature changed, and refuses when it is about the migrated type', () => {
    const m = run([fn(['app', 'tick'], 'a1', 'tick(&mut app::State, u32)', 0x200)], [fn(['app', 'tick'], 'c1', 'tick(&mut app::State, u64)', 0x1200)]);
    assert.deepEqual(m.pairs, []);
    assert.match(m.unmatched[0].reason, /the patch's debug info names no function of that instance/);
    // Not about it (no mention of the type): left out, as renamed functions always are.
    const other = run([fn(['app', 'f'], 'a1', 'f(u32)', 0x200)], [fn(['app', 'f'], 'c1', 'f(u64)', 0x1200)]);
    assert.deepEqual(other, { pairs: [], unmatched: [] });
  });

  it('a longer type name is not the migrated type', () => {
    const m = run([fn(['agent', 'restore_erased'], 'a1', 'restore_erased<app::StateCache>', 0x200)], [fn(['agent', 'restore_erased'], 'c1', 'restore_erased<app::StateCache2>', 0x1200)]);
    assert.deepEqual(m.unmatched, []);
    assert.deepEqual(m.pairs, []);
  });

  it('v0 names and names in both builds are not renamed', () => {
    const v0 = { name: '_RNvCs1_3app4tick', path: 'app::tick', instance: 'tick', at: 0x200 };
    const m = run([v0, unchanged], [{ ...v0, at: 0x1200 }, unchanged]);
    assert.deepEqual(m.pairs, []);
    assert.deepEqual(m.unmatched, []);
  });
});
