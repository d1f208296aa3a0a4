// The layout gate's verdict on the problem board: its findings block and show only while the app
// they were measured for runs; it replaces the analysis' "not judged" note on item-level macros.
import { strict as assert } from 'node:assert';
import { PatchabilityAnalyzer, Finding } from '../../../server/src/analysis';
import { ProblemBoard } from '../../../server/src/session/problem-board';
import { silentObserver } from '../../support/silent-observer';

const FILE = '/ws/src/main.rs';
const V1 = 'macro_rules! stats { ($($f:ident),* $(,)?) => { pub struct Stats { $(pub $f: u64),* } } }\nstats!(ticks, bytes);\npub struct Held { pub vals: [u64; 3] }\nfn main() {}\n';

const observer = silentObserver;

describe('session: the layout gate on the problem board', () => {
  let analyzer: PatchabilityAnalyzer;
  let app: object | undefined;
  let board: ProblemBoard;

  beforeEach(async () => {
    analyzer = await PatchabilityAnalyzer.create({ crateOf: () => 'app' });
    analyzer.setBaseline(FILE, V1);
    analyzer.update(FILE, V1.replace('stats!(ticks, bytes);', 'stats!(ticks, bytes, errors);'));
    app = {};
    board = new ProblemBoard(analyzer, observer, () => undefined, undefined, () => false, () => false, () => app);
  });
  afterEach(() => analyzer.dispose());

  const gateFinding = (): Finding => ({
    code: 'compiled-layout-changed',
    severity: 'restart',
    file: FILE,
    range: { start: { line: 1, character: 0 }, end: { line: 1, character: 5 } },
    item: 'Stats',
    message: 'the patch was compiled for another layout of `app::Stats` (Stats: 16 → 24 bytes; errors added at offset 16)',
  });

  it('the analysis alone says the macro output is not judged', () => {
    const codes = board.problemsFor(FILE).map((p) => p.code);
    assert.deepEqual(codes, ['macro-items-not-judged']);
  });

  it("a layout change replaces the note, requires a restart and belongs to the app it was measured for", () => {
    board.setCompiledLayouts(app!, [gateFinding()], [FILE]);
    const problems = board.problemsFor(FILE);
    assert.deepEqual(problems.map((p) => p.code), ['compiled-layout-changed']);
    assert.equal(problems[0].requiresRestart, true);
    assert.equal(board.compiledLayoutFindings().length, 1);
    assert.equal(board.restartFindings().length, 0, 'the source verdict does not hold it: the next build is gated again');
    assert.ok(board.filesWithProblems().includes(FILE));
    app = {}; // another launch
    assert.equal(board.compiledLayoutFindings().length, 0);
    assert.deepEqual(board.problemsFor(FILE).map((p) => p.code), ['macro-items-not-judged']);
  });

  it('verified layouts turn the note into the compiler\'s word, until the text is judged anew', () => {
    board.setCompiledLayouts(app!, [], [FILE]);
    const note = board.problemsFor(FILE).find((p) => p.code === 'macro-items-not-judged')!;
    assert.match(note.message, /`stats!` were verified by the compiler/);
    board.forgetCompiledVerdict(FILE);
    assert.match(board.problemsFor(FILE)[0].message, /are not judged/);
  });
});
