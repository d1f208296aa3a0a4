// Turns rustc's JSON diagnostics (from a fat or thin build) into problems on files and ranges.
// rustc counts lines and columns from 1 in characters (Unicode scalar values); editors count
// UTF-16 code units from 0, so columns are converted against the file's text where it differs.
import * as fs from 'node:fs';
import type { RustcDiagnostic } from '../engine';
import type { Problem } from './observer';

function utf16Column(lineText: string | undefined, charColumn1: number): number {
  const chars = charColumn1 - 1;
  if (!lineText || chars <= 0) return Math.max(0, chars);
  let units = 0;
  let seen = 0;
  for (const ch of lineText) {
    if (seen >= chars) break;
    units += ch.length;
    seen++;
  }
  return units + Math.max(0, chars - seen);
}

function flatten(d: RustcDiagnostic): string {
  const notes = d.children
    .filter((c) => c.message && (c.level === 'help' || c.level === 'note'))
    .map((c) => `${c.level}: ${c.message}`);
  return [d.message, ...notes].join('\n');
}

/**
 * `consequence` ends each message: what the error means for the app right now (it keeps running
 * its previous code, or was not started); it must be true when it is said.
 */
export function rustcDiagnosticsToProblems(diags: RustcDiagnostic[], consequence = 'the app keeps running its previous code'): Map<string, Problem[]> {
  const out = new Map<string, Problem[]>();
  const lines = new Map<string, string[] | undefined>();
  const lineOf = (file: string, n: number) => {
    if (!lines.has(file)) {
      try {
        lines.set(file, fs.readFileSync(file, 'utf8').split('\n'));
      } catch {
        lines.set(file, undefined);
      }
    }
    return lines.get(file)?.[n - 1];
  };
  for (const d of diags) {
    if (d.level !== 'error' && d.level !== 'warning' && d.level !== 'error: internal compiler error') continue;
    if (d.level === 'warning') continue; // a patch build's warnings are the same as cargo's; only errors block
    const span = d.spans.find((s) => s.is_primary) ?? d.spans[0];
    if (!span) continue;
    const code = d.code?.code;
    const problem: Problem = {
      file: span.file_name,
      range: {
        start: { line: span.line_start - 1, character: utf16Column(lineOf(span.file_name, span.line_start), span.column_start) },
        end: { line: span.line_end - 1, character: utf16Column(lineOf(span.file_name, span.line_end), span.column_end) },
      },
      severity: 'error',
      code: 'patch-build-error',
      message: `${code ? `error[${code}]` : 'error'}: ${flatten(d)}${span.label ? `\n${span.label}` : ''}\n(${consequence})`,
      requiresRestart: false,
    };
    const list = out.get(problem.file) ?? [];
    list.push(problem);
    out.set(problem.file, list);
  }
  return out;
}
