// Fuzzing support shared by the fuzz test and ad-hoc sweeps over other Rust sources: a seeded
// PRNG, random edits, and the check that every finding is explained by the edit.
import type { Finding, FindingCode } from '../../../server/src/analysis';
import { lex, T_IDENT, T_PUNCT } from '../../../server/src/analysis/lexer';
import { lineStarts } from '../../../server/src/analysis/text-edit';

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ODD = ['😀', 'e\u0301', '\u202e', '\u200f', '\0', '\ud800', '\udfff', '\ufeff', 'ﷺ', 'עברית', '\u200d', '𝕏', '\r', '\t', '\u2028', 'ß', '\u0000\u0000'];
const BRACKETS = ['{', '}', '(', ')', '[', ']', '<', '>'];
const SNIPPETS = [
  '"', "'", '/*', '*/', '//', 'r#"', '"#', '#', ';', ',', ', extra: bool', 'fn ', 'struct X {', 'mod m {',
  '#[repr(C)]', '#[cfg(test)]', 'pub ', '::', '->', 'impl ', 'where T: Clone', '\n', '\\', "'a", 'thread_local! {',
  'enum E { A, B }', 'u64', 'Box<', 'static Z: u8 = 0;', 'subsecond::call(tick);', '=', '|x| x',
];

interface Edit {
  text: string;
  what: string;
}

export function mutate(text: string, r: () => number): Edit {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const pos = Math.floor(r() * (text.length + 1));
  const op = Math.floor(r() * 9);
  switch (op) {
    case 0:
    case 1: {
      const len = 1 + Math.floor(r() < 0.8 ? r() * 40 : r() * 2000);
      return { text: text.slice(0, pos) + text.slice(pos + len), what: `delete ${len} at ${pos}` };
    }
    case 2: {
      const b = pick(BRACKETS);
      return { text: text.slice(0, pos) + b + text.slice(pos), what: `insert ${JSON.stringify(b)} at ${pos}` };
    }
    case 3:
      return { text: text.slice(0, pos), what: `truncate at ${pos}` };
    case 4: {
      let s = '';
      for (let i = 0, n = 1 + Math.floor(r() * 3); i < n; i++) s += pick(ODD);
      return { text: text.slice(0, pos) + s + text.slice(pos), what: `insert ${JSON.stringify(s)} at ${pos}` };
    }
    case 5: {
      const from = Math.floor(r() * text.length);
      const len = 1 + Math.floor(r() * 300);
      const chunk = text.slice(from, from + len);
      return { text: text.slice(0, pos) + chunk + text.slice(pos), what: `paste ${JSON.stringify(chunk.slice(0, 40))}… at ${pos}` };
    }
    case 6: {
      const s = pick(SNIPPETS);
      return { text: text.slice(0, pos) + s + text.slice(pos), what: `insert ${JSON.stringify(s)} at ${pos}` };
    }
    case 7: {
      const len = 1 + Math.floor(r() * 20);
      const s = pick(SNIPPETS);
      return { text: text.slice(0, pos) + s + text.slice(pos + len), what: `replace ${len} at ${pos} with ${JSON.stringify(s)}` };
    }
    default: {
      const lines = text.split('\n');
      const i = Math.floor(r() * lines.length);
      const j = Math.floor(r() * lines.length);
      [lines[i], lines[j]] = [lines[j], lines[i]];
      return { text: lines.join('\n'), what: `swap lines ${i} and ${j}` };
    }
  }
}

/**
 * The extent of the item whose name starts at `index` in the (valid) original text: from just
 * after the previous sibling boundary (`;`, `}` or the container's `{` at the same depth, so
 * attributes and doc comments belong to it) to the end of its body or its `;`.
 */
export class Extents {
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly chars: string[];
  private readonly depthAfter: Int32Array;
  /** Token indices of `fn name`. */
  private readonly fns: number[] = [];

  constructor(text: string) {
    const t = lex(text);
    this.starts = t.start.slice(0, t.n);
    this.ends = t.end.slice(0, t.n);
    this.chars = [];
    this.depthAfter = new Int32Array(t.n);
    let d = 0;
    for (let i = 0; i < t.n; i++) {
      if (t.is(i, 'fn') && t.kind[i + 1] === T_IDENT) this.fns.push(i);
      const c = t.kind[i] === T_PUNCT ? t.str(i) : '';
      this.chars.push(c);
      if (c === '{' || c === '(' || c === '[') d++;
      else if (c === '}' || c === ')' || c === ']') d--;
      this.depthAfter[i] = d;
    }
  }

  of(index: number): [number, number] {
    let k = 0;
    while (k < this.starts.length && this.ends[k] <= index) k++;
    if (k >= this.starts.length) return [index, index];
    const d = k > 0 ? this.depthAfter[k - 1] : 0;
    let j = k - 1;
    while (j >= 0) {
      const c = this.chars[j];
      if (this.depthAfter[j] === d && (c === ';' || c === '}' || c === '{')) break;
      j--;
    }
    const start = j >= 0 ? this.ends[j] : 0;
    let e = k + 1;
    while (e < this.starts.length) {
      const c = this.chars[e];
      const before = e > 0 ? this.depthAfter[e - 1] : 0;
      if (before === d && c === ';') break;
      if (before === d && c === '{') {
        while (e + 1 < this.starts.length && this.depthAfter[e] > d) e++;
        if (this.chars[e + 1] === ';') e++;
        break;
      }
      if (before < d) { e--; break; }
      e++;
    }
    e = Math.min(e, this.starts.length - 1);
    return [start, this.ends[e]];
  }

