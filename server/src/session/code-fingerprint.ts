// A fingerprint of a Rust file's code with comments and layout removed, so the session can tell
// "this save changed nothing a patch would carry" (a comment or a reformat) and say so instead
// of building a patch. It is deliberately a lexer, not a parser: it must be cheap and must never
// call two different programs equal. When unsure (unterminated literal) it keeps the text as is.
import { createHash } from 'node:crypto';

// Sticky patterns, matched in place at `lastIndex`: slicing the text per character made a
// 20k-line file take seconds.
const RAW_STRING = /(?:b|c)?r(#*)"/y;
const CHAR_LITERAL = /'(?:\\(?:u\{[0-9a-fA-F]{1,6}\}|x[0-9a-fA-F]{2}|.)|[^\\'\n])'/uy;
const WORD = /[\p{L}\p{N}_]+/uy;
const WORD_CHAR = /[\p{L}\p{N}_]/u;

function matchAt(re: RegExp, src: string, i: number): RegExpExecArray | null {
  re.lastIndex = i;
  return re.exec(src);
}

/** Removes comments and collapses whitespace outside string and char literals. */
export function stripCommentsAndLayout(src: string): string {
  const out: string[] = [];
  let last = ''; // the last character emitted
  let i = 0;
  const n = src.length;
  let pendingSpace = false;
  const emit = (s: string) => {
    // Layout matters only between two word tokens (`let x` vs `letx`); `a + b` equals `a+b`.
    if (pendingSpace && last !== '' && WORD_CHAR.test(last) && WORD_CHAR.test(s[0])) out.push(' ');
    pendingSpace = false;
    out.push(s);
    last = s[s.length - 1];
  };
  while (i < n) {
    const c = src[i];
    const next = src[i + 1];
    if (c === '/' && next === '/') {
      // Doc comments (`///`, `//!`) become #[doc] attributes, which never change generated code
      // that a patch carries in a way that matters, so they are stripped like comments.
      while (i < n && src[i] !== '\n') i++;
      pendingSpace = true;
      continue;
    }
    if (c === '/' && next === '*') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (src[i] === '/' && src[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (src[i] === '*' && src[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
      pendingSpace = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      pendingSpace = true;
      i++;
      continue;
    }
    // Raw strings: r"..", r#".."#, br#".."#, cr#".."#
    const raw = c === 'r' || c === 'b' || c === 'c' ? matchAt(RAW_STRING, src, i) : null;
    if (raw && (i === 0 || !/[A-Za-z0-9_]/.test(src[i - 1]))) {
      const close = '"' + raw[1];
      const end = src.indexOf(close, i + raw[0].length);
      const stop = end < 0 ? n : end + close.length;
      emit(src.slice(i, stop));
      i = stop;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < n && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      const stop = Math.min(n, j + 1);
      emit(src.slice(i, stop));
      i = stop;
      continue;
    }
    if (c === "'") {
      // A char literal ('a', '\n', '\u{1F600}') or a lifetime ('a): only literals can contain spaces or quotes.
      const m = matchAt(CHAR_LITERAL, src, i);
      if (m) {
        emit(m[0]);
        i += m[0].length;
        continue;
      }
    }
    // Identifiers and numbers stay whole so that removed layout never glues two tokens together.
    const word = matchAt(WORD, src, i);
    if (word) {
      emit(word[0]);
      i += word[0].length;
      continue;
    }
    emit(c);
    i++;
  }
  return out.join('');
}

export function codeFingerprint(src: string): string {
  return createHash('sha1').update(stripCommentsAndLayout(src)).digest('hex');
}
