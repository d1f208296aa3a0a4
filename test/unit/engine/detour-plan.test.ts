// The detour plan the engine sends the agent: sizes from both symbol tables, main left out, and
// the keep list matched from the analysis' item names.
import assert from 'node:assert/strict';
import { ElfSymbol, STB_GLOBAL, STT_FUNC, STT_OBJECT } from '../../../server/src/engine/elf';
import { buildJumpTable } from '../../../server/src/engine/jump-table';
import { buildDetourPlan, keepListFor, owningCrates } from '../../../server/src/engine/detour-plan';
import { FatSymbols } from '../../../server/src/engine/symbols';

function s(name: string, value: number, size: number, type = STT_FUNC): ElfSymbol {
  return { index: 0, name, value, size, type, bind: STB_GLOBAL, visibility: 0, shndx: 1 };
}

const TICK = '_ZN3app4tick17h0123456789abcdefE';
const DRAW = '_ZN42_$LT$app..Obj$u20$as$u20$app..Describe$GT$8describe17h1111111111111111E';
const CLOSURE = '_ZN3app4tick28_$u7b$$u7b$closure$u7d$$u7d$17h2222222222222222E';
const OTHER = '_ZN3app10untouched17h3333333333333333E';
const GENERIC = '_ZN4core3ptr13drop_in_place17h4444444444444444E';
// the same functions in v0 (rustc -C symbol-mangling-version=v0), and a generic instance
const V0_TICK = '_RNvCs1VQLGaR7mhK_3app4tick';
const V0_DRAW = '_RNvXNtCscAEuU5ehQ2G_3app2uiNtB4_3ObjNtB4_8Describe8describe';
const V0_CLOSURE = '_RNCNvCs1VQLGaR7mhK_3app4ticks_0B3_';
const V0_GEN = '_RINvCs1VQLGaR7mhK_3app3genhEB2_';
const V0_STD = '_RINvNtCsgEmfK2I1SDS_4core3ptr13drop_in_placeNtCs1VQLGaR7mhK_3app6HolderEBI_';

describe('engine/detour-plan', function () {
  const fat = FatSymbols.fromSymbols('fat', 'x86_64', [
    s('main', 0x1000, 40),
    s(TICK, 0x2000, 64),
    s(DRAW, 0x3000, 3),
    s(CLOSURE, 0x4000, 20),
    s(OTHER, 0x5000, 30),
    s(GENERIC, 0x6000, 30),
    s('c_function', 0x7000, 30),
    s('STATIC', 0x9000, 8, STT_OBJECT),
  ]);
  const patch = [
    s('main', 0x10100, 40), s(TICK, 0x10200, 80), s(DRAW, 0x10300, 12), s(CLOSURE, 0x10400, 24), s(GENERIC, 0x10500, 30),
    s('c_function', 0x10600, 30),
  ];
  const { table } = buildJumpTable(fat, patch, '/x/libapp-patch-1.so', []);
  const plan = buildDetourPlan(fat, patch, table, ['app']);

  it('knows which crates a path belongs to', function () {
    assert.deepEqual(owningCrates('app::tick::{{closure}}'), ['app']);
    assert.deepEqual(owningCrates('<app::Obj as core::fmt::Display>::fmt'), ['app', 'core']);
    assert.deepEqual(owningCrates('<alloc::vec::Vec<app::Item> as core::ops::Drop>::drop'), ['alloc', 'core']);
    assert.deepEqual(owningCrates('<app::model::Panel>::draw'), ['app']);
    assert.deepEqual(owningCrates('core::ptr::drop_in_place<app::State>'), ['core']);
    assert.deepEqual(owningCrates('main'), []);
    // v0 forms (rustc-demangle of rustc 1.95 -C symbol-mangling-version=v0 output)
    assert.deepEqual(owningCrates('<app::build_world::{closure#0} as core::ops::function::FnOnce<(u32,)>>::call_once'), ['app', 'core']);
    assert.deepEqual(owningCrates('<app::model::Ring<u32>>::get::{closure#0}'), ['app']);
    assert.deepEqual(owningCrates('app::gen::<u8>::{closure#0}'), ['app']);
    assert.deepEqual(owningCrates('core::ptr::drop_in_place::<app::Holder>'), ['core']);
    assert.deepEqual(owningCrates('<std::thread::local::LocalKey<core::cell::Cell<u32>>>::with::<app::main::{closure#0}, u32>'), ['std']);
    assert.deepEqual(owningCrates('app::TLS::{K#0}::{closure#1}'), ['app']);
  });

  it('lists the table functions of rebuilt crates but main, with both sizes', function () {
    const sorted = [...plan.entries].sort((a, b) => a[0] - b[0]);
    assert.deepEqual(sorted, [
      [0x2000, 64, 0x10200, 80, TICK],
      [0x3000, 3, 0x10300, 12, DRAW],
      [0x4000, 20, 0x10400, 24, CLOSURE],
    ]);
  });

  it('keeps the functions the analysis names, trait impls and their closures included', function () {
    assert.deepEqual(keepListFor(plan, []), []);
    assert.deepEqual(keepListFor(plan, [{ name: 'tick' }]).sort(), [CLOSURE, TICK].sort());
    assert.deepEqual(keepListFor(plan, [{ name: 'describe', selfBase: 'Obj' }]), [DRAW]);
    assert.deepEqual(keepListFor(plan, [{ name: 'describe', selfBase: 'Other' }]), []);
    assert.deepEqual(keepListFor(plan, [{ name: 'ick' }]), []);
  });

  it('reads v0 names alike: crates, keep list, generic instances and numbered closures', function () {
    const v0fat = FatSymbols.fromSymbols('fat', 'x86_64', [
      s('main', 0x1000, 40), s(V0_TICK, 0x2000, 64), s(V0_DRAW, 0x3000, 30), s(V0_CLOSURE, 0x4000, 20), s(V0_GEN, 0x5000, 30), s(V0_STD, 0x6000, 30),
    ]);
    const v0patch = [
      s('main', 0x10100, 40), s(V0_TICK, 0x10200, 80), s(V0_DRAW, 0x10300, 12), s(V0_CLOSURE, 0x10400, 24), s(V0_GEN, 0x10500, 30), s(V0_STD, 0x10600, 30),
    ];
    const v0plan = buildDetourPlan(v0fat, v0patch, buildJumpTable(v0fat, v0patch, '/x/libapp-patch-1.so', []).table, ['app']);
    assert.deepEqual(v0plan.entries.map((e) => e[4]).sort(), [V0_TICK, V0_DRAW, V0_CLOSURE, V0_GEN].sort(), 'core::ptr::drop_in_place::<app::Holder> is not app code');
    assert.deepEqual(keepListFor(v0plan, [{ name: 'tick' }]).sort(), [V0_CLOSURE, V0_TICK].sort());
    assert.deepEqual(keepListFor(v0plan, [{ name: 'describe', selfBase: 'Obj' }]), [V0_DRAW]);
    assert.deepEqual(keepListFor(v0plan, [{ name: 'gen' }]), [V0_GEN]);
    assert.deepEqual(keepListFor(v0plan, [{ name: 'ick' }]), []);
  });
});
