// Reading Rust paths as rustc-demangle prints them, shared by the analysis (matching a changed
// function to its symbols) and the engine (detour plans, closure identity). Text only.

/** Index of the `>` closing the `<` at `open` (an arrow's `>` is not one), or -1. */
export function closingAngle(s: string, open: number): number {
  let depth = 0;
  for (let k = open; k < s.length; k++) {
    if (s[k] === '<') depth++;
    else if (s[k] === '>' && s[k - 1] !== '-') {
      depth--;
      if (depth === 0) return k;
    }
  }
  return -1;
}

/**
 * The path without the generic arguments v0 prints for a function instance, `::<…>`:
 * `app::gen::<u8>::{closure#0}` → `app::gen::{closure#0}` (one source function, many copies).
 * Type arguments written without `::` (`<app::Ring<u32>>::get`) stay.
 */
export function withoutInstanceArgs(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s.startsWith('::<', i) && !s.startsWith('::<impl ', i)) {
      const close = closingAngle(s, i + 2);
      if (close > 0) {
        i = close;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}
