// From a tree-sitter tree to the item model of one file.
//
// Owns: walking the top level (and inline `mod` bodies) of a tree with a cursor, grouping each
// item with its attributes into a `Unit`, deciding which items are "unknown" (their subtree, or
// their context, does not parse), and assembling `ItemModel`s from the item's tokens (shapes.ts).
// A unit whose text is untouched by an edit is reused from the previous derivation (the `reuse`
// hook), so a save re-derives only the items it touched.
// Must never: walk inside function bodies through wasm accessors (bodies are read as tokens),
// mutate a model, or produce a judged (non-unknown) item from text whose structure tree-sitter
// could not establish.

import type { Node, Tree, TreeCursor } from 'web-tree-sitter';
import { braceBalance, Hasher, lex, lexScratch, render, Tokens, T_IDENT } from './lexer';
import { neverPatchedClosures } from './closures';
import { hookCallsIn, isComponentFn } from './dioxus-components';
import type { HotRef, ItemKind, ItemModel, LayoutShape, MacroCall, Placed } from './model';
import {
  Attrs, ch, collectDeps, FnSig, mayHaveHotRefs, nextTop, parseAttrs, parseEnum, parseFnSig, parseGenerics,
  macroMemberAt, MacroMember, parseImpl, parseStructLike, parseThreadLocals, parseTrait, scanHotRefs, skipGroup,
  skipVis, typeEnd, whereEnd,
} from './shapes';

/** An item with its attributes, as found in a list of items (file, mod body, ERROR node). */
export interface Unit {
  type: string;
  start: number;
  end: number;
  modPath: string;
  /** `#[cfg]` predicates of the enclosing mods ('' when none). */
  cfg: string;
  /**
   * 1: the context does not parse; 2: the item itself has errors; 4: its only errors are benign
   * (inside function bodies whose braces balance, or tree-sitter's gaps on valid code, see
   * `benignErrors`): its extent and what the catalog reads are sure, so it and its neighbours are judged.
   */
  ctx: number;
  items: Placed[];
  /** How many of the following units are nested inside this one (an inline mod's items). */
  nested: number;
}

/** Looks up a unit of the previous derivation with the same text, shifted to its new place. */
export type ReuseFn = (type: string, start: number, end: number, modPath: string, cfg: string, ctx: number) => Unit[] | undefined;

const ITEM_TYPES = new Set([
  'struct_item', 'union_item', 'enum_item', 'type_item', 'static_item', 'const_item', 'trait_item',
  'function_item', 'function_signature_item', 'impl_item', 'mod_item', 'macro_invocation',
  'macro_definition', 'use_declaration', 'extern_crate_declaration', 'foreign_mod_item',
  'expression_statement',
]);
const IGNORED = new Set(['line_comment', 'block_comment', 'inner_attribute_item', 'empty_statement']);

interface Env {
  text: string;
  checkErrors: boolean;
  reuse: ReuseFn | undefined;
  out: Unit[];
}

/** Derive all units of a file. `tree` may be null (parse cancelled): everything is unparsed. */
export function deriveUnits(tree: Tree | null, text: string, reuse?: ReuseFn): Unit[] {
  const out: Unit[] = [];
  if (!tree) {
    out.push(unparsedUnit(text, 0, text.length, '', ''));
    return out;
  }
  const root = tree.rootNode;
  const env: Env = { text, checkErrors: root.hasError, reuse, out };
  const cur = tree.walk();
  try {
    if (nodeType(cur) === 'ERROR') {
      // the whole file is an ERROR node: its complete items are still worth judging
      out.push(unparsedUnit(text, cur.startIndex, cur.endIndex, '', ''));
      walkList(env, cur, '', '', false, true);
    } else {
      walkList(env, cur, '', '', false, false);
    }
  } finally {
    cur.delete();
  }
  return out;
}

