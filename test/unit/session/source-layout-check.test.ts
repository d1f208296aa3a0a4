// The compiler's word on source layout findings (session/source-layout-check.ts): which compiled
// layouts count as unchanged, how DWARF names map to the type a finding is about, and that the
// note goes on the saved text's findings only, never on an unsaved buffer's.
import { strict as assert } from 'node:assert';
import { PatchabilityAnalyzer } from '../../../server/src/analysis';
import type { TypeLayout } from '../../../server/src/layout-gate';
import { ProblemBoard } from '../../../server/src/session/problem-board';
import { compiledNote, ownPath, sameFields, typePath, unnamedChanges } from '../../../server/src/session/source-layout-check';
import { compareLayouts, indexLayouts } from '../../../server/src/layout-gate';
import { silentObserver } from '../../support/silent-observer';

const observer = silentObserver;

const layout = (fields: Array<[string, number, string]>, size = 24, name = 'app::Timing'): TypeLayout => ({
  name,
  kind: 'struct',
  size,
  align: 8,
  fields: fields.map(([n, offset, type]) => ({ name: n, offset, type })),
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

  it("the build's layout changes no source finding names are left for the gate's own findings; the named types, their instances, payloads and holders named with them are not", async () => {
    const file = '/ws/src/main.rs';
    const v1 = 'pub type Count = u64;\npub struct Timing { pub started: u64, pub phase: u32 }\npub struct Held { pub vals: [u64; SLOTS] }\npub enum Mode { Idle, Run(u32) }\nfn main() {}\n';
    const analyzer = await PatchabilityAnalyzer.create({ crateOf: () => 'app' });
    analyzer.setBaseline(file, v1);
    analyzer.update(file, v1.replace('started: u64', 'started: u32').replace('Run(u32)', 'Run(u16)'));
    const findings = analyzer.findingsFor(file).filter((f) => /layout-changed/.test(f.code));
    assert.deepEqual(findings.map((f) => f.item).sort(), ['Mode', 'Timing']);
    const timing = (t: string) => layout([['started', 0, t], ['phase', 8, 'u32']], 16);
    const held = (n: number) => layout([['vals', 0, `[u64; ${n}]`]], 8 * n, 'app::Held');
    const optionTiming = (t: string) => ({ ...timing(t), name: 'core::option::Option<app::Timing>', size: 24 });
    const mode: TypeLayout = { name: 'app::Mode', kind: 'enum', size: 8, align: 4, fields: [], variants: [{ discr: '0', name: 'Idle', type: 'app::Mode::Idle' }, { discr: '1', name: 'Run', type: 'app::Mode::Run' }], discr: { name: '', offset: 0, type: 'u32' } };
    const run = (t: string) => layout([['__0', 4, t]], 8, 'app::Mode::Run');
    const exe = indexLayouts([timing('u64'), held(3), optionTiming('u64'), mode, run('u32')]);
    const patch = [timing('u32'), held(9), optionTiming('u32'), mode, run('u16')];
    const locate = analyzer.locateType.bind(analyzer);
    const own = findings.map((f) => ownPath(f, patch, ['app'], locate));
    assert.deepEqual(own.sort(), ['app::Mode', 'app::Timing']);
    const changes = compareLayouts(exe, patch).changes;
    assert.deepEqual(changes.map((c) => c.type).sort(), ['app::Held', 'app::Mode::Run', 'app::Timing', 'core::option::Option<app::Timing>']);
    const unseen = unnamedChanges(changes, own as string[], ['app']);
    assert.deepEqual(unseen.map((c) => c.summary), ['Held: 24 → 72 bytes; vals: [u64; 3] → [u64; 9]']);
    // nothing named: every change is the gate's
    assert.equal(unnamedChanges(changes, [], ['app']).length, 4);
    analyzer.dispose();
  });

  it('the note names the type a finding is about: its generic instances and variant payloads, never a type that merely mentions it', async () => {
    const file = '/ws/src/main.rs';
    const v1 = 'pub type Count = u64;\npub struct Timing { pub started: u64, pub phase: u32 }\npub struct Ring<T> { pub slots: [T; 4], pub head: usize }\npub enum Mode { Idle, Run(u32) }\nfn main() {}\n';
    const analyzer = await PatchabilityAnalyzer.create({ crateOf: () => 'app' });
    analyzer.setBaseline(file, v1);
    analyzer.update(file, v1.replace('started: u64', 'started: Count').replace('[T; 4]', '[T; 2 + 2]').replace('Run(u32)', 'Run(u16)'));
    const findings = analyzer.findingsFor(file);
    const of = (item: string) => findings.find((f) => f.item === item && /layout-changed/.test(f.code))!;
    assert.ok(of('Timing') && of('Ring') && of('Mode'), JSON.stringify(findings.map((f) => [f.code, f.item])));
    const locate = analyzer.locateType.bind(analyzer);
    const timing = layout([['started', 0, 'u64'], ['phase', 8, 'u32']], 16);
    const ring = (t: string, size: number) => layout([['slots', 0, `[${t}; 4]`], ['head', size - 8, 'usize']], size, `app::Ring<${t}>`);
    const mode: TypeLayout = { name: 'app::Mode', kind: 'enum', size: 8, align: 4, fields: [], variants: [{ discr: '0', name: 'Idle', type: 'app::Mode::Idle' }, { discr: '1', name: 'Run', type: 'app::Mode::Run' }], discr: { name: '', offset: 0, type: 'u32' } };
    const run = (t: string) => layout([['__0', 4, t]], 8, 'app::Mode::Run');
    const exe = indexLayouts([timing, ring('u32', 24), ring('u8', 16), mode, run('u32')]);

    // Unchanged, every instance the build describes; an instance the app does not have is new.
    assert.match(compiledNote(of('Timing'), [timing], exe, ['app'], locate) ?? '', /^the compiled layout of `Timing` is unchanged: 16 bytes, the same fields at the same offsets, compared/);
    assert.match(compiledNote(of('Ring'), [ring('u32', 24), ring('u8', 16), ring('u64', 40)], exe, ['app'], locate) ?? '', /unchanged: `Ring<u32>`: 24 bytes, `Ring<u8>`: 16 bytes, the same/);
    // An enum whose variant list is the same but whose payload changed.
    assert.equal(compiledNote(of('Mode'), [mode, run('u16')], exe, ['app'], locate), 'the compiled layout changed too: Run: __0: u32 → u16');
    // A size change of the type itself.
    assert.match(compiledNote(of('Timing'), [layout([['started', 0, 'u64'], ['phase', 8, 'u64']], 16)], exe, ['app'], locate) ?? '', /changed too: Timing: phase: u32 → u64/);
    // Not described by the build (only a type holding it is), another crate's type of that name, new only: nothing said.
    assert.equal(compiledNote(of('Timing'), [{ ...timing, name: 'core::option::Option<app::Timing>' }], exe, ['app'], locate), undefined);
    assert.equal(compiledNote(of('Timing'), [{ ...timing, name: 'other::Timing' }], exe, ['app', 'other'], locate), undefined);
    assert.equal(compiledNote(of('Ring'), [ring('u64', 40)], exe, ['app'], locate), undefined);
  });
});
