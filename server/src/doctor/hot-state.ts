// The HotState check: an app that keeps state in subsecond-agent `HotState` handles can have it
// migrated by a patch that changes its layout. With v0 symbol names the functions keep their
// names; with legacy names (stable Rust's default) the hash of every function whose signature or
// generic arguments mention the type covers its fields, so a layout change renames them, and the
// server matches each to its replacement through the DWARF instance names, which needs the debug
// info of the dev profile (docs/findings.md, state-migrated).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DoctorCheck } from './types';

const USES_HOT_STATE = /\bHotState\s*(?:::\s*)?(?:<|new\b|default\b)/;
const V0 = /symbol-mangling-version\s*=\s*v0\b|"symbol-mangling-version=v0"/;

/** Where v0 symbol names are asked for (an env variable or a cargo config file), if anywhere. */
export function v0ManglingSource(workspaceRoot: string, env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string | undefined {
  for (const name of ['RUSTFLAGS', 'CARGO_BUILD_RUSTFLAGS', 'CARGO_ENCODED_RUSTFLAGS']) {
    const v = env[name];
    if (v && /symbol-mangling-version[=\x1f\s]+v0\b/.test(v.replace(/\x1f/g, ' '))) return name;
  }
  // cargo reads .cargo/config.toml from the working directory up, then $CARGO_HOME. A RUSTFLAGS
  // variable replaces them all: then it alone counts (checked above).
  if (env.RUSTFLAGS !== undefined || env.CARGO_ENCODED_RUSTFLAGS !== undefined) return undefined;
  const dirs: string[] = [];
  for (let d = path.resolve(workspaceRoot); ; d = path.dirname(d)) {
    dirs.push(path.join(d, '.cargo'));
    if (path.dirname(d) === d) break;
  }
  dirs.push(env.CARGO_HOME ?? path.join(home, '.cargo'));
  for (const dir of dirs)
    for (const name of ['config.toml', 'config']) {
      const file = path.join(dir, name);
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch {
        continue;
      }
      const code = text.replace(/#[^\n]*/g, '');
      if (V0.test(code)) return file;
    }
  return undefined;
}

/** `undefined` when no workspace source uses HotState (nothing to say). */
export function hotStateCheck(workspaceRoot: string, files: string[], env: NodeJS.ProcessEnv = process.env): DoctorCheck | undefined {
  const users = files.filter((f) => {
    try {
      return USES_HOT_STATE.test(fs.readFileSync(f, 'utf8').replace(/\/\/[^\n]*/g, ''));
    } catch {
      return false;
    }
  });
  if (users.length === 0) return undefined;
  const title = 'HotState migration';
  const where = users.map((f) => path.relative(workspaceRoot, f)).slice(0, 3).join(', ');
  const source = v0ManglingSource(workspaceRoot, env);
  if (source) return { id: 'hot-state', title, status: 'ok', detail: `HotState in ${where}; v0 symbol names (${source === 'RUSTFLAGS' || source.endsWith('RUSTFLAGS') ? source : path.relative(workspaceRoot, source) || source}): its values can be migrated by a patch that changes their layout` };
  return {
    id: 'hot-state',
    title,
    status: 'ok',
    detail:
      `HotState in ${where}; legacy symbol names: a layout change renames the functions that mention the type, and each is matched to its ` +
      "replacement through the debug info's instance names (the dev profile's `debug` must stay on); a function that cannot be matched " +
      'keeps the change restart-class, naming it. v0 names (`[build] rustflags = ["-C", "symbol-mangling-version=v0"]` in `.cargo/config.toml`) rename nothing',
  };
}
