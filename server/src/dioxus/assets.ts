// dioxus/assets.ts — the files a Dioxus app's `asset!()` calls name, and what the running app can
// do when one changes. manganis resolves `asset!("/x")` against the package's manifest directory.
import * as path from 'node:path';

const ASSET_CALL = /\basset!\s*\(\s*"([^"]+)"/g;

function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ');
}

/** The `asset!("…")` paths in a Rust source text, as written. */
export function assetCallsIn(text: string): string[] {
  const out: string[] = [];
  for (const m of withoutComments(text).matchAll(ASSET_CALL)) out.push(m[1]);
  return out;
}

/** Where an asset path (as written in `asset!`) is on disk, for the package in `packageDir`. */
export function assetFile(packageDir: string, written: string): string {
  return path.join(packageDir, written.replace(/^\/+/, ''));
}

/**
 * The desktop renderer re-fetches every stylesheet of the page when a HotReload message names
 * any asset (`kick_stylsheets`); nothing else (images, fonts, scripts) is reloaded in place.
 */
export function reloadsInPlace(file: string): boolean {
  return path.extname(file).toLowerCase() === '.css';
}
