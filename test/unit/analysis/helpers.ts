// Shared helpers for the analysis tests: an analyzer per story, one-file judgements, and
// assertions that read like the catalog ("warns on `App` with struct-layout-changed").
import * as assert from 'node:assert/strict';
import { PatchabilityAnalyzer } from '../../../server/src/analysis';
import type { AnalyzerOptions, Finding, FindingCode } from '../../../server/src/analysis';

export const FILE = '/ws/app/src/main.rs';

export interface Expect {
  code: FindingCode;
  item: string;
  severity?: Finding['severity'];
  /** Fragments the message must contain. */
  says?: string[];
}

export function newAnalyzer(options?: AnalyzerOptions): Promise<PatchabilityAnalyzer> {
  return PatchabilityAnalyzer.create(options);
}

/** Findings about the code as it is, whatever the baseline (not about an edit). */
export const CODE_PROPERTY_CODES: ReadonlySet<FindingCode> = new Set(['hot-closure-never-patched']);

/**
 * Baseline `before`, save `after`: the findings of that file the save brought. Findings about the
 * code itself that the baseline already had (a hot closure subsecond never patches) are left out:
 * they are not the save's doing (closures.test.ts covers them).
 */
export async function judge(before: string, after: string, options?: AnalyzerOptions): Promise<Finding[]> {
  const a = await newAnalyzer(options);
  a.update(FILE, before);
  const had = a.findingsFor(FILE);
  assert.deepEqual(had.filter((f) => !CODE_PROPERTY_CODES.has(f.code)), [], 'the baseline itself has no findings');
  a.update(FILE, after);
  const same = (f: Finding, g: Finding) => f.code === g.code && f.item === g.item && f.message === g.message;
  return a.findingsFor(FILE).filter((f) => !had.some((g) => same(f, g)));
}

/** The findings of `text` analysed on its own (baseline = current). */
export async function findingsOf(text: string, options?: AnalyzerOptions): Promise<Finding[]> {
  const a = await newAnalyzer(options);
  a.update(FILE, text);
  return a.findingsFor(FILE);
}

const RESTART_CODES = new Set<FindingCode>(['struct-layout-changed', 'enum-layout-changed', 'static-type-changed', 'thread-local-type-changed', 'trait-changed', 'hot-signature-changed', 'thread-local-added', 'component-props-changed', 'server-fn-signature-changed']);
const WARNING_CODES = new Set<FindingCode>(['hot-closure-never-patched', 'static-mut-reset', 'thread-local-reset', 'global-signal-moved']);

export function describeFindings(fs: readonly Finding[]): string {
  return fs.map((f) => `  ${f.code} ${f.severity} ${f.item}: ${f.message}`).join('\n') || '  (none)';
}

/** Exactly these findings (order-insensitive), each with its severity and message fragments. */
export function assertFindings(actual: readonly Finding[], expected: readonly Expect[]): void {
  const ctx = `\nactual findings:\n${describeFindings(actual)}`;
  assert.equal(actual.length, expected.length, `expected ${expected.length} finding(s)${ctx}`);
  const left = [...actual];
  for (const e of expected) {
    const i = left.findIndex((f) => f.code === e.code && f.item === e.item);
    assert.ok(i >= 0, `expected ${e.code} on \`${e.item}\`${ctx}`);
    const f = left.splice(i, 1)[0];
    const sev = e.severity ?? (RESTART_CODES.has(e.code) ? 'restart' : WARNING_CODES.has(e.code) ? 'warning' : 'info');
    assert.equal(f.severity, sev, `severity of ${e.code} on ${e.item}${ctx}`);
    for (const s of e.says ?? []) assert.ok(f.message.includes(s), `message of ${e.code} on ${e.item} should say "${s}": ${f.message}`);
    if (f.severity === 'restart') assert.ok(f.message.includes('requires restart'), `a restart finding says so: ${f.message}`);
  }
}

/** The text covered by a finding's range (single-line ranges), to check it is the item's name. */
export function textAt(text: string, f: Finding): string {
  const lines = text.split('\n');
  const l = lines[f.range.start.line] ?? '';
  return l.slice(f.range.start.character, f.range.end.line === f.range.start.line ? f.range.end.character : undefined);
}
