// `npm run bench -- real-crates`: the safety gate swept over real crates' sources.
//
// A throwaway Cargo project under $TMPDIR depends on a few popular crates (pinned versions);
// `cargo fetch` brings their sources into cargo's cache and `cargo metadata` says where they are.
// Nothing of them is copied anywhere: the sweep reads them where cargo put them.
//
// Every library source file (tests and benches left out) is loaded into one analyzer, one crate
// per package, as the server indexes a workspace; that is the baseline. Then generated edits are
// saved one at a time, each followed by its revert, and the findings of the whole workspace are
// read after every save (what the server does).
//
// The generator knows the truth of each edit because it makes edits of known classes only, on
// nodes it finds with tree-sitter (the grammar, not the analysis' item model):
// - neutral edits (no finding may block the patch): a statement inserted at the top of a function
//   body, an integer literal changed in a body, a comment inserted in a struct body, a named field
//   renamed in place (same type, same position: the layout is the same);
// - restart edits on one item, each a change the catalog (README) says requires a restart: a
//   field appended to a struct, a field's type replaced (`[u8; 37]`), a tuple field appended or
//   retyped, a variant appended to an enum, two implicit-discriminant variants swapped, a variant
//   payload retyped, a method added to a trait, a static or thread-local retyped;
// - macro edits: a token appended to the input of an item-level macro invocation (expected: one
//   info `macro-items-not-judged` on that invocation).
// Edits are made only where the code is in the running binary: not in items or mods under
// `#[cfg(test)]` (or `#[test]` functions), not in files under tests/ or benches/, not in items
// local to a function body, not in `extern` blocks.
//
// Judged:
// - false positive: a neutral or macro edit after which any finding of severity restart or
//   warning is present that the baseline did not have (anywhere in the workspace);
// - miss: a restart edit without a restart finding of the expected code on the edited item's name
//   (a macro edit without its info counts as a macro miss);
// - collateral: extra restart findings after a restart edit on other items; those that say they
//   embed/hold the edited type by value are true consequences, any other counts as a false positive;
// - stale: a revert after which the findings differ from the baseline's.
// The latency is per save (update + findings of the file + findings of the workspace), edits and
// reverts alike. Also reported: which layout edits a HotState migration could carry (the type
// implements both serde traits; serde-migratable.ts).
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Node, Tree } from 'web-tree-sitter';
import { PatchabilityAnalyzer } from '../server/src/analysis';
import type { Finding, FindingCode } from '../server/src/analysis';
import { loadRust, RustParser } from '../server/src/analysis/syntax';
import { mulberry32 } from '../test/unit/analysis/fuzz-support';
import { median } from './stats';
import { manualSerdeImpls, oldValueDeserializes, serdeSupport, SerdeSupport } from './serde-migratable';

const CRATES: Record<string, string> = { ratatui: '=0.29.0', egui: '=0.34.3', serde_json: '=1.0.154', bevy_ecs: '=0.19.1' };
const MAX_FILE_BYTES = 2 * 1024 * 1024;
const SEED = Number(process.env.REAL_CRATES_SEED ?? 12);
/** Edits per file and class (at most), so that large files do not dominate; REAL_CRATES_ALL=1 takes every candidate. */
const PER_FILE = process.env.REAL_CRATES_ALL ? { neutral: Infinity, restart: Infinity, macro: Infinity } : { neutral: 4, restart: 8, macro: 2 };

type EditClass = 'neutral' | 'restart' | 'macro';

interface Edit {
  file: string;
  cls: EditClass;
  /** What was done, for the report. */
  what: string;
  at: number;
  del: number;
  ins: string;
  /** Restart edits: the code expected and where the item's name starts (index in the edited text). */
  expect?: FindingCode;
  nameAt?: number;
  item?: string;
  /** Layout edits: the attributes written on the edited type (for the migration report). */
  attrs?: string;
}

