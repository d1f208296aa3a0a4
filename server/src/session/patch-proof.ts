// Proof before the claim: after a thin build, every function the analysis saw change since the
// app's fat build must have new code in the patch's jump table, or the patch is not "live" for
// it. Pure: it compares names (the analysis' function paths against demangled symbol names) and
// says what each changed function is; the pipeline decides what to send and to say.
import { demangle } from '../engine/demangle';

/** A function whose code differs from what the fat build compiled, located for symbol lookup. */
export interface ChangedFunctionRef {
  /** How to name it to the user (`ledger::discount`, `Circle::name`). */
  display: string;
  /** Crate names the function's file may belong to (lib and bins of one package can share it). */
  crates: string[];
  /** Module path inside the crate (file modules, then inline `mod`s); undefined when unknown. */
  modulePath?: string[];
  /** Self type of the enclosing impl (last path segment, no generics). */
  implType?: string;
  /** Trait of the enclosing impl (last path segment, no generics). */
  implTrait?: string;
  name: string;
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
  /** No code of their own in the app or the patch: generic never instantiated, only inlined, or unused. */
  noCode: string[];
  /** Changed in the running app's code but absent from the jump table: the patch would not make them live. */
  missing: Array<{ name: string; reason: string }>;
}

interface SymbolPath {
  /** Path segments with generic arguments removed (`crate`, `mod`, `Type`, `fn`). */
  segments: string[];
  /** For `<Self as Trait>::f`: the self type's segments and the trait's last segment. */
  selfSegments?: string[];
  trait?: string;
}

/** `a::B<T>::c` → [a, B, c]; `<a::B as x::Tr<u8>>::c` → self [a, B], trait Tr, segments [c]. */
export function parseSymbolPath(demangled: string): SymbolPath | undefined {
  let s = demangled;
  let selfSegments: string[] | undefined;
  let trait: string | undefined;
  if (s.startsWith('<')) {
    const close = matchingAngle(s, 0);
    if (close < 0) return undefined;
    const inner = s.slice(1, close);
    const as = topLevelAs(inner);
    const selfPart = as < 0 ? inner : inner.slice(0, as);
    selfSegments = splitPath(selfPart);
    if (as >= 0) trait = splitPath(inner.slice(as + 4)).pop();
    s = s.slice(close + 1).replace(/^::/, '');
    if (as < 0) {
      // `<a::B<T>>::f` is an inherent impl: the same as `a::B::f`
      return { segments: [...selfSegments, ...splitPath(s)] };
    }
  }
  return { segments: splitPath(s), selfSegments, trait };
}

function matchingAngle(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '<') depth++;
    else if (s[i] === '>' && s[i - 1] !== '-') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function topLevelAs(s: string): number {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '<' || c === '(' || c === '[') depth++;
    else if ((c === '>' && s[i - 1] !== '-') || c === ')' || c === ']') depth--;
    else if (depth === 0 && s.startsWith(' as ', i)) return i;
  }
  return -1;
}

/** Splits on top-level `::` and drops generic arguments from each segment. */
function splitPath(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '<') depth++;
    else if (c === '>' && s[i - 1] !== '-') depth--;
    else if (depth === 0 && c === ':' && s[i + 1] === ':') {
      out.push(cur);
      cur = '';
      i++;
      continue;
    }
    if (depth === 0 && c !== '>') cur += c;
  }
  out.push(cur);
  return out.map((x) => x.trim().replace(/^&(mut )?/, '')).filter((x) => x.length > 0);
}

/** Does this symbol name the changed function (not a closure or item nested in it)? */
export function symbolNamesFunction(sym: SymbolPath, f: ChangedFunctionRef): boolean {
  if (f.implTrait) {
    if (!sym.selfSegments || sym.trait !== f.implTrait) return false;
    if (sym.segments.length !== 1 || sym.segments[0] !== f.name) return false;
    const self = sym.selfSegments;
    return self[self.length - 1] === f.implType && f.crates.includes(self[0]);
  }
  if (sym.selfSegments) return false;
  const segs = sym.segments;
  if (segs[segs.length - 1] !== f.name || !f.crates.includes(segs[0])) return false;
  if (f.implType) {
    // An inherent method is named by its type's path, wherever the impl block is written.
    return segs.length >= 3 && segs[segs.length - 2] === f.implType;
  }
  if (!f.modulePath) return true;
  return segs.length === f.modulePath.length + 2 && f.modulePath.every((m, i) => segs[i + 1] === m);
}

function parseAll(names: Iterable<string>): SymbolPath[] {
  const out: SymbolPath[] = [];
  for (const n of names) {
    const d = demangle(n);
    if (d === n && n.startsWith('_ZN')) continue; // not decodable
    const p = parseSymbolPath(d);
    if (p) out.push(p);
  }
  return out;
}

export function provePatch(changed: ChangedFunctionRef[], names: PatchFunctionNames): PatchProof {
  const proof: PatchProof = { live: [], inCallers: [], noCode: [], missing: [] };
  if (changed.length === 0) return proof;
  const fat = parseAll(names.fat);
  const mapped = parseAll(names.mapped);
  const defined = parseAll(names.defined);
  for (const f of changed) {
    const has = (list: SymbolPath[]) => list.some((s) => symbolNamesFunction(s, f));
    // A crate that was not rebuilt contributes its old code, even to generics instantiated
    // elsewhere (they are compiled from its old metadata).
    if (!f.crates.some((c) => names.rebuiltCrates.includes(c))) {
      proof.missing.push({ name: f.display, reason: `its crate \`${f.crates[0]}\` was not rebuilt for this patch` });
      continue;
    }
    const inFat = has(fat);
    if (has(mapped)) proof.live.push(f.display);
    else if (!inFat) (has(defined) ? proof.inCallers : proof.noCode).push(f.display);
    else if (has(defined))
      proof.missing.push({ name: f.display, reason: 'the patch defines it, but the jump table cannot tell which running copy it replaces' });
    else proof.missing.push({ name: f.display, reason: 'the patch does not define it' });
  }
  return proof;
}