function unparsedUnit(text: string, start: number, end: number, modPath: string, cfg: string): Unit {
  // a huge region gets its own buffer, so the shared one does not stay huge
  const t = end - start > 262144 ? lex(text, start, end) : lexScratch(text, start, end);
  const h = new Hasher();
  h.addTokens(t, 0, t.n);
  const hash = h.value();
  const m: ItemModel = {
    kind: 'unparsed', key: `${modPath ? modPath + '::' : ''}<unparsed ${hash.toString(36)}>`,
    name: '<unparsed code>', simple: '', nameRel: 0, nameLen: 0, unknown: true, hash,
  };
  return { type: 'ERROR', start, end, modPath, cfg, ctx: 1, items: t.n ? [{ m, at: start }] : [], nested: 0 };
}

/**
 * Walk the children of the node under the cursor as a list of items. Inside an ERROR node an
 * item is judged only when the braces before it balance (it really is at this nesting level).
 */
function walkList(env: Env, cur: TreeCursor, modPath: string, cfg: string, ctxUnknown: boolean, inError: boolean): void {
  const listStart = cur.startIndex;
  if (!cur.gotoFirstChild()) return;
  let attrStart = -1;
  let attrErr = false;
  let balFrom = listStart;
  let bal = 0;
  // Whether what precedes the current unit ends cleanly. After broken code an item may have lost
  // attributes (`#[repr]`) to the error region, so it is not judged.
  let prevClean = true;
  let unitClean = true;
  do {
    const type = nodeType(cur);
    if (type === 'attribute_item') {
      if (attrStart < 0) { attrStart = cur.startIndex; unitClean = prevClean; }
      if (env.checkErrors && cur.currentNode.hasError) attrErr = true;
      continue;
    }
    if (IGNORED.has(type)) continue;
    if (!inError && (type === '{' || type === '}' || type === ';')) continue; // a declaration list's own tokens
    if (env.checkErrors && (!cur.nodeIsNamed || cur.nodeIsMissing)) {
      // anonymous tokens inside an ERROR node, or a MISSING node: broken code
      attrStart = -1;
      attrErr = false;
      prevClean = false;
      continue;
    }
    const start = cur.startIndex;
    const end = cur.endIndex;
    const unitStart = attrStart >= 0 ? attrStart : start;
    const cleanBefore = attrStart >= 0 ? unitClean : prevClean;
    const hadAttrErr = attrErr;
    attrStart = -1;
    attrErr = false;
    if (type === 'ERROR') {
      // nested error regions are opaque: what they hide is unknown
      env.out.push(unparsedUnit(env.text, start, end, modPath, cfg));
      prevClean = false;
      continue;
    }
    if (!ITEM_TYPES.has(type)) {
      if (!inError) env.out.push(unparsedUnit(env.text, start, end, modPath, cfg));
      prevClean = false;
      continue;
    }
    let unknown = ctxUnknown || !cleanBefore;
    if (inError && !unknown) {
      bal += braceBalance(env.text, balFrom, unitStart);
      balFrom = unitStart;
      if (bal !== 0) unknown = true;
    }
    let selfErr = false;
    let bodyErr = false;
    if (env.checkErrors) selfErr = hadAttrErr || cur.currentNode.hasError;
    if (selfErr && !hadAttrErr && !inError && benignErrors(cur.currentNode, env.text, 0)) {
      selfErr = false;
      bodyErr = true;
    }
    if (inError && !selfErr) balFrom = end;
    prevClean = !selfErr;
    const ctx = (unknown ? 1 : 0) | (selfErr ? 2 : 0) | (bodyErr ? 4 : 0);
    const reused = env.reuse?.(type, unitStart, end, modPath, cfg, ctx);
    if (reused) {
      for (const u of reused) env.out.push(u);
      continue;
    }
    if (type === 'mod_item') deriveMod(env, cur, unitStart, end, modPath, cfg, ctx);
    else env.out.push(deriveUnit(env, cur, type, unitStart, end, modPath, cfg, ctx));
  } while (cur.gotoNextSibling());
  cur.gotoParent();
}