function sources(): Array<{ crate: string; dir: string }> {
  const root = path.join(process.env.TMPDIR || os.tmpdir(), 'real-crates-sweep');
  fs.mkdirSync(path.join(root, 'src'), { recursive: true });
  const deps = Object.entries(CRATES).map(([n, v]) => `${n} = "${v}"`).join('\n');
  fs.writeFileSync(path.join(root, 'Cargo.toml'), `[package]\nname = "real-crates-sweep"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n[dependencies]\n${deps}\n`);
  fs.writeFileSync(path.join(root, 'src', 'main.rs'), 'fn main() {}\n');
  execFileSync('cargo', ['fetch', '--quiet'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  const meta = JSON.parse(execFileSync('cargo', ['metadata', '--format-version', '1', '--offline'], { cwd: root, maxBuffer: 256 * 1024 * 1024 }).toString());
  const out: Array<{ crate: string; dir: string }> = [];
  for (const name of Object.keys(CRATES)) {
    const p = (meta.packages as Array<{ name: string; version: string; manifest_path: string }>).find((x) => x.name === name);
    if (p) out.push({ crate: `${name}-${p.version}`, dir: path.join(path.dirname(p.manifest_path), 'src') });
  }
  return out;
}

function rustFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'tests' && e.name !== 'benches') walk(p);
      } else if (e.name.endsWith('.rs') && e.name !== 'tests.rs' && e.name !== 'test.rs') {
        out.push(p);
      }
    }
  };
  walk(dir);
  return out.sort();
}

