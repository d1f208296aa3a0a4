// What holds a type's values other than `HotState` handles, read from the workspace's source text.
// Conservative on purpose: every mention of the type's name that is not one of the few shapes
// known to hold no value of it (its definition and impls, `HotState<T>`, a reference, a path or a
// struct expression, a `use`) counts as a holder: a field, a static or thread-local, an argument
// or return by value, a generic argument (`Option<State>`, `Vec<State>`, `from_str::<State>`).
// A mention that is not a holder only makes a change restart-class; it never lets one through.

/** One place that may hold a value of the type by value. */
export interface Holder {
  file: string;
  /** 0-based. */
  line: number;
  /** The line's text, trimmed. */
  text: string;
}

/** The text with comments, string and char literals blanked (same length, newlines kept). */
export function blankCommentsAndStrings(text: string): string {
  let out = '';
  let i = 0;
  const n = text.length;
  const blank = (s: string) => s.replace(/[^\n]/g, ' ');
  while (i < n) {
    const c = text[i];
    const d = text[i + 1];
    if (c === '/' && d === '/') {
      const end = text.indexOf('\n', i);
      const stop = end < 0 ? n : end;
      out += blank(text.slice(i, stop));
      i = stop;
    } else if (c === '/' && d === '*') {
      let depth = 1;
      let j = i + 2;
      while (j < n && depth > 0) {
        if (text[j] === '/' && text[j + 1] === '*') (depth++, (j += 2));
        else if (text[j] === '*' && text[j + 1] === '/') (depth--, (j += 2));
        else j++;
      }
      out += blank(text.slice(i, j));
      i = j;
    } else if (c === '"' || (c === 'r' && /^r#*"/.test(text.slice(i, i + 10)) && !/[A-Za-z0-9_]/.test(text[i - 1] ?? ''))) {
      let j = i;
      let hashes = 0;
      if (c === 'r') {
        j++;
        while (text[j] === '#') (hashes++, j++);
      }
      j++; // the opening quote
      const close = '"' + '#'.repeat(hashes);
      while (j < n) {
        if (c === '"' && text[j] === '\\') j += 2;
        else if (text.startsWith(close, j)) {
          j += close.length;
          break;
        } else j++;
      }
      out += blank(text.slice(i, j));
      i = j;
    } else if (c === "'" && /^'(\\.|[^\\'\n])'/.test(text.slice(i, i + 4))) {
      const m = /^'(\\.|[^\\'\n])'/.exec(text.slice(i, i + 4))!;
      out += blank(m[0]);
      i += m[0].length;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Mentions of `name` in `text` that may hold a value of it by value. */
export function holdersIn(file: string, text: string, name: string): Holder[] {
  const code = blankCommentsAndStrings(text);
  const lines = text.split('\n');
  const out: Holder[] = [];
  const re = new RegExp(`(?<![A-Za-z0-9_])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9_])`, 'g');
  for (const m of code.matchAll(re)) {
    const at = m.index!;
    const lineStart = code.lastIndexOf('\n', at - 1) + 1;
    const before = code.slice(lineStart, at);
    const after = code.slice(at + name.length, at + name.length + 40);
    if (holdsNoValue(before, after)) continue;
    const line = code.slice(0, at).split('\n').length - 1;
    if (!out.some((h) => h.line === line)) out.push({ file, line, text: lines[line].trim() });
  }
  return out;
}

function holdsNoValue(before: string, after: string): boolean {
  const head = before.trimStart();
  // `use crate::State;`, `pub use …`
  if (/^(pub(\([^)]*\))?\s+)?use\b/.test(head)) return true;
  // its definition
  if (/\b(struct|enum|union|type)\s+$/.test(before)) return true;
  // `impl State`, `impl Trait for State`, `impl<'a> Trait<'a> for State`
  if (/^(unsafe\s+)?impl\b/.test(head) && (/\bfor\s+$/.test(before) || /^(unsafe\s+)?impl(<[^>]*>)?\s+$/.test(head))) return true;
  // a handle: `HotState<State>`, `HotState::<State>`, `subsecond_agent::HotState<State>`
  if (/\bHotState\s*(::)?\s*<\s*$/.test(before)) return true;
  // a reference: `&State`, `&mut State`, `&'a mut State`
  if (/&\s*('[A-Za-z_][A-Za-z0-9_]*\s+)?(mut\s+)?$/.test(before)) return true;
  // a path (`State::default()`, `State::new`) or a struct expression (`State { … }`), not a type
  // position: those make values where they are written (see the docs on values on the stack)
  if (/^\s*::/.test(after) && !/^\s*::\s*</.test(after)) return true;
  if (/^\s*\{/.test(after) && !/(:|->|<|,)\s*$/.test(before)) return true;
  return false;
}

/** Every holder of `name` among the workspace's files. */
export function findHolders(texts: Iterable<[string, string]>, name: string): Holder[] {
  const out: Holder[] = [];
  for (const [file, text] of texts) if (text.includes(name)) out.push(...holdersIn(file, text, name));
  return out;
}
