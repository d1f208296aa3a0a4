// Jump-table construction from symbol tables (synthetic, so every rule is pinned down).
import assert from 'node:assert/strict';
import { ElfSymbol, SHN_ABS, SHN_UNDEF, STB_GLOBAL, STB_LOCAL, STT_FUNC, STT_OBJECT } from '../../../server/src/engine/elf';
import { buildJumpTable, JumpTableError } from '../../../server/src/engine/jump-table';
import { FatSymbols } from '../../../server/src/engine/symbols';

function s(name: string, value: number, type = STT_FUNC, shndx = 1, bind = STB_GLOBAL): ElfSymbol {
  return { index: 0, name, value, size: 16, type, bind, visibility: 0, shndx };
}

describe('engine/jump-table', function () {
  const fat = FatSymbols.fromSymbols('fat', 'x86_64', [
    s('main', 0x1000),
    s('app::tip_value', 0x2000),
    s('app::local.llvm.1234', 0x3000, STT_FUNC, 1, STB_LOCAL),
    s('twice', 0x4000, STT_FUNC, 1, STB_LOCAL),
    s('twice', 0x4100, STT_FUNC, 1, STB_LOCAL),
    s('stubbed', 0x5000),
    s('STATIC', 0x9000, STT_OBJECT),
    s('only_in_fat', 0x6000),
  ]);

  it('maps old static addresses to new ones, keys as decimal strings, plus main', function () {
    const patch = [
      s('main', 0x10100),
      s('app::tip_value', 0x10200),
      s('app::local.llvm.9999', 0x10300, STT_FUNC, 1, STB_LOCAL), // suffix differs between builds
      s('twice', 0x10400),
      s('stubbed', 0x10500), // a trampoline: old code, never a target
      s('STATIC', 0x19000, STT_OBJECT), // data is not in the table
      s('only_in_patch', 0x10600),
      s('undefined_ref', 0, STT_FUNC, SHN_UNDEF),
      s('absolute_fn', 0x7777, STT_FUNC, SHN_ABS),
    ];
    const { table, entries, ambiguous } = buildJumpTable(fat, patch, '/x/libapp-patch-1.so', ['stubbed']);
    assert.deepEqual(table, {
      lib: '/x/libapp-patch-1.so',
      map: { [String(0x1000)]: 0x10100, [String(0x2000)]: 0x10200, [String(0x3000)]: 0x10300 },
      aslr_reference: 0x1000,
      new_base_address: 0x10100,
      ifunc_count: 0,
    });
    assert.equal(entries, 3);
    assert.equal(ambiguous, 1, '`twice` has two addresses in the fat binary');
    // the JSON form subsecond reads: keys are strings, values numbers
    const json = JSON.parse(JSON.stringify(table)) as { map: Record<string, unknown> };
    for (const [k, v] of Object.entries(json.map)) {
      assert.match(k, /^\d+$/);
      assert.equal(typeof v, 'number');
    }
  });

  it('skips names defined twice in the patch', function () {
    const { table } = buildJumpTable(fat, [s('main', 0x10100), s('app::tip_value', 0x10200), s('app::tip_value', 0x10280)], 'p.so', []);
    assert.equal(table.map[String(0x2000)], undefined);
  });

  it('fails clearly when the patch has no main', function () {
    assert.throws(() => buildJumpTable(fat, [s('app::tip_value', 0x10200)], 'p.so', []), (e: Error) => e instanceof JumpTableError && /no `main`/.test(e.message));
  });
});
