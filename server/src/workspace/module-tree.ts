// Which files make up a crate's module tree, read from its root file the way rustc finds them:
// `mod name;` → `<dir>/name.rs` or `<dir>/name/mod.rs`, `#[path = "…"]` overrides, inline
// `mod a { mod b; }` adds `a/` to the directory. A light scan (comments and literals skipped,
// no macro expansion): a module declared inside a macro or through `include!` is not seen, so
// callers treat a file no tree claims as "unknown", never as "belongs to nobody".
// Reads files; never builds, never analyses item content.
import * as fs from 'node:fs';
import * as path from 'node:path';

interface ModDecl {
  name: string;
  /** `#[path = "…"]` value, if any. */
  pathAttr?: string;
  /** Inline modules enclosing the declaration, outermost first. */
  inline: string[];
}

/** `mod` declarations with a `;` (file modules) of a Rust source text. Exported for tests. */
export function scanModDecls(text: string): ModDecl[] {
  const out: ModDecl[] = [];
  const tokens = tokenize(text);
  // Stack of open braces: the inline module name they belong to, or undefined.
  const braces: Array<string | undefined> = [];
  let pendingPath: string | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind === 'punct' && t.text === '#') {
      // #[path = "x"] or #![...]: remember a path attribute for the next mod
      let j = i + 1;
      if (tokens[j]?.text === '!') j++;
      if (tokens[j]?.text === '[' && tokens[j + 1]?.text === 'path' && tokens[j + 2]?.text === '=' && tokens[j + 3]?.kind === 'str') {
        pendingPath = tokens[j + 3].text;
      }
      continue;
    }
    if (t.kind === 'punct' && t.text === '{') {
      braces.push(undefined);
      continue;
    }
    if (t.kind === 'punct' && t.text === '}') {
      braces.pop();
      continue;
    }
    if (t.kind === 'ident' && t.text === 'mod' && tokens[i + 1]?.kind === 'ident') {
      const name = tokens[i + 1].text.replace(/^r#/, '');
      const after = tokens[i + 2];
      const inline = braces.filter((b): b is string => b !== undefined);
      // only modules at item level of the file or of inline modules (not inside fn bodies)
      const atItemLevel = braces.every((b) => b !== undefined);
      if (after?.text === ';') {
        if (atItemLevel) out.push({ name, pathAttr: pendingPath, inline });
        pendingPath = undefined;
        i += 2;
        continue;
      }
      if (after?.text === '{') {
        braces.push(atItemLevel ? (pendingPath !== undefined ? `#path:${pendingPath}` : name) : undefined);
        pendingPath = undefined;
        i += 2;
        continue;
      }
    }
    if (t.kind === 'punct' && (t.text === ';' || t.text === '{')) pendingPath = undefined;
    if (t.kind === 'ident' && (t.text === 'fn' || t.text === 'struct' || t.text === 'enum' || t.text === 'impl' || t.text === 'use')) pendingPath = undefined;
  }
  return out;
}

interface Token {
  kind: 'ident' | 'punct' | 'str';
  text: string;
}

/** Identifiers, single-char punctuation and string literal values; comments, chars and numbers skipped. */
function tokenize(text: string): Token[] {
  const out: Token[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text[i];
    if (c === '/' && text[i + 1] === '/') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? n : nl + 1;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (text[i] === '/' && text[i + 1] === '*') (depth++, (i += 2));
        else if (text[i] === '*' && text[i + 1] === '/') (depth--, (i += 2));
        else i++;
      }
      continue;
    }
    // raw strings r"…", r#"…"#, br"…"
    const raw = /^b?r(#*)"/y;
    raw.lastIndex = i;
    const rm = (c === 'r' || c === 'b') && (i === 0 || !/[A-Za-z0-9_]/.test(text[i - 1])) ? raw.exec(text) : null;
    if (rm) {
      const close = '"' + rm[1];
      const start = i + rm[0].length;
      const end = text.indexOf(close, start);
      out.push({ kind: 'str', text: text.slice(start, end < 0 ? n : end) });
      i = end < 0 ? n : end + close.length;
      continue;
    }
    if (c === '"' || (c === 'b' && text[i + 1] === '"')) {
      let j = c === 'b' ? i + 2 : i + 1;
      let value = '';
      while (j < n && text[j] !== '"') {
        if (text[j] === '\\') {
          value += text[j + 1] ?? '';
          j += 2;
        } else value += text[j++];
      }
      out.push({ kind: 'str', text: value });
      i = j + 1;
      continue;
    }
    if (c === "'") {
      // a char literal ('x', '\n', '\u{..}') or a lifetime ('a): skip either
      const ch = /^'(\\(u\{[0-9a-fA-F]*\}|x[0-9a-fA-F]{2}|.)|[^\\'])'/y;
      ch.lastIndex = i;
      const m = ch.exec(text);
      i += m ? m[0].length : 1;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_]/.test(text[j])) j++;
      let word = text.slice(i, j);
      if (word === 'r' && text[j] === '#' && /[A-Za-z_]/.test(text[j + 1] ?? '')) {
        let k = j + 1;
        while (k < n && /[A-Za-z0-9_]/.test(text[k])) k++;
        word = text.slice(i, k);
        j = k;
      }
      out.push({ kind: 'ident', text: word });
      i = j;
      continue;
    }
    if (/[0-9]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_.]/.test(text[j]) && !(text[j] === '.' && text[j + 1] === '.')) j++;
      i = j;
      continue;
    }
    if (!/\s/.test(c)) out.push({ kind: 'punct', text: c });
    i++;
  }
  return out;
}

/** Is `file` a "mod-rs" file (a crate root or mod.rs) whose child modules live beside it? */
function isModRs(file: string, isRoot: boolean): boolean {
  return isRoot || path.basename(file) === 'mod.rs';
}

/**
 * Every file of the module tree rooted at `rootFile` (the root included), as absolute paths.
 * Files that do not exist are left out; cycles are harmless.
 */
export function moduleTreeFiles(rootFile: string, read: (f: string) => string | undefined = readText): Set<string> {
  const files = new Set<string>();
  const visit = (file: string, isRoot: boolean, pathAttrFile: boolean) => {
    const abs = path.resolve(file);
    if (files.has(abs)) return;
    const text = read(abs);
    if (text === undefined) return;
    files.add(abs);
    // Children of a file reached through #[path] are resolved like a mod-rs file (rustc does so).
    const modRs = isModRs(abs, isRoot) || pathAttrFile;
    const ownDir = modRs ? path.dirname(abs) : path.join(path.dirname(abs), path.basename(abs, '.rs'));
    for (const d of scanModDecls(text)) {
      let dir = ownDir;
      let inlinePathBase: string | undefined;
      for (const seg of d.inline) {
        if (seg.startsWith('#path:')) {
          // an inline module with #[path]: its children are relative to that path
          inlinePathBase = path.resolve(inlinePathBase ?? (modRs ? path.dirname(abs) : ownDir), seg.slice(6));
          dir = inlinePathBase;
        } else dir = path.join(dir, seg);
      }
      if (d.pathAttr !== undefined) {
        // outside inline modules relative to this file's directory; inside them to the inline dir
        const base = d.inline.length === 0 ? path.dirname(abs) : dir;
        visit(path.resolve(base, d.pathAttr), false, true);
        continue;
      }
      const flat = path.join(dir, `${d.name}.rs`);
      const nested = path.join(dir, d.name, 'mod.rs');
      if (read(flat) !== undefined) visit(flat, false, false);
      else visit(nested, false, false);
    }
  };
  visit(rootFile, true, false);
  return files;
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
