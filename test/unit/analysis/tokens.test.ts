// The building blocks under the catalog: the token lexer and its canonical rendering, the edit
// computation fed to tree-sitter (UTF-16 units on both sides), and incremental re-parsing that
// agrees with a fresh parse.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { lex, render, T_IDENT, T_LIFETIME, T_LIT } from '../../../server/src/analysis/lexer';
import { computeEdit, lineStarts, pointAt, shiftLineStarts } from '../../../server/src/analysis/text-edit';
import { loadRust, RustParser } from '../../../server/src/analysis/syntax';

const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/analysis');

function tokens(src: string): string[] {
  const t = lex(src);
  const out: string[] = [];
  for (let i = 0; i < t.n; i++) out.push(t.str(i));
  return out;
}

function rendered(src: string): string {
  const t = lex(src);
  return render(t, 0, t.n);
}

describe('analysis: the token lexer', () => {
  it('drops whitespace, line, block (nested) and doc comments', () => {
    assert.deepEqual(tokens('a /* x /* y */ z */ b // c\n/// doc\n//! inner\nc'), ['a', 'b', 'c']);
  });

  it('keeps string-like literals whole, braces inside them included', () => {
    assert.deepEqual(tokens('"a{\\"}" r#"x"}"# b"by" br"raw" c"c" b\'x\' \'}\' \'\\n\''), ['"a{\\"}"', 'r#"x"}"#', 'b"by"', 'br"raw"', 'c"c"', "b'x'", "'}'", "'\\n'"]);
  });

  it('tells lifetimes from char literals, and raw identifiers from raw strings', () => {
    const t = lex("&'a str 'x' 'static r#type");
    assert.deepEqual([t.kind[1], t.kind[3], t.kind[4], t.kind[5]], [T_LIFETIME, T_LIT, T_LIFETIME, T_IDENT]);
    assert.equal(t.str(5), 'r#type');
  });

  it('lexes ranges, floats and tuple fields apart', () => {
    assert.deepEqual(tokens('0..10 1.5e-3 x.0 1..=2 0x1F'), ['0', '..', '10', '1.5e-3', 'x', '.', '0', '1', '..=', '2', '0x1F']);
  });

  it('never throws on unterminated literals, NUL and lone surrogates', () => {
    for (const s of ['"abc', "r#\"abc", "'", '/* open', '\0\ud800x\udfff', 'b\'', 'r#', '😀']) lex(s);
  });

  it('renders types and signatures canonically whatever their formatting', () => {
    assert.equal(rendered('Vec < Option<Box< Node > > >'), 'Vec<Option<Box<Node>>>');
    assert.equal(rendered("& 'a  mut  HashMap<K,V>"), "&'a mut HashMap<K, V>");
    assert.equal(rendered('fn ( u32 , & str ) -> bool'), 'fn(u32, &str) -> bool');
    assert.equal(rendered('[ u8 ; 4 ]'), '[u8; 4]');
    assert.equal(rendered('Box<dyn Fn(u32)->u32+Send>'), 'Box<dyn Fn(u32) -> u32 + Send>');
    assert.equal(rendered('<T as Iterator>::Item'), '<T as Iterator>::Item');
    assert.equal(rendered('* const  T'), '*const T');
  });
});

describe('analysis: edits fed to tree-sitter', () => {
  it('finds the one changed span and its points in UTF-16 code units', () => {
    const a = 'fn a() {}\nlet s = "😀";\nx';
    const b = 'fn a() {}\nlet s = "😀😀";\nx';
    const e = computeEdit(a, b, lineStarts(a))!;
    assert.equal(e.startIndex, 21, 'after the common emoji (2 code units)');
    assert.equal(e.oldEndIndex, 21);
    assert.equal(e.newEndIndex, 23);
    assert.deepEqual(e.startPosition, { row: 1, column: 11 });
    assert.deepEqual(e.newEndPosition, { row: 1, column: 13 });
    assert.equal(computeEdit(a, a, lineStarts(a)), null);
  });

  it('never splits a surrogate pair between unchanged and changed text', () => {
    const a = 'x\ud83d\ude00y';
    const b = 'x\ud83d\ude01y';
    const e = computeEdit(a, b, lineStarts(a))!;
    assert.equal(e.startIndex, 1);
    assert.equal(e.oldEndIndex, 3);
  });

  it('keeps line starts up to date across random edits', () => {
    let seed = 7;
    const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
    let text = fs.readFileSync(path.join(FIXTURES, 'game.rs'), 'utf8');
    let starts = lineStarts(text);
    for (let i = 0; i < 500; i++) {
      const at = rnd(text.length + 1);
      const del = rnd(30);
      const ins = ['', '\n', 'a\nb', '\r\n', '😀\n', 'xyz'][rnd(6)];
      const next = text.slice(0, at) + ins + text.slice(at + del);
      const e = computeEdit(text, next, starts);
      if (e) {
        starts = shiftLineStarts(starts, e, next);
        assert.deepEqual(starts, lineStarts(next));
        assert.deepEqual(pointAt(starts, e.newEndIndex), e.newEndPosition);
      }
      text = next;
    }
  });

  it('incremental re-parsing with our edits agrees with a fresh parse', async () => {
    const parser = new RustParser(await loadRust());
    let seed = 11;
    const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
    // at line starts these keep the file valid (comments, blank lines); the others break it
    const valid = ['// é😀 note\n', '\n', '    \n', '/* ñ\u0301 \u202e */ ', '/// 👩‍👩‍👧\n'];
    const breaking = ['😀', '}', '{', '"', '(', 'x'];
    let text = fs.readFileSync(path.join(FIXTURES, 'egui_app.rs'), 'utf8');
    let tree = parser.parse(text)!;
    let starts = lineStarts(text);
    let compared = 0;
    const step = (next: string): void => {
      const e = computeEdit(text, next, starts);
      if (!e) return;
      const inc = parser.reparse(next, tree, e)!;
      tree.delete();
      tree = inc;
      const fresh = parser.parse(next)!;
      if (!fresh.rootNode.hasError) {
        assert.equal(inc.rootNode.toString(), fresh.rootNode.toString(), `after edit at ${e.startIndex}`);
        compared++;
      }
      fresh.delete();
      starts = shiftLineStarts(starts, e, next);
      text = next;
    };
    try {
      for (let i = 0; i < 300; i++) {
        if (rnd(4) > 0) {
          const at = starts[rnd(starts.length)];
          step(text.slice(0, at) + valid[rnd(valid.length)] + text.slice(at));
        } else {
          // break the code, then undo: the undo must bring back the same tree as a fresh parse
          const before = text;
          const at = rnd(text.length + 1);
          step(text.slice(0, at) + breaking[rnd(breaking.length)] + text.slice(at + rnd(4)));
          step(before);
        }
      }
    } finally {
      tree.delete();
      parser.dispose();
    }
    assert.ok(compared > 20, `compared ${compared} valid trees`);
  });
});
