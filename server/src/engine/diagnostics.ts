// engine/diagnostics.ts — rustc's JSON diagnostics (direct from rustc in thin builds, wrapped in
// cargo's `compiler-message` in fat builds) turned into RustcDiagnostic with ABSOLUTE file paths.
// rustc reports paths relative to its working directory (the workspace root under cargo).
// Never imports the LSP library or the devserver.
import * as path from 'node:path';
import type { RustcDiagnostic, RustcSpan } from './types';

// CSI sequences (colours) that `--json=diagnostic-rendered-ansi` leaves in `rendered`.
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;

export function stripAnsi(s: string): string {
  return s.replace(ANSI, '');
}

type Json = Record<string, unknown>;

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}
function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

/** Converts one rustc diagnostic object; relative span paths are resolved against `cwd`. */
export function toDiagnostic(raw: Json, cwd: string): RustcDiagnostic {
  const spans: RustcSpan[] = Array.isArray(raw.spans)
    ? (raw.spans as Json[]).map((s) => ({
        file_name: resolveFile(str(s.file_name) ?? '', cwd),
        line_start: num(s.line_start),
        line_end: num(s.line_end),
        column_start: num(s.column_start),
        column_end: num(s.column_end),
        is_primary: s.is_primary === true,
        label: str(s.label),
      }))
    : [];
  const codeObj = raw.code as Json | null | undefined;
  const code = codeObj && typeof codeObj.code === 'string' ? { code: codeObj.code } : null;
  const rendered = str(raw.rendered);
  return {
    message: str(raw.message) ?? '',
    code,
    level: str(raw.level) ?? 'error',
    spans,
    children: Array.isArray(raw.children) ? (raw.children as Json[]).map((c) => toDiagnostic(c, cwd)) : [],
    rendered: rendered === null ? null : stripAnsi(rendered),
  };
}

function resolveFile(file: string, cwd: string): string {
  if (file === '' || path.isAbsolute(file)) return file;
  // Macro-expansion pseudo files like "<::core::macros::panic macros>" are not paths.
  if (file.startsWith('<')) return file;
  return path.resolve(cwd, file);
}

export interface RustcStreamResult {
  diagnostics: RustcDiagnostic[];
  /** `{"artifact": …, "emit": …}` notifications. */
  artifacts: Array<{ artifact: string; emit: string }>;
  /** Lines that are not JSON (ICE output, linker chatter, shim messages). */
  text: string[];
}

/** Parses rustc's stderr under `--error-format=json`. */
export function parseRustcStderr(stderr: string, cwd: string): RustcStreamResult {
  const out: RustcStreamResult = { diagnostics: [], artifacts: [], text: [] };
  for (const line of stderr.split('\n')) {
    if (!line.trim()) continue;
    if (line.startsWith('{')) {
      try {
        const j = JSON.parse(line) as Json;
        if (typeof j.artifact === 'string') {
          out.artifacts.push({ artifact: j.artifact, emit: str(j.emit) ?? '' });
          continue;
        }
        if (j.$message_type === 'future_incompat' || j.$message_type === 'unused_extern' || j.$message_type === 'section_timing') continue;
        if (typeof j.message === 'string' && typeof j.level === 'string') {
          out.diagnostics.push(toDiagnostic(j, cwd));
          continue;
        }
        continue;
      } catch {
        /* not JSON after all */
      }
    }
    out.text.push(line);
  }
  return out;
}

export function isError(d: RustcDiagnostic): boolean {
  return d.level === 'error' || d.level.startsWith('error:');
}

/** A one-line summary of a failed compilation. */
export function summarizeErrors(diags: RustcDiagnostic[], fallback: string[]): string {
  const errors = diags.filter(isError).filter((d) => !/^aborting due to/.test(d.message));
  if (errors.length > 0) {
    const first = errors[0];
    const sp = first.spans.find((s) => s.is_primary) ?? first.spans[0];
    const where = sp ? ` (${sp.file_name}:${sp.line_start}:${sp.column_start})` : '';
    const more = errors.length > 1 ? ` (+${errors.length - 1} more)` : '';
    return `${first.message}${where}${more}`;
  }
  const tail = fallback.filter((l) => l.trim()).slice(-5).join('\n');
  return tail || 'rustc failed without a diagnostic';
}
