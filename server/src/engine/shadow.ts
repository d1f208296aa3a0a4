// engine/shadow.ts — where a speculative build compiles: a shadow of the workspace's sources and
// a rewrite of the recorded rustc calls that points them at it.
//
//   sources     a mirror of the workspace root under the session directory: every file the
//               replayed crates read (rustc's dep-info) is a symlink to the real file, and each
//               unsaved buffer is a real file with the buffer's text. The user's files are never
//               written. rustc resolves `mod x;` and `include_str!` from the path it was given,
//               not the symlink's target, so the buffers win.
//   calls       the same rustc call, run in the mirror of its cwd (cargo passes member sources
//               relative to the workspace root, so `file!()` and panic locations stay exactly as in
//               a real build), with its own --out-dir and -C incremental (the real build's cache
//               and rlibs are not touched), --extern of crates rebuilt here pointing at the
//               shadow's rlibs, and --remap-path-prefix so debuginfo names the real directory.
// Nothing here runs rustc.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RustcRecord } from './recorder';

export class ShadowError extends Error {}

export interface ShadowLayout {
  /** The real workspace root (the mirror's original). */
  workspaceRoot: string;
  /** The cargo target directory: never mirrored (generated files are read where they are). */
  targetDir: string;
  /** Root of the mirror. */
  sourcesDir: string;
  /** --out-dir of every shadow call. */
  outDir: string;
  /** -C incremental of every shadow call. */
  incrementalDir: string;
}

function isUnder(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** The mirror path of a real path under the workspace root, or undefined for a path outside it. */
export function shadowPathOf(layout: ShadowLayout, real: string): string | undefined {
  const abs = path.resolve(real);
  if (!isUnder(layout.workspaceRoot, abs) || isUnder(layout.targetDir, abs)) return undefined;
  return path.join(layout.sourcesDir, path.relative(layout.workspaceRoot, abs));
}

/**
 * Rebuilds the mirror: `inputs` (absolute paths the crates read) become symlinks, `overlays`
 * (absolute path → text) real files. Inputs outside the workspace root or in the target
 * directory are read where they are and not mirrored. Returns how many files were placed.
 */
export function writeShadowSources(layout: ShadowLayout, inputs: Iterable<string>, overlays: Map<string, string>): number {
  fs.rmSync(layout.sourcesDir, { recursive: true, force: true });
  fs.mkdirSync(layout.sourcesDir, { recursive: true });
  let placed = 0;
  for (const [file, text] of overlays) {
    const dest = shadowPathOf(layout, file);
    if (!dest) throw new ShadowError(`${file} is outside the workspace root ${layout.workspaceRoot}`);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, text);
    placed++;
  }
  for (const file of inputs) {
    const dest = shadowPathOf(layout, file);
    if (!dest || overlays.has(path.resolve(file)) || fs.existsSync(dest)) continue;
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.symlinkSync(path.resolve(file), dest);
    placed++;
  }
  return placed;
}

/** Options that name a path; relative ones are made absolute against the real cwd. */
const PATH_OPTIONS = new Set(['-L', '-o', '--out-dir', '--extern']);

/**
 * The recorded call rewritten to compile from the mirror (see the module comment). `rebuilt`
 * maps the real rlibs of crates this shadow build recompiles to the shadow's.
 */
export function shadowRecord(rec: RustcRecord, layout: ShadowLayout, rebuilt: Map<string, string>): RustcRecord {
  const cwd = shadowPathOf(layout, rec.cwd);
  if (!cwd) throw new ShadowError(`\`${rec.crateName}\` is compiled from ${rec.cwd}, outside the workspace root`);
  const abs = (p: string) => path.resolve(rec.cwd, p);
  const externOf = (v: string) => {
    const eq = v.indexOf('=');
    if (eq < 0) return v;
    const file = abs(v.slice(eq + 1));
    return `${v.slice(0, eq)}=${rebuilt.get(file) ?? file}`;
  };
  const libPath = (v: string) => {
    const m = /^((?:dependency|crate|native|framework|all)=)?(.*)$/.exec(v)!;
    return `${m[1] ?? ''}${abs(m[2])}`;
  };
  const out: string[] = [];
  let sawSource = false;
  for (let i = 0; i < rec.args.length; i++) {
    const a = rec.args[i];
    const next = rec.args[i + 1];
    if ((a === '-C' || a === '--codegen') && next !== undefined) {
      out.push(a, next.startsWith('incremental=') ? `incremental=${layout.incrementalDir}` : next);
      i++;
    } else if (a.startsWith('-Cincremental=')) out.push(`-Cincremental=${layout.incrementalDir}`);
    else if (PATH_OPTIONS.has(a) && next !== undefined) {
      if (a === '--out-dir') out.push(a, layout.outDir);
      else if (a === '--extern') out.push(a, externOf(next));
      else if (a === '-L') out.push(a, libPath(next));
      else out.push(a, abs(next));
      i++;
    } else if (a.startsWith('--out-dir=')) out.push(`--out-dir=${layout.outDir}`);
    else if (a.startsWith('--extern=')) out.push(`--extern=${externOf(a.slice(9))}`);
    else if (a.startsWith('-L') && a.length > 2) out.push(`-L${libPath(a.slice(2))}`);
    else if (!a.startsWith('-') && a.endsWith('.rs') && !sawSource) {
      // the crate root: relative (cargo's way for members) resolves in the mirrored cwd
      sawSource = true;
      if (path.isAbsolute(a)) {
        const mapped = shadowPathOf(layout, a);
        if (!mapped) throw new ShadowError(`\`${rec.crateName}\`'s root ${a} is outside the workspace root`);
        out.push(mapped);
      } else out.push(a);
    } else if (a.startsWith('@')) throw new ShadowError(`\`${rec.crateName}\` was compiled with an unexpanded argument file ${a}`);
    else out.push(a);
  }
  if (!sawSource) throw new ShadowError(`no crate root among \`${rec.crateName}\`'s recorded rustc arguments`);
  if (!out.some((a) => a === '--out-dir' || a.startsWith('--out-dir='))) throw new ShadowError(`\`${rec.crateName}\` was compiled without --out-dir`);
  out.push(`--remap-path-prefix=${layout.sourcesDir}=${layout.workspaceRoot}`);
  return { ...rec, args: out, cwd };
}