  /** The extent of the innermost function whose item contains `index`, if any. */
  enclosingFn(index: number): [number, number] | undefined {
    for (let j = this.fns.length - 1; j >= 0; j--) {
      const at = this.starts[this.fns[j]];
      if (at > index) continue;
      const [a, b] = this.of(at);
      if (a <= index && index < b) return [a, b];
    }
    return undefined;
  }
}

/** Findings about the code as it is, not about the edit: they exist in the pristine sources too. */
export const CODE_PROPERTY_CODES: ReadonlySet<FindingCode> = new Set(['hot-closure-never-patched']);

function indexOf(text: string, starts: number[], line: number, character: number): number {
  return (starts[line] ?? text.length) + character;
}

/**
 * Findings that name an item whose text did not change (empty when all are explained). `orig`
 * and `cur` are the edited file's texts; `others` are the findings of the other (unchanged)
 * files, which only an embedded-by-value effect can explain. `pristine` are the findings of the
 * unedited sources: a finding about the code itself (CODE_PROPERTY_CODES) is explained when it
 * was already there, at the same place, or when the edit touched its enclosing function (whose
 * bindings decide it); it may never appear anywhere else.
 */
export function unexplained(orig: string, cur: string, extents: Extents, file: string, findings: Finding[], others: Finding[], pristine: readonly Finding[] = []): Finding[] {
  let p = 0;
  const min = Math.min(orig.length, cur.length);
  while (p < min && orig.charCodeAt(p) === cur.charCodeAt(p)) p++;
  let s = 0;
  while (s < min - p && orig.charCodeAt(orig.length - 1 - s) === cur.charCodeAt(cur.length - 1 - s)) s++;
  const curStarts = lineStarts(cur);
  const editFrom = p;
  const editTo = orig.length - s;
  const touched = (pos: { line: number; character: number }): boolean => {
    const i = indexOf(cur, curStarts, pos.line, pos.character);
    if (i >= p - 1 && i <= cur.length - s + 1) return true;
    const oi = i < p ? i : i - (cur.length - orig.length);
    const [a, b] = extents.of(oi);
    return editFrom <= b + 1 && editTo >= a - 1;
  };
  const all = [...findings, ...others];
  const ok = new Set<Finding>();
  for (const f of findings) if (touched(f.range.start)) ok.add(f);
  const origStarts = lineStarts(orig);
  const carried = (f: Finding): boolean => {
    // the same finding at the same place of the unedited text
    let i = indexOf(cur, curStarts, f.range.start.line, f.range.start.character);
    if (f.file === file) {
      if (i >= p && i < cur.length - s) return false;
      if (i >= p) i -= cur.length - orig.length;
    }
    return pristine.some((g) => g.file === f.file && g.code === f.code && g.item === f.item && g.message === f.message
      && (f.file !== file || indexOf(orig, origStarts, g.range.start.line, g.range.start.character) === i)
      && (f.file === file || (g.range.start.line === f.range.start.line && g.range.start.character === f.range.start.character)));
  };
  for (const f of all) {
    if (!CODE_PROPERTY_CODES.has(f.code)) continue;
    if (carried(f)) { ok.add(f); continue; }
    if (f.file !== file || ok.has(f)) continue;
    const i = indexOf(cur, curStarts, f.range.start.line, f.range.start.character);
    const fn = extents.enclosingFn(i < p ? i : i - (cur.length - orig.length));
    if (fn && editFrom <= fn[1] + 1 && editTo >= fn[0] - 1) ok.add(f);
  }
  // embedded-by-value findings are explained by the embedded type (transitively, across files)
  const same = (g: Finding, file2: string, r: Finding['range']) => g.file === file2 && g.range.start.line === r.start.line && g.range.start.character === r.start.character;
  for (let changed = true; changed;) {
    changed = false;
    for (const f of all) {
      if (ok.has(f) || !f.related) continue;
      if (f.related.some((r) => (r.file === file && touched(r.range.start)) || all.some((g) => ok.has(g) && same(g, r.file, r.range)))) {
        ok.add(f);
        changed = true;
      }
    }
  }
  return all.filter((f) => !ok.has(f));
}

/** The differing region of two texts with some context, for failure messages. */
export function changedRegion(a: string, b: string): string {
  let p = 0;
  while (p < a.length && p < b.length && a[p] === b[p]) p++;
  let s = 0;
  while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++;
  const ctx = (t: string) => JSON.stringify(t.slice(Math.max(0, p - 60), Math.min(t.length, t.length - s + 60)));
  return `before: ${ctx(a)}\nafter:  ${ctx(b)}`;
}