/** `#[cfg(test)]`-like: the item is not in a normal build. */
function testOnly(attrs: string): boolean {
  for (const m of attrs.matchAll(/#\s*\[\s*cfg\s*\(([\s\S]*?)\)\s*\]/g)) {
    if (/\btest\b/.test(m[1]) && !/\bnot\s*\(/.test(m[1])) return true;
  }
  return /#\s*\[\s*(?:[\w:]+::)?test\s*\]/.test(attrs);
}

/** End of a type written at `i` in a token tree: the `=` at bracket depth 0. */
function typeEndIn(text: string, i: number, lim: number): number {
  let depth = 0;
  for (let k = i; k < lim; k++) {
    const c = text[k];
    if (c === '<' || c === '(' || c === '[') depth++;
    else if ((c === '>' && text[k - 1] !== '-') || c === ')' || c === ']') depth--;
    else if (c === '=' && depth === 0) return k;
  }
  return -1;
}

/** The edits the generator can make on one file, with their truth. */
function candidates(file: string, text: string, tree: Tree): Edit[] {
  const out: Edit[] = [];
  const nameOf = (n: Node) => n.childForFieldName('name');
  const visit = (list: Node, inTest: boolean) => {
    let attrs = '';
    for (const n of list.namedChildren) {
      if (!n) continue;
      if (n.type === 'attribute_item') { attrs += text.slice(n.startIndex, n.endIndex); continue; }
      if (n.type === 'line_comment' || n.type === 'block_comment') continue;
      const test = inTest || testOnly(attrs);
      const itemAttrs = attrs;
      attrs = '';
      if (test) continue;
      const name = nameOf(n);
      switch (n.type) {
        case 'mod_item': {
          const body = n.childForFieldName('body');
          if (body) visit(body, false);
          break;
        }
        case 'impl_item':
        case 'trait_item': {
          const body = n.childForFieldName('body');
          if (body) {
            bodiesIn(body, false);
            macrosIn(body);
          }
          if (n.type === 'trait_item' && body && name) {
            out.push({ file, cls: 'restart', what: 'method added to trait', at: body.startIndex + 1, del: 0, ins: '\n    fn __sweep_probe(&self) {}\n', expect: 'trait-changed', nameAt: name.startIndex, item: name.text });
          }
          break;
        }
        case 'function_item':
          fnBody(n);
          break;
        case 'struct_item':
        case 'union_item':
          if (name) layoutEdits(n, name, 'struct-layout-changed', itemAttrs);
          break;
        case 'enum_item':
          if (name) layoutEdits(n, name, 'enum-layout-changed', itemAttrs);
          break;
        case 'static_item': {
          const ty = n.childForFieldName('type');
          if (name && ty && ty.text !== '[u8; 37]') {
            out.push({ file, cls: 'restart', what: 'static retyped', at: ty.startIndex, del: ty.endIndex - ty.startIndex, ins: '[u8; 37]', expect: 'static-type-changed', nameAt: name.startIndex, item: name.text });
          }
          break;
        }
        case 'macro_invocation':
          macroEdit(n);
          break;
        case 'expression_statement': {
          const m = n.namedChild(0);
          if (m?.type === 'macro_invocation') macroEdit(m);
          break;
        }
        default:
          break;
      }
    }
  };
  const macroName = (n: Node): Node | null => {
    const m = n.childForFieldName('macro');
    if (!m) return null;
    return m.type === 'scoped_identifier' ? m.childForFieldName('name') : m;
  };
  const macroEdit = (n: Node) => {
    const mn = macroName(n);
    const tt = n.namedChildren.find((c) => c?.type === 'token_tree');
    if (!mn || !tt || tt.endIndex - tt.startIndex < 2) return;
    if (mn.text === 'thread_local') {
      const inner = text.slice(tt.startIndex, tt.endIndex);
      for (const m of inner.matchAll(/\bstatic\s+([A-Za-z_]\w*)\s*:\s*/g)) {
        const tyAt = tt.startIndex + m.index! + m[0].length;
        const e = typeEndIn(text, tyAt, tt.endIndex);
        if (e < 0) continue;
        let tyEnd = e;
        while (/\s/.test(text[tyEnd - 1])) tyEnd--;
        out.push({ file, cls: 'restart', what: 'thread-local retyped', at: tyAt, del: tyEnd - tyAt, ins: '[u8; 37]', expect: 'thread-local-type-changed', nameAt: tt.startIndex + m.index! + m[0].indexOf(m[1], 6), item: m[1] });
      }
      return;
    }
    out.push({ file, cls: 'macro', what: `${mn.text}! input changed`, at: tt.endIndex - 1, del: 0, ins: ' __sweep_probe ', nameAt: mn.startIndex, item: `${mn.text}!` });
  };
  const macrosIn = (body: Node) => {
    for (const c of body.namedChildren) if (c?.type === 'macro_invocation') macroEdit(c);
  };
  const fnBody = (fn: Node) => {
    const body = fn.childForFieldName('body');
    if (!body || body.type !== 'block') return;
    out.push({ file, cls: 'neutral', what: 'statement inserted in a body', at: body.startIndex + 1, del: 0, ins: ' let _sweep_probe = 0u8;' });
    const lit = firstOfType(body, 'integer_literal');
    if (lit) {
      const v = lit.text === '1' ? '2' : '1';
      out.push({ file, cls: 'neutral', what: 'literal changed in a body', at: lit.startIndex, del: lit.endIndex - lit.startIndex, ins: v });
    }
  };
  const bodiesIn = (declList: Node, inTest: boolean) => {
    let attrs = '';
    for (const c of declList.namedChildren) {
      if (!c) continue;
      if (c.type === 'attribute_item') { attrs += c.text; continue; }
      const test = inTest || testOnly(attrs);
      attrs = '';
      if (!test && c.type === 'function_item') fnBody(c);
    }
  };
  const layoutEdits = (n: Node, name: Node, code: FindingCode, attrs: string) => {
    const body = n.childForFieldName('body');
    if (!body) return;
    const push = (what: string, at: number, del: number, ins: string, cls: EditClass = 'restart') => {
      out.push(cls === 'restart' ? { file, cls, what, at, del, ins, expect: code, nameAt: name.startIndex, item: name.text, attrs } : { file, cls, what, at, del, ins });
    };
    // appending to a comma-separated list in `body` whose last element is `last`
    const append = (what: string, last: Node | undefined, item: string) => {
      if (!last) { push(what, body.startIndex + 1, 0, ` ${item} `); return; }
      const tail = text.slice(last.endIndex, body.endIndex - 1);
      if (tail.includes(',')) push(what, body.endIndex - 1, 0, ` ${item}, `);
      else push(what, last.endIndex, 0, `, ${item}`);
    };
    if (body.type === 'field_declaration_list') {
      const fields = body.namedChildren.filter((c): c is Node => c?.type === 'field_declaration');
      append('field appended', fields[fields.length - 1], '__sweep_probe: u8');
      const f0 = fields[0];
      const ty = f0?.childForFieldName('type');
      if (ty && ty.text !== '[u8; 37]') push('field retyped', ty.startIndex, ty.endIndex - ty.startIndex, '[u8; 37]');
      const fname = f0?.childForFieldName('name');
      if (fname) push('field renamed in place', fname.startIndex, fname.endIndex - fname.startIndex, `${fname.text}_swept`, 'neutral');
      push('comment in a struct body', body.startIndex + 1, 0, ' /* sweep */ ', 'neutral');
    } else if (body.type === 'ordered_field_declaration_list') {
      const types = body.namedChildren.filter((c): c is Node => !!c && c.type !== 'attribute_item' && c.type !== 'visibility_modifier' && !c.type.endsWith('comment'));
      append('tuple field appended', types[types.length - 1], 'u8');
      const t0 = types[0];
      if (t0 && t0.text !== '[u8; 37]') push('tuple field retyped', t0.startIndex, t0.endIndex - t0.startIndex, '[u8; 37]');
    } else if (body.type === 'enum_variant_list') {
      const vs = body.namedChildren.filter((c): c is Node => c?.type === 'enum_variant');
      append('variant appended', vs[vs.length - 1], '__SweepProbe');
      const implicit = vs.filter((v) => !v.childForFieldName('value'));
      if (implicit.length === vs.length && vs.length >= 2 && vs[0].text !== vs[1].text) {
        // swap the first two variants' texts (attributes stay where they are)
        const a = vs[0];
        const b = vs[1];
        push('variants swapped', a.startIndex, b.endIndex - a.startIndex, b.text + text.slice(a.endIndex, b.startIndex) + a.text);
      }
      for (const v of vs) {
        const payload = v.childForFieldName('body');
        if (payload?.type !== 'ordered_field_declaration_list') continue;
        const t0 = payload.namedChildren.find((c): c is Node => !!c && c.type !== 'attribute_item' && c.type !== 'visibility_modifier' && !c.type.endsWith('comment'));
        if (t0 && t0.text !== '[u8; 37]') push('variant payload retyped', t0.startIndex, t0.endIndex - t0.startIndex, '[u8; 37]');
        break;
      }
    }
  };
  visit(tree.rootNode, false);
  return out;
}

function firstOfType(n: Node, type: string): Node | null {
  const c = n.walk();
  try {
    for (;;) {
      if (c.nodeType === type) return c.currentNode;
      if (c.gotoFirstChild()) continue;
      while (!c.gotoNextSibling()) {
        if (!c.gotoParent() || c.nodeId === n.id) return null;
      }
      if (c.nodeId === n.id) return null;
    }
  } finally {
    c.delete();
  }
}

function position(text: string, index: number): { line: number; character: number } {
  let line = 0;
  let ls = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < index; i = text.indexOf('\n', i + 1)) {
    line++;
    ls = i + 1;
  }
  return { line, character: index - ls };
}

const key = (f: Finding) => `${f.file}:${f.range.start.line}:${f.range.start.character}:${f.code}:${f.message}`;

export async function benchRealCrates(log: (line: string) => void): Promise<Record<string, number>> {
  let srcs: Array<{ crate: string; dir: string }>;
  try {
    srcs = sources();
  } catch (err) {
    log(`(cargo could not fetch the crates: ${(err as Error).message}; nothing measured)`);
    return {};
  }
  const files: Array<{ file: string; crate: string; text: string }> = [];
  for (const s of srcs) {
    for (const f of rustFiles(s.dir)) {
      const text = fs.readFileSync(f, 'utf8');
      if (Buffer.byteLength(text) <= MAX_FILE_BYTES) files.push({ file: f, crate: s.crate, text });
    }
  }
  const crateOf = new Map(files.map((f) => [f.file, f.crate]));
  const lines = files.reduce((n, f) => n + f.text.split('\n').length, 0);
  log(`crates: ${srcs.map((s) => s.crate).join(', ')}: ${files.length} files, ${lines} lines`);

  // the edits, with their truth, from tree-sitter nodes
  const parser = new RustParser(await loadRust());
  const r = mulberry32(SEED);
  const edits: Edit[] = [];
  const offered = { neutral: 0, restart: 0, macro: 0 };
  let fileErrors = 0;
  for (const f of files) {
    const tree = parser.parse(f.text);
    if (!tree) continue;
    if (tree.rootNode.hasError) fileErrors++;
    const all = candidates(f.file, f.text, tree);
    tree.delete();
    for (const cls of ['neutral', 'restart', 'macro'] as const) {
      const list = all.filter((e) => e.cls === cls);
      offered[cls] += list.length;
      for (let i = list.length - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1));
        [list[i], list[j]] = [list[j], list[i]];
      }
      edits.push(...list.slice(0, PER_FILE[cls]));
    }
  }
  parser.dispose();
  const n = (cls: EditClass) => `${edits.filter((e) => e.cls === cls).length} of ${offered[cls]} ${cls}`;
  log(`${edits.length} edits (${n('neutral')}, ${n('restart')}, ${n('macro')} candidates); tree-sitter reports errors in ${fileErrors} of these valid files`);

  const a = await PatchabilityAnalyzer.create({ crateOf: (f) => crateOf.get(f), threadLocalPolicy: 'keep' });
  const t0 = performance.now();
  for (const f of files) a.update(f.file, f.text);
  const baseline = [...a.findings().values()].flat();
  const indexMs = performance.now() - t0;
  const baseKeys = new Set(baseline.map(key));
  log(`indexed in ${indexMs.toFixed(0)} ms; baseline findings: ${baseline.length} (${[...new Set(baseline.map((f) => f.code))].join(', ') || 'none'})`);

  const texts = new Map(files.map((f) => [f.file, f.text]));
  const lat: number[] = [];
  const latBig: number[] = [];
  const save = (file: string, text: string): Finding[] => {
    const s = performance.now();
    a.update(file, text);
    a.findingsFor(file);
    const all = [...a.findings().values()].flat();
    const ms = performance.now() - s;
    lat.push(ms);
    if (text.length > 100000) latBig.push(ms);
    return all;
  };
  const counts = { neutral: 0, restart: 0, macro: 0, fp: 0, miss: 0, macroMiss: 0, collateral: 0, stale: 0, crashed: 0 };
  const byWhat = new Map<string, { n: number; miss: number; fp: number }>();
  const shown: string[] = [];
  const show = (s: string) => { if (shown.length < 25) shown.push(s); };
  for (const e of edits) {
    const orig = texts.get(e.file)!;
    const edited = orig.slice(0, e.at) + e.ins + orig.slice(e.at + e.del);
    const stat = byWhat.get(e.what) ?? { n: 0, miss: 0, fp: 0 };
    byWhat.set(e.what, stat);
    stat.n++;
    counts[e.cls]++;
    const where = `${path.relative(path.dirname(path.dirname(e.file)), e.file)}:${position(orig, e.at).line + 1}`;
    let after: Finding[];
    try {
      after = save(e.file, edited);
    } catch (err) {
      counts.crashed++;
      show(`CRASH ${where} ${e.what}: ${(err as Error).message}`);
      continue;
    }
    const fresh = after.filter((f) => !baseKeys.has(key(f)));
    const blocking = fresh.filter((f) => f.severity === 'restart' || f.severity === 'warning');
    if (e.cls === 'restart') {
      const nameAt = e.nameAt! + (e.nameAt! >= e.at + e.del ? e.ins.length - e.del : 0);
      const p = position(edited, nameAt);
      const hit = blocking.find((f) => f.file === e.file && f.code === e.expect && f.range.start.line === p.line && f.range.start.character === p.character);
      if (!hit) {
        counts.miss++;
        stat.miss++;
        show(`MISS ${where} ${e.what} on \`${e.item}\`: got ${blocking.map((f) => `${f.code} ${f.item}`).join(', ') || 'nothing'}`);
      }
      for (const f of blocking) {
        if (f === hit) continue;
        if (/ (embeds|holds) `/.test(f.message)) counts.collateral++;
        else {
          counts.fp++;
          stat.fp++;
          show(`FP (collateral) ${where} ${e.what} on \`${e.item}\`: ${f.code} ${f.item}: ${f.message}`);
        }
      }
    } else {
      if (blocking.length) {
        counts.fp++;
        stat.fp++;
        show(`FP ${where} ${e.what}: ${blocking.map((f) => `${f.code} ${f.item}: ${f.message}`).join(' | ')}`);
      }
      if (e.cls === 'macro') {
        const p = position(edited, e.nameAt!);
        const infos = fresh.filter((f) => f.code === 'macro-items-not-judged' && f.file === e.file && f.range.start.line === p.line && f.range.start.character === p.character);
        if (infos.length !== 1) {
          counts.macroMiss++;
          stat.miss++;
          show(`MACRO ${where} ${e.what}: ${infos.length} infos on the invocation`);
        }
      }
    }
    const reverted = save(e.file, orig);
    const back = reverted.map(key).sort().join('\n');
    if (back !== [...baseKeys].sort().join('\n')) {
      counts.stale++;
      show(`STALE ${where} ${e.what}: after the revert ${reverted.length} findings, baseline ${baseline.length}`);
    }
  }
  a.dispose();
  for (const s of shown) log(s);
  for (const [what, s] of [...byWhat].sort()) log(`  ${what}: ${s.n} edits, ${s.miss} missed, ${s.fp} false positives`);
  const sorted = [...lat].sort((x, y) => x - y);
  const p = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  log(`neutral edits: ${counts.neutral}, false positives: ${counts.fp} (neutral, macro or collateral)`);
  log(`restart edits: ${counts.restart}, missed: ${counts.miss}; collateral findings (embedding): ${counts.collateral}`);
  log(`macro edits: ${counts.macro}, without their one info: ${counts.macroMiss}`);
  log(`reverts that did not restore the baseline findings: ${counts.stale}; crashes: ${counts.crashed}`);
  const migratable = migrationReport(edits, files, log);
  log(`per save (${lat.length} saves): median ${median(lat).toFixed(2)} ms, p90 ${p(0.9).toFixed(2)} ms, max ${p(1).toFixed(1)} ms; files over 100k chars: median ${median(latBig).toFixed(2)} ms`);
  return {
    files: files.length, lines, edits: edits.length,
    neutral_edits: counts.neutral, restart_edits: counts.restart, macro_edits: counts.macro,
    false_positives: counts.fp, misses: counts.miss, macro_misses: counts.macroMiss, stale_reverts: counts.stale, crashes: counts.crashed,
    save_median_ms: median(lat), save_p90_ms: p(0.9), save_max_ms: p(1), save_big_file_median_ms: median(latBig), index_ms: indexMs,
    ...migratable,
  };
}

