// Text positions and the single edit between two versions of a document.
//
// Owns: line-start tables, index ↔ (row, column) conversion in UTF-16 code units (what both
// web-tree-sitter, for string input, and LSP use), and the common prefix/suffix diff that turns
// "old text, new text" into one tree-sitter edit. Must never: split a surrogate pair between the
// unchanged and changed parts, or scan more of the texts than the prefix and suffix need.

export interface Point {
  row: number;
  column: number;
}

export interface TextEdit {
  startIndex: number;
  oldEndIndex: number;
  newEndIndex: number;
  startPosition: Point;
  oldEndPosition: Point;
  newEndPosition: Point;
}

/** Start index of every line ('\n' terminated, as tree-sitter counts rows). */
export function lineStarts(text: string): number[] {
  const out = [0];
  let i = text.indexOf('\n');
  while (i >= 0) {
    out.push(i + 1);
    i = text.indexOf('\n', i + 1);
  }
  return out;
}

export function pointAt(starts: readonly number[], index: number): Point {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= index) lo = mid;
    else hi = mid - 1;
  }
  return { row: lo, column: index - starts[lo] };
}

function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}
function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** Length of the common prefix, compared in blocks first (string equality is memcmp-fast). */
function commonPrefix(a: string, b: string, max: number): number {
  let i = 0;
  const BLOCK = 1024;
  while (i + BLOCK <= max && a.slice(i, i + BLOCK) === b.slice(i, i + BLOCK)) i += BLOCK;
  while (i < max && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

function commonSuffix(a: string, b: string, max: number): number {
  let i = 0;
  const la = a.length;
  const lb = b.length;
  const BLOCK = 1024;
  while (i + BLOCK <= max && a.slice(la - i - BLOCK, la - i) === b.slice(lb - i - BLOCK, lb - i)) i += BLOCK;
  while (i < max && a.charCodeAt(la - 1 - i) === b.charCodeAt(lb - 1 - i)) i++;
  return i;
}

/**
 * The one edit turning `a` into `b` (null when equal). `aStarts` are the line starts of `a`.
 */
export function computeEdit(a: string, b: string, aStarts: readonly number[]): TextEdit | null {
  if (a === b) return null;
  const min = Math.min(a.length, b.length);
  let p = commonPrefix(a, b, min);
  if (p > 0 && isHigh(a.charCodeAt(p - 1))) p--;
  let s = commonSuffix(a, b, min - p);
  if (s > 0 && isLow(a.charCodeAt(a.length - s))) s--;
  const oldEnd = a.length - s;
  const newEnd = b.length - s;
  const start = pointAt(aStarts, p);
  const oldEndPosition = pointAt(aStarts, oldEnd);
  // new end: count the inserted lines only
  let row = start.row;
  let lastNl = -1;
  let i = b.indexOf('\n', p);
  while (i >= 0 && i < newEnd) {
    row++;
    lastNl = i;
    i = b.indexOf('\n', i + 1);
  }
  const newEndPosition = lastNl >= 0 ? { row, column: newEnd - lastNl - 1 } : { row, column: start.column + (newEnd - p) };
  return { startIndex: p, oldEndIndex: oldEnd, newEndIndex: newEnd, startPosition: start, oldEndPosition, newEndPosition };
}

/** Line starts of the edited text, derived from the old ones (cheaper than a rescan). */
export function shiftLineStarts(old: readonly number[], e: TextEdit, newText: string): number[] {
  const out: number[] = [];
  let i = 0;
  while (i < old.length && old[i] <= e.startIndex) out.push(old[i++]);
  let k = newText.indexOf('\n', e.startIndex);
  while (k >= 0 && k < e.newEndIndex) {
    out.push(k + 1);
    k = newText.indexOf('\n', k + 1);
  }
  while (i < old.length && old[i] <= e.oldEndIndex) i++;
  const d = e.newEndIndex - e.oldEndIndex;
  for (; i < old.length; i++) out.push(old[i] + d);
  return out;
}