/** Is `{ .. }` a complete block: opened and closed by real braces that balance in between? */
function balancedBlock(b: Node, text: string): boolean {
  if (b.endIndex - b.startIndex < 2 || text.charCodeAt(b.startIndex) !== 123 || text.charCodeAt(b.endIndex - 1) !== 125) return false;
  const last = b.lastChild;
  if (!last || last.isMissing) return false;
  return braceBalance(text, b.startIndex, b.endIndex) === 0;
}

/**
 * Is every syntax error of this item one that cannot move its boundaries or hide what the catalog
 * reads? tree-sitter-rust rejects some valid Rust: inside bodies (`&raw` as a variable, attributes
 * on pattern fields) and in types (`dyn 'static + Send`, a lifetime first). Accepted: errors inside
 * a `{ .. }` block whose braces balance (a function body; the item's own parse reads tokens), and
 * an ERROR that is a lone `dyn` before the bounds it applies to. Anything else (another ERROR, a
 * MISSING node) is broken code. Only erroneous subtrees are visited.
 */
function benignErrors(node: Node, text: string, depth: number): boolean {
  if (depth > 48) return false;
  for (const c of node.children) {
    if (!c) return false;
    if (!c.hasError && !c.isMissing) continue;
    if (c.isMissing) return false;
    if (c.type === 'ERROR') {
      if (c.text !== 'dyn') return false;
      const next = c.nextSibling;
      if (!next || (next.type !== 'bounded_type' && next.type !== 'lifetime')) return false;
      continue;
    }
    if (c.type === 'block' || c.type === 'declaration_list') {
      if (!balancedBlock(c, text)) return false;
      if (c.type === 'block') continue; // a body: read as tokens
    }
    if (!benignErrors(c, text, depth + 1)) return false;
  }
  return true;
}

/** The cursor's node type (a function, so TypeScript does not narrow the getter across moves). */
function nodeType(cur: TreeCursor): string {
  return cur.nodeType;
}

function prefixed(modPath: string, s: string): string {
  return modPath ? `${modPath}::${s}` : s;
}

/** Hash of the unit's tokens, documentation attributes left out. */
function unitHash(t: Tokens, attrs: Attrs | null, from: number, to: number): number {
  const h = new Hasher();
  let k = from;
  if (attrs) {
    for (const [a, b] of attrs.docs) {
      h.addTokens(t, k, a);
      k = b;
    }
  }
  h.addTokens(t, k, to);
  return h.value();
}

function joinCfg(outer: string, own: readonly string[]): string {
  if (!own.length) return outer;
  const o = own.join(', ');
  return outer ? `${outer}, ${o}` : o;
}

function deriveMod(env: Env, cur: TreeCursor, unitStart: number, end: number, modPath: string, cfg: string, ctx: number): void {
  const idx = env.out.length;
  const unit: Unit = { type: 'mod_item', start: unitStart, end, modPath, cfg, ctx, items: [], nested: 0 };
  env.out.push(unit);
  // the header: attributes, `mod name`
  let bodyStart = -1;
  if (cur.gotoFirstChild()) {
    do {
      if (nodeType(cur) === 'declaration_list') { bodyStart = cur.startIndex; break; }
    } while (cur.gotoNextSibling());
    cur.gotoParent();
  }
  const t = lexScratch(env.text, unitStart, bodyStart >= 0 ? bodyStart : end);
  const attrs = parseAttrs(t, 0, t.n);
  if (attrs.cfgTest) return; // test-only code is never in the running binary
  const k = skipVis(t, attrs.next, t.n);
  if (!t.is(k, 'mod') || !t.isIdent(k + 1)) return;
  const name = t.str(k + 1);
  const unknown = (ctx & 3) !== 0;
  const modCfg = joinCfg(cfg, attrs.cfg);
  const mm: ItemModel = {
    kind: 'mod', key: prefixed(modPath, `mod ${name}`), name: prefixed(modPath, name), simple: name,
    nameRel: t.start[k + 1] - unitStart, nameLen: t.end[k + 1] - t.start[k + 1], unknown,
    hash: unitHash(t, attrs, 0, t.n),
  };
  if (modCfg) mm.cfg = modCfg;
  unit.items.push({ at: unitStart, m: mm });
  if (bodyStart < 0) return;
  // Items of a mod whose braces or header are broken are all unknown; a mod whose errors sit
  // inside some of its items keeps judging the others.
  let broken = (ctx & 1) !== 0;
  if (!broken && (ctx & 2) !== 0) {
    broken = env.text.charCodeAt(end - 1) !== 125;
    if (!broken && cur.gotoFirstChild()) {
      do {
        if (nodeType(cur) === 'declaration_list') {
          if (cur.gotoFirstChild()) {
            do {
              if (nodeType(cur) === 'ERROR' || cur.nodeIsMissing) { broken = true; break; }
            } while (cur.gotoNextSibling());
            cur.gotoParent();
          }
        } else if (nodeType(cur) === 'ERROR' || cur.nodeIsMissing || (cur.nodeIsNamed && cur.currentNode.hasError)) {
          broken = true;
        }
      } while (cur.gotoNextSibling());
      cur.gotoParent();
    }
  }
  if (cur.gotoFirstChild()) {
    do {
      if (nodeType(cur) === 'declaration_list') {
        walkList(env, cur, prefixed(modPath, name), modCfg, broken, false);
        break;
      }
    } while (cur.gotoNextSibling());
    cur.gotoParent();
  }
  unit.nested = env.out.length - idx - 1;
}