/**
 * Among the sweep's layout edits (a struct's or enum's layout changed), those a HotState
 * migration could carry had the type's values been in a handle: the type implements both serde
 * traits (serde-migratable.ts). Per edit and per distinct type; and how many of those edits, as
 * the sweep makes them, the derived Deserialize would read the old value into.
 */
function migrationReport(edits: Edit[], files: Array<{ file: string; crate: string; text: string }>, log: (line: string) => void): Record<string, number> {
  const manualByCrate = new Map<string, Set<string>>();
  for (const crate of new Set(files.map((f) => f.crate))) manualByCrate.set(crate, manualSerdeImpls(files.filter((f) => f.crate === crate).map((f) => f.text)));
  const crateOf = new Map(files.map((f) => [f.file, f.crate]));
  const layout = edits.filter((e) => e.expect === 'struct-layout-changed' || e.expect === 'enum-layout-changed');
  const support = (e: Edit): SerdeSupport => serdeSupport(e.attrs ?? '', e.item!, manualByCrate.get(crateOf.get(e.file)!) ?? new Set());
  const count = (list: Edit[], s: SerdeSupport) => list.filter((e) => support(e) === s).length;
  const types = new Map<string, Edit>();
  for (const e of layout) types.set(`${crateOf.get(e.file)}::${e.item}@${e.file}`, e);
  const typeList = [...types.values()];
  const pct = (a: number, b: number) => (b ? ((100 * a) / b).toFixed(1) : '0.0');
  const serde = layout.filter((e) => support(e) !== 'none');
  const readable = serde.filter((e) => oldValueDeserializes(e.what, e.attrs ?? ''));
  log(
    `state migration: of ${layout.length} layout edits (${typeList.length} types), the type implements Serialize and Deserialize in ${serde.length} (${pct(serde.length, layout.length)}%): ` +
      `derived ${count(layout, 'derive')}, derived behind a cfg_attr (a cargo feature) ${count(layout, 'derive-behind-cfg')}, by hand ${count(layout, 'impl')}; ` +
      `per type ${typeList.length - count(typeList, 'none')} of ${typeList.length} (${pct(typeList.length - count(typeList, 'none'), typeList.length)}%)`,
  );
  for (const crate of new Set(layout.map((e) => crateOf.get(e.file)!))) {
    const mine = layout.filter((e) => crateOf.get(e.file) === crate);
    log(`  ${crate}: ${mine.length - count(mine, 'none')} of ${mine.length} layout edits (derive ${count(mine, 'derive')}, cfg_attr ${count(mine, 'derive-behind-cfg')}, by hand ${count(mine, 'impl')})`);
  }
  log(`  of those, the edit as made still reads the old value with the derived Deserialize (a variant appended or swapped, a field appended under a container #[serde(default)]): ${readable.length}`);
  return {
    layout_edits: layout.length,
    layout_edits_serde: serde.length,
    layout_edits_serde_derive: count(layout, 'derive'),
    layout_edits_serde_cfg_attr: count(layout, 'derive-behind-cfg'),
    layout_edits_serde_by_hand: count(layout, 'impl'),
    layout_edit_types: typeList.length,
    layout_edit_types_serde: typeList.length - count(typeList, 'none'),
    layout_edits_serde_old_value_reads: readable.length,
  };
}
