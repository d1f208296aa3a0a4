// Rust token lexer for the analysis layer.
//
// Owns: turning a range of a JS string into Rust tokens (identifiers, lifetimes, literals,
// punctuation), dropping whitespace and comments (doc comments included), plus the helpers that
// build on tokens: a whitespace/comment-insensitive hash and a canonical rendering of a token run
// (`Vec<u8>`, `&mut self`, `fn(u32) -> u32`) used for comparisons and messages.
// Must never: throw on any input (NUL, lone surrogates, unterminated strings or comments), allocate
// per character, or know anything about items. Positions are JS string indices (UTF-16 code
// units), the same units web-tree-sitter reports for a string input.

export const T_IDENT = 1;
export const T_LIFETIME = 2;
export const T_LIT = 3;
export const T_PUNCT = 4;

export class Tokens {
  n = 0;
  kind: Uint8Array;
  start: Int32Array;
  end: Int32Array;

  constructor(public text: string, capacity = 64) {
    this.kind = new Uint8Array(capacity);
    this.start = new Int32Array(capacity);
    this.end = new Int32Array(capacity);
  }

  /** Empty the buffer for another lexing run (keeps the capacity). */
  reset(text: string): this {
    this.text = text;
    this.n = 0;
    return this;
  }

  push(kind: number, s: number, e: number): void {
    if (this.n === this.kind.length) {
      const cap = this.n * 2;
      const k = new Uint8Array(cap); k.set(this.kind); this.kind = k;
      const st = new Int32Array(cap); st.set(this.start); this.start = st;
      const en = new Int32Array(cap); en.set(this.end); this.end = en;
    }
    this.kind[this.n] = kind;
    this.start[this.n] = s;
    this.end[this.n] = e;
    this.n++;
  }

  str(i: number): string {
    return i < this.n ? this.text.slice(this.start[i], this.end[i]) : '';
  }

  /** Token i has exactly the text s. */
  is(i: number, s: string): boolean {
    if (i >= this.n || i < 0) return false;
    const a = this.start[i];
    return this.end[i] - a === s.length && this.text.startsWith(s, a);
  }

  isIdent(i: number): boolean {
    return i < this.n && i >= 0 && this.kind[i] === T_IDENT;
  }
}

const WORD_CHAR = /[\p{XID_Continue}]/u;
const WORD_START = /[\p{XID_Start}]/u;

function isAsciiIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}
function isAsciiIdentChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Length in code units of the code point at i (2 for a well-formed surrogate pair). */
function cpLen(text: string, i: number, to: number): number {
  const c = text.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < to) {
    const d = text.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return 2;
  }
  return 1;
}

function isIdentStartAt(text: string, i: number, to: number): boolean {
  const c = text.charCodeAt(i);
  if (c < 128) return isAsciiIdentStart(c);
  return WORD_START.test(text.slice(i, i + cpLen(text, i, to)));
}

/** End of the identifier-like run starting at i (word characters only). */
function scanWord(text: string, i: number, to: number): number {
  while (i < to) {
    const c = text.charCodeAt(i);
    if (c < 128) {
      if (!isAsciiIdentChar(c)) break;
      i++;
    } else {
      const l = cpLen(text, i, to);
      if (!WORD_CHAR.test(text.slice(i, i + l))) break;
      i += l;
    }
  }
  return i;
}

/** Raw string starting at i (the first '#' or '"' after the r/br/cr prefix); returns end or -1. */
function scanRawString(text: string, i: number, to: number): number {
  let hashes = 0;
  while (i < to && text.charCodeAt(i) === 35) { hashes++; i++; }
  if (i >= to || text.charCodeAt(i) !== 34) return -1;
  i++;
  for (;;) {
    const q = text.indexOf('"', i);
    if (q < 0 || q >= to) return to;
    let k = 0;
    while (k < hashes && q + 1 + k < to && text.charCodeAt(q + 1 + k) === 35) k++;
    if (k === hashes) return q + 1 + hashes;
    i = q + 1;
  }
}

function scanString(text: string, i: number, to: number): number {
  // i is just after the opening quote
  while (i < to) {
    const c = text.charCodeAt(i);
    if (c === 92) { i += 2; continue; }
    if (c === 34) return i + 1;
    i++;
  }
  return to;
}

/** After a quote at i: a char literal end, or -1 when it is a lifetime/label or a stray quote. */
function scanChar(text: string, i: number, to: number): number {
  const j = i + 1;
  if (j >= to) return -1;
  const c = text.charCodeAt(j);
  if (c === 92) {
    // escaped char: find the closing quote within a short window ('\u{10FFFF}')
    const lim = Math.min(to, j + 12);
    for (let k = j + 2; k < lim; k++) if (text.charCodeAt(k) === 39) return k + 1;
    return -1;
  }
  if (c === 39 || c === 10) return -1;
  const l = cpLen(text, j, to);
  if (j + l < to && text.charCodeAt(j + l) === 39) return j + l + 1;
  return -1;
}