/** Ranges of an impl's methods that have errors, or 'all' when the impl's own structure is broken. */
function implErrorRanges(cur: TreeCursor, env: Env): Array<[number, number]> | 'all' {
  const ranges: Array<[number, number]> = [];
  let all = false;
  if (!cur.gotoFirstChild()) return 'all';
  do {
    if (nodeType(cur) === 'declaration_list') {
      if (env.text.charCodeAt(cur.endIndex - 1) !== 125) all = true;
      if (cur.gotoFirstChild()) {
        let attrFrom = -1;
        do {
          const ty = nodeType(cur);
          if (ty === 'ERROR' || cur.nodeIsMissing) { all = true; break; }
          if (ty === 'attribute_item') {
            if (attrFrom < 0) attrFrom = cur.startIndex;
            if (cur.currentNode.hasError) ranges.push([cur.startIndex, cur.endIndex]);
            continue;
          }
          if (cur.nodeIsNamed && !IGNORED.has(ty)) {
            const from = attrFrom >= 0 ? attrFrom : cur.startIndex;
            attrFrom = -1;
            if (cur.currentNode.hasError) {
              if (ty === 'function_item') ranges.push([from, cur.endIndex]);
              else all = true;
            }
          }
        } while (cur.gotoNextSibling());
        cur.gotoParent();
      }
    } else if (nodeType(cur) === 'ERROR' || cur.nodeIsMissing || (cur.nodeIsNamed && cur.currentNode.hasError)) {
      all = true;
    }
  } while (!all && cur.gotoNextSibling());
  cur.gotoParent();
  return all ? 'all' : ranges;
}

function layoutKey(kind: string, l: Omit<LayoutShape, 'key'>): string {
  const fields = (fs: { name: string; type: string }[]) => fs.map((f) => `${f.name}:${f.type}`).join(',');
  let k = `${kind}|${l.repr}|${l.generics}|${l.shape}|${fields(l.fields)}`;
  if (l.variants) k += '|' + l.variants.map((v) => `${v.name}${v.shape[0]}(${fields(v.fields)})=${v.discriminant}`).join(';');
  return k;
}

function depsOf(t: Tokens, ranges: Array<[number, number]>, generics: string[]): string[] | undefined {
  const out = new Set<string>();
  const g = new Set(generics);
  for (const [a, b] of ranges) collectDeps(t, a, b, g, out);
  return out.size ? [...out] : undefined;
}

