// Broken code in the middle of an edit, and inputs that are not Rust at all: the analyzer never
// throws, and code that does not parse never produces a false layout warning.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { assertFindings, describeFindings, FILE, judge, newAnalyzer } from './helpers';
import { MAX_PARSE_CHARS } from '../../../server/src/analysis';

const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/analysis');
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name), 'utf8');

const STRUCT = 'struct App {\n    a: u32,\n}\n\nfn other() {\n    let x = 1;\n}\n';

interface Broken {
  story: string;
  before: string;
  after: string;
  /** Inside a macro's token tree tree-sitter sees no syntax error; our own parse must cope. */
  tokenTree?: boolean;
}

const brokenStories: Broken[] = [
  { story: 'a struct with a half-typed field warns about nothing', before: STRUCT, after: STRUCT.replace('a: u32,', 'a: u32,\n    b: ') },
  { story: 'a field name without a type warns about nothing', before: STRUCT, after: STRUCT.replace('a: u32,', 'a: u32,\n    b') },
  { story: 'an unfinished generic type warns about nothing', before: STRUCT, after: STRUCT.replace('a: u32,', 'a: Vec<u32,') },
  { story: 'an unclosed struct body warns about nothing', before: STRUCT, after: STRUCT.replace('    a: u32,\n}', '    a: u32,\n    b: u8,\n') },
  { story: 'an enum with a half-typed variant warns about nothing', before: 'enum E { A(u8), B }\nfn f() {}', after: 'enum E { A(u8), B, C( }\nfn f() {}' },
  { story: 'a trait with a broken method warns about nothing', before: 'trait T {\n    fn a(&self);\n}\n', after: 'trait T {\n    fn a(&self, x: );\n    fn b(\n}\n' },
  { story: 'an unclosed function above an unchanged struct warns about nothing', before: 'fn f() {}\nstruct P { x: u8 }\n', after: 'fn f() {\n    if x {\n}\nstruct P { x: u8 }\n' },
  { story: 'a deleted closing brace of a module warns about nothing', before: 'mod m {\n    pub struct P { x: u8 }\n}\nstruct Q { y: u8 }\n', after: 'mod m {\n    pub struct P { x: u8 }\n\nstruct Q { y: u8 }\n' },
  { story: 'an unterminated string swallowing the rest warns about nothing', before: 'fn f() { let s = "a"; }\nstruct P { x: u8 }\n', after: 'fn f() { let s = "a; }\nstruct P { x: u8 }\n' },
  { story: 'an unterminated block comment warns about nothing', before: 'struct P { x: u8 }\nstruct Q { y: u8 }\n', after: 'struct P { x: u8 }\n/* struct Q { y: u8 }\n' },
  { story: 'a stray closing brace warns about nothing', before: 'struct P { x: u8 }\nstruct Q { y: u8 }\n', after: 'struct P { x: u8 }\n}\nstruct Q { y: u8 }\n' },
  { story: 'a static with a half-typed type warns about nothing', before: 'static S: u32 = 1;\n', after: 'static S: u = ;\n' },
  { story: 'a thread-local mid-edit warns about nothing', before: 'thread_local! { static T: Cell<u8> = Cell::new(0); }\n', after: 'thread_local! { static T: Cell<u8 = Cell::new(0); }\n', tokenTree: true },
  { story: 'a hot entry mid-edit warns about nothing', before: 'fn tick(a: u8) {}\nfn m() { subsecond::call(tick); }\n', after: 'fn tick(a: u8, b: ) {}\nfn m() { subsecond::call(tick); }\n' },
];