function scanNumber(text: string, i: number, to: number): number {
  const hex = text.charCodeAt(i) === 48 && i + 1 < to && (text.charCodeAt(i + 1) | 32) === 120;
  i++;
  while (i < to) {
    const c = text.charCodeAt(i);
    if (isAsciiIdentChar(c)) {
      i++;
      if (!hex && (c === 101 || c === 69) && i < to) {
        const d = text.charCodeAt(i);
        if ((d === 43 || d === 45) && i + 1 < to && isDigit(text.charCodeAt(i + 1))) i++;
      }
      continue;
    }
    // a fractional part: `1.5`, but not `1..2` and not `1.max(2)` / `x.0.1`
    if (c === 46 && i + 1 < to && isDigit(text.charCodeAt(i + 1)) && !hex) { i++; continue; }
    break;
  }
  return i;
}

/** Is text[i..i+2) one of `::` `->` `=>` `..` `==` `!=` `&&` `||` (by char codes: no substring)? */
function isTwoChar(c: number, d: number): boolean {
  switch (c) {
    case 58: return d === 58; // ::
    case 45: return d === 62; // ->
    case 61: return d === 62 || d === 61; // => ==
    case 46: return d === 46; // ..
    case 33: return d === 61; // !=
    case 38: return d === 38; // &&
    case 124: return d === 124; // ||
    default: return false;
  }
}

/**
 * Lex text[from, to). Never throws; anything unrecognised becomes a one-code-point punctuation
 * token so that it still takes part in hashes (a NUL or stray emoji is a change).
 */
export function lex(text: string, from = 0, to = text.length, into?: Tokens): Tokens {
  if (to > text.length) to = text.length;
  if (from < 0) from = 0;
  const out = into ? into.reset(text) : new Tokens(text, Math.max(16, (to - from) >> 3));
  let i = from;
  while (i < to) {
    const c = text.charCodeAt(i);
    // whitespace (Rust's Pattern_White_Space, the common part)
    if (c === 32 || c === 10 || c === 9 || c === 13 || c === 11 || c === 12 || c === 0x85 || c === 0x200e || c === 0x200f || c === 0x2028 || c === 0x2029) {
      i++;
      continue;
    }
    if (c === 47 && i + 1 < to) {
      const d = text.charCodeAt(i + 1);
      if (d === 47) {
        const nl = text.indexOf('\n', i + 2);
        i = nl < 0 || nl > to ? to : nl;
        continue;
      }
      if (d === 42) {
        let depth = 1;
        i += 2;
        while (i < to && depth > 0) {
          const e = text.charCodeAt(i);
          if (e === 47 && i + 1 < to && text.charCodeAt(i + 1) === 42) { depth++; i += 2; }
          else if (e === 42 && i + 1 < to && text.charCodeAt(i + 1) === 47) { depth--; i += 2; }
          else i++;
        }
        continue;
      }
    }
    if (c === 34) { // "string"
      const e = scanString(text, i + 1, to);
      out.push(T_LIT, i, e);
      i = e;
      continue;
    }
    if (c === 39) { // 'c' or 'lifetime
      const e = scanChar(text, i, to);
      if (e > 0) { out.push(T_LIT, i, e); i = e; continue; }
      if (i + 1 < to && isIdentStartAt(text, i + 1, to)) {
        const w = scanWord(text, i + 1, to);
        out.push(T_LIFETIME, i, w);
        i = w;
        continue;
      }
      out.push(T_PUNCT, i, i + 1);
      i++;
      continue;
    }
    if (isDigit(c)) {
      const e = scanNumber(text, i, to);
      out.push(T_LIT, i, e);
      i = e;
      continue;
    }
    if (c < 128 ? isAsciiIdentStart(c) : isIdentStartAt(text, i, to)) {
      // string prefixes: r"..", r#".."#, b"..", b'.', br"..", c"..", cr#".."#, and raw idents r#x
      if (c === 114 || c === 98 || c === 99) {
        let j = i + 1;
        if ((c === 98 || c === 99) && j < to && text.charCodeAt(j) === 114) j++;
        const d = j < to ? text.charCodeAt(j) : 0;
        if (j > i + 1 || c === 114) {
          if (d === 34 || d === 35) {
            const e = scanRawString(text, j, to);
            if (e > 0) { out.push(T_LIT, i, e); i = e; continue; }
            if (c === 114 && j === i + 1 && d === 35 && j + 1 < to && isIdentStartAt(text, j + 1, to)) {
              const w = scanWord(text, j + 1, to);
              out.push(T_IDENT, i, w);
              i = w;
              continue;
            }
          }
        } else if (d === 34) {
          const e = scanString(text, j + 1, to);
          out.push(T_LIT, i, e);
          i = e;
          continue;
        } else if (d === 39 && c === 98) {
          const e = scanChar(text, j, to);
          if (e > 0) { out.push(T_LIT, i, e); i = e; continue; }
        }
      }
      const w = scanWord(text, i, to);
      out.push(T_IDENT, i, w);
      i = w;
      continue;
    }
    if (i + 1 < to) {
      if (c === 46 && text.charCodeAt(i + 1) === 46 && i + 2 < to) {
        const d = text.charCodeAt(i + 2);
        if (d === 46 || d === 61) { out.push(T_PUNCT, i, i + 3); i += 3; continue; }
      }
      if (isTwoChar(c, text.charCodeAt(i + 1))) { out.push(T_PUNCT, i, i + 2); i += 2; continue; }
    }
    const l = c < 128 ? 1 : cpLen(text, i, to);
    out.push(T_PUNCT, i, i + l);
    i += l;
  }
  return out;
}

