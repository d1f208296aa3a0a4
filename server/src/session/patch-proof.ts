// Proof before the claim: after a thin build, every function the analysis saw change since the
// app's fat build must have new code in the patch's jump table, or the patch is not "live" for
// it. Pure: it matches the analysis' changed functions against demangled symbol names (the
// analysis owns what a function's symbol looks like: `matchDemangled`) and says what each one
// is; the pipeline decides what to send and to say.
import * as path from 'node:path';
import { matchDemangled, ChangedFunction } from '../analysis';
import { demangleNaming, identNeedles, manglingOf } from '../engine/demangle';
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
  /** Why nothing was proven (when not verified), for the user. */
  unverifiedReason?: string;
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
 * Demangled names that may name one of `wanted`: both manglings write a function's name as
 * `<len><name>` (engine/demangle.ts identNeedles), a cheap filter before demangling (a
 * framework's binary has hundreds of thousands of functions).
 */
function demangledNaming(names: Iterable<string>, wanted: string[]): string[] {
  return demangleNaming(names, wanted).map(([, d]) => d);
}

/** Does the executable hold Rust symbols of one of these crates, in a mangling this proof reads? */
function hasReadableCrateSymbols(fatNames: string[], crates: string[]): boolean {
  const legacy = crates.flatMap((c) => [`_ZN${c.length}${c}`, `$LT$${c}..`]);
  // v0 names a crate root `C[s<disambiguator>_]<len><name>`
  const v0 = crates.flatMap((c) => identNeedles(c) ?? [c]);
  return fatNames.some((n) => {
    const m = manglingOf(n);
    return m === 'legacy' ? legacy.some((p) => n.includes(p)) : m === 'v0' && v0.some((p) => n.includes(p));
  });
}

const names = (f: ChangedFunctionRef) => `\`${f.fn.item}\``;

export function provePatch(changed: ChangedFunctionRef[], symbols: PatchFunctionNames): PatchProof {
  const proof: PatchProof = { live: [], inCallers: [], noCode: [], missing: [], verified: true };
  if (changed.length === 0) return proof;
  const fatNames = [...symbols.fat];
  // Names this proof cannot read prove nothing: say less.
  const crates = [...new Set(changed.flatMap((f) => f.crates))];
  if (!hasReadableCrateSymbols(fatNames, crates)) {
    proof.verified = false;
    proof.unverifiedReason = `the executable has no symbol of ${crates.map((c) => `\`${c}\``).join(', ')} in a Rust mangling this version reads (legacy \`_ZN\` or v0 \`_R\`)`;
    return proof;
  }
  const wanted = [...new Set(changed.map((f) => f.fn.name))];
  let fat: string[];
  let mapped: string[];
  let defined: string[];
  try {
    fat = demangledNaming(fatNames, wanted);
    mapped = demangledNaming(symbols.mapped, wanted);
    defined = demangledNaming(symbols.defined, wanted);
  } catch (err) {
    proof.verified = false;
    proof.unverifiedReason = `the symbol names could not be demangled (${(err as Error).message})`;
    return proof;
  }
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
