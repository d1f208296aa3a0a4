// engine/build-script-output.ts — the files build scripts read, as they told cargo: the
// `cargo:rerun-if-changed=PATH` lines (also `cargo::`) of each build script's `output` file, written
// by cargo next to the script's `out/` directory (`target/<profile>/build/<pkg>-<hash>/output`).
// A relative PATH is relative to the package root; a directory stands for every file under it.
// What a build script generated from such a file is compiled into the app and only a full build
// regenerates it. Nothing here runs cargo.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FatBuild } from './types';

/** One file a build script declared it reads. */
export interface BuildScriptInput {
  file: string;
  /** The root directory of the package whose build script reads it. */
  packageRoot: string;
}

/** Files listed under a directory given to rerun-if-changed, at most this many. */
const MAX_FILES_PER_DIR = 2000;

/** The package root of a cargo package id: `path+file:///dir#name@1.0` or the older `name 1.0 (path+file:///dir)`. */
export function packageRootOf(packageId: string): string | undefined {
  const m = /path\+file:\/\/([^#)\s]+)/.exec(packageId);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return undefined;
  }
}

/** The PATHs of `cargo:rerun-if-changed=PATH` lines, in order. */
export function rerunIfChangedPaths(outputText: string): string[] {
  const out: string[] = [];
  for (const line of outputText.split('\n')) {
    const m = /^cargo::?rerun-if-changed=(.+)$/.exec(line.replace(/\r$/, ''));
    if (m && m[1].trim() !== '') out.push(m[1]);
  }
  return out;
}

/**
 * Every file the build scripts of the build declared as inputs (path packages only: a registry
 * package's relative paths point into the registry). The build scripts themselves are left out
 * (they are known as build scripts).
 */
export function buildScriptInputsOf(build: Pick<FatBuild, 'buildScripts'>): BuildScriptInput[] {
  const out: BuildScriptInput[] = [];
  const seen = new Set<string>();
  for (const bs of build.buildScripts ?? []) {
    const root = packageRootOf(bs.packageId);
    let text: string;
    try {
      text = fs.readFileSync(bs.outputFile, 'utf8');
    } catch {
      continue;
    }
    for (const p of rerunIfChangedPaths(text)) {
      if (!root && !path.isAbsolute(p)) continue;
      const abs = path.resolve(root ?? '/', p);
      for (const file of filesAt(abs)) {
        if (seen.has(file)) continue;
        seen.add(file);
        out.push({ file, packageRoot: root ?? path.dirname(abs) });
      }
    }
  }
  return out;
}

/** The file itself, or the files under a directory; nothing for a path that does not exist. */
function filesAt(p: string): string[] {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    return [p]; // may appear later; cargo would rerun the script when it does
  }
  if (!st.isDirectory()) return [p];
  const out: string[] = [];
  const stack = [p];
  while (stack.length && out.length < MAX_FILES_PER_DIR) {
    const dir = stack.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const f = path.join(dir, e.name);
      if (e.isDirectory()) stack.push(f);
      else if (e.isFile()) out.push(f);
    }
  }
  return out;
}