function hotRefsIn(t: Tokens, ranges: Array<[number, number]>): HotRef[] | undefined {
  const out: HotRef[] = [];
  for (const [a, b] of ranges) {
    if (a >= b || !mayHaveHotRefs(t.text, t.start[a], t.end[b - 1])) continue;
    scanHotRefs(t, a, b, out);
  }
  return out.length ? out : undefined;
}

/**
 * What a function body holds beyond its hash: closures subsecond never patches (only bodies
 * naming a hot call are read; none when tree-sitter could not parse the body) and the
 * `thread_local!`s it declares.
 */
function bodyFacts(t: Tokens, f: FnSig, unitStart: number, m: ItemModel, closures: boolean): void {
  if (f.bodyOpen < 0) return;
  const s = t.text.slice(t.start[f.bodyOpen], t.end[f.end - 1]);
  if (closures && (s.includes('call') || s.includes('current'))) {
    const found = neverPatchedClosures(t, f, unitStart);
    if (found) m.neverPatched = found;
  }
  if (s.includes('thread_local') && m.fn) {
    const tls: Array<{ name: string; type: string }> = [];
    const last = f.end - 1;
    for (let k = f.bodyOpen + 1; k < last; k++) {
      if (!t.is(k, 'thread_local') || ch(t, k + 1) !== 33) continue;
      const open = ch(t, k + 2);
      if (open !== 123 && open !== 40 && open !== 91) continue;
      const close = skipGroup(t, k + 2, last) - 1;
      for (const d of parseThreadLocals(t, k + 3, close)) tls.push({ name: t.str(d.nameIdx), type: d.type });
      k = close;
    }
    if (tls.length) m.fn.localTls = tls;
  }
}

function simpleItem(kind: ItemKind, key: string, name: string, t: Tokens, nameIdx: number, unitStart: number, unknown: boolean, hash: number): ItemModel {
  return {
    kind, key, name, simple: nameIdx >= 0 ? t.str(nameIdx) : '',
    nameRel: nameIdx >= 0 ? t.start[nameIdx] - unitStart : 0,
    nameLen: nameIdx >= 0 ? t.end[nameIdx] - t.start[nameIdx] : 0,
    unknown, hash,
  };
}

function deriveUnit(env: Env, cur: TreeCursor, type: string, unitStart: number, end: number, modPath: string, cfg: string, ctx: number): Unit {
  const unit: Unit = { type, start: unitStart, end, modPath, cfg, ctx, items: [], nested: 0 };
  const unknown = (ctx & 3) !== 0;
  let methodErrors: Array<[number, number]> | 'all' = [];
  if (type === 'impl_item' && (ctx === 2 || ctx === 4)) methodErrors = implErrorRanges(cur, env);
  try {
    buildItems(env.text, type, unitStart, end, modPath, cfg, unknown, ctx, methodErrors, unit.items);
  } catch {
    // a model we cannot build is left out rather than guessed at
    unit.items.length = 0;
  }
  return unit;
}

/** The item-level macro invocations of an impl or trait, as models see them. */
function macroCalls(t: Tokens, list: readonly MacroMember[], scope: string, unitStart: number): MacroCall[] | undefined {
  if (!list.length) return undefined;
  return list.map((mc) => ({
    name: t.str(mc.nameIdx), scope, rel: t.start[mc.nameIdx] - unitStart, len: t.end[mc.nameIdx] - t.start[mc.nameIdx],
    hash: unitHash(t, null, mc.nameIdx, mc.end),
  }));
}

