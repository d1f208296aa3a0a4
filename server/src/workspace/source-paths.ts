// Which paths hold the workspace's Rust sources: one rule for the indexer, the save handler and
// the file watcher, so that a file is either seen everywhere or nowhere. Build output (target/),
// dependencies (node_modules/) and hidden directories (.git/, .cargo/...) are never sources.
import * as fs from 'node:fs';
import * as path from 'node:path';

const IGNORED_DIRS = new Set(['target', 'node_modules']);

export function isIgnoredDirName(name: string): boolean {
  return IGNORED_DIRS.has(name) || name.startsWith('.');
}

/** `file` lies below `root` and no directory between them is ignored (judged relative to root). */
export function isSourcePathUnder(root: string, file: string): boolean {
  const rel = path.relative(root, file);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return false;
  const dirs = rel.split(path.sep).slice(0, -1);
  return !dirs.some(isIgnoredDirName);
}

/** `file` is cargo's configuration in `.cargo/` directly below `root` (the one hidden file that matters). */
export function isCargoConfigPath(root: string, file: string): boolean {
  const rel = path.relative(root, file);
  return rel === path.join('.cargo', 'config.toml') || rel === path.join('.cargo', 'config');
}

/** Every `.rs` file below `roots`, skipping what is never source (the rule above). */
export function rustFilesUnder(roots: string[], maxDepth = 32): string[] {
  const seen = new Set<string>();
  const walk = (dir: string, depth: number) => {
    if (depth > maxDepth) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!isIgnoredDirName(e.name)) walk(full, depth + 1);
      } else if (e.isFile() && e.name.endsWith('.rs')) seen.add(full);
    }
  };
  for (const r of roots) walk(r, 0);
  return [...seen];
}
