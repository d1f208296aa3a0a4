// "Nothing to patch" must only be said when the code really is the same.
import { strict as assert } from 'node:assert';
import { codeFingerprint, stripCommentsAndLayout } from '../../../server/src/session/code-fingerprint';

describe('code fingerprint', () => {
  const base = 'fn tip() -> &\'static str {\n    "tip-v1" // the message\n}\n';

  it('ignores comments, doc comments and formatting', () => {
    const same = [
      '/// docs\nfn tip() -> &\'static str { "tip-v1" }',
      'fn tip()->&\'static str{\n\n  /* block /* nested */ */ "tip-v1"\n}',
      '// header\n' + base,
    ];
    for (const s of same) assert.equal(codeFingerprint(s), codeFingerprint(base), s);
  });

  it('sees every change to code, strings and chars', () => {
    const different = [
      base.replace('tip-v1', 'tip-v2'),
      base.replace('"tip-v1"', '"tip-v1 "'),
      base.replace('"tip-v1"', '"tip-v1 // not a comment"'),
      'fn tip() -> char { \' \' }',
      'fn tip() -> char { \'x\' }',
      'let a = r#"a  b"#;',
      'let a = r#"a b"#;',
      'fn tipx() -> &\'static str { "tip-v1" }',
    ];
    const prints = different.map(codeFingerprint);
    assert.equal(new Set(prints).size, prints.length);
    assert.notEqual(prints[0], codeFingerprint(base));
  });

  it('keeps a space only where two words would merge', () => {
    assert.equal(stripCommentsAndLayout('let   x =  a +\n b ;'), 'let x=a+b;');
    assert.equal(stripCommentsAndLayout('"a  //b" /* c */ d'), '"a  //b"d');
  });
});