function buildItems(
  text: string, type: string, unitStart: number, end: number, modPath: string, outerCfg: string,
  unknown: boolean, ctx: number, methodErrors: Array<[number, number]> | 'all', out: Placed[],
): void {
  const t = lexScratch(text, unitStart, end);
  const n = t.n;
  const attrs = parseAttrs(t, 0, n);
  if (attrs.cfgTest) return;
  const cfg = joinCfg(outerCfg, attrs.cfg);
  const place = (m: ItemModel): void => {
    if (cfg && m.cfg === undefined) m.cfg = cfg;
    out.push({ m, at: unitStart });
  };
  let k = skipVis(t, attrs.next, n);
  const hash = () => unitHash(t, attrs, 0, n);
  const other = (kind: ItemKind, label: string) => {
    const h = hash();
    place({
      kind, key: prefixed(modPath, `${label}@${h.toString(36)}`), name: prefixed(modPath, label), simple: '',
      nameRel: t.n ? t.start[attrs.next < n ? attrs.next : 0] - unitStart : 0, nameLen: 0, unknown, hash: h,
    });
  };
  switch (type) {
    case 'struct_item':
    case 'union_item': {
      const s = parseStructLike(t, k, n);
      if (!s) return other('other', t.str(k));
      const name = t.str(s.nameIdx);
      const kind = type === 'struct_item' ? 'struct' : 'union';
      const l = { generics: s.generics.params, repr: attrs.repr.join(', '), shape: s.shape, fields: s.fields };
      const m = simpleItem(kind, prefixed(modPath, name), prefixed(modPath, name), t, s.nameIdx, unitStart, unknown, hash());
      m.layout = { ...l, key: layoutKey(kind, l) };
      m.deps = depsOf(t, s.typeRanges, s.generics.names);
      return place(m);
    }
    case 'enum_item': {
      const e = parseEnum(t, k, n);
      if (!e) return other('other', 'enum');
      const name = t.str(e.nameIdx);
      const l = { generics: e.generics.params, repr: attrs.repr.join(', '), shape: 'named' as const, fields: [], variants: e.variants };
      const m = simpleItem('enum', prefixed(modPath, name), prefixed(modPath, name), t, e.nameIdx, unitStart, unknown, hash());
      m.layout = { ...l, key: layoutKey('enum', l) };
      m.deps = depsOf(t, e.typeRanges, e.generics.names);
      return place(m);
    }
    case 'type_item': {
      if (!t.is(k, 'type') || !t.isIdent(k + 1)) return other('other', 'type');
      const nameIdx = k + 1;
      const name = t.str(nameIdx);
      let i = nameIdx + 1;
      let gNames: string[] = [];
      let gText = '';
      if (ch(t, i) === 60) {
        const g = parseGenerics(t, i, n);
        gNames = g.names;
        gText = g.params;
        i = g.next;
      }
      if (t.is(i, 'where')) i = whereEnd(t, i, n, true);
      if (ch(t, i) !== 61) return other('other', `type ${name}`);
      const te = typeEnd(t, i + 1, n);
      const m = simpleItem('alias', prefixed(modPath, name), prefixed(modPath, name), t, nameIdx, unitStart, unknown, hash());
      m.alias = `${gText}=${render(t, i + 1, te)}`;
      m.deps = depsOf(t, [[i + 1, te]], gNames);
      return place(m);
    }
    case 'static_item':
    case 'const_item': {
      const isStatic = type === 'static_item';
      if (!t.is(k, isStatic ? 'static' : 'const')) return other('other', isStatic ? 'static' : 'const');
      let i = k + 1;
      let mutable = false;
      if (t.is(i, 'mut')) { mutable = true; i++; }
      if (!t.isIdent(i) || ch(t, i + 1) !== 58) return other('other', isStatic ? 'static' : 'const');
      const nameIdx = i;
      const name = t.str(nameIdx);
      const te = typeEnd(t, i + 2, n);
      let initHash = 0;
      let hot: HotRef[] | undefined;
      if (ch(t, te) === 61) {
        const semi = nextTop(t, te + 1, n, 59);
        const h = new Hasher();
        h.addTokens(t, te + 1, semi);
        initHash = h.value();
        hot = hotRefsIn(t, [[te + 1, semi]]);
      }
      const label = name === '_' ? `const _@${hash().toString(36)}` : name;
      const m = simpleItem(isStatic ? 'static' : 'const', prefixed(modPath, label), prefixed(modPath, name), t, nameIdx, unitStart, unknown, hash());
      m.value = { type: render(t, i + 2, te), mutable, initHash };
      if (isStatic) m.deps = depsOf(t, [[i + 2, te]], []);
      if (hot) m.hot = hot;
      return place(m);
    }
    case 'trait_item': {
      while (t.is(k, 'unsafe') || t.is(k, 'auto')) k++;
      if (!t.is(k, 'trait')) return other('other', 'trait');
      const tr = parseTrait(t, k, n);
      if (!tr) return other('other', 'trait');
      const name = t.str(tr.nameIdx);
      const m = simpleItem('trait', prefixed(modPath, name), prefixed(modPath, name), t, tr.nameIdx, unitStart, unknown, hash());
      m.trait = {
        header: tr.header, items: tr.items,
        key: tr.header + '{' + tr.items.map((it) => `${it.kind} ${it.name}:${it.sig}`).join(';') + '}',
      };
      const trMacros = macroCalls(t, tr.macros, m.key, unitStart);
      if (trMacros) m.macros = trMacros;
      const hot = hotRefsIn(t, tr.bodies);
      if (hot) m.hot = hot;
      return place(m);
    }
    case 'function_item':
    case 'function_signature_item': {
      if (attrs.test) return;
      const f = parseFnSig(t, k, n);
      if (!f) return other('other', 'fn');
      const name = t.str(f.nameIdx);
      // errors inside a function (a body mid-edit, or valid code tree-sitter rejects): the
      // function itself is not judged, the items around it are
      const m = simpleItem('fn', prefixed(modPath, name), prefixed(modPath, name), t, f.nameIdx, unitStart, unknown || (ctx & 4) !== 0, hash());
      const bodyEnd = f.bodyOpen >= 0 ? f.end - 1 : -1;
      m.fn = {
        sigKey: f.sigKey, sigDisplay: f.sigDisplay,
        bodyHash: f.bodyOpen >= 0 ? unitHash(t, null, f.bodyOpen + 1, bodyEnd) : 0,
        bodyRel: f.bodyOpen >= 0 ? t.start[f.bodyOpen] - unitStart : 0,
        bodyLen: f.bodyOpen >= 0 ? t.end[f.end - 1] - t.start[f.bodyOpen] : 0,
        isMain: name === 'main' && modPath === '',
      };
      if (attrs.component) m.fn.component = true;
      if (attrs.serverFn !== undefined) m.fn.serverFn = attrs.serverFn;
      if (f.bodyOpen >= 0 && isComponentFn(attrs.component, f.sigDisplay)) m.fn.hooks = hookCallsIn(t, f.bodyOpen + 1, bodyEnd);
      if (f.bodyOpen >= 0) {
        const hot = hotRefsIn(t, [[f.bodyOpen + 1, bodyEnd]]);
        if (hot) m.hot = hot;
        // a body tree-sitter could not parse: no claim about its closures
        bodyFacts(t, f, unitStart, m, !(ctx & 4));
      }
      return place(m);
    }
    case 'impl_item': {
      if (t.is(k, 'unsafe')) k++;
      if (!t.is(k, 'impl')) return other('other', 'impl');
      const im = parseImpl(t, k, n);
      if (!im) return other('other', 'impl');
      // the impl's own code: attributes, header, associated types and consts (methods are items)
      const h = new Hasher();
      let from = 0;
      for (const [a, b] of attrs.docs) { h.addTokens(t, from, a); from = b; }
      h.addTokens(t, from, attrs.next);
      for (const [a, b] of im.ownRanges) h.addTokens(t, a, b);
      const implKey = prefixed(modPath, im.key);
      const implModel: ItemModel = {
        kind: 'impl', key: implKey, name: implKey, simple: im.selfBase,
        nameRel: t.start[k] - unitStart, nameLen: t.end[k] - t.start[k], unknown, hash: h.value(),
      };
      const implMacros = macroCalls(t, im.macros, implKey, unitStart);
      if (implMacros) implModel.macros = implMacros;
      place(implModel);
      for (const me of im.methods) {
        const f = me.sig;
        const name = t.str(f.nameIdx);
        let mUnknown = unknown;
        let bodyErr = false;
        if (ctx === 2 || ctx === 4) {
          const s = t.start[me.first];
          const e = t.end[f.end - 1];
          const hit = methodErrors === 'all' || methodErrors.some(([a, b]) => a < e && b > s);
          if (ctx === 2) mUnknown = hit;
          else bodyErr = mUnknown = hit;
        }
        const bodyEnd = f.bodyOpen >= 0 ? f.end - 1 : -1;
        const mh = unitHash(t, me.attrs, me.first, f.end);
        const m = simpleItem('fn', `${implKey}::${name}`, prefixed(modPath, `${im.selfBase}::${name}`), t, f.nameIdx, unitStart, mUnknown, mh);
        m.fn = {
          sigKey: f.sigKey, sigDisplay: f.sigDisplay,
          bodyHash: f.bodyOpen >= 0 ? unitHash(t, null, f.bodyOpen + 1, bodyEnd) : 0,
          bodyRel: f.bodyOpen >= 0 ? t.start[f.bodyOpen] - unitStart : 0,
          bodyLen: f.bodyOpen >= 0 ? t.end[f.end - 1] - t.start[f.bodyOpen] : 0,
          selfType: im.selfText,
          isMain: false,
        };
        if (f.bodyOpen >= 0) {
          const hot = hotRefsIn(t, [[f.bodyOpen + 1, bodyEnd]]);
          if (hot) m.hot = hot;
          bodyFacts(t, f, unitStart, m, !bodyErr);
        }
        if (me.attrs.cfg.length) m.cfg = joinCfg(cfg, me.attrs.cfg);
        place(m);
      }
      return;
    }
    case 'macro_invocation':
    case 'expression_statement': {
      // path!(...) — thread_local! declares thread-locals; other macros are opaque code
      let i = k;
      let last = '';
      if (t.is(i, '::')) i++;
      while (t.kind[i] === T_IDENT) {
        last = t.str(i);
        i++;
        if (t.is(i, '::')) i++;
        else break;
      }
      if (!last || ch(t, i) !== 33) return other('other', type === 'expression_statement' ? 'statement' : 'macro');
      const open = i + 1;
      if (last === 'thread_local' && (ch(t, open) === 123 || ch(t, open) === 40 || ch(t, open) === 91)) {
        const close = skipGroup(t, open, n) - 1;
        for (const d of parseThreadLocals(t, open + 1, close)) {
          const name = t.str(d.nameIdx);
          const m = simpleItem('tl', prefixed(modPath, name), prefixed(modPath, name), t, d.nameIdx, unitStart, unknown, unitHash(t, null, d.first, d.end));
          m.value = { type: d.type, mutable: false, initHash: d.initHash };
          m.deps = depsOf(t, [d.typeRange], []);
          place(m);
        }
        return;
      }
      const label = `${render(t, k, i)}!`;
      const h = hash();
      const mc = macroMemberAt(t, k, n);
      place({
        kind: 'macro', key: prefixed(modPath, `${label}@${h.toString(36)}`), name: prefixed(modPath, label), simple: '',
        nameRel: t.start[k] - unitStart, nameLen: 0, unknown, hash: h,
        macros: [{
          name: last, scope: modPath, rel: t.start[i - 1] - unitStart, len: t.end[i - 1] - t.start[i - 1],
          hash: unitHash(t, null, k, mc ? mc.end : n),
        }],
      });
      return;
    }
    case 'macro_definition': {
      if (t.is(k, 'macro_rules') && ch(t, k + 1) === 33 && t.isIdent(k + 2)) {
        const name = t.str(k + 2);
        place(simpleItem('macro', prefixed(modPath, `macro_rules! ${name}`), prefixed(modPath, `${name}!`), t, k + 2, unitStart, unknown, hash()));
        return;
      }
      return other('macro', 'macro_rules!');
    }
    case 'use_declaration':
      return other('use', render(t, k, Math.min(n, k + 12)));
    default:
      return other('other', type.replace(/_item$|_declaration$/, ''));
  }
}

