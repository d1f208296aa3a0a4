// The functions of one file whose code differs from the baseline, described the way the patch
// proof needs them: which symbol each one is, and whether it can be expected to have code of its
// own in the app (a generic may never be instantiated, an `#[inline]` function may exist only
// inlined into its callers, a `#[cfg]`-ed one may not be compiled).
//
// Owns: listing changed functions from two snapshots, and matching a demangled rustc symbol to
// one of them. Stable rustc (1.95) mangles with the legacy scheme, whose demangled form
// (`rustc-demangle`, `nm -C`) prints an impl method under the module the impl block sits in:
//   app::ui::helper                                   free fn `helper` in `mod ui`
//   app::ui::<impl app::model::Panel<T>>::draw        inherent method
//   app::ui::<impl app::Shape for app::model::Panel>::draw   trait impl method
//   app::main::{{closure}}                            a closure (or async body) inside `main`
// and the v0 scheme (nightly's default since 2025-11-21, or `-C symbol-mangling-version=v0`)
// prints `<app::model::Panel>::draw`, `<app::model::Panel as app::Shape>::draw` (older rustc:
// `app::model::Panel<T>::draw`), closures as `app::main::{closure#0}` and a generic function's
// instances with their arguments, `app::gen::<u8>`. Types inside `<impl ..>` are fully qualified there
// but written as the source spells them here, so impls are compared by their last segments.
// Must never: throw, or list a function whose text is unknown (does not parse).

import type { Placed } from './model';
import { closureShapes, fnFacts, InlineHint } from './fn-facts';
import type { Snapshot } from './snapshot';
import type { SourcePosition, SourceRange } from './types';
import { closingAngle, withoutInstanceArgs } from '../support/rust-paths';

export interface ChangedFunction {
  file: string;
  /** Identity inside the file, stable across versions (inline mod path + impl header + name). */
  id: string;
  /** 'body': only its body changed; 'signature': its signature changed; 'added': not in the baseline. */
  kind: 'body' | 'signature' | 'added';
  /** The function's own name: `draw`. */
  name: string;
  /** Display name as findings use it: `ui::Panel::draw`. */
  item: string;
  /** Inline `mod` path inside the file: `['ui']` (the session prefixes crate and file module path). */
  modPath: string[];
  /** For a method: the impl's self type as written (`Panel<T>`) and its last segment (`Panel`). */
  selfType?: string;
  selfBase?: string;
  /** For a trait impl method: the trait as written (`fmt::Display`) and its last segment (`Display`). */
  trait?: string;
  traitBase?: string;
  /**
   * In-file path shaped like rustc's legacy demangled symbol, types as written:
   * `ui::helper`, `ui::<impl Panel<T>>::draw`, `ui::<impl Shape for Panel>::draw`.
   */
  path: string;
  /** Type or const parameters on the fn or its impl, or `impl Trait` arguments: may have no code of its own. */
  generic: boolean;
  /** `#[inline]` → 'inline', `#[inline(always)]` → 'always': may exist only inlined into callers. */
  inline: InlineHint;
  async: boolean;
  /** Its body holds closures or async blocks: their code is in `path::{{closure}}` symbols. */
  closures: boolean;
  /**
   * Its closures were added, removed or reordered since the baseline (or cannot be compared):
   * rustc names closures by their order (`{closure#N}`; legacy hashes the same numbering), so a
   * running closure's name may now belong to another one.
   */
  closuresReshaped: boolean;
  /** `#[no_mangle]` / `#[export_name]`: its symbol is not a Rust path. */
  noMangle: boolean;
  /** Has `#[cfg(..)]` / `#[cfg_attr(..)]`: may not be compiled. */
  cfg: boolean;
  /** Several items share this identity (`#[cfg]` alternatives): at most one of them is compiled. */
  ambiguous: boolean;
  /** A Dioxus component (`#[component]`, or a function returning `Element`): its lens says so. */
  component?: true;
  /** The whole function, attributes included. */
  range: SourceRange;
  nameRange: SourceRange;
}