/** Two 32-bit lanes combined into a 53-bit number: collisions are negligible for our use. */
export class Hasher {
  h1 = 0x811c9dc5 | 0;
  h2 = 0x9747b28c | 0;

  addRange(text: string, s: number, e: number): void {
    let h1 = this.h1, h2 = this.h2;
    for (let i = s; i < e; i++) {
      const c = text.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 16777619);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    // token separator, so `ab` differs from `a b`
    h1 = Math.imul(h1 ^ 0x1f, 16777619);
    h2 = Math.imul(h2 ^ 0x1f, 0x5bd1e995);
    this.h1 = h1;
    this.h2 = h2;
  }

  addString(s: string): void {
    this.addRange(s, 0, s.length);
  }

  addTokens(t: Tokens, a: number, b: number): void {
    const text = t.text;
    for (let i = a; i < b && i < t.n; i++) this.addRange(text, t.start[i], t.end[i]);
  }

  value(): number {
    const h2 = (this.h2 ^ (this.h2 >>> 13)) >>> 0;
    return (h2 & 0x1fffff) * 4294967296 + (this.h1 >>> 0);
  }
}

export function hashTokens(t: Tokens, a: number, b: number): number {
  const h = new Hasher();
  h.addTokens(t, a, b);
  return h.value();
}

// Rendering: one canonical spelling per token run, close to rustfmt's for types and signatures.
const NO_SPACE_AFTER = new Set(['(', '[', '<', '&', '::', '.', '#', '$', '&&', '*', '!', '\'']);
const NO_SPACE_BEFORE = new Set([',', ';', ':', ')', ']', '.', '?', '::', '>', '<', '(', '[', '!']);
const SPACED = new Set(['->', '=>', '=', '+', '==', '!=', '||', '{', '}', '|']);

function needSpace(prev: string, prevWord: boolean, s: string, word: boolean): boolean {
  if (prev === ',' || prev === ';' || prev === ':') return true;
  if (NO_SPACE_AFTER.has(prev)) return false;
  if (SPACED.has(s) || SPACED.has(prev)) return !(prev === '{' && s === '}');
  if (NO_SPACE_BEFORE.has(s)) return false;
  if (s === '&' || s === '*') return prevWord;
  if (prev === '>' || prev === ')' || prev === ']') return word;
  return prevWord && word;
}

/** Canonical text of tokens [a, b): equal token runs render equally whatever their layout. */
export function render(t: Tokens, a: number, b: number): string {
  let out = '';
  let prev = '';
  let prevWord = false;
  for (let i = a; i < b && i < t.n; i++) {
    const s = t.text.slice(t.start[i], t.end[i]);
    const word = t.kind[i] !== T_PUNCT;
    if (i > a && needSpace(prev, prevWord, s, word)) out += ' ';
    out += s;
    prev = s;
    prevWord = word;
  }
  return out;
}

const scratchA = new Tokens('', 1024);
const scratchB = new Tokens('', 256);

/**
 * Lex into a shared buffer: valid until the next `lexScratch` call. For the many short-lived
 * lexing runs of a derivation, where allocating typed arrays per item dominated the cost.
 */
export function lexScratch(text: string, from: number, to: number): Tokens {
  return lex(text, from, to, scratchA);
}

/** Count of `{` minus `}` tokens in text[from, to): the brace depth the end of the range is at. */
export function braceBalance(text: string, from: number, to: number): number {
  const t = lex(text, from, to, scratchB);
  let d = 0;
  for (let i = 0; i < t.n; i++) {
    if (t.kind[i] !== T_PUNCT) continue;
    const c = text.charCodeAt(t.start[i]);
    if (c === 123) d++;
    else if (c === 125) d--;
  }
  return d;
}
