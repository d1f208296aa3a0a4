// Which paths hold the workspace's Rust sources: one rule for the indexer, the save handler and
// the file watcher, so that a file is either seen everywhere or nowhere. Build output (target/),
// dependencies (node_modules/) and hidden directories (.git/, .cargo/...) are never sources.
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