/** Changed functions of one file, in document order. `pos` maps a text index of `cur` to a position. */
export function listChangedFunctions(file: string, base: Snapshot, cur: Snapshot, pos: (index: number) => SourcePosition): ChangedFunction[] {
  const out: ChangedFunction[] = [];
  if (base === cur) return out;
  for (const [id, p] of cur.map) {
    const m = p.m;
    if (m.kind !== 'fn' || !m.fn || !m.fn.bodyLen || m.unknown) continue;
    const bp = base.map.get(id);
    let kind: ChangedFunction['kind'];
    if (!bp || bp.m.kind !== 'fn' || !bp.m.fn) kind = 'added';
    else if (bp.m.fn.sigKey !== m.fn.sigKey) kind = 'signature';
    else if (bp.m.fn.bodyHash !== m.fn.bodyHash) kind = 'body';
    else continue;
    const c = describe(file, id, kind, cur, p, pos);
    if (c) {
      c.ambiguous = cur.ambiguous.has(id) || base.ambiguous.has(id);
      if (bp && kind !== 'added') c.closuresReshaped = closuresDiffer(base.text, bp, cur.text, p);
      out.push(c);
    }
  }
  out.sort((a, b) => a.nameRange.start.line - b.nameRange.start.line || a.nameRange.start.character - b.nameRange.start.character);
  return out;
}

/**
 * Could a closure's name in the baseline now belong to another closure? rustc numbers closures
 * in document order, so: one removed (a later one takes its number), one inserted before
 * existing ones, one moved, or parameters changed. Closures only appended after the old ones
 * (which are unchanged), or edited in place, keep their numbers. Two closures of the same head
 * swapped for each other with their bodies edited at once cannot be told from edits in place.
 */
function closuresDiffer(baseText: string, bp: Placed, curText: string, p: Placed): boolean {
  const shapesOf = (text: string, q: Placed) => closureShapes(text, q.at + q.m.fn!.bodyRel, q.at + q.m.fn!.bodyRel + q.m.fn!.bodyLen);
  const before = shapesOf(baseText, bp);
  const after = shapesOf(curText, p);
  if (!before || !after) return true;
  if (before.length === 0 || after.length === 0) return false; // no running closure's name is taken
  if (before.length > after.length) return true;
  if (before.length < after.length) return before.some((c, i) => c.text !== after[i].text);
  return after.some((c, i) => c.head !== before[i].head || (c.text !== before[i].text && before.some((o, j) => j !== i && o.text === c.text)));
}

function describe(file: string, id: string, kind: ChangedFunction['kind'], cur: Snapshot, p: Placed, pos: (index: number) => SourcePosition): ChangedFunction | undefined {
  const facts = fnFacts(cur.text, p);
  if (!facts) return undefined;
  const m = p.m;
  const f = m.fn!;
  const nameAt = p.at + m.nameRel;
  const im = facts.impl;
  const implSeg = im ? `<impl ${im.trait !== undefined ? `${im.trait} for ` : ''}${im.self}>` : undefined;
  const out: ChangedFunction = {
    file, id, kind, name: facts.name, item: m.name, modPath: facts.modPath,
    path: [...facts.modPath, ...(implSeg ? [implSeg] : []), facts.name].join('::'),
    generic: facts.generic, inline: facts.inline, async: facts.async, closures: facts.closures, closuresReshaped: false,
    noMangle: facts.noMangle, cfg: facts.cfg, ambiguous: false,
    range: { start: pos(p.at + facts.startRel), end: pos(p.at + f.bodyRel + f.bodyLen) },
    nameRange: { start: pos(nameAt), end: pos(nameAt + m.nameLen) },
  };
  if (f.hooks !== undefined) out.component = true; // hooks are read for components only
  if (im) {
    out.selfType = im.self;
    out.selfBase = im.selfBase;
    if (im.trait !== undefined) {
      out.trait = im.trait;
      out.traitBase = im.traitBase;
    }
  }
  return out;
}

// ---- matching demangled symbols --------------------------------------------------------------

