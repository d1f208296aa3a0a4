// engine/dep-info.ts — the files each recorded crate read while compiling, from rustc's dep-info
// (`.d`, make syntax). Cargo already asks rustc for it (`--emit=dep-info,…`), and a thin replay
// rewrites it, so it always describes the last compile: every module file, `#[path]` module and
// file read by `include!`, `include_str!` or `include_bytes!`. Nothing here runs rustc.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { rustcOption, RustcRecord } from './recorder';

/** Where rustc wrote this call's dep-info, or undefined when it was not asked to. */
export function depInfoPath(rec: RustcRecord): string | undefined {
  let emit: string | undefined;
  for (let i = 0; i < rec.args.length; i++) {
    const a = rec.args[i];
    if (a === '--emit' && i + 1 < rec.args.length) emit = [emit, rec.args[i + 1]].filter(Boolean).join(',');
    else if (a.startsWith('--emit=')) emit = [emit, a.slice(7)].filter(Boolean).join(',');
  }
  if (!emit) return undefined;
  for (const kind of emit.split(',')) {
    const [name, explicit] = kind.split('=');
    if (name !== 'dep-info') continue;
    if (explicit) return path.resolve(rec.cwd, explicit);
    const outDir = rustcOption(rec.args, '--out-dir');
    if (!outDir) return undefined;
    const extra = rustcOption(rec.args, '-C extra-filename') ?? '';
    return path.resolve(rec.cwd, outDir, `${rec.crateName}${extra}.d`);
  }
  return undefined;
}

/**
 * The prerequisites of a make-style dep-info text: every file any rule depends on, absolute
 * (relative ones resolved against `cwd`), in first-seen order. `\ ` is an escaped space.
 */
export function parseDepInfo(text: string, cwd: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const rawLine of text.split('\n')) {
    if (rawLine.startsWith('#') || rawLine.trim() === '') continue;
    // the target ends at the first ': ' (or ':' at the end) that is not escaped
    const m = /^((?:[^:\\]|\\.)+):(?:\s|$)/.exec(rawLine);
    if (!m) continue;
    const rest = rawLine.slice(m[0].length);
    for (const dep of splitEscaped(rest)) {
      const abs = path.resolve(cwd, dep);
      if (!seen.has(abs)) {
        seen.add(abs);
        out.push(abs);
      }
    }
  }
  return out;
}

function splitEscaped(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && i + 1 < s.length && (s[i + 1] === ' ' || s[i + 1] === '\\' || s[i + 1] === '#')) {
      cur += s[++i];
    } else if (c === ' ' || c === '\t') {
      if (cur) out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (cur) out.push(cur);
  return out;
}

/** The files a recorded crate read in its last compile; undefined when there is no dep-info to read. */
export function readCrateInputs(rec: RustcRecord): string[] | undefined {
  const file = depInfoPath(rec);
  if (!file) return undefined;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  return parseDepInfo(text, rec.cwd);
}

/** Every recorded crate (`<crate>.<kind>`) → the files it read, for records whose dep-info exists. */
export function crateInputsOf(records: Record<string, RustcRecord>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [key, rec] of Object.entries(records)) {
    const files = readCrateInputs(rec);
    if (files) out[key] = files;
  }
  return out;
}
