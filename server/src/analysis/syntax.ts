// The Rust grammar and the parser.
//
// Owns: loading web-tree-sitter and the tree-sitter-rust grammar's wasm (ABI 14; inside the npm
// package, or the `tree-sitter-rust` dev dependency in a repository build) once per process, and
// parsing with a time budget so a pathological input cannot hang a save. This is the analysis layer's only IO.
// Must never: keep trees (callers own and delete them) or throw from `parse`.

import { Language, Parser, Tree } from 'web-tree-sitter';
import type { TextEdit } from './text-edit';
import { rustGrammarWasm } from '../support/package-files';

let rust: Promise<Language> | undefined;

export function loadRust(): Promise<Language> {
  if (!rust) {
    rust = (async () => {
      await Parser.init();
      return Language.load(rustGrammarWasm());
    })();
    rust.catch(() => { rust = undefined; });
  }
  return rust;
}

/** A parse that takes longer than this is cancelled and the file treated as not parsing. */
const PARSE_BUDGET_MS = 4000;

export class RustParser {
  private readonly parser: Parser;

  constructor(language: Language) {
    this.parser = new Parser();
    this.parser.setLanguage(language);
  }

  /** Full parse, or incremental when `old` is given (it must already carry `edit`). */
  parse(text: string, old?: Tree | null): Tree | null {
    const deadline = performance.now() + PARSE_BUDGET_MS;
    let calls = 0;
    try {
      const tree = this.parser.parse(text, old ?? null, {
        // returning true cancels the parse (the typings say void); the clock is read sparingly
        progressCallback: (() => (++calls & 63) === 0 && performance.now() > deadline) as unknown as () => void,
      });
      if (!tree) this.parser.reset();
      return tree;
    } catch {
      try { this.parser.reset(); } catch { /* parser unusable: next parse fails too, still no throw */ }
      return null;
    }
  }

  dispose(): void {
    try { this.parser.delete(); } catch { /* already deleted */ }
  }

  /** Incremental re-parse: applies `edit` to `old` (which the caller then deletes). */
  reparse(text: string, old: Tree, edit: TextEdit): Tree | null {
    try {
      old.edit(edit);
    } catch {
      return this.parse(text);
    }
    return this.parse(text, old);
  }
}