describe('analysis: broken code mid-edit', () => {
  for (const s of brokenStories) {
    it(s.story, async () => {
      const a = await newAnalyzer();
      a.update(FILE, s.before);
      a.update(FILE, s.after);
      const restart = a.findingsFor(FILE).filter((f) => f.severity === 'restart');
      assert.deepEqual(restart, [], `no restart finding on broken code:\n${describeFindings(restart)}`);
      assert.equal(a.hasParseErrors(FILE), !s.tokenTree);
    });
  }

  it('finishing the half-typed field turns it into a real warning', async () => {
    const a = await newAnalyzer();
    a.update(FILE, STRUCT);
    a.update(FILE, STRUCT.replace('a: u32,', 'a: u32,\n    b: '));
    assert.deepEqual(a.findingsFor(FILE), []);
    a.update(FILE, STRUCT.replace('a: u32,', 'a: u32,\n    b: bool,'));
    assertFindings(a.findingsFor(FILE), [{ code: 'struct-layout-changed', item: 'App', says: ['field `b: bool` added'] }]);
    assert.equal(a.hasParseErrors(FILE), false);
  });

  it('a file that does not parse is still judged on the items that do', async () => {
    const before = 'struct P { x: u8 }\nfn f() {\n    let a = 1;\n}\n';
    const after = 'struct P { x: u16 }\nfn f() {\n    let a = ;\n}\n';
    assertFindings(await judge(before, after), [{ code: 'struct-layout-changed', item: 'P' }]);
  });

  it('a broken method does not hide a hot entry signature change in the same impl', async () => {
    const before = 'impl S {\n    fn hot(&self, a: u8) {}\n    fn other(&self) { let x = 1; }\n}\nfn r(s: S) { subsecond::call(|| s.hot(1)); }\n';
    const after = 'impl S {\n    fn hot(&self, a: u16) {}\n    fn other(&self) { let x = ; }\n}\nfn r(s: S) { subsecond::call(|| s.hot(1)); }\n';
    assertFindings(await judge(before, after), [{ code: 'hot-signature-changed', item: 'S::hot' }]);
  });

  it('a baseline that did not parse judges only what parsed on both sides', async () => {
    const a = await newAnalyzer();
    a.update(FILE, 'struct P { x: u8 }\nstruct Q { y: \n');
    a.update(FILE, 'struct P { x: u16 }\nstruct Q { y: u8 }\n');
    assertFindings(a.findingsFor(FILE), [{ code: 'struct-layout-changed', item: 'P' }]);
  });
});

describe('analysis: inputs that are not ordinary Rust never throw', () => {
  const weird: Array<[string, string]> = [
    ['empty', ''],
    ['whitespace', ' \n\t\r\n  '],
    ['NUL bytes', 'struct A\0 { a: u8 }\0\0fn\0 f() {}'],
    ['lone surrogates', 'struct \ud800A { a: u8 }\nfn f() { let s = "\udc00"; }\n\ud83d'],
    ['emoji, combining marks, RTL', 'struct Ä\u0308 { 😀: u8 }\n// \u202eevil\u202c\nfn f() { "👩‍👩‍👧" }'],
    ['a BOM and CRLF', '\ufeffstruct A {\r\n    a: u8,\r\n}\r\n'],
    ['JSON', '{"name": "subsecond", "version": [0, 7], "ok": true}'],
    ['Python', 'def f(x):\n    return {x: [1, 2, (3,)]}\nclass A: pass\n'],
    ['deep nesting', '('.repeat(20000) + ')'.repeat(5000)],
    ['one long line', 'fn f() { ' + 'a + '.repeat(50000) + 'b }'],
    ['only closers', ')]}>'.repeat(3000)],
  ];
  for (const [name, text] of weird) {
    it(`${name}: update, findings, summary and edits do not throw`, async () => {
      const a = await newAnalyzer();
      a.update(FILE, text);
      a.update(FILE, text + '\nstruct Z { z: u8 }');
      a.update(FILE, text.slice(0, text.length >> 1));
      assert.ok(Array.isArray(a.findingsFor(FILE)));
      assert.ok(a.findings() instanceof Map);
      assert.ok(Array.isArray(a.changeSummary()));
      a.hasParseErrors(FILE);
      a.rebaseline();
      a.setBaseline(FILE, text);
      a.remove(FILE);
    });
  }

  it('a 5 MB file is skipped without throwing, and a large-but-parseable one is analysed', async function () {
    this.timeout(120000);
    const a = await newAnalyzer();
    const unit = fixture('game.rs');
    let big = '';
    while (big.length < 5 * 1024 * 1024) big += unit.replace(/\b(Vec2|Body|Entity|World|Shape|Physics)\b/g, `$1${big.length}`);
    a.update('/big.rs', big);
    a.update('/big.rs', big + '\nstruct More { a: u8 }\n');
    assert.ok(big.length > MAX_PARSE_CHARS);
    assert.deepEqual(a.findingsFor('/big.rs'), []);
    assert.equal(a.hasParseErrors('/big.rs'), true, 'a file too large to parse is not judged');

    const large = big.slice(0, big.indexOf('//! A headless', 1_000_000));
    a.update('/large.rs', large);
    const i = large.indexOf('pub mass: f32,');
    a.update('/large.rs', large.slice(0, i) + 'pub mass: f64,' + large.slice(i + 'pub mass: f32,'.length));
    const f = a.findingsFor('/large.rs').filter((x) => x.code === 'struct-layout-changed' && x.item.startsWith('Body'));
    assert.equal(f.length, 1, describeFindings(a.findingsFor('/large.rs')));
    a.dispose();
  });
});
