// The compiler's word on source layout findings (session/source-layout-check.ts): which compiled
// layouts count as unchanged, how DWARF names map to the type a finding is about, and that the
// note goes on the saved text's findings only, never on an unsaved buffer's.
import { strict as assert } from 'node:assert';
import { PatchabilityAnalyzer } from '../../../server/src/analysis';
import type { TypeLayout } from '../../../server/src/layout-gate';
import { ProblemBoard } from '../../../server/src/session/problem-board';
import { sameFields, typePath } from '../../../server/src/session/source-layout-check';
import type { SessionObserver } from '../../../server/src/session/observer';

const observer = {
  log: () => undefined,
  notify: () => undefined,
  problemsChanged: () => undefined,
  statusChanged: () => undefined,
  beginProgress: () => ({ report: () => undefined, done: () => undefined }),
} as unknown as SessionObserver;

const layout = (fields: Array<[string, number, string]>, size = 24): TypeLayout => ({
  name: 'app::Timing',
  kind: 'struct',
  size,
  align: 8,
  fields: fields.map(([name, offset, type]) => ({ name, offset, type })),
  variants: [],
});

describe('session: the compiler checks source layout findings', () => {
  it('fields declared in another order at the same offsets are the same layout; a moved or retyped field is not', () => {
    const a = layout([['started', 0, 'u64'], ['extra', 8, 'u64'], ['phase', 16, 'u32']]);
    assert.ok(sameFields(a, layout([['phase', 16, 'u32'], ['started', 0, 'u64'], ['extra', 8, 'u64']])));
    assert.ok(!sameFields(a, layout([['started', 0, 'u64'], ['phase', 8, 'u32'], ['extra', 16, 'u64']])));
    assert.ok(!sameFields(a, layout([['started', 0, 'u64'], ['extra', 8, 'i64'], ['phase', 16, 'u32']])));
    assert.ok(!sameFields(a, layout([['started', 0, 'u64'], ['extra', 8, 'u64'], ['phase', 16, 'u32']], 32)));
    assert.ok(!sameFields(a, layout([['started', 0, 'u64'], ['phase', 16, 'u32']])));
  });

  it('a DWARF name without its generic arguments; environments named by position are no type of the source', () => {
    assert.equal(typePath('layout_core::Ring<u32>'), 'layout_core::Ring');
    assert.equal(typePath('app::E<alloc::vec::Vec<u8>>::A'), 'app::E::A');
    assert.equal(typePath('core::option::Option<app::Stats>'), 'core::option::Option');
    assert.equal(typePath('app::main::{closure_env#0}'), undefined);
    assert.equal(typePath('u64'), undefined);
  });

  it("the note is added to the saved text's findings, not to an unsaved buffer's preview", async () => {
    const file = '/ws/src/main.rs';
    const v1 = 'pub type Count = u64;\npub struct Timing { pub started: u64 }\nfn main() {}\n';
    const analyzer = await PatchabilityAnalyzer.create({ crateOf: () => 'app' });
    analyzer.setBaseline(file, v1);
    analyzer.update(file, v1.replace('started: u64', 'started: Count'));
    const board = new ProblemBoard(analyzer, observer, () => undefined, undefined, () => false, () => false, () => undefined, (f) => f, (f) => ({ ...f, message: `${f.message} (compiler note)` }));
    const saved = board.problemsFor(file).find((p) => p.code === 'struct-layout-changed');
    assert.ok(saved && saved.requiresRestart, 'still blocks');
    assert.match(saved.message, /\(compiler note\)$/);
    assert.ok(board.restartFindings().some((f) => f.code === 'struct-layout-changed'), 'the note changes nothing of what blocks');
    board.setPreview(file, analyzer.findingsFor(file));
    const preview = board.problemsFor(file).find((p) => p.code === 'struct-layout-changed');
    assert.ok(preview);
    assert.doesNotMatch(preview.message, /compiler note/);
  });
});
