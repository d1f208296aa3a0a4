// Proof before the claim: after a thin build, every function the analysis saw change since the
// app's fat build must have new code in the patch's jump table, or the patch is not "live" for
// it. Pure: it matches the analysis' changed functions against demangled symbol names (the
// analysis owns what a function's symbol looks like: `matchDemangled`) and says what each one
// is; the pipeline decides what to send and to say.
import * as path from 'node:path';
import { matchDemangled, ChangedFunction } from '../analysis';
import { demangle } from '../engine/demangle';
import type { WorkspacePackage } from '../workspace/cargo-workspace';

/** A changed function and where its symbols live. */
export interface ChangedFunctionRef {
  fn: ChangedFunction;
  /** Crates the function's file may belong to (lib and bins of one package can share a file). */
  crates: string[];
  /** `crate::file_module` for each of those crates, as symbols print it (`app`, `app::render`). */
  modulePrefixes: string[];
}

/** Function names (linker symbols, `.llvm.` suffix removed) on each side of a patch. */
export interface PatchFunctionNames {
  /** Functions of the fat executable. */
  fat: Iterable<string>;
  /** Functions of the patch that the jump table maps from a fat function. */
  mapped: Iterable<string>;
  /** Functions the patch defines. */
  defined: Iterable<string>;
  /** Crates compiled into this patch. */
  rebuiltCrates: string[];
}

export interface PatchProof {
  /** Changed functions with new code in the jump table. */
  live: string[];
  /** No code of their own in the running app (inlined, or generic): the patch's callers carry them. */
  inCallers: string[];
  /** No code of their own in the app or the patch: generic never instantiated, only inlined, compiled out, or unused. */
  noCode: string[];
  /** Changed in the running app's code but absent from the jump table: the patch would not make them live. */
  missing: Array<{ name: string; reason: string }>;
  /** False when the executable's symbol names could not be read as Rust paths: nothing was proven. */
  verified: boolean;
}

/** The crates a source file belongs to, and its module path in each (from the targets' roots). */
export function locateInPackage(pkg: WorkspacePackage, file: string): Array<{ crate: string; modulePrefix: string }> {
  const out: Array<{ crate: string; modulePrefix: string }> = [];
  const roots = new Set(pkg.targets.map((t) => path.resolve(t.srcPath)));
  const abs = path.resolve(file);
  for (const t of pkg.targets) {
    if (!t.kind.some((k) => k === 'lib' || k === 'rlib' || k === 'bin' || k === 'proc-macro')) continue;
    const root = path.resolve(t.srcPath);
    const rel = path.relative(path.dirname(root), abs);
    if (rel.startsWith('..') || path.isAbsolute(rel)) continue;
    // Another target's root file is not a module of this one (src/main.rs beside src/lib.rs).
    if (abs !== root && roots.has(abs)) continue;
    const segs = abs === root ? [] : rel.replace(/\.rs$/, '').split(path.sep);
    if (segs[segs.length - 1] === 'mod') segs.pop();
    const modulePrefix = [t.crateName, ...segs].join('::');
    if (!out.some((h) => h.crate === t.crateName && h.modulePrefix === modulePrefix)) out.push({ crate: t.crateName, modulePrefix });
  }
  return out;
}

/**
 * Demangled names that may name one of `wanted`: legacy mangling ends a function's path with its
 * name's segment and then the hash segment `17h…`, a cheap filter before demangling (a
 * framework's binary has hundreds of thousands of functions).
 */
function demangledNaming(names: Iterable<string>, wanted: string[]): string[] {
  const needles = wanted.map((n) => `${n.length}${n}17h`);
  const out: string[] = [];
  for (const n of names) {
    if (!needles.some((x) => n.includes(x))) continue;
    const d = demangle(n);
    if (d !== n) out.push(d);
  }
  return out;
}

const names = (f: ChangedFunctionRef) => `\`${f.fn.item}\``;

export function provePatch(changed: ChangedFunctionRef[], symbols: PatchFunctionNames): PatchProof {
  const proof: PatchProof = { live: [], inCallers: [], noCode: [], missing: [], verified: true };
  if (changed.length === 0) return proof;
  const fatNames = [...symbols.fat];
  // The app's crates use legacy mangling unless told otherwise (`-C symbol-mangling-version=v0`);
  // names this proof cannot read prove nothing: say less.
  const crates = [...new Set(changed.flatMap((f) => f.crates))];
  const legacy = crates.flatMap((c) => [`_ZN${c.length}${c}`, `$LT$${c}..`]);
  if (!fatNames.some((n) => n.startsWith('_ZN') && legacy.some((p) => n.includes(p)))) {
    proof.verified = false;
    return proof;
  }
  const wanted = [...new Set(changed.map((f) => f.fn.name))];
  const fat = demangledNaming(fatNames, wanted);
  const mapped = demangledNaming(symbols.mapped, wanted);
  const defined = demangledNaming(symbols.defined, wanted);
  for (const f of changed) {
    const display = names(f);
    // A crate that was not rebuilt contributes its old code, even to generics instantiated
    // elsewhere (they are compiled from its old metadata).
    if (!f.crates.some((c) => symbols.rebuiltCrates.includes(c))) {
      proof.missing.push({ name: display, reason: `its crate \`${f.crates[0] ?? '?'}\` was not rebuilt for this patch` });
      continue;
    }
    const has = (list: string[]) => list.some((s) => f.modulePrefixes.some((p) => matchDemangled(f.fn, s, p) === 'fn'));
    if (has(mapped)) proof.live.push(display);
    else if (!has(fat)) (has(defined) ? proof.inCallers : proof.noCode).push(display);
    else if (has(defined)) proof.missing.push({ name: display, reason: 'the patch defines it, but the jump table cannot tell which running copy it replaces' });
    else proof.missing.push({ name: display, reason: 'the patch does not define it' });
  }
  return proof;
}