const HASH_SUFFIX = /::h[0-9a-f]{16}$/;
const CLOSURE_SUFFIX = /::(\{\{closure\}\}|\{closure#\d+\}|\{async_block#\d+\}|\{async_fn_body#\d+\}|\{\{constant\}\})$/;

/** Last segment of a printed type, generic arguments, references, pointers and `dyn` stripped. */
export function typeBase(s: string): string {
  let x = s.trim();
  for (;;) {
    const y = x.replace(/^(&+|\*const\s+|\*mut\s+|mut\s+|dyn\s+|'[A-Za-z_][A-Za-z0-9_]*\s+)/, '');
    if (y === x) break;
    x = y;
  }
  if (x.startsWith('[') || x.startsWith('(')) return x.replace(/\s+/g, '');
  let depth = 0;
  let end = x.length;
  for (let i = 0; i < x.length; i++) {
    const c = x[i];
    if (c === '<') { if (depth === 0) { end = i; break; } depth++; }
  }
  const p = x.slice(0, end);
  const segs = p.split('::');
  // a legacy escape left undecoded (`Foo$LT$u8$GT$`): no Rust identifier holds a `$`
  const last = segs[segs.length - 1].trim();
  const dollar = last.indexOf('$');
  return dollar > 0 ? last.slice(0, dollar) : last;
}

/** Splits `A for B` / `A as B` at the top-level keyword (outside `<..>`, `(..)`, `[..]`). */
function splitTopWord(s: string, word: string): [string, string] | undefined {
  let depth = 0;
  const w = ` ${word} `;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '<' || c === '(' || c === '[') depth++;
    else if (c === '>' || c === ')' || c === ']') depth--;
    else if (depth === 0 && s.startsWith(w, i)) return [s.slice(0, i), s.slice(i + w.length)];
  }
  return undefined;
}

function implMatches(f: ChangedFunction, inner: string, sep: 'for' | 'as'): boolean {
  if (f.selfBase === undefined) return false;
  let selfText = inner;
  let traitText: string | undefined;
  const split = splitTopWord(inner, sep);
  if (split) {
    if (sep === 'for') [traitText, selfText] = split;
    else [selfText, traitText] = split;
  }
  if ((traitText === undefined) !== (f.traitBase === undefined)) return false;
  if (traitText !== undefined && typeBase(traitText) !== f.traitBase) return false;
  return typeBase(selfText) === typeBase(f.selfType ?? f.selfBase) || typeBase(selfText) === f.selfBase;
}

/**
 * Does the demangled symbol name this function ('fn'), or a closure or async body inside it
 * ('closure')? `modulePrefix` is the crate and the file's module path, `::`-joined
 * (`app`, `app::render`).
 */
export function matchDemangled(f: ChangedFunction, symbol: string, modulePrefix: string): 'fn' | 'closure' | undefined {
  let s = withoutInstanceArgs(symbol.trim().replace(HASH_SUFFIX, ''));
  let closure = false;
  for (let m = CLOSURE_SUFFIX.exec(s); m; m = CLOSURE_SUFFIX.exec(s)) {
    s = s.slice(0, m.index);
    closure = true;
  }
  const verdict = closure ? 'closure' : 'fn';
  const tail = `::${f.name}`;
  if (!s.endsWith(tail)) return undefined;
  const head = s.slice(0, s.length - tail.length);
  const prefix = [modulePrefix, ...f.modPath].filter((x) => x !== '').join('::');
  if (f.selfBase === undefined) return head === prefix ? verdict : undefined;
  // legacy: prefix::<impl [Trait for ]Self>
  if (head.startsWith(`${prefix}::<impl `) && head.endsWith('>')) {
    const open = prefix.length + 2;
    if (closingAngle(head, open) !== head.length - 1) return undefined;
    return implMatches(f, head.slice(open + 6, head.length - 1), 'for') ? verdict : undefined;
  }
  const crate = modulePrefix.split('::')[0];
  // v0: <Self[ as Trait]>, the crate named in one of the two paths
  if (head.startsWith('<') && closingAngle(head, 0) === head.length - 1) {
    const inner = head.slice(1, -1);
    if (crate && !inner.includes(`${crate}::`)) return undefined;
    return implMatches(f, inner, 'as') ? verdict : undefined;
  }
  // older legacy form of an inherent method: the type's own path, `app::model::Panel<T>::draw`
  if (f.traitBase === undefined && !head.includes('<impl ') && (head === crate || head.startsWith(`${crate}::`))) {
    return typeBase(head) === f.selfBase ? verdict : undefined;
  }
  return undefined;
}
