// Benchmark of the analysis layer: per-save cost on a 2k-line and a 20k-line file (one-line
// edits inside function bodies and in struct fields, split into parse / items / diff), and the
// cost of indexing a 300-file workspace (first update of each file).
// Measures and prints medians; never passes or fails (targets: ≤ 5 ms and ≤ 40 ms per save,
// ≤ 2 s to index 300 files). Sources are generated in memory, deterministically.
import { PatchabilityAnalyzer } from '../server/src/analysis';
import { mulberry32 } from '../test/unit/analysis/fuzz-support';

const TYPES = ['u32', 'u64', 'f32', 'bool', 'String', 'Vec<u8>', 'Option<Box<Node>>', 'HashMap<String, usize>', '(f32, f32)', '[u8; 16]', 'Arc<Mutex<Vec<String>>>'];

/** A realistic Rust source of about `lines` lines: types, impls with real bodies, traits, mods. */
export function generateRust(lines: number, seed: number, prefix = 'T'): string {
  const r = mulberry32(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const out: string[] = [
    '//! Generated module for the analysis benchmark.',
    'use std::collections::HashMap;',
    'use std::sync::{Arc, Mutex};',
    '',
    'thread_local! {',
    `    static ${prefix.toUpperCase()}_SCRATCH: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(Vec::new());`,
    '}',
    '',
  ];
  let n = 0;
  while (out.length < lines) {
    const name = `${prefix}${n++}`;
    out.push(`/// State of the ${name} subsystem.`, '#[derive(Debug, Clone, Default)]', `pub struct ${name} {`);
    for (let f = 0, nf = 3 + Math.floor(r() * 5); f < nf; f++) out.push(`    pub field_${f}: ${pick(TYPES)},`);
    out.push('    pub weight: u32,', '}', '');
    out.push('#[derive(Debug, Clone, Copy, PartialEq)]', `pub enum ${name}Mode {`, '    Idle,', '    Running { speed: f32 },', `    Stopped(u32),`, '}', '');
    out.push(`impl ${name} {`);
    for (let m = 0, nm = 2 + Math.floor(r() * 4); m < nm; m++) {
      out.push(`    /// Method ${m} of ${name}.`, `    pub fn method_${m}(&mut self, input: &[u8], scale: f32) -> Option<usize> {`);
      out.push(`        let v = ${Math.floor(r() * 100)};`);
      out.push('        let mut total = 0usize;', '        for (i, b) in input.iter().enumerate() {', '            if *b as usize % 3 == i % 3 {');
      out.push('                total += (*b as f32 * scale) as usize + v;', '            } else {', '                total = total.saturating_sub(1);', '            }', '        }');
      out.push(`        let label = format!("{} {}", "${name}", total); // "{braces}" in a string`, '        if label.len() > 64 { return None; }');
      out.push('        match total % 4 {', '            0 => Some(total),', '            1 | 2 => Some(total / 2),', '            _ => None,', '        }', '    }', '');
    }
    out.push('}', '');
    if (n % 4 === 0) {
      out.push(`pub trait ${name}Ext {`, '    fn describe(&self) -> String;', '    fn weight(&self) -> u32 { 0 }', '}', '');
      out.push(`impl ${name}Ext for ${name} {`, '    fn describe(&self) -> String {', '        format!("{:?}", self)', '    }', '}', '');
    }
    if (n % 6 === 0) {
      out.push(`pub static ${name.toUpperCase()}_LIMIT: u32 = ${n * 10};`, `const ${name.toUpperCase()}_NAME: &str = "${name}";`, '');
    }
    if (n % 9 === 0) {
      out.push(`pub mod ${name.toLowerCase()}_util {`, '    pub fn clamp(x: i64, lo: i64, hi: i64) -> i64 {', '        let v = 0;', '        x.max(lo).min(hi) + v', '    }', '}', '');
    }
    out.push(`pub fn free_${n}(items: &mut Vec<${name}>) -> usize {`, '        let v = 1;', '    items.retain(|it| it.weight > 0);', '    items.len() + v', '}', '');
  }
  return out.join('\n') + '\n';
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[s.length >> 1] : NaN;
}

interface SaveStats {
  total: number;
  parse: number;
  items: number;
  diff: number;
}

/** Save `samples` one-line edits of kind `kind` (after `warmup` unmeasured ones). */
function measureSaves(a: PatchabilityAnalyzer, file: string, text: string, kind: 'body' | 'field', samples: number, warmup: number): { stats: SaveStats; text: string } {
  const re = kind === 'body' ? /let v = (\d+);/g : /pub weight: (u32|u64),/g;
  const sites: number[] = [];
  for (let m = re.exec(text); m; m = re.exec(text)) sites.push(m.index);
  const totals: number[] = [];
  const parses: number[] = [];
  const items: number[] = [];
  const diffs: number[] = [];
  let cur = text;
  for (let k = 0; k < warmup + samples; k++) {
    // spread edits over the file; the text grows or shrinks by a character at most
    const at = sites[Math.floor(((k * 7919) % sites.length))];
    const lineEnd = cur.indexOf('\n', at);
    const line = cur.slice(at, lineEnd);
    const next = kind === 'body'
      ? line.replace(/\d+/, (d) => String((Number(d) + 1) % 1000))
      : line.includes('u32') ? line.replace('u32', 'u64') : line.replace('u64', 'u32');
    cur = cur.slice(0, at) + next + cur.slice(lineEnd);
    if (next.length !== line.length) {
      const d = next.length - line.length;
      for (let i = 0; i < sites.length; i++) if (sites[i] > at) sites[i] += d;
    }
    const t0 = performance.now();
    a.update(file, cur);
    const t1 = performance.now();
    a.findingsFor(file);
    const t2 = performance.now();
    if (k >= warmup) {
      totals.push(t2 - t0);
      parses.push(a.lastUpdate.parse);
      items.push(a.lastUpdate.items);
      diffs.push(t1 - t0 - a.lastUpdate.parse - a.lastUpdate.items + (t2 - t1));
    }
  }
  return { stats: { total: median(totals), parse: median(parses), items: median(items), diff: median(diffs) }, text: cur };
}

export async function benchAnalysis(log: (line: string) => void): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const a = await PatchabilityAnalyzer.create();
  const fmt = (x: number) => x.toFixed(2);
  for (const lines of [2000, 20000]) {
    const label = lines === 2000 ? '2k' : '20k';
    const file = `/bench/src/file_${label}.rs`;
    const text = generateRust(lines, lines);
    const t0 = performance.now();
    a.update(file, text);
    const first = performance.now() - t0;
    out[`first_update_${label}_ms`] = first;
    let cur = text;
    for (const kind of ['body', 'field'] as const) {
      const r = measureSaves(a, file, cur, kind, lines === 2000 ? 60 : 40, 10);
      cur = r.text;
      const s = r.stats;
      out[`save_${label}_${kind}_ms`] = s.total;
      out[`save_${label}_${kind}_parse_ms`] = s.parse;
      out[`save_${label}_${kind}_items_ms`] = s.items;
      out[`save_${label}_${kind}_diff_ms`] = s.diff;
      log(`save ${label} lines, ${kind} edit: median ${fmt(s.total)} ms (parse ${fmt(s.parse)}, items ${fmt(s.items)}, diff+findings ${fmt(s.diff)})`);
    }
    log(`first update (full parse) of ${label} lines: ${fmt(first)} ms`);
  }
  a.dispose();

  // a 300-file workspace in 6 crates, files of 80–400 lines
  const files: Array<[string, string]> = [];
  let totalLines = 0;
  for (let i = 0; i < 300; i++) {
    const lines = 80 + ((i * 37) % 320);
    totalLines += lines;
    files.push([`/bench/ws/crate${i % 6}/src/m${i}.rs`, generateRust(lines, 1000 + i, `M${i}T`)]);
  }
  const runs: number[] = [];
  for (let rep = 0; rep < 3; rep++) {
    const w = await PatchabilityAnalyzer.create({ crateOf: (f) => f.split('/')[3] });
    const t0 = performance.now();
    for (const [f, t] of files) w.update(f, t);
    w.findings();
    runs.push(performance.now() - t0);
    if (rep === 2) {
      const mem = process.memoryUsage();
      out.index300_rss_mb = mem.rss / 1048576;
      log(`after indexing: rss ${(mem.rss / 1048576).toFixed(0)} MB, js heap ${(mem.heapUsed / 1048576).toFixed(0)} MB, external (wasm) ${(mem.external / 1048576).toFixed(0)} MB, ${w.treeCount} trees kept`);
      // one save in the indexed workspace: a file without a kept tree pays one full parse
      const [f, t] = files[17];
      const t1 = performance.now();
      w.update(f, t.replace('let v = ', 'let v = 1 + '));
      w.findingsFor(f);
      out.index300_cold_save_ms = performance.now() - t1;
      // a layout change, then the findings of every file (what a session shows after a save)
      const t2 = performance.now();
      w.update(f, t.replace('pub weight: u32,', 'pub weight: u64,'));
      const all = w.findings();
      out.index300_layout_save_all_findings_ms = performance.now() - t2;
      let n = 0;
      for (const list of all.values()) n += list.length;
      log(`layout change in an indexed file, then findings() of all 300 files: ${fmt(out.index300_layout_save_all_findings_ms)} ms (${n} findings)`);
    }
    w.dispose();
  }
  out.index300_ms = median(runs);
  out.index300_lines = totalLines;
  log(`index 300 files (${totalLines} lines): median ${fmt(out.index300_ms)} ms over ${runs.length} runs; a save in a cold file ${fmt(out.index300_cold_save_ms)} ms`);
  return out;
}

if (require.main === module) {
  void benchAnalysis((l) => console.log(l)).then((r) => console.log(JSON.stringify(r, null, 2)));
}
