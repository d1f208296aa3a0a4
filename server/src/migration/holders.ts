// What holds a type's values other than `HotState` handles, read from the workspace's source text.
// Conservative on purpose: every mention of the type's name that is not one of the few shapes
// known to hold no value of it (its definition and impls, `HotState<T>`, a reference, a `use`, a
// path that is not a call, a pattern) counts as a holder: a field, a static or thread-local, an
// argument or return by value, a generic argument (`Option<State>`, `Vec<State>`,
// `from_str::<State>`), and a value made anywhere but straight into a handle or in place of one
// behind a reference (`*s = State::default()`): elsewhere `State { … }` or `State::default()` may
// be kept in a local that a running function or a closure holds, or moved into a trait object
// (`Box::new(State::default()) as Box<dyn Any>`), none of which names the type again. Values made in the type's own impl blocks (constructors, `Default`) are
// returned to a caller, whose use of them is judged where it is written.
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
  const own = ownImplBodies(code, name);
  for (const m of code.matchAll(re)) {
    const at = m.index!;
    const lineStart = code.lastIndexOf('\n', at - 1) + 1;
    const before = code.slice(lineStart, at);
    const after = code.slice(at + name.length, at + name.length + 40);
    if (holdsNoValue(before, after)) continue;
    const made = makesValue(code, at + name.length, after);
    if (made === 'pattern') continue;
    if (made === 'value' && (intoHandle(before) || throughReference(before) || own.some(([from, to]) => at > from && at < to))) continue;
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
  // a path that is not a call (`State::MAX`, `State::Idle` in a pattern)
  if (/^\s*::\s*[A-Za-z_][A-Za-z0-9_]*(?!\s*[(:A-Za-z0-9_])/.test(after)) return true;
  return false;
}

/**
 * What the mention ending at `end` makes: `value` for a call of one of its paths
 * (`State::default()`, `State::Running(n)`) or a struct expression (`State { … }`), `pattern` when
 * that shape is a pattern (`let State { a, .. } = s`, `if let State::Running(n) = s`, a match arm
 * `State { .. } =>`), else undefined (a type position). Anything unclear is a value.
 */
function makesValue(code: string, end: number, after: string): 'value' | 'pattern' | undefined {
  const call = /^\s*::\s*[A-Za-z_][A-Za-z0-9_]*\s*\(/.exec(after);
  const struct = /^\s*\{/.test(after);
  if (!call && !struct) return undefined;
  const lineStart = code.lastIndexOf('\n', end - 1) + 1;
  // what precedes the whole path (`crate::app::State` → before `crate::`)
  const before = code.slice(lineStart, end).replace(/[A-Za-z0-9_:]+$/, '');
  if (struct && /(:|->|<|,|\bfor|\bimpl|\bstruct|\benum|\bunion|\bdyn)\s*$/.test(before)) return undefined; // a type
  if (/\blet\s+(mut\s+)?$/.test(before)) return 'pattern';
  const open = call ? end + call[0].length - 1 : code.indexOf('{', end);
  const close = matching(code, open);
  if (close >= 0 && /^\s*(if\b[^{};]*)?=>/.test(code.slice(close + 1, close + 200))) return 'pattern';
  return 'value';
}

/** Index of the bracket closing the `(` or `{` at `open` (-1 when unbalanced). */
function matching(code: string, open: number): number {
  if (open < 0) return -1;
  const [o, c] = code[open] === '(' ? ['(', ')'] : ['{', '}'];
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    if (code[i] === o) depth++;
    else if (code[i] === c && --depth === 0) return i;
  }
  return -1;
}

/** `HotState::new(`, `HotState::<State>::new(`, `subsecond_agent::HotState::new(` right before: the value goes into a handle. */
function intoHandle(before: string): boolean {
  return /\bHotState\s*(::\s*<[^()]*>\s*)?::\s*new\s*\(\s*$/.test(before);
}

/**
 * `*s = ` right before: the value replaces one behind a reference (`state.call(|s| *s =
 * State::default())`); where that one lives is declared, and judged, where it was made.
 */
function throughReference(before: string): boolean {
  return /(^|[^\w.)\]])\*\s*[A-Za-z_][A-Za-z0-9_.]*\s*=\s*$/.test(before);
}

/** The bodies (`{` to `}`) of `impl State` and `impl Trait for State` blocks: the type's own code. */
function ownImplBodies(code: string, name: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const esc = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const header = new RegExp(`\\bimpl\\b(\\s*<[^{;]*?>)?\\s+([^{;]*?\\bfor\\s+)?([A-Za-z0-9_]+::)*${esc}\\s*(<[^{;]*>)?\\s*(where\\b[^{;]*)?\\{`, 'g');
  for (const m of code.matchAll(header)) {
    const open = m.index! + m[0].length - 1;
    const close = matching(code, open);
    if (close > open) out.push([open, close]);
  }
  return out;
}

/** Every holder of `name` among the workspace's files. */
export function findHolders(texts: Iterable<[string, string]>, name: string): Holder[] {
  const out: Holder[] = [];
  for (const [file, text] of texts) if (text.includes(name)) out.push(...holdersIn(file, text, name));
  return out;
}
