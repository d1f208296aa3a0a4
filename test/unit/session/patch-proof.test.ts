// Proof before the claim: changed functions are matched against the patch's symbol names (legacy
// Rust mangling, as rustc 1.95 emits by default), and a changed function with running code but no
// jump-table entry is named, never counted as live.
import { strict as assert } from 'node:assert';
import { parseSymbolPath, provePatch, ChangedFunctionRef } from '../../../server/src/session/patch-proof';

/** Legacy-mangles a path the way rustc does (`_ZN` + length-prefixed segments + hash + `E`). */
function mangle(...segments: string[]): string {
  const enc = (s: string) =>
    s.replace(/[<>&*@(), {}]/g, (c) => ({ '<': '$LT$', '>': '$GT$', '&': '$RF$', '*': '$BP$', '@': '$SP$', '(': '$LP$', ')': '$RP$', ',': '$C$', ' ': '$u20$', '{': '$u7b$', '}': '$u7d$' })[c]!).replace(/::/g, '..');
  const parts = [...segments.map(enc), 'h0123456789abcdef'];
  return `_ZN${parts.map((p) => `${p.length}${p}`).join('')}E`;
}

const fn = (over: Partial<ChangedFunctionRef> & { name: string }): ChangedFunctionRef => ({ display: over.name, crates: ['ledger'], modulePath: [], ...over });

describe('session: proof that changed functions are in the patch', () => {
  it('parses demangled paths, inherent and trait impls, dropping generic arguments', () => {
    assert.deepEqual(parseSymbolPath('ledger::rates::discount'), { segments: ['ledger', 'rates', 'discount'], selfSegments: undefined, trait: undefined });
    assert.deepEqual(parseSymbolPath('<ledger::Circle as ledger::shapes::Shape>::name'), {
      segments: ['name'],
      selfSegments: ['ledger', 'Circle'],
      trait: 'Shape',
    });
    assert.deepEqual(parseSymbolPath('<ledger::Book<T>>::total'), { segments: ['ledger', 'Book', 'total'] });
    assert.deepEqual(parseSymbolPath('<alloc::vec::Vec<T,A> as core::ops::drop::Drop>::drop')?.trait, 'Drop');
  });

  it('a changed function mapped by the jump table is live', () => {
    const sym = mangle('ledger', 'rates', 'discount');
    const proof = provePatch([fn({ name: 'discount', modulePath: ['rates'], display: 'ledger::rates::discount' })], {
      fat: [sym, mangle('ledger', 'main')],
      mapped: [sym],
      defined: [sym],
      rebuiltCrates: ['ledger'],
    });
    assert.deepEqual(proof.live, ['ledger::rates::discount']);
    assert.deepEqual(proof.missing, []);
  });

  it('a changed function whose crate was not rebuilt is missing, even when a same-named symbol is mapped', () => {
    const sym = mangle('ledger', 'discount');
    const proof = provePatch([fn({ name: 'discount', display: 'ledger::discount' })], { fat: [sym], mapped: [sym], defined: [sym], rebuiltCrates: ['app'] });
    assert.deepEqual(proof.live, []);
    assert.equal(proof.missing.length, 1);
    assert.match(proof.missing[0].reason, /crate `ledger` was not rebuilt/);
  });

  it('a function the app runs but the patch does not define is missing', () => {
    const proof = provePatch([fn({ name: 'discount', display: 'ledger::discount' })], {
      fat: [mangle('ledger', 'discount')],
      mapped: [mangle('ledger', 'total')],
      defined: [mangle('ledger', 'total')],
      rebuiltCrates: ['ledger'],
    });
    assert.deepEqual(proof.missing, [{ name: 'ledger::discount', reason: 'the patch does not define it' }]);
  });

  it('inherent and trait-impl methods are matched by type, trait and crate', () => {
    const inherent = mangle('ledger', 'Book', 'total');
    const viaTrait = mangle('<ledger::Circle as ledger::Shape>', 'name');
    const otherTrait = mangle('<ledger::Circle as core::fmt::Display>', 'fmt');
    const proof = provePatch(
      [
        fn({ name: 'total', implType: 'Book', display: 'Book::total' }),
        fn({ name: 'name', implType: 'Circle', implTrait: 'Shape', display: 'Circle::name' }),
        fn({ name: 'fmt', implType: 'Circle', implTrait: 'Display', display: '<Circle as Display>::fmt' }),
      ],
      { fat: [inherent, viaTrait, otherTrait], mapped: [inherent, viaTrait], defined: [inherent, viaTrait], rebuiltCrates: ['ledger'] },
    );
    assert.deepEqual(proof.live, ['Book::total', 'Circle::name']);
    assert.deepEqual(proof.missing.map((m) => m.name), ['<Circle as Display>::fmt']);
  });

  it('closures and nested items do not stand in for their function', () => {
    const closure = mangle('ledger', 'discount', '{{closure}}');
    const proof = provePatch([fn({ name: 'discount', display: 'ledger::discount' })], {
      fat: [mangle('ledger', 'discount'), closure],
      mapped: [closure],
      defined: [closure],
      rebuiltCrates: ['ledger'],
    });
    assert.equal(proof.missing.length, 1);
  });

  it('functions with no code of their own are described, not errors', () => {
    const proof = provePatch(
      [fn({ name: 'helper', display: 'ledger::helper' }), fn({ name: 'unused', display: 'ledger::unused' })],
      { fat: [mangle('ledger', 'main')], mapped: [], defined: [mangle('ledger', 'helper')], rebuiltCrates: ['ledger'] },
    );
    assert.deepEqual(proof.inCallers, ['ledger::helper']);
    assert.deepEqual(proof.noCode, ['ledger::unused']);
    assert.deepEqual(proof.missing, []);
  });

  it('module paths keep same-named functions of other modules apart', () => {
    const other = mangle('ledger', 'tax', 'rate');
    const proof = provePatch([fn({ name: 'rate', modulePath: ['fees'], display: 'ledger::fees::rate' })], {
      fat: [other, mangle('ledger', 'fees', 'rate')],
      mapped: [other],
      defined: [other],
      rebuiltCrates: ['ledger'],
    });
    assert.equal(proof.missing.length, 1, 'ledger::tax::rate being mapped proves nothing about ledger::fees::rate');
  });
});
